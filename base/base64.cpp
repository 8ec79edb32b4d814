#include "mote/base/base64.hpp"

#include <cstdint>

namespace mote {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The 6-bit value of an alphabet character, or -1.
constexpr int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

Result<std::size_t> base64_encode(ConstByteSpan data, std::span<char> out) {
  const std::size_t length = base64_encoded_size(data.size());
  if (out.size() < length) return Status::resource_exhausted();
  std::size_t o = 0;
  for (std::size_t i = 0; i < data.size(); i += 3) {
    const std::size_t left = data.size() - i;
    std::uint32_t group = std::to_integer<std::uint32_t>(data[i]) << 16;
    if (left > 1) group |= std::to_integer<std::uint32_t>(data[i + 1]) << 8;
    if (left > 2) group |= std::to_integer<std::uint32_t>(data[i + 2]);
    out[o++] = kAlphabet[(group >> 18) & 0x3f];
    out[o++] = kAlphabet[(group >> 12) & 0x3f];
    out[o++] = left > 1 ? kAlphabet[(group >> 6) & 0x3f] : '=';
    out[o++] = left > 2 ? kAlphabet[group & 0x3f] : '=';
  }
  return length;
}

Result<std::size_t> base64_decode(std::string_view text, ByteSpan out) {
  if (text.size() % 4 != 0) return Status::invalid_argument();
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  const std::size_t length = base64_max_decoded_size(text.size()) - padding;
  if (out.size() < length) return Status::resource_exhausted();
  std::size_t o = 0;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t pad_here = last ? padding : 0;
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      int value = 0;
      if (j < 4 - pad_here) {
        value = sextet(text[i + j]);
        if (value < 0) return Status::invalid_argument();
      }
      group = (group << 6) | static_cast<std::uint32_t>(value);
    }
    // Bits under the padding must be zero for the encoding to be canonical.
    if ((pad_here == 1 && (group & 0xffu) != 0) || (pad_here == 2 && (group & 0xffffu) != 0)) {
      return Status::invalid_argument();
    }
    out[o++] = static_cast<std::byte>(group >> 16);
    if (pad_here < 2) out[o++] = static_cast<std::byte>((group >> 8) & 0xffu);
    if (pad_here < 1) out[o++] = static_cast<std::byte>(group & 0xffu);
  }
  return length;
}

}  // namespace mote
