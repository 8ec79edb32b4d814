#pragma once
// WaitGroup: waits until a count of outstanding jobs drops to zero, e.g. for
// a set of spawned tasks, each calling done() as it ends.
//
//   group.add(3);  /* spawn three workers that call group.done() */
//   co_await group.wait();
//
// Wakes: the done() that brings the count to zero (every waiter).
// Cancels: destroying the waiter.

#include <cstddef>

#include "mote/async/waiter.hpp"

namespace mote::async {

class WaitGroup {
 public:
  WaitGroup() = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;
  ~WaitGroup() { MOTE_ASSERT(waiters_.empty()); }

  void add(std::size_t count = 1) { count_ += count; }
  void done() {
    MOTE_ASSERT(count_ > 0);
    if (--count_ == 0) {
      while (!waiters_.empty()) waiters_.front().notify();
    }
  }
  [[nodiscard]] std::size_t count() const { return count_; }

  class [[nodiscard]] WaitAwaiter : private internal::Waiter {
   public:
    explicit WaitAwaiter(WaitGroup& group) : group_(group) {}
    bool await_ready() const { return group_.count_ == 0; }
    void await_suspend(std::coroutine_handle<> suspended) { park_on(group_.waiters_, suspended); }
    void await_resume() const {}

   private:
    WaitGroup& group_;
  };
  WaitAwaiter wait() { return WaitAwaiter(*this); }

 private:
  internal::WaitQueue waiters_;
  std::size_t count_ = 0;
};

}  // namespace mote::async
