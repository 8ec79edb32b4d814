#pragma once
// Timers: co_await sleep_for(10ms) / sleep_until(deadline).
//
// Wakes: when the executor's clock reaches the deadline.
// Cancels: destroying the awaiting coroutine removes the timer (O(log n)).

#include "mote/async/executor.hpp"
#include "mote/async/timer_queue.hpp"

namespace mote::async {

class [[nodiscard]] SleepAwaiter : private TimerNode {
 public:
  // `ready`: the deadline is known to be due already (a non-positive sleep).
  SleepAwaiter(Instant deadline, bool ready)
      : TimerNode(&SleepAwaiter::on_expire), deadline_(deadline), ready_(ready) {}
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  ~SleepAwaiter() {
    if (armed()) waker_.target()->task()->executor()->disarm_timer(*this);
  }

  bool await_ready() const noexcept { return ready_; }
  void await_suspend(std::coroutine_handle<> suspended) noexcept {
    Runnable* self = park(suspended);
    waker_ = Waker(self);
    self->task()->executor()->arm_timer(*this, deadline_);
  }
  void await_resume() const noexcept {}

 private:
  static void on_expire(TimerNode* timer) { static_cast<SleepAwaiter*>(timer)->waker_.wake(); }

  Instant deadline_;
  Waker waker_;
  bool ready_;
};

// Must be called from inside a task (it reads the task's executor clock).
inline SleepAwaiter sleep_for(Duration duration) {
  if (duration <= Duration::zero()) return SleepAwaiter(Instant{}, true);
  return SleepAwaiter(now() + duration, false);
}

inline SleepAwaiter sleep_until(Instant deadline) {
  return SleepAwaiter(deadline, deadline <= now());
}

}  // namespace mote::async
