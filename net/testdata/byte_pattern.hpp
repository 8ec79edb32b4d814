#pragma once
// Test data for byte streams: `n` pseudo-random bytes from `seed`, so a
// misplaced or repeated piece shows up in a comparison.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mote::net::test_support {

inline std::vector<std::byte> byte_pattern(std::size_t n, std::uint32_t seed) {
  std::vector<std::byte> out(n);
  std::uint32_t x = seed;
  for (auto& b : out) {
    x = x * 1103515245u + 12345u;
    b = std::byte(static_cast<std::uint8_t>(x >> 16));
  }
  return out;
}

}  // namespace mote::net::test_support
