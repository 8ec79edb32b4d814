#pragma once
// Event: a flag that tasks wait for, set once for all of them ("stop",
// "configuration loaded"). set() wakes every waiter and the event stays set,
// so later waits return at once, until reset().
//
//   co_await stop.wait();
//
// Wakes: set(). Cancels: destroying the waiter.

#include "mote/async/waiter.hpp"

namespace mote::async {

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() { MOTE_ASSERT(waiters_.empty()); }

  void set() {
    set_ = true;
    while (!waiters_.empty()) waiters_.front().notify();
  }
  void reset() { set_ = false; }
  [[nodiscard]] bool is_set() const { return set_; }

  class [[nodiscard]] WaitAwaiter : private internal::Waiter {
   public:
    explicit WaitAwaiter(Event& event) : event_(event) {}
    bool await_ready() const { return event_.set_; }
    void await_suspend(std::coroutine_handle<> suspended) { park_on(event_.waiters_, suspended); }
    void await_resume() const {}

   private:
    Event& event_;
  };
  WaitAwaiter wait() { return WaitAwaiter(*this); }

 private:
  internal::WaitQueue waiters_;
  bool set_ = false;
};

}  // namespace mote::async
