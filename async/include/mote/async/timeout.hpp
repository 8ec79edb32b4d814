#pragma once
// co_await with_timeout(500ms, fetch()) runs the Task and gives up at the
// deadline. On time it yields the Task's result; late, it yields
// deadline_exceeded and the Task is cancelled at the deadline itself (its
// frame destroyed, whatever it waited on deregistered).
//
// Result type: Task<void> -> Status; Task<Status> -> Status;
// Task<Result<U>> -> Result<U>; Task<T> -> Result<T>.
//
// Unlike select(t, sleep), this needs no second frame: the timer lives in the
// awaiter.

#include <type_traits>
#include <utility>

#include "mote/async/executor.hpp"
#include "mote/async/task.hpp"
#include "mote/base/result.hpp"

namespace mote::async {
namespace internal {

template <typename T>
struct TimeoutResultOf {
  using type = Result<T>;
};
template <>
struct TimeoutResultOf<void> {
  using type = Status;
};
template <>
struct TimeoutResultOf<Status> {
  using type = Status;
};
template <typename U>
struct TimeoutResultOf<Result<U>> {
  using type = Result<U>;
};

template <typename T>
class [[nodiscard]] TimeoutAwaiter : private TimerNode, private CompletionHook {
 public:
  using ResultType = typename TimeoutResultOf<T>::type;

  TimeoutAwaiter(Instant deadline, Task<T>&& task)
      : TimerNode(&TimeoutAwaiter::on_expire),
        CompletionHook{&TimeoutAwaiter::on_complete},
        task_(std::move(task)),
        deadline_(deadline) {}
  TimeoutAwaiter(const TimeoutAwaiter&) = delete;
  TimeoutAwaiter& operator=(const TimeoutAwaiter&) = delete;
  ~TimeoutAwaiter() {
    if (armed()) branch_.task()->executor()->disarm_timer(*this);
    task_ = {};
    if (branch_.queued()) branch_.task()->executor()->unschedule(branch_);
  }

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> suspended) noexcept {
    if (task_.frame_allocation_failed()) {
      abort_current_task_for_frame_storage();
      park(suspended);
      return true;
    }
    parent_ = park(suspended);
    branch_.bind(parent_->task());
    parent_->task()->executor()->arm_timer(*this, deadline_);
    auto handle = task_.handle();
    handle.promise().set_hook(this);
    starting_ = true;
    internal::current_runnable = &branch_;
    handle.resume();
    internal::current_runnable = parent_;
    starting_ = false;
    return !(completed_ || expired_);
  }

  ResultType await_resume() {
    if (!completed_) return Status::deadline_exceeded();
    if constexpr (std::is_void_v<T>) {
      return ok_status();
    } else {
      return task_.handle().promise().take_result();
    }
  }

 private:
  struct Branch final : Runnable {
    Branch() : Runnable(nullptr) {}
    using Runnable::bind;
  };

  static std::coroutine_handle<> on_complete(CompletionHook* hook, std::coroutine_handle<>) {
    auto& self = *static_cast<TimeoutAwaiter*>(hook);
    self.completed_ = true;
    self.branch_.task()->executor()->disarm_timer(self);
    if (!self.starting_) Waker(self.parent_).wake();
    return std::noop_coroutine();
  }

  static void on_expire(TimerNode* timer) {
    auto& self = *static_cast<TimeoutAwaiter*>(timer);
    self.expired_ = true;
    // Runs from the executor's timer pass, outside any task: free the frames
    // as the task that owns them.
    Runnable* previous = internal::current_runnable;
    internal::current_runnable = self.parent_;
    self.task_ = {};
    internal::current_runnable = previous;
    if (self.branch_.queued()) self.branch_.task()->executor()->unschedule(self.branch_);
    Waker(self.parent_).wake();
  }

  Task<T> task_;
  Branch branch_;
  Runnable* parent_ = nullptr;
  Instant deadline_;
  bool starting_ = false;
  bool completed_ = false;
  bool expired_ = false;
};

}  // namespace internal

template <typename T>
internal::TimeoutAwaiter<T> with_timeout(Duration timeout, Task<T> task) {
  return internal::TimeoutAwaiter<T>(now() + timeout, std::move(task));
}

template <typename T>
internal::TimeoutAwaiter<T> with_deadline(Instant deadline, Task<T> task) {
  return internal::TimeoutAwaiter<T>(deadline, std::move(task));
}

}  // namespace mote::async
