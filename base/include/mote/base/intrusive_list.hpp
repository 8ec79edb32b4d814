#pragma once
// IntrusiveList<T>: a doubly linked list whose nodes live inside the elements,
// so linking never allocates and an element can unlink itself in O(1) (which
// is how a cancelled waiter leaves a wait queue from its destructor).
//
//   struct Waiter : IntrusiveListNode { ... };
//   IntrusiveList<Waiter> waiters;
//
// A node may be on at most one list at a time. A node unlinks itself when it
// is destroyed; a list must be empty when it is destroyed.

#include <cstddef>
#include <iterator>

#include "mote/base/assert.hpp"

namespace mote {

class IntrusiveListNode {
 public:
  IntrusiveListNode() = default;
  IntrusiveListNode(const IntrusiveListNode&) = delete;
  IntrusiveListNode& operator=(const IntrusiveListNode&) = delete;
  ~IntrusiveListNode() { unlink(); }

  [[nodiscard]] bool linked() const { return next_ != nullptr; }

  // Removes the node from whatever list holds it; a no-op when unlinked.
  void unlink() {
    if (next_ == nullptr) return;
    prev_->next_ = next_;
    next_->prev_ = prev_;
    next_ = prev_ = nullptr;
  }

 private:
  template <typename T>
  friend class IntrusiveList;

  void insert_before(IntrusiveListNode* position) {
    MOTE_ASSERT(!linked());
    next_ = position;
    prev_ = position->prev_;
    prev_->next_ = this;
    position->prev_ = this;
  }

  IntrusiveListNode* next_ = nullptr;
  IntrusiveListNode* prev_ = nullptr;
};

template <typename T>
class IntrusiveList {
 public:
  class iterator {
   public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = T*;
    using reference = T&;

    iterator() = default;
    reference operator*() const { return static_cast<T&>(*node_); }
    pointer operator->() const { return static_cast<T*>(node_); }
    iterator& operator++() {
      node_ = node_->next_;
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    iterator& operator--() {
      node_ = node_->prev_;
      return *this;
    }
    iterator operator--(int) {
      iterator old = *this;
      --*this;
      return old;
    }
    friend bool operator==(iterator, iterator) = default;

   private:
    friend class IntrusiveList;
    explicit iterator(IntrusiveListNode* node) : node_(node) {}
    IntrusiveListNode* node_ = nullptr;
  };

  // constexpr so a list at namespace scope can be constinit (a wait queue
  // that is ready before any static constructor runs).
  constexpr IntrusiveList() { head_.next_ = head_.prev_ = &head_; }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;
  ~IntrusiveList() {
    MOTE_ASSERT(empty());
    head_.next_ = head_.prev_ = nullptr;
  }

  [[nodiscard]] bool empty() const { return head_.next_ == &head_; }
  // O(n): walks the list.
  [[nodiscard]] std::size_t size() const {
    std::size_t n = 0;
    for (const IntrusiveListNode* p = head_.next_; p != &head_; p = p->next_) ++n;
    return n;
  }

  T& front() {
    MOTE_ASSERT(!empty());
    return static_cast<T&>(*head_.next_);
  }
  T& back() {
    MOTE_ASSERT(!empty());
    return static_cast<T&>(*head_.prev_);
  }

  void push_back(T& item) { as_node(item).insert_before(&head_); }
  void push_front(T& item) { as_node(item).insert_before(head_.next_); }
  // Inserts `item` before `position`.
  void insert(iterator position, T& item) { as_node(item).insert_before(position.node_); }

  T& pop_front() {
    T& item = front();
    as_node(item).unlink();
    return item;
  }
  T& pop_back() {
    T& item = back();
    as_node(item).unlink();
    return item;
  }
  void remove(T& item) { as_node(item).unlink(); }
  void clear() {
    while (!empty()) head_.next_->unlink();
  }

  iterator begin() { return iterator(head_.next_); }
  iterator end() { return iterator(&head_); }

 private:
  static IntrusiveListNode& as_node(T& item) { return static_cast<IntrusiveListNode&>(item); }

  IntrusiveListNode head_;
};

}  // namespace mote
