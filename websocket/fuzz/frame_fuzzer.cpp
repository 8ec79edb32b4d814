// Arbitrary bytes through the frame header codec, masking, the UTF-8
// validator and the close payload codec. Properties checked:
//   - a complete header re-encodes to exactly the bytes it was parsed from
//     (the parser accepts only minimal lengths) and encoded_size() agrees;
//   - an incomplete header never asks for fewer bytes than it was given;
//   - masking twice is the identity, in any split;
//   - the UTF-8 validator gives the same answer fed whole or in two pieces;
//   - a close payload that parses re-encodes to the same bytes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "mote/websocket/close.hpp"
#include "mote/websocket/frame.hpp"
#include "mote/websocket/utf8.hpp"

namespace {

using namespace mote;
using namespace mote::websocket;

void check(bool condition) {
  if (!condition) std::abort();
}

void header_round_trip(ConstByteSpan data, const FrameRules& rules) {
  const FrameParse parse = parse_frame_header(data, rules);
  if (parse.failed()) {
    check(!parse.complete());
    return;
  }
  if (!parse.complete()) {
    check(parse.needed > data.size());
    return;
  }
  check(parse.header.encoded_size() == parse.header_size);
  std::byte out[kMaxFrameHeaderSize];
  Result<std::size_t> size = encode_frame_header(parse.header, out);
  check(size.ok() && *size == parse.header_size);
  for (std::size_t i = 0; i < *size; ++i) check(out[i] == data[i]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const ConstByteSpan data = bytes_of(std::span(bytes, size));
  for (Role role : {Role::client, Role::server}) {
    for (std::uint8_t rsv : {std::uint8_t{0}, kRsv1, std::uint8_t{kRsv1 | kRsv2 | kRsv3}}) {
      header_round_trip(data, FrameRules{role, rsv});
    }
  }

  if (size >= 4) {
    const MaskKey key = {data[0], data[1], data[2], data[3]};
    std::vector<std::byte> copy(data.begin() + 4, data.end());
    const std::size_t split =
        copy.empty() ? 0 : std::to_integer<std::size_t>(data[0]) % copy.size();
    apply_mask(copy, key);
    apply_mask(ByteSpan(copy).first(split), key, 0);
    apply_mask(ByteSpan(copy).subspan(split), key, split);
    check(std::equal(copy.begin(), copy.end(), data.begin() + 4));
  }

  const bool whole = is_valid_utf8(data);
  for (std::size_t split : {std::size_t{0}, size / 2, size > 0 ? size - 1 : 0}) {
    Utf8Validator validator;
    const bool first = validator.feed(data.first(split));
    const bool second = validator.feed(data.subspan(split));
    check((first && second && validator.complete()) == whole);
  }

  const CloseParse close = parse_close_payload(data);
  if (close.error == CloseError::none && !data.empty()) {
    std::byte out[kMaxControlPayload];
    Result<std::size_t> encoded = encode_close_payload(close.info.code, close.info.reason, out);
    check(encoded.ok() && *encoded == size);
    for (std::size_t i = 0; i < size; ++i) check(out[i] == data[i]);
  }
  return 0;
}
