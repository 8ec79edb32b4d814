#pragma once
// Writing HTTP/1.1 messages (RFC 9112) into caller buffers, freestanding.
// Heads are checked as they are written: a field name must be a token and a
// value may not hold CR, LF or other controls, so nothing a handler passes
// in can end a line early and smuggle in a field or a second response
// (response splitting).
//
//   std::array<std::byte, 512> buffer;
//   HeadWriter head(buffer);
//   MOTE_TRY(head.status_line(200));
//   MOTE_TRY(head.field("Content-Type", "text/plain"));
//   MOTE_TRY(head.field("Content-Length", body.size()));
//   MOTE_TRY_ASSIGN(ConstByteSpan bytes, head.finish());

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"

namespace mote::http {

// The standard reason phrase (RFC 9110 §15), "" for codes it does not name.
std::string_view reason_phrase(std::uint16_t status);

class HeadWriter {
 public:
  explicit HeadWriter(ByteSpan buffer) : buffer_(buffer) {}

  // "HTTP/1.1 <status> <reason>"; an empty reason takes the standard one.
  // invalid_argument for a status outside 100-999 or a reason with controls.
  Status status_line(std::uint16_t status, std::string_view reason = {});
  // "<method> <target> HTTP/1.1": the method a token, the target without
  // whitespace or controls.
  Status request_line(std::string_view method, std::string_view target);
  // "<name>: <value>"; invalid_argument for a name that is not a token or a
  // value with CR, LF, NUL or other controls, or leading/trailing whitespace.
  Status field(std::string_view name, std::string_view value);
  Status field(std::string_view name, std::uint64_t value);
  // Ends the head with its empty line; the head written so far.
  Result<ConstByteSpan> finish();

  // Every write that does not fit returns resource_exhausted and leaves the
  // head as it was.
  [[nodiscard]] std::size_t size() const { return size_; }

 private:
  // Writes the parts and CRLF, or nothing when they do not fit.
  Status append_line(std::initializer_list<std::string_view> parts);

  ByteSpan buffer_;
  std::size_t size_ = 0;
};

// chunk-size CRLF for a chunk of `size` bytes (RFC 9112 §7.1), in lower-case
// hex without leading zeros, written into `buffer` (18 bytes always suffice).
Result<ConstByteSpan> write_chunk_size_line(ByteSpan buffer, std::uint64_t size);
// What ends a chunk's data, and the last chunk with an empty trailer section.
inline constexpr std::string_view kChunkEnd = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// Decimal text of `value` into `buffer` (20 bytes always suffice).
std::string_view format_decimal(std::span<char> buffer, std::uint64_t value);

}  // namespace mote::http
