#pragma once
// FrameArena: the per-task storage that coroutine frames come from.
//
// Frames are taken from the bottom up like a stack. A task's frames are
// almost always freed in reverse order (a coroutine finishes before the one
// that awaits it), so freeing the top frame just lowers the top. Frames of
// concurrent branches (join/select) can finish out of order: a frame freed
// below the top is remembered in a list threaded through the freed memory
// itself and reclaimed as soon as everything above it is gone. So there is no
// per-frame header, and bookkeeping is a few words per task.

#include <cstddef>
#include <cstdint>

namespace mote::async {

class FrameArena {
 public:
  // Every frame is aligned to what operator new would give it.
  static constexpr std::size_t kAlignment = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

  FrameArena() = default;
  FrameArena(std::byte* storage, std::size_t capacity) { reset(storage, capacity); }
  FrameArena(const FrameArena&) = delete;
  FrameArena& operator=(const FrameArena&) = delete;

  void reset(std::byte* storage, std::size_t capacity);

  // nullptr when the frame does not fit; bytes_needed() then says how large
  // the storage would have to be for this allocation to succeed.
  [[nodiscard]] void* allocate(std::size_t size) noexcept;
  // `size` is the size passed to allocate (C++ passes it to a coroutine
  // promise's sized operator delete).
  void deallocate(void* frame, std::size_t size) noexcept;

  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  // Bytes between the bottom and the top, including freed-but-unreclaimed frames.
  [[nodiscard]] std::size_t used() const { return top_; }
  // The most `used()` ever was since the last reset.
  [[nodiscard]] std::size_t high_water_mark() const { return high_water_; }
  // After a failed allocate: the capacity that allocation needed (0 if none failed).
  [[nodiscard]] std::size_t bytes_needed() const { return bytes_needed_; }
  [[nodiscard]] bool empty() const { return top_ == 0; }
  [[nodiscard]] std::byte* base() const { return storage_; }

  static constexpr std::size_t round_up(std::size_t size) {
    return (size + kAlignment - 1) & ~(kAlignment - 1);
  }

 private:
  struct FreedFrame {
    FreedFrame* next;  // the next lower freed frame
    std::size_t size;
  };
  // The smallest frame (one alignment unit) must hold the record of its freeing.
  static_assert(sizeof(FreedFrame) <= kAlignment);

  std::byte* storage_ = nullptr;
  FreedFrame* freed_ = nullptr;  // freed frames below the top, highest address first
  std::uint32_t capacity_ = 0;
  std::uint32_t top_ = 0;
  std::uint32_t high_water_ = 0;
  std::uint32_t bytes_needed_ = 0;
};

}  // namespace mote::async
