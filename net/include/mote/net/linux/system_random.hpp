#pragma once
// The RandomSource for Linux hosts: the kernel's getrandom(2) (urandom pool,
// non-blocking once the pool is initialised at boot). Host only. Bytes are
// fetched 64 at a time so a DHCP client or resolver costs one system call
// per 16 numbers.

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <sys/random.h>

#include "mote/base/assert.hpp"
#include "mote/net/random_source.hpp"

namespace mote::net {

class SystemRandom final : public RandomSource {
 public:
  std::uint32_t next_u32() override {
    if (position_ + sizeof(std::uint32_t) > pool_.size()) refill();
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < sizeof value; ++i) value = (value << 8) | pool_[position_++];
    return value;
  }

 private:
  void refill() {
    std::size_t filled = 0;
    while (filled < pool_.size()) {
      const ssize_t n = ::getrandom(pool_.data() + filled, pool_.size() - filled, 0);
      if (n < 0 && errno == EINTR) continue;
      // getrandom on a pool that exists cannot fail otherwise (ENOSYS:
      // kernels before 3.17, which mote does not support).
      MOTE_ASSERT(n > 0 && "getrandom() failed");
      filled += static_cast<std::size_t>(n);
    }
    position_ = 0;
  }

  std::array<std::uint8_t, 64> pool_{};
  std::size_t position_ = pool_.size();
};

}  // namespace mote::net
