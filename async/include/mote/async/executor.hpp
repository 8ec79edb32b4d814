#pragma once
// Executor: runs tasks on one thread. TaskStorage<N>: what a task runs in.
//
//   mote::async::Executor executor(driver);
//   mote::async::TaskStorage<1024> storage;      // control block + 1 KiB of frames
//   MOTE_TRY(executor.spawn(storage, blink, led, 250ms));
//   executor.run();
//
// A task is a coroutine returning Task<void> or Task<Status> started with
// spawn(). Everything it awaits, however deeply nested, takes its frames from
// its TaskStorage; nothing is allocated anywhere else. Ready work runs in FIFO
// order; when nothing is ready the executor fires due timers and otherwise
// asks the Driver to wait for the next deadline or event.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "mote/async/driver.hpp"
#include "mote/async/frame_arena.hpp"
#include "mote/async/runnable.hpp"
#include "mote/async/task.hpp"
#include "mote/async/time.hpp"
#include "mote/async/timer_queue.hpp"
#include "mote/base/intrusive_list.hpp"
#include "mote/base/status.hpp"

namespace mote::async {

enum class TaskState : std::uint8_t {
  idle,      // never spawned
  running,   // spawned and not finished (ready or waiting)
  finished,  // see exit_status()
};

// The control block of a task; TaskStorage<N> adds the frame bytes.
class TaskStorageBase : private Runnable {
 public:
  TaskStorageBase(const TaskStorageBase&) = delete;
  TaskStorageBase& operator=(const TaskStorageBase&) = delete;
  // Storage must outlive its task: destroying it while the task runs is a
  // programmer error.
  ~TaskStorageBase();

  [[nodiscard]] TaskState state() const { return state_; }
  // The executor it was last spawned on (nullptr before the first spawn).
  [[nodiscard]] Executor* executor() const { return executor_; }
  // For a finished task: ok, the Status a Task<Status> returned, cancelled
  // (cancel()), or resource_exhausted (its frames did not fit).
  [[nodiscard]] Status exit_status() const { return Status(exit_status_); }

  [[nodiscard]] std::size_t capacity() const { return arena_.capacity(); }
  // The most frame storage the task has used so far (since its last spawn).
  [[nodiscard]] std::size_t high_water_mark() const { return arena_.high_water_mark(); }
  // After resource_exhausted: the capacity the failed frame allocation needed.
  [[nodiscard]] std::size_t bytes_needed() const { return arena_.bytes_needed(); }

  // Ends a running task: destroys all its frames, which cancels whatever it
  // was waiting on, and finishes it with `cancelled`. A task that cancels
  // itself ends at its next suspension point. No-op unless running.
  void cancel();

  // co_await storage.join(): waits until the task is finished (at once if it
  // is not running) and yields its exit status. Cancelling the waiter is safe.
  class JoinAwaiter;
  [[nodiscard]] JoinAwaiter join();

 protected:
  TaskStorageBase(std::byte* frames, std::size_t capacity);

 private:
  friend class Executor;
  friend class Waker;
  friend Executor* current_executor();
  friend void* internal::allocate_frame(std::size_t) noexcept;
  friend void internal::deallocate_frame(void*, std::size_t) noexcept;
  friend void internal::abort_current_task_for_frame_storage() noexcept;

  // What a task's root coroutine does when it finishes. The root always runs
  // on its task's own Runnable, so the hook finds the task through the
  // current runnable and needs no per-task state.
  static std::coroutine_handle<> on_root_complete(internal::CompletionHook* hook,
                                                  std::coroutine_handle<> root);
  static internal::CompletionHook root_hook_;
  void request_end(StatusCode why);

  Executor* executor_ = nullptr;
  std::coroutine_handle<> root_;
  FrameArena arena_;
  IntrusiveList<JoinAwaiter> joiners_;
  TaskState state_ = TaskState::idle;
  StatusCode exit_status_ = StatusCode::ok;
  StatusCode end_requested_ = StatusCode::ok;  // not ok: end the task when it next suspends
  bool returns_status_ = false;
};

template <std::size_t kFrameBytes>
class TaskStorage final : public TaskStorageBase {
 public:
  TaskStorage() : TaskStorageBase(frames_, kFrameBytes) {}

 private:
  alignas(FrameArena::kAlignment) std::byte frames_[kFrameBytes];
};

class InterruptEvent;

class Executor {
 public:
  explicit Executor(Driver& driver) : driver_(driver) {}
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;
  ~Executor();

  // Starts `fn(args...)`, a coroutine returning Task<void> or Task<Status>,
  // as a task in `storage`. Arguments are passed as given: a coroutine keeps
  // copies of by-value parameters in its frame, while references must outlive
  // the task (pass std::ref explicitly). The task first runs when the executor
  // next runs ready work, never inside spawn().
  // Errors: failed_precondition if `storage` holds a running task;
  // resource_exhausted if the first frame does not fit (bytes_needed() says
  // what would).
  template <typename Fn, typename... Args>
  Status spawn(TaskStorageBase& storage, Fn&& fn, Args&&... args);

  // Runs until every spawned task has finished: ok. failed_precondition when
  // tasks remain but nothing could ever wake them (a deadlock that the
  // driver can prove, as the simulator can).
  Status run() { return run_until(kNever); }
  // Runs until `deadline`, waiting for timers and events as needed: ok when
  // every task finished, deadline_exceeded when the deadline came first.
  Status run_until(Instant deadline);
  Status run_for(Duration duration) { return run_until(now() + duration); }
  // Runs ready work and due timers and collects ready events without ever
  // blocking; returns when nothing more can happen without time passing.
  void run_until_stalled();

  [[nodiscard]] Instant now() { return driver_.now(); }
  [[nodiscard]] Driver& driver() { return driver_; }
  // Tasks spawned and not yet finished.
  [[nodiscard]] std::size_t live_tasks() const { return live_tasks_; }

  // For awaiters and drivers.
  void schedule(Runnable& runnable);
  void unschedule(Runnable& runnable);
  void arm_timer(TimerNode& timer, Instant deadline) { timers_.insert(timer, deadline); }
  void disarm_timer(TimerNode& timer) { timers_.remove(timer); }
  // An InterruptEvent with a waiting task, checked each time the driver's
  // wait ends.
  void watch(InterruptEvent& event);

 private:
  friend class TaskStorageBase;
  Status start(TaskStorageBase& storage, std::coroutine_handle<> root, bool returns_status);
  void run_ready();
  void end_task(TaskStorageBase& task, StatusCode why);
  void finish(TaskStorageBase& task, StatusCode status);
  // Wakes the waiters of raised InterruptEvents; true if it woke any.
  bool poll_interrupts();

  Driver& driver_;
  Runnable* head_ = nullptr;
  Runnable* tail_ = nullptr;
  TimerQueue timers_;
  IntrusiveList<InterruptEvent> interrupt_events_;
  std::size_t live_tasks_ = 0;
};

// The executor running the current task (nullptr outside one).
inline Executor* current_executor() {
  Runnable* running = internal::current_runnable;
  return running == nullptr ? nullptr : running->task()->executor_;
}

// The current executor's time. Only inside a task.
inline Instant now() {
  Executor* executor = current_executor();
  MOTE_ASSERT(executor != nullptr && "async::now() outside a task");
  return executor->now();
}

inline void Waker::wake() const {
  if (target_ != nullptr && !target_->queued()) target_->task()->executor_->schedule(*target_);
}

// --- spawn -----------------------------------------------------------------

template <typename Fn, typename... Args>
Status Executor::spawn(TaskStorageBase& storage, Fn&& fn, Args&&... args) {
  using TaskType = std::invoke_result_t<Fn, Args...>;
  static_assert(std::is_same_v<TaskType, Task<void>> || std::is_same_v<TaskType, Task<Status>>,
                "a spawned task is a coroutine returning Task<void> or Task<Status>");
  if (storage.state_ == TaskState::running) return Status::failed_precondition();
  storage.executor_ = this;
  storage.arena_.reset(storage.arena_.base(), storage.arena_.capacity());
  // The coroutine call takes its frame from the new task's storage.
  Runnable* previous = internal::current_runnable;
  internal::current_runnable = &storage;
  TaskType task = std::invoke(std::forward<Fn>(fn), std::forward<Args>(args)...);
  internal::current_runnable = previous;
  auto root = task.release();
  if (root) root.promise().set_hook(&TaskStorageBase::root_hook_);
  return start(storage, root, std::is_same_v<TaskType, Task<Status>>);
}

// --- awaiting a task's end ---------------------------------------------------

class TaskStorageBase::JoinAwaiter : public IntrusiveListNode {
 public:
  explicit JoinAwaiter(TaskStorageBase& task) : task_(task) {}
  bool await_ready() const noexcept { return task_.state_ != TaskState::running; }
  void await_suspend(std::coroutine_handle<> suspended) noexcept {
    waker_ = Waker(park(suspended));
    task_.joiners_.push_back(*this);
  }
  Status await_resume() const noexcept { return task_.exit_status(); }

 private:
  friend class Executor;
  TaskStorageBase& task_;
  Waker waker_;
};

inline TaskStorageBase::JoinAwaiter TaskStorageBase::join() { return JoinAwaiter(*this); }

// --- yield -------------------------------------------------------------------

// co_await yield_now(): lets every other ready line of execution run first.
struct YieldAwaiter {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> suspended) noexcept { Waker(park(suspended)).wake(); }
  void await_resume() const noexcept {}
};
inline YieldAwaiter yield_now() { return {}; }

}  // namespace mote::async
