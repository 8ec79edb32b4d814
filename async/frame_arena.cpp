#include "mote/async/frame_arena.hpp"

#include "mote/base/assert.hpp"

namespace mote::async {

void FrameArena::reset(std::byte* storage, std::size_t capacity) {
  MOTE_ASSERT(reinterpret_cast<std::uintptr_t>(storage) % kAlignment == 0);
  MOTE_ASSERT(capacity <= UINT32_MAX);
  storage_ = storage;
  freed_ = nullptr;
  capacity_ = static_cast<std::uint32_t>(capacity & ~(kAlignment - 1));
  top_ = 0;
  high_water_ = 0;
  bytes_needed_ = 0;
}

void* FrameArena::allocate(std::size_t size) noexcept {
  const std::size_t rounded = round_up(size == 0 ? 1 : size);
  if (rounded > capacity_ - top_) {
    bytes_needed_ = static_cast<std::uint32_t>(top_ + rounded);
    return nullptr;
  }
  void* frame = storage_ + top_;
  top_ += static_cast<std::uint32_t>(rounded);
  if (top_ > high_water_) high_water_ = top_;
  return frame;
}

void FrameArena::deallocate(void* frame, std::size_t size) noexcept {
  auto* bytes = static_cast<std::byte*>(frame);
  const std::size_t rounded = round_up(size == 0 ? 1 : size);
  MOTE_ASSERT(bytes >= storage_ && bytes + rounded <= storage_ + top_);
  if (bytes + rounded == storage_ + top_) {
    top_ = static_cast<std::uint32_t>(bytes - storage_);
    // Reclaim frames freed earlier that are now at the top.
    while (freed_ != nullptr &&
           reinterpret_cast<std::byte*>(freed_) + freed_->size == storage_ + top_) {
      top_ = static_cast<std::uint32_t>(reinterpret_cast<std::byte*>(freed_) - storage_);
      freed_ = freed_->next;
    }
    return;
  }
  // Freed below the top: keep it in the list, sorted by address, highest first.
  // Frames are aligned to kAlignment, which suits a FreedFrame.
  auto* freed = static_cast<FreedFrame*>(frame);
  freed->size = rounded;
  FreedFrame** link = &freed_;
  while (*link != nullptr && reinterpret_cast<std::byte*>(*link) > bytes) link = &(*link)->next;
  freed->next = *link;
  *link = freed;
}

}  // namespace mote::async
