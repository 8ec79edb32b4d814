#pragma once
// InlineVector<T, N>: a vector with its capacity fixed at compile time and its
// elements stored inside the object. Never allocates.
//
// Two ways to add an element:
//   try_push_back / try_emplace_back return false when full: use them when
//     the count depends on input (options in a packet, entries from a peer).
//   push_back / emplace_back assert that there is room: use them only where
//     the code itself guarantees it.
//
// It converts to std::span<T> / std::span<const T> like any contiguous range.

#include <cstddef>
#include <initializer_list>
#include <new>
#include <type_traits>
#include <utility>

#include "mote/base/assert.hpp"
#include "mote/base/internal/uninitialized_array.hpp"

namespace mote {
namespace internal {

// The elements and their count, split from InlineVector so that for trivially
// destructible T the whole vector is trivially destructible.
template <typename T, std::size_t N, bool = std::is_trivially_destructible_v<T>>
class InlineVectorState {
 protected:
  // User-provided so that value-initializing it does not zero the storage.
  constexpr InlineVectorState() {}  // NOLINT(modernize-use-equals-default)

  // Destroys the elements from `first` to the end.
  constexpr void truncate(std::size_t first) {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      for (std::size_t i = first; i < size_; ++i) storage_.items[i].~T();
    }
    size_ = first;
  }

  UninitializedArray<T, N> storage_;
  std::size_t size_ = 0;
};

template <typename T, std::size_t N>
class InlineVectorState<T, N, false> : public InlineVectorState<T, N, true> {
 public:
  InlineVectorState(const InlineVectorState&) = delete;
  InlineVectorState(InlineVectorState&&) = delete;
  InlineVectorState& operator=(const InlineVectorState&) = delete;
  InlineVectorState& operator=(InlineVectorState&&) = delete;

 protected:
  constexpr InlineVectorState() = default;
  ~InlineVectorState() { this->truncate(0); }
};

}  // namespace internal

template <typename T, std::size_t N>
class InlineVector : private internal::InlineVectorState<T, N> {
  static_assert(N >= 1, "an InlineVector needs room for at least one element");

 public:
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using pointer = T*;
  using iterator = T*;
  using const_iterator = const T*;

  constexpr InlineVector() = default;
  // More items than N is a programmer error.
  InlineVector(std::initializer_list<T> items) : State() {
    MOTE_ASSERT(items.size() <= N);
    for (const T& item : items) push_back(item);
  }
  InlineVector(const InlineVector& other) : State() { append_all(other); }
  // A moved-from vector is empty.
  InlineVector(InlineVector&& other) noexcept(std::is_nothrow_move_constructible_v<T>) : State() {
    append_all(std::move(other));
  }
  InlineVector& operator=(const InlineVector& other) {
    if (this != &other) {
      clear();
      append_all(other);
    }
    return *this;
  }
  InlineVector& operator=(InlineVector&& other) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &other) {
      clear();
      append_all(std::move(other));
    }
    return *this;
  }
  // Defaulted, so trivial for trivially destructible T.
  ~InlineVector() = default;

  [[nodiscard]] constexpr std::size_t size() const { return this->size_; }
  [[nodiscard]] constexpr bool empty() const { return this->size_ == 0; }
  [[nodiscard]] constexpr bool full() const { return this->size_ == N; }
  [[nodiscard]] static constexpr std::size_t capacity() { return N; }
  [[nodiscard]] static constexpr std::size_t max_size() { return N; }

  T* data() { return this->storage_.items; }
  const T* data() const { return this->storage_.items; }
  iterator begin() { return data(); }
  iterator end() { return data() + this->size_; }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + this->size_; }
  const_iterator cbegin() const { return begin(); }
  const_iterator cend() const { return end(); }

  // Preconditions: index < size(); front/back: not empty.
  T& operator[](std::size_t index) {
    MOTE_ASSERT(index < this->size_);
    return data()[index];
  }
  const T& operator[](std::size_t index) const {
    MOTE_ASSERT(index < this->size_);
    return data()[index];
  }
  T& front() { return (*this)[0]; }
  const T& front() const { return (*this)[0]; }
  T& back() { return (*this)[this->size_ - 1]; }
  const T& back() const { return (*this)[this->size_ - 1]; }

  // Return false, and leave the vector unchanged, when it is full.
  [[nodiscard]] bool try_push_back(const T& item) { return try_emplace_back(item); }
  [[nodiscard]] bool try_push_back(T&& item) { return try_emplace_back(std::move(item)); }
  template <typename... Args>
  [[nodiscard]] bool try_emplace_back(Args&&... args) {
    if (full()) return false;
    ::new (static_cast<void*>(data() + this->size_)) T(std::forward<Args>(args)...);
    ++this->size_;
    return true;
  }

  // Precondition: not full.
  void push_back(const T& item) { emplace_back(item); }
  void push_back(T&& item) { emplace_back(std::move(item)); }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    MOTE_ASSERT(!full());
    static_cast<void>(try_emplace_back(std::forward<Args>(args)...));
    return back();
  }

  // Precondition: not empty.
  void pop_back() {
    MOTE_ASSERT(!empty());
    this->truncate(this->size_ - 1);
  }

  // Removes [first, last), keeping the order of the rest; returns the position
  // after the removed elements.
  iterator erase(const_iterator first, const_iterator last) {
    MOTE_ASSERT(begin() <= first && first <= last && last <= end());
    if (first == last) return begin() + (first - begin());  // no self-moves
    T* target = begin() + (first - begin());
    T* source = begin() + (last - begin());
    for (; source != end(); ++target, ++source) *target = std::move(*source);
    auto erased = static_cast<std::size_t>(last - first);
    this->truncate(this->size_ - erased);
    return begin() + (first - begin());
  }
  // Precondition: `position` is an element (not end()).
  iterator erase(const_iterator position) {
    MOTE_ASSERT(position != end());
    return erase(position, position + 1);
  }

  // Default-constructs or destroys elements at the end. Precondition: count <= N.
  void resize(std::size_t count) {
    MOTE_ASSERT(count <= N);
    if (count < this->size_) this->truncate(count);
    for (std::size_t i = this->size_; i < count; ++i) emplace_back();
  }
  void resize(std::size_t count, const T& value) {
    MOTE_ASSERT(count <= N);
    if (count < this->size_) this->truncate(count);
    for (std::size_t i = this->size_; i < count; ++i) emplace_back(value);
  }

  void clear() { this->truncate(0); }

  friend bool operator==(const InlineVector& a, const InlineVector& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!(a[i] == b[i])) return false;
    }
    return true;
  }

 private:
  using State = internal::InlineVectorState<T, N>;

  template <typename Other>
  void append_all(Other&& other) {
    for (auto& item : other) {
      if constexpr (std::is_lvalue_reference_v<Other>) {
        push_back(item);
      } else {
        push_back(std::move(item));
      }
    }
    if constexpr (!std::is_lvalue_reference_v<Other>) other.clear();
  }
};

}  // namespace mote
