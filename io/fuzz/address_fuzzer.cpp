// Fuzzes the address parsers: any text either is refused or parses to a
// value whose formatted text parses back to the same value.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mote/io/address.hpp"

namespace {

template <typename T>
void round_trip(std::string_view text) {
  mote::Result<T> parsed = T::parse(text);
  if (!parsed.ok()) return;
  char buffer[mote::io::Endpoint::kMaxTextLen];
  mote::Result<std::size_t> length = parsed->format(buffer);
  if (!length.ok()) std::abort();
  mote::Result<T> again = T::parse(std::string_view(buffer, *length));
  if (!again.ok() || !(*again == *parsed)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  round_trip<mote::io::Ipv4Address>(text);
  round_trip<mote::io::Ipv6Address>(text);
  round_trip<mote::io::IpAddress>(text);
  round_trip<mote::io::Endpoint>(text);
  return 0;
}
