#include "mote/net/wire/address.hpp"

namespace mote::net::wire {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

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

}  // namespace mote::net::wire
