// Parses arbitrary bytes as a DNS message; see round_trip.hpp for the properties checked.

#include <cstddef>
#include <cstdint>
#include <span>

#include "round_trip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mote::net::wire::fuzz::round_trip_dns(mote::bytes_of(std::span(data, size)));
  return 0;
}
