#pragma once
// Base64 with the standard alphabet and '=' padding (RFC 4648 §4).
// Freestanding; the caller provides the output buffer.

#include <cstddef>
#include <span>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"

namespace mote {

// Characters base64_encode writes for `size` bytes.
[[nodiscard]] constexpr std::size_t base64_encoded_size(std::size_t size) {
  return (size + 2) / 3 * 4;
}
// The most bytes base64_decode can produce from `length` characters.
[[nodiscard]] constexpr std::size_t base64_max_decoded_size(std::size_t length) {
  return length / 4 * 3;
}

// Writes the encoding of `data` to `out`; returns the number of characters,
// or resource_exhausted (nothing written) when `out` is too small.
Result<std::size_t> base64_encode(ConstByteSpan data, std::span<char> out);

// Decodes canonical padded base64 into `out`; returns the number of bytes.
// invalid_argument: a length not a multiple of 4, a character outside the
// alphabet, misplaced padding or non-zero bits under the padding (RFC 4648
// §3.5: such encodings are not canonical). resource_exhausted: `out` is too small.
Result<std::size_t> base64_decode(std::string_view text, ByteSpan out);

}  // namespace mote
