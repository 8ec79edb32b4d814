#pragma once
// Block1/Block2 option values (RFC 7959 §2.2) and the Observe freshness rule
// (RFC 7641 §3.4). Freestanding.

#include <cstdint>

#include "mote/async/time.hpp"
#include "mote/base/result.hpp"

namespace mote::coap {

// NUM (up to 20 bits), M, SZX: block size 2^(SZX + 4), 16..1024.
struct Block {
  static constexpr std::uint32_t kMaxNum = (1u << 20) - 1;
  static constexpr std::uint8_t kMaxSzx = 6;  // 1024 bytes; 7 is reserved (BERT over TCP)

  std::uint32_t num = 0;
  bool more = false;
  std::uint8_t szx = kMaxSzx;

  [[nodiscard]] constexpr std::uint32_t size() const { return 1u << (szx + 4); }
  [[nodiscard]] constexpr std::uint32_t offset() const { return num * size(); }
  [[nodiscard]] constexpr std::uint32_t value() const {
    return (num << 4) | (more ? 8u : 0u) | szx;
  }
  // §2.2: "The value 7 for SZX (which would indicate a block size of 2048)
  // is reserved, i.e., MUST NOT be sent and MUST lead to a 4.00 Bad Request
  // response code". invalid_argument for it, or for more than 3 bytes.
  static constexpr Result<Block> from_value(std::uint32_t value) {
    if (value > 0xffffff || (value & 7) == 7) return Status::invalid_argument();
    return Block{value >> 4, (value & 8) != 0, static_cast<std::uint8_t>(value & 7)};
  }
  // The largest SZX whose block is no larger than `size` (at least 16 bytes).
  static constexpr std::uint8_t szx_for(std::uint32_t size) {
    std::uint8_t szx = 0;
    while (szx < kMaxSzx && (1u << (szx + 5)) <= size) ++szx;
    return szx;
  }

  friend constexpr bool operator==(const Block&, const Block&) = default;
};

// RFC 7641 §3.4: whether a notification with sequence number `v2` that
// arrived at `t2` is newer than the one taken before (`v1` at `t1`).
//   (V1 < V2 and V2 - V1 < 2^23) or (V1 > V2 and V1 - V2 > 2^23) or
//   (T2 > T1 + 128 seconds)
constexpr bool is_fresher_notification(std::uint32_t v1, async::Instant t1, std::uint32_t v2,
                                       async::Instant t2) {
  constexpr std::uint32_t kHalf = 1u << 23;
  constexpr async::Duration kWindow = std::chrono::seconds(128);
  return (v1 < v2 && v2 - v1 < kHalf) || (v1 > v2 && v1 - v2 > kHalf) || (t2 > t1 + kWindow);
}

// Observe sequence numbers are 24 bits (§3.4).
inline constexpr std::uint32_t kObserveSequenceMask = 0xffffff;
// RFC 7641 §2: Observe = 0 registers, 1 deregisters.
inline constexpr std::uint32_t kObserveRegister = 0;
inline constexpr std::uint32_t kObserveDeregister = 1;

}  // namespace mote::coap
