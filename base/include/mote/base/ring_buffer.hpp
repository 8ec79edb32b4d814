#pragma once
// RingBuffer<T, N>: a FIFO of at most N elements stored inline, for byte
// streams, event queues and the like. It never allocates, and a push onto a
// full buffer fails instead of overwriting the oldest element: whether to drop
// new data, old data or apply backpressure is the caller's decision.
//
// Not synchronized: a buffer shared with an interrupt handler needs a critical
// section around each access.

#include <cstddef>
#include <iterator>
#include <new>
#include <type_traits>
#include <utility>

#include "mote/base/assert.hpp"
#include "mote/base/internal/uninitialized_array.hpp"

namespace mote {
namespace internal {

// The elements and indices, split from RingBuffer so that for trivially
// destructible T the whole buffer is trivially destructible.
template <typename T, std::size_t N, bool = std::is_trivially_destructible_v<T>>
class RingBufferState {
 protected:
  // User-provided so that value-initializing it (as RingBuffer's copy
  // constructor does) does not first zero the whole storage.
  constexpr RingBufferState() {}  // NOLINT(modernize-use-equals-default)

  // The storage slot of the element `index` places behind the front. Valid for
  // index < 2N; wrapping by one subtraction instead of `%` works for any N and
  // costs no division on Cortex-M0, which has no divide instruction.
  constexpr T* slot(std::size_t index) {
    std::size_t position = head_ + index;
    return &storage_.items[position >= N ? position - N : position];
  }
  constexpr const T* slot(std::size_t index) const {
    std::size_t position = head_ + index;
    return &storage_.items[position >= N ? position - N : position];
  }

  constexpr void destroy_all() {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      for (std::size_t i = 0; i < size_; ++i) slot(i)->~T();
    }
    head_ = 0;
    size_ = 0;
  }

  UninitializedArray<T, N> storage_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

template <typename T, std::size_t N>
class RingBufferState<T, N, false> : public RingBufferState<T, N, true> {
 public:
  RingBufferState(const RingBufferState&) = delete;
  RingBufferState(RingBufferState&&) = delete;
  RingBufferState& operator=(const RingBufferState&) = delete;
  RingBufferState& operator=(RingBufferState&&) = delete;

 protected:
  constexpr RingBufferState() = default;
  ~RingBufferState() { this->destroy_all(); }
};

}  // namespace internal

template <typename T, std::size_t N>
class RingBuffer : private internal::RingBufferState<T, N> {
  static_assert(N >= 1, "a RingBuffer needs room for at least one element");

  template <bool kIsConst>
  class Iterator;

 public:
  using value_type = T;
  using size_type = std::size_t;
  using reference = T&;
  using iterator = Iterator<false>;
  using const_iterator = Iterator<true>;

  constexpr RingBuffer() = default;
  RingBuffer(const RingBuffer& other) : State() { append_all(other); }
  // A moved-from buffer is empty.
  RingBuffer(RingBuffer&& other) noexcept(std::is_nothrow_move_constructible_v<T>) : State() {
    append_all(std::move(other));
  }
  RingBuffer& operator=(const RingBuffer& other) {
    if (this != &other) {
      clear();
      append_all(other);
    }
    return *this;
  }
  RingBuffer& operator=(RingBuffer&& other) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &other) {
      clear();
      append_all(std::move(other));
    }
    return *this;
  }
  // Defaulted, so trivial for trivially destructible T.
  ~RingBuffer() = default;

  [[nodiscard]] constexpr std::size_t size() const { return this->size_; }
  [[nodiscard]] constexpr bool empty() const { return this->size_ == 0; }
  [[nodiscard]] constexpr bool full() const { return this->size_ == N; }
  [[nodiscard]] static constexpr std::size_t capacity() { return N; }

  // Return false, and leave the buffer unchanged, when it is full.
  [[nodiscard]] bool try_push_back(const T& item) { return try_emplace_back(item); }
  [[nodiscard]] bool try_push_back(T&& item) { return try_emplace_back(std::move(item)); }
  template <typename... Args>
  [[nodiscard]] bool try_emplace_back(Args&&... args) {
    if (full()) return false;
    ::new (static_cast<void*>(this->slot(this->size_))) T(std::forward<Args>(args)...);
    ++this->size_;
    return true;
  }

  // For callers that have already made sure there is room: a full buffer here
  // is a programmer error.
  void push_back(const T& item) { emplace_back(item); }
  void push_back(T&& item) { emplace_back(std::move(item)); }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    MOTE_ASSERT(!full());
    static_cast<void>(try_emplace_back(std::forward<Args>(args)...));
    return back();
  }

  // Precondition: not empty.
  T pop_front() {
    MOTE_ASSERT(!empty());
    T* item = this->slot(0);
    T value(std::move(*item));
    item->~T();
    this->head_ = this->head_ + 1 == N ? 0 : this->head_ + 1;
    --this->size_;
    return value;
  }

  void clear() { this->destroy_all(); }

  // Element access from the front; preconditions: not empty, index < size().
  T& front() { return (*this)[0]; }
  const T& front() const { return (*this)[0]; }
  T& back() {
    MOTE_ASSERT(!empty());
    return *this->slot(this->size_ - 1);
  }
  const T& back() const {
    MOTE_ASSERT(!empty());
    return *this->slot(this->size_ - 1);
  }
  T& operator[](std::size_t index) {
    MOTE_ASSERT(index < this->size_);
    return *this->slot(index);
  }
  const T& operator[](std::size_t index) const {
    MOTE_ASSERT(index < this->size_);
    return *this->slot(index);
  }

  // Front to back. Pushing or popping invalidates iterators.
  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, this->size_); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, this->size_); }
  const_iterator cbegin() const { return begin(); }
  const_iterator cend() const { return end(); }

 private:
  using State = internal::RingBufferState<T, N>;

  template <typename Other>
  void append_all(Other&& other) {
    for (std::size_t i = 0; i < other.size(); ++i) {
      if constexpr (std::is_lvalue_reference_v<Other>) {
        push_back(other[i]);
      } else {
        push_back(std::move(other[i]));
      }
    }
    if constexpr (!std::is_lvalue_reference_v<Other>) other.clear();
  }

  template <bool kIsConst>
  class Iterator {
    using Buffer = std::conditional_t<kIsConst, const RingBuffer, RingBuffer>;

   public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = std::conditional_t<kIsConst, const T*, T*>;
    using reference = std::conditional_t<kIsConst, const T&, T&>;

    Iterator() = default;
    // iterator -> const_iterator.
    template <bool kOtherConst, std::enable_if_t<kIsConst && !kOtherConst, int> = 0>
    Iterator(Iterator<kOtherConst> other)  // NOLINT(google-explicit-constructor)
        : buffer_(other.buffer_), index_(other.index_) {}

    reference operator*() const { return (*buffer_)[index_]; }
    pointer operator->() const { return &(*buffer_)[index_]; }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator old = *this;
      ++index_;
      return old;
    }
    Iterator& operator--() {
      --index_;
      return *this;
    }
    Iterator operator--(int) {
      Iterator old = *this;
      --index_;
      return old;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) {
      return a.buffer_ == b.buffer_ && a.index_ == b.index_;
    }

   private:
    friend class RingBuffer;
    template <bool>
    friend class Iterator;
    Iterator(Buffer* buffer, std::size_t index) : buffer_(buffer), index_(index) {}

    Buffer* buffer_ = nullptr;
    std::size_t index_ = 0;
  };
};

}  // namespace mote
