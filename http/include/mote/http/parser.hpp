#pragma once
// Incremental, zero-copy HTTP/1.1 message parsers (RFC 9112), freestanding:
// no heap, no copies, fixed limits. The head (start line and header fields)
// is parsed into string_views of the caller's buffer; the body is framed per
// RFC 9112 §6 (Content-Length, chunked, read until close, or none) and handed
// out as views of the input with the chunk framing removed.
//
//   std::array<Header, 32> fields;
//   RequestParser parser(fields);
//   // bytes arrive into buffer[0, filled):
//   MOTE_TRY_ASSIGN(std::size_t head_size, parser.parse_head(ConstByteSpan(buffer, filled)));
//   if (head_size == 0) { /* read more into the same buffer, after what is there */ }
//   const RequestHead& request = parser.head();   // views into buffer
//   // then the body, from buffer + head_size onward:
//   MOTE_TRY_ASSIGN(BodyChunk chunk, parser.parse_body(rest));
//   // chunk.data: body bytes (a view of `rest`); chunk.consumed: input used;
//   // chunk.complete: the message ended, the next one starts after `consumed`.
//
// The parser stops exactly at the end of each message, so pipelined
// messages are parsed one after the other: reset(), then parse the next
// head from the first byte not consumed.
//
// Errors: every failure is a Status (invalid_argument for malformed input,
// resource_exhausted for a limit, unimplemented for an unsupported version or
// transfer coding, data_loss for a truncated body); error() says which rule
// the message broke and status_code_for(error()) what a server answers. A
// parser that has failed stays failed until reset(): the connection's byte
// stream can no longer be trusted to be framed and should be closed.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/http/headers.hpp"

namespace mote::http {

enum class ParseError : std::uint8_t {
  none,
  // Start line (RFC 9112 §3, §4).
  bad_request_line,
  bad_method,
  bad_target,
  request_line_too_long,  // 414
  bad_version,
  unsupported_version,  // 505: not HTTP/1.x
  bad_status_line,
  // Lines: CRLF only (§2.2).
  bare_cr,
  bare_lf,
  // Field lines (§5).
  bad_field_name,
  whitespace_before_colon,  // §5.1: MUST be rejected with 400
  obs_fold,                 // §5.2: line folding is rejected
  bad_field_value,
  head_too_large,    // 431
  too_many_headers,  // 431
  missing_host,      // §3.2: an HTTP/1.1 request without Host
  duplicate_host,
  // Framing (§6).
  content_length_with_transfer_encoding,  // §6.3 rule 3: a smuggling sign
  bad_content_length,
  duplicate_content_length,
  transfer_encoding_in_http10,  // §6.1: framing of a 1.0 message with TE is faulty
  bad_transfer_encoding,        // chunked not final, twice, or an empty list
  unsupported_transfer_coding,  // 501: a coding other than chunked
  // Chunked body (§7.1).
  bad_chunk_size,
  chunk_size_overflow,
  bad_chunk_extension,
  chunk_line_too_long,
  bad_chunk_end,  // chunk data not followed by CRLF
  bad_trailer,
  trailer_too_large,
  body_too_large,     // 413
  truncated_message,  // the stream ended inside a message
};

// The error's name, e.g. "whitespace_before_colon".
const char* to_string(ParseError error);
// The response status a server sends for a request with this error (400,
// 413, 414, 431, 501 or 505).
std::uint16_t status_code_for(ParseError error);
// The Status the parser returned with this error.
Status status_of(ParseError error);

struct ParserLimits {
  // Start line, field lines and the empty line, in bytes (431 beyond). The
  // header count is limited by the field storage given to the parser.
  std::size_t max_head_size = 8192;
  // Body bytes (413 beyond): checked against Content-Length as soon as the
  // head is parsed, and against the running total of chunk sizes.
  std::uint64_t max_body_size = UINT64_MAX;
  // A chunk-size line with its extensions (§7.1.1 leaves the limit to us).
  std::size_t max_chunk_line = 1024;
  // The trailer section of a chunked body, in bytes.
  std::size_t max_trailer_size = 4096;
};

enum class Method : std::uint8_t {
  get,
  head,
  post,
  put,
  delete_,  // NOLINT(readability-identifier-naming): "delete" is a keyword
  connect,
  options,
  trace,
  patch,
  other,  // any other token: see RequestHead::method_text
};
// The method named by `text` (case-sensitive, RFC 9110 §9.1), or other.
Method method_from(std::string_view text);
// "GET", "HEAD", ...; "" for other.
std::string_view to_string(Method method);

struct Version {
  std::uint8_t major = 1;
  std::uint8_t minor = 1;
  friend constexpr bool operator==(Version, Version) = default;
};

// How the body's end is found (RFC 9112 §6.3).
enum class BodyFraming : std::uint8_t {
  none,            // no body (or a Content-Length of 0)
  content_length,  // exactly content_length bytes
  chunked,         // the chunked transfer coding
  until_close,     // responses only: everything until the server closes
};

struct RequestHead {
  Method method = Method::get;
  std::string_view method_text;  // as received, e.g. "GET" or "PROPFIND"
  std::string_view target;       // the request-target, e.g. "/a/b?x=1"
  Version version;
  HeaderList headers;
  BodyFraming framing = BodyFraming::none;
  std::uint64_t content_length = 0;  // for BodyFraming::content_length
  // Whether the connection may carry another request after this one
  // (RFC 9112 §9.3: "close", HTTP/1.0 "keep-alive").
  bool keep_alive = false;
  // "Connection: upgrade" together with an Upgrade field (RFC 9110 §7.8).
  bool upgrade = false;
  // "Expect: 100-continue" (RFC 9110 §10.1.1).
  bool expects_continue = false;
};

struct ResponseHead {
  Version version;
  std::uint16_t status = 0;
  std::string_view reason;
  HeaderList headers;
  BodyFraming framing = BodyFraming::none;
  std::uint64_t content_length = 0;
  bool keep_alive = false;
  // 101 Switching Protocols, or a 2xx answer to CONNECT: the bytes after the
  // head belong to another protocol (a tunnel), not to HTTP.
  bool switches_protocol = false;
};

// A step of body parsing.
struct BodyChunk {
  std::size_t consumed = 0;  // input bytes used, framing included
  ConstByteSpan data;        // body bytes: a view of the input
  bool complete = false;     // the message ended after `consumed` bytes
};

// What the two parsers share: the line scanner of the head and the body
// decoder. Use RequestParser or ResponseParser.
class MessageParser {
 public:
  // The body, after the head: feed the bytes that follow it, as they come.
  // Each call uses at least one byte of a non-empty input unless the message
  // is complete, and returns at most one contiguous run of body bytes; call
  // again with the rest of the input. Precondition: the head is complete.
  Result<BodyChunk> parse_body(ConstByteSpan input);

  // The peer closed the stream (call it once the parser has been given
  // every byte received). ok when that ends the message (a response
  // read until close) or nothing of a message had arrived; truncated_message
  // (data_loss) when it cut a message short.
  Status end_of_stream();

  [[nodiscard]] bool head_complete() const { return state_ > State::head; }
  [[nodiscard]] bool message_complete() const { return state_ == State::complete; }
  [[nodiscard]] ParseError error() const { return error_; }
  // Body bytes handed out so far.
  [[nodiscard]] std::uint64_t body_received() const { return body_received_; }

 protected:
  enum class Kind : std::uint8_t { request, response };
  enum class State : std::uint8_t {
    head,
    // Body states.
    fixed,
    until_close,
    chunk_size,
    chunk_size_space,
    chunk_ext_before_name,
    chunk_ext_name,
    chunk_ext_after_name,
    chunk_ext_before_value,
    chunk_ext_token_value,
    chunk_ext_quoted_value,
    chunk_ext_quoted_pair,
    chunk_ext_after_quote,
    chunk_ext_after_value,
    chunk_size_lf,
    chunk_data,
    chunk_data_cr,
    chunk_data_lf,
    trailer_line_start,
    trailer_name,
    trailer_value,
    trailer_lf,
    final_lf,
    complete,
    failed,
  };

  MessageParser(Kind kind, std::span<Header> fields, ParserLimits limits)
      : fields_(fields), limits_(limits), kind_(kind) {}

  void reset_message();
  Status fail(ParseError error);
  // Scans complete lines of `buffer` from where the last call stopped;
  // start_line() and field lines are handed to the kind's parser. Returns
  // the head size once the empty line is seen, 0 while more is needed.
  Result<std::size_t> scan_head(ConstByteSpan buffer);
  // `has_control`: the scan saw a control character in the line.
  Status parse_field_line(std::string_view line, bool has_control);
  [[nodiscard]] HeaderList parsed_fields() const { return HeaderList(fields_.first(field_count_)); }
  // Checks Content-Length and Transfer-Encoding (RFC 9112 §6.1-6.3) and
  // sets framing and length; `version` is the message's.
  Status frame_body(Version version, BodyFraming& framing, std::uint64_t& length);
  void start_body(BodyFraming framing, std::uint64_t length);

  // Set by the kind's start-line parser.
  virtual Status parse_start_line(std::string_view line) = 0;
  virtual Status finish_head() = 0;

 public:
  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

 protected:
  ~MessageParser() = default;

 private:
  Status step_chunked(char c);

  std::span<Header> fields_;
  ParserLimits limits_;
  std::size_t field_count_ = 0;
  std::size_t line_start_ = 0;  // offset of the line being scanned
  std::size_t scan_ = 0;        // offset to go on scanning from
  bool start_line_seen_ = false;
  bool line_has_control_ = false;
  Kind kind_;
  State state_ = State::head;
  ParseError error_ = ParseError::none;
  std::uint64_t remaining_ = 0;  // of the fixed body or the chunk
  std::uint64_t chunk_size_ = 0;
  std::size_t chunk_line_size_ = 0;
  std::size_t trailer_size_ = 0;
  std::uint64_t body_received_ = 0;
};

class RequestParser final : public MessageParser {
 public:
  // `fields` holds the parsed header fields (their count is the limit); it
  // and the buffers passed in must outlive the head's views.
  explicit RequestParser(std::span<Header> fields, ParserLimits limits = {})
      : MessageParser(Kind::request, fields, limits) {}

  // Parses the head from the start of `buffer`: all bytes of this message
  // received so far, the same memory on every call, growing at its end
  // (bytes already passed must not move: the head's views point at them).
  // Returns the head's size in bytes once it is complete (the body or the
  // next message starts there), 0 while more bytes are needed. Empty lines
  // before the request line are skipped (RFC 9112 §2.2) and counted.
  Result<std::size_t> parse_head(ConstByteSpan buffer) { return scan_head(buffer); }
  // Valid once parse_head has returned the head's size.
  [[nodiscard]] const RequestHead& head() const { return head_; }
  // The request's method as soon as its request line has parsed, even when
  // the rest of the head then fails (Method::get before): the answer to a
  // HEAD request has no content, rejected or not (RFC 9110 §9.3.2).
  [[nodiscard]] Method method() const { return head_.method; }
  // For the next message on the connection.
  void reset();

 private:
  Status parse_start_line(std::string_view line) override;
  Status finish_head() override;

  RequestHead head_;
};

class ResponseParser final : public MessageParser {
 public:
  // `request_method` is the method of the request this answers: a response
  // to HEAD has no body, a 2xx to CONNECT starts a tunnel (RFC 9112 §6.3).
  explicit ResponseParser(std::span<Header> fields, Method request_method = Method::get,
                          ParserLimits limits = {})
      : MessageParser(Kind::response, fields, limits), request_method_(request_method) {}

  // As RequestParser::parse_head. A 1xx interim response is a complete
  // message without body: reset() and parse the final response after it.
  Result<std::size_t> parse_head(ConstByteSpan buffer) { return scan_head(buffer); }
  [[nodiscard]] const ResponseHead& head() const { return head_; }
  void reset(Method request_method);

 private:
  Status parse_start_line(std::string_view line) override;
  Status finish_head() override;

  ResponseHead head_;
  Method request_method_;
};

}  // namespace mote::http
