#pragma once
// The scheduling core: Runnable (what the executor resumes) and Waker (how an
// event makes a Runnable ready again).

#include <coroutine>
#include <cstddef>

namespace mote::async {

class Executor;
class Runnable;
class TaskStorageBase;

inline Runnable* park(std::coroutine_handle<> suspended) noexcept;

#if defined(MOTE_FREESTANDING)
#define MOTE_THREAD_LOCAL
#else
#define MOTE_THREAD_LOCAL thread_local
#endif

// One line of execution inside a task: the task's own, or one branch of a
// join/select. It records where to resume (the innermost suspended coroutine)
// and sits on the executor's run queue while ready. Immovable: wakers point at it.
class Runnable {
 public:
  explicit Runnable(TaskStorageBase* task) : task_(task) {}
  Runnable(const Runnable&) = delete;
  Runnable& operator=(const Runnable&) = delete;

  [[nodiscard]] bool queued() const { return next_ != nullptr; }
  [[nodiscard]] TaskStorageBase* task() const { return task_; }

 protected:
  // For join/select branches, which learn their task only when started.
  void bind(TaskStorageBase* task) { task_ = task; }

 private:
  friend class Executor;
  friend Runnable* park(std::coroutine_handle<> suspended) noexcept;

  Runnable* next_ = nullptr;  // run-queue link; non-null exactly while queued
  std::coroutine_handle<> resume_point_;
  TaskStorageBase* task_;
};

// Makes a suspended line of execution ready again. A Waker is one pointer; it
// is valid while the awaiter that obtained it is alive (awaiters deregister
// their wakers when destroyed, which is how cancellation stays safe). Waking
// is for the executor's own thread; interrupts and other threads use
// Driver::notify() and let executor-side code do the wake.
class Waker {
 public:
  Waker() = default;
  explicit Waker(Runnable* target) : target_(target) {}

  // Schedules the target; a no-op when it is already scheduled or empty.
  // Defined in executor.hpp (it needs the Executor): include that to wake.
  inline void wake() const;
  [[nodiscard]] explicit operator bool() const { return target_ != nullptr; }
  [[nodiscard]] Runnable* target() const { return target_; }
  friend bool operator==(Waker, Waker) = default;

 private:
  Runnable* target_ = nullptr;
};

namespace internal {
// The Runnable whose code is running on this thread right now (nullptr
// outside the executor). constinit lets every access skip TLS init guards.
extern constinit MOTE_THREAD_LOCAL Runnable* current_runnable;
}  // namespace internal

// For leaf awaiters, in await_suspend: records `suspended` as the point to
// resume the running line of execution at, and returns it so the awaiter can
// make a Waker for it.
inline Runnable* park(std::coroutine_handle<> suspended) noexcept {
  Runnable* runnable = internal::current_runnable;
  runnable->resume_point_ = suspended;
  return runnable;
}

}  // namespace mote::async
