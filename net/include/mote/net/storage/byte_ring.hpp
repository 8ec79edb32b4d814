#pragma once
// ByteRing: a byte stream FIFO over caller storage, for TCP's send and
// receive buffers. Besides append and take it reads and writes at an offset
// past the front without moving it: the send buffer keeps sent bytes until
// they are acknowledged and reads them again to retransmit; the receive
// buffer places out-of-order data after what is queued and takes it in once
// the hole before it fills. Every operation is at most two memcpy calls
// (the storage wraps once); nothing loops per byte.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "mote/base/assert.hpp"
#include "mote/base/bytes.hpp"

namespace mote::net {

class ByteRing {
 public:
  ByteRing() = default;
  explicit ByteRing(ByteSpan storage)
      : data_(storage.data()), capacity_(static_cast<std::uint32_t>(storage.size())) {}

  [[nodiscard]] std::size_t capacity() const { return capacity_; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] std::size_t free() const { return capacity_ - size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] bool full() const { return size_ == capacity_; }

  // Appends as much of `data` as fits; returns how much.
  std::size_t push(ConstByteSpan data) {
    const std::size_t n = data.size() < free() ? data.size() : free();
    write_at(size_, data.first(n));
    size_ += static_cast<std::uint32_t>(n);
    return n;
  }

  // Copies bytes [offset, offset + out.size()) of the queue into `out`;
  // they must be queued.
  void read_at(std::size_t offset, ByteSpan out) const {
    MOTE_ASSERT(offset + out.size() <= size_);
    if (out.empty()) return;
    const std::size_t start = wrap(head_ + offset);
    const std::size_t first = capacity_ - start < out.size() ? capacity_ - start : out.size();
    std::memcpy(out.data(), data_ + start, first);
    if (first < out.size()) std::memcpy(out.data() + first, data_, out.size() - first);
  }

  // Writes `data` at `offset` from the front, which may lie past the queued
  // bytes (they stay unqueued until commit()); it must fit in the capacity.
  void write_at(std::size_t offset, ConstByteSpan data) {
    MOTE_ASSERT(offset + data.size() <= capacity_);
    if (data.empty()) return;
    const std::size_t start = wrap(head_ + offset);
    const std::size_t first = capacity_ - start < data.size() ? capacity_ - start : data.size();
    // Bytes already written in place (writable_at) are not copied onto
    // themselves.
    if (data.data() == data_ + start) return;
    std::memcpy(data_ + start, data.data(), first);
    if (first < data.size()) std::memcpy(data_, data.data() + first, data.size() - first);
  }

  // Storage for bytes [offset, offset + len) past the queued ones, in one
  // piece, to be filled in place (then write_at() with it, which does not
  // copy, or commit()); empty when they would wrap around the end.
  [[nodiscard]] ByteSpan writable_at(std::size_t offset, std::size_t len) {
    MOTE_ASSERT(offset + len <= capacity_);
    const std::size_t start = wrap(head_ + offset);
    if (capacity_ - start < len) return {};
    return {data_ + start, len};
  }

  // Queues `n` bytes already written after the queued ones with write_at().
  void commit(std::size_t n) {
    MOTE_ASSERT(n <= free());
    size_ += static_cast<std::uint32_t>(n);
  }

  // Drops `n` bytes from the front.
  void consume(std::size_t n) {
    MOTE_ASSERT(n <= size_);
    head_ = static_cast<std::uint32_t>(wrap(head_ + n));
    size_ -= static_cast<std::uint32_t>(n);
    // The front stays where it is even when the ring empties: bytes
    // written past the queue (write_at) must keep their place.
  }

  // Copies and drops up to out.size() bytes from the front; returns how many.
  std::size_t pop(ByteSpan out) {
    const std::size_t n = out.size() < size_ ? out.size() : size_;
    read_at(0, out.first(n));
    consume(n);
    return n;
  }

  // Bytes [offset, offset + len) of the queue in place: two pieces when
  // they wrap around the end of the storage, else `tail` is empty.
  struct Pieces {
    ConstByteSpan head;
    ConstByteSpan tail;
  };
  [[nodiscard]] Pieces pieces_at(std::size_t offset, std::size_t len) const {
    MOTE_ASSERT(offset + len <= size_);
    const std::size_t start = wrap(head_ + offset);
    const std::size_t first = capacity_ - start < len ? capacity_ - start : len;
    return {{data_ + start, first}, {data_, len - first}};
  }

  // The queued bytes from the front up to the end of the storage, for
  // reading in place (then consume()).
  [[nodiscard]] ConstByteSpan front_span() const {
    const std::size_t first = capacity_ - head_ < size_ ? capacity_ - head_ : size_;
    return {data_ + head_, first};
  }

  void clear() {
    head_ = 0;
    size_ = 0;
  }

 private:
  [[nodiscard]] std::size_t wrap(std::size_t position) const {
    return position >= capacity_ ? position - capacity_ : position;
  }

  std::byte* data_ = nullptr;
  std::uint32_t capacity_ = 0;
  std::uint32_t head_ = 0;
  std::uint32_t size_ = 0;
};

}  // namespace mote::net
