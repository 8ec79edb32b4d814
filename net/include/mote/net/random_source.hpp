#pragma once
// Where the DHCP client and the DNS resolver get their unpredictable numbers
// (transaction ids, query ids, retransmission jitter). The application
// provides it: a hardware RNG on a board (nRF51's RNG, an STM32's TRNG),
// getrandom() on Linux, a seeded generator in tests. Query ids that an
// off-path attacker can guess make DNS answers forgeable (RFC 5452 §9.2), so
// a constant or a plain counter is not good enough outside tests.

#include <cstdint>

namespace mote::net {

class RandomSource {
 public:
  // 32 uniformly distributed bits.
  virtual std::uint32_t next_u32() = 0;

 protected:
  RandomSource() = default;
  RandomSource(const RandomSource&) = default;
  RandomSource& operator=(const RandomSource&) = default;
  ~RandomSource() = default;
};

}  // namespace mote::net
