#pragma once
// FaultInjector: wraps a device and makes its link misbehave, reproducibly
// (smoltcp's phy::FaultInjector, plus delay and reordering): every decision
// comes from a seeded generator, so a failing run is replayed by its seed.
//
//   receive path: drop, corrupt (one bit flipped), duplicate, a bottleneck
//                 (a FIFO drained at a fixed rate, tail drop when full),
//                 one-way delay, reorder (a frame held back
//                 `reorder_delay` longer so later ones overtake it);
//   transmit path: rate limit (a token bucket; what exceeds it is dropped,
//                 as a full router queue would), drop, corrupt, duplicate.
//
// Received frames wait in two delay lines in caller storage (in time order
// each, so the earliest due is always at a head); a frame that does not fit
// is dropped and counted. poll_at() tells Stack when the next one is due.
//
// The bottleneck is a router's output queue in front of the receiver: a
// frame arriving at `now` leaves the queue once every frame before it has
// been sent at `bottleneck_bytes_per_second` and its own bytes after them,
// then travels `delay` more. It is modelled by the time the queue's link is
// busy until, so it needs no storage of its own: the bytes still queued at
// `now` are (busy_until - now) x rate, and a frame that would take them past
// `queue_bytes` is dropped (tail drop, `queue_dropped`). Queued frames wait in
// the delay lines, which must hold queue_bytes + rate x delay (+ 8 bytes a
// frame). A frame "arrives" when receive() takes it from the inner device:
// Stack polls on every wake, so that is when the peer sent it.
//
//   FaultConfig faults{.seed = 7, .drop_percent = 10, .delay = 50ms};
//   std::array<std::byte, 16384> held;
//   FaultInjector lossy(cable.end_a(), faults, held);
//
//   // 100 ms RTT (50 ms each way, one injector per end), 1 Mbit/s with a
//   // 64-frame queue into end B:
//   FaultConfig into_b{.delay = 50ms, .bottleneck_bytes_per_second = 125000,
//                      .queue_bytes = 64 * 1514};

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "mote/base/bytes.hpp"
#include "mote/net/phy/device.hpp"
#include "mote/net/storage/packet_ring.hpp"

namespace mote::net {

struct FaultConfig {
  std::uint32_t seed = 1;
  // Chances, in percent, per frame.
  std::uint8_t drop_percent = 0;
  std::uint8_t corrupt_percent = 0;
  std::uint8_t duplicate_percent = 0;
  std::uint8_t reorder_percent = 0;
  // Received frames: every one waits `delay`; reordered ones `reorder_delay` more.
  Duration delay{0};
  Duration reorder_delay = std::chrono::milliseconds(10);
  // Transmitted bytes per second (0: no limit) and the bucket's depth.
  std::uint32_t rate_bytes_per_second = 0;
  std::uint32_t burst_bytes = 1514;
  // Received frames: a FIFO drained at this many bytes per second (0: none),
  // holding at most `queue_bytes`; see above.
  std::uint32_t bottleneck_bytes_per_second = 0;
  std::uint32_t queue_bytes = 65536;
};

struct FaultStats {
  std::uint32_t dropped = 0;
  std::uint32_t corrupted = 0;
  std::uint32_t duplicated = 0;
  std::uint32_t reordered = 0;
  std::uint32_t rate_limited = 0;
  std::uint32_t overflowed = 0;        // no room in the delay lines
  std::uint32_t arrived = 0;           // received frames past drop, duplicates counted
  std::uint32_t queue_dropped = 0;     // tail drops at the bottleneck
  std::uint32_t queue_high_water = 0;  // most bytes ever queued there
};

// xorshift32 (Marsaglia 2003): tiny, fast on a Cortex-M0, good enough to
// pick which frames to hurt.
class FaultRandom {
 public:
  explicit FaultRandom(std::uint32_t seed) : state_(seed == 0 ? 0x9e3779b9u : seed) {}
  std::uint32_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }
  bool chance(std::uint8_t percent) { return percent != 0 && next() % 100 < percent; }

 private:
  std::uint32_t state_;
};

template <Device Inner>
class FaultInjector {
 public:
  // `storage` holds a scratch frame and the two delay lines.
  FaultInjector(Inner& inner, const FaultConfig& config, ByteSpan storage)
      : inner_(inner), config_(config), random_(config.seed) {
    const std::size_t scratch = std::min(storage.size(), inner.capabilities().max_frame_len());
    scratch_ = storage.first(scratch);
    const ByteSpan lines = storage.subspan(scratch);
    delayed_ = PacketRing(lines.first(lines.size() / 2));
    held_back_ = PacketRing(lines.subspan(lines.size() / 2));
    tokens_ = config.burst_bytes;
  }

  [[nodiscard]] DeviceCapabilities capabilities() const { return inner_.capabilities(); }
  [[nodiscard]] bool can_transmit() const { return inner_.can_transmit(); }

  Result<std::size_t> receive(Instant now, ByteSpan buffer) {
    take_from_inner(now);
    PacketRing* line = due(now);
    if (line == nullptr) return Status::unavailable();
    const ConstByteSpan frame = ConstByteSpan(line->peek()->payload).subspan(kTimeLen);
    const bool fits = frame.size() <= buffer.size();
    if (fits && !frame.empty()) std::memcpy(buffer.data(), frame.data(), frame.size());
    const std::size_t len = frame.size();
    line->dequeue();
    if (!fits) return Status::resource_exhausted();
    return len;
  }

  Status transmit(Instant now, ConstByteSpan frame) {
    if (config_.rate_bytes_per_second != 0 && !take_tokens(now, frame.size())) {
      ++stats_.rate_limited;
      return ok_status();  // lost on the way, as on a congested link
    }
    if (random_.chance(config_.drop_percent)) {
      ++stats_.dropped;
      return ok_status();
    }
    if (random_.chance(config_.corrupt_percent) && !frame.empty() &&
        frame.size() <= scratch_.size()) {
      std::memcpy(scratch_.data(), frame.data(), frame.size());
      corrupt(scratch_.first(frame.size()));
      frame = scratch_.first(frame.size());
    }
    MOTE_TRY(inner_.transmit(now, frame));
    if (random_.chance(config_.duplicate_percent)) {
      ++stats_.duplicated;
      inner_.transmit(now, frame).ignore_error();
    }
    return ok_status();
  }

  // When the next held frame is due (kNever when none), or the inner
  // device's own deadline if it has one and it is earlier.
  [[nodiscard]] Instant poll_at() const {
    Instant at = std::min(head_time(delayed_), head_time(held_back_));
    if constexpr (TimedDevice<Inner>) at = std::min(at, inner_.poll_at());
    return at;
  }

  auto wait_receive() requires AsyncDevice<Inner> { return inner_.wait_receive(); }

  [[nodiscard]] const FaultStats& stats() const { return stats_; }
  [[nodiscard]] Inner& inner() { return inner_; }

 private:
  static constexpr std::size_t kTimeLen = 8;  // a held frame starts with its due time
  static constexpr std::uint64_t kMicrosPerSecond = 1000000;

  static Instant head_time(const PacketRing& line) {
    const std::optional<PacketRing::Packet> head = line.peek();
    if (!head) return async::kNever;
    return Instant(Duration(static_cast<std::int64_t>(load_be64(head->payload.data()))));
  }

  // The delay line whose head is due first, if one is due by `now`.
  PacketRing* due(Instant now) {
    const Instant a = head_time(delayed_);
    const Instant b = head_time(held_back_);
    if (std::min(a, b) > now) return nullptr;
    return a <= b ? &delayed_ : &held_back_;
  }

  void take_from_inner(Instant now) {
    for (;;) {
      Result<std::size_t> received = inner_.receive(now, scratch_);
      if (!received.ok()) {
        if (received.status().code() == StatusCode::unavailable) return;
        continue;  // the inner device dropped one: go on
      }
      ByteSpan frame = scratch_.first(*received);
      if (random_.chance(config_.drop_percent)) {
        ++stats_.dropped;
        continue;
      }
      if (!frame.empty() && random_.chance(config_.corrupt_percent)) corrupt(frame);
      const int copies = random_.chance(config_.duplicate_percent) ? 2 : 1;
      if (copies == 2) ++stats_.duplicated;
      for (int copy = 0; copy < copies; ++copy) {
        const std::optional<Instant> departed = through_bottleneck(now, frame.size());
        if (departed) hold(*departed, frame);
      }
    }
  }

  // When a frame of `len` bytes arriving at `now` has left the bottleneck;
  // nullopt when the queue has no room for it (tail drop).
  std::optional<Instant> through_bottleneck(Instant now, std::size_t len) {
    ++stats_.arrived;
    const std::uint64_t rate = config_.bottleneck_bytes_per_second;
    if (rate == 0) return now;
    if (busy_until_ < now) {
      busy_until_ = now;
      busy_carry_ = 0;
    }
    // Bytes still queued: the time the link stays busy at `rate`, rounded up.
    const auto busy = static_cast<std::uint64_t>((busy_until_ - now).count());
    const std::uint64_t queued = (busy * rate + kMicrosPerSecond - 1) / kMicrosPerSecond;
    if (queued + len > config_.queue_bytes) {
      ++stats_.queue_dropped;
      return std::nullopt;
    }
    stats_.queue_high_water =
        std::max(stats_.queue_high_water, static_cast<std::uint32_t>(queued + len));
    // len / rate seconds, in µs; the remainder is carried so that a long run
    // of frames keeps the exact rate.
    const std::uint64_t scaled = len * kMicrosPerSecond + busy_carry_;
    busy_until_ += Duration(static_cast<std::int64_t>(scaled / rate));
    busy_carry_ = scaled % rate;
    return busy_until_;
  }

  void hold(Instant departed, ConstByteSpan frame) {
    const bool reorder = random_.chance(config_.reorder_percent);
    PacketRing& line = reorder ? held_back_ : delayed_;
    const Instant due_at =
        departed + config_.delay + (reorder ? config_.reorder_delay : Duration(0));
    Result<ByteSpan> room = line.enqueue(kTimeLen + frame.size(), {});
    if (!room.ok()) {
      ++stats_.overflowed;
      return;
    }
    if (reorder) ++stats_.reordered;
    store_be64(room->data(), static_cast<std::uint64_t>(due_at.time_since_epoch().count()));
    if (!frame.empty()) std::memcpy(room->data() + kTimeLen, frame.data(), frame.size());
  }

  void corrupt(ByteSpan frame) {
    ++stats_.corrupted;
    // Below the frame's bit count, so it fits the 32 bits it came from.
    const auto bit = static_cast<std::uint32_t>(random_.next() % (frame.size() * 8));
    frame[bit / 8] ^= std::byte(1u << (bit % 8));
  }

  bool take_tokens(Instant now, std::size_t len) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(now - refilled_at_);
    if (elapsed.count() > 0) {
      const std::uint64_t added =
          static_cast<std::uint64_t>(elapsed.count()) * config_.rate_bytes_per_second / 1000000u;
      if (added > 0) {
        tokens_ = static_cast<std::uint32_t>(
            std::min<std::uint64_t>(config_.burst_bytes, tokens_ + added));
        refilled_at_ = now;
      }
    }
    if (len > tokens_) return false;
    tokens_ -= static_cast<std::uint32_t>(len);
    return true;
  }

  Inner& inner_;
  FaultConfig config_;
  FaultRandom random_;
  ByteSpan scratch_;
  PacketRing delayed_;
  PacketRing held_back_;
  std::uint32_t tokens_ = 0;
  Instant refilled_at_{};
  Instant busy_until_{};          // the bottleneck sends its last queued byte then
  std::uint64_t busy_carry_ = 0;  // µs x rate not yet counted in busy_until_
  FaultStats stats_;
};

}  // namespace mote::net
