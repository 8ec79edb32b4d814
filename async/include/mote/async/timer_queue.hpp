#pragma once
// TimerQueue: the executor's pending timers, as an intrusive pairing heap.
// Insert is O(1), taking the earliest is O(log n) amortized, and a timer can
// be removed from anywhere (cancellation) in O(log n) amortized, so no
// operation scans the timers. Nodes live in the awaiters that wait on them.

#include "mote/async/time.hpp"

namespace mote::async {

class TimerNode {
 public:
  using ExpireFunction = void (*)(TimerNode* expired);

  explicit TimerNode(ExpireFunction on_expire) : on_expire_(on_expire) {}
  TimerNode(const TimerNode&) = delete;
  TimerNode& operator=(const TimerNode&) = delete;

  [[nodiscard]] bool armed() const { return prev_ != nullptr; }
  [[nodiscard]] Instant deadline() const { return deadline_; }

 private:
  friend class TimerQueue;

  TimerNode* child_ = nullptr;
  TimerNode* sibling_ = nullptr;
  // The parent for a first child, else the left sibling; a marker for the
  // root; nullptr when not in a queue.
  TimerNode* prev_ = nullptr;
  ExpireFunction on_expire_;
  Instant deadline_{};
};

class TimerQueue {
 public:
  TimerQueue() = default;
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  [[nodiscard]] bool empty() const { return root_ == nullptr; }
  [[nodiscard]] Instant next_deadline() const { return root_ ? root_->deadline_ : kNever; }

  void insert(TimerNode& node, Instant deadline);
  void remove(TimerNode& node);
  // Calls the expire function of every timer due at `now`, earliest first, and
  // returns how many there were.
  unsigned expire(Instant now);

 private:
  static TimerNode* meld(TimerNode* a, TimerNode* b);
  static TimerNode* merge_pairs(TimerNode* first);
  void set_root(TimerNode* root);
  TimerNode* pop();

  TimerNode* root_ = nullptr;
};

}  // namespace mote::async
