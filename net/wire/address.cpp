#include "mote/net/wire/address.hpp"

namespace mote::net::wire {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Writes `value` (0..255) in decimal at out[position] and returns the new position.
std::size_t put_decimal(std::span<char> out, std::size_t position, std::uint8_t value) {
  if (value >= 100) out[position++] = static_cast<char>('0' + value / 100);
  if (value >= 10) out[position++] = static_cast<char>('0' + (value / 10) % 10);
  out[position++] = static_cast<char>('0' + value % 10);
  return position;
}

std::size_t decimal_len(std::uint8_t value) { return value >= 100 ? 3 : value >= 10 ? 2 : 1; }

}  // namespace

Result<std::size_t> MacAddress::format(std::span<char> out) const {
  if (out.size() < kMaxTextLen) return Status::resource_exhausted();
  std::size_t position = 0;
  for (std::size_t i = 0; i < kSize; ++i) {
    if (i > 0) out[position++] = ':';
    out[position++] = kHexDigits[octets_[i] >> 4];
    out[position++] = kHexDigits[octets_[i] & 0x0f];
  }
  return position;
}

Result<std::size_t> Ipv4Address::format(std::span<char> out) const {
  const std::array<std::uint8_t, kSize> parts = octets();
  std::size_t needed = 3;  // the dots
  for (std::uint8_t part : parts) needed += decimal_len(part);
  if (out.size() < needed) return Status::resource_exhausted();
  std::size_t position = 0;
  for (std::size_t i = 0; i < kSize; ++i) {
    if (i > 0) out[position++] = '.';
    position = put_decimal(out, position, parts[i]);
  }
  return position;
}

}  // namespace mote::net::wire
