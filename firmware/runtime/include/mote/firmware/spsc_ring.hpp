#pragma once
// SpscByteRing<N>: a byte FIFO between one producer and one consumer that run
// on the same core, typically an interrupt handler (producer) and a task
// (consumer). No lock and no compare-and-swap, so it works on a Cortex-M0:
// the producer alone writes `head_`, the consumer alone writes `tail_`, each
// a free-running 32-bit count that the other side only reads, and an aligned
// 32-bit load or store is atomic on every Cortex-M.
//
// The compiler fences keep the byte stores before the index store that
// publishes them. On one core that is all the ordering needed (an interrupt
// sees the interrupted code's stores in program order); a second core would
// need DMBs as well.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mote::firmware {

template <std::size_t N>
class SpscByteRing {
  static_assert(N >= 2 && N <= 0x8000'0000U && (N & (N - 1)) == 0,
                "the capacity is a power of two (the indices wrap with a mask)");

 public:
  static constexpr std::size_t capacity() { return N; }

  // --- producer side ---
  [[nodiscard]] bool full() const { return head_ - tail_ == N; }
  // False, storing nothing, when the ring is full.
  bool push(std::byte byte) {
    const std::uint32_t head = head_;
    if (head - tail_ == N) return false;
    data_[head & kMask] = byte;
    std::atomic_signal_fence(std::memory_order_release);
    head_ = head + 1;
    return true;
  }

  // --- consumer side ---
  [[nodiscard]] bool empty() const { return head_ == tail_; }
  [[nodiscard]] std::size_t size() const { return head_ - tail_; }
  // Moves up to out.size() bytes into `out`; returns how many.
  std::size_t pop(std::span<std::byte> out) {
    const std::uint32_t head = head_;
    std::atomic_signal_fence(std::memory_order_acquire);
    std::uint32_t tail = tail_;
    std::size_t count = 0;
    while (tail != head && count < out.size()) out[count++] = data_[tail++ & kMask];
    std::atomic_signal_fence(std::memory_order_release);
    tail_ = tail;
    return count;
  }

 private:
  static constexpr std::uint32_t kMask = static_cast<std::uint32_t>(N - 1);

  std::byte data_[N] = {};
  volatile std::uint32_t head_ = 0;  // written by the producer only
  volatile std::uint32_t tail_ = 0;  // written by the consumer only
};

}  // namespace mote::firmware
