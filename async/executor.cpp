#include "mote/async/executor.hpp"

#include "mote/async/interrupt_event.hpp"

#define MOTE_LOG_MODULE "async"
#include "mote/base/log.hpp"

namespace mote::async {

namespace internal {
constinit MOTE_THREAD_LOCAL Runnable* current_runnable = nullptr;

void* allocate_frame(std::size_t size) noexcept {
  Runnable* running = current_runnable;
  if (running == nullptr) {
    MOTE_LOG_ERROR("a coroutine was called outside any task: it has no frame storage");
    return nullptr;
  }
  TaskStorageBase* task = running->task();
  void* frame = task->arena_.allocate(size);
  if (frame == nullptr) {
    MOTE_LOG_ERROR(
        "task frame storage exhausted: a %u-byte frame needs %u bytes of storage, the task has %u",
        static_cast<unsigned>(size), static_cast<unsigned>(task->arena_.bytes_needed()),
        static_cast<unsigned>(task->arena_.capacity()));
  }
  return frame;
}

void deallocate_frame(void* frame, std::size_t size) noexcept {
  // Frames are freed from the task that owns them, or while the executor
  // tears a task down; either way the current runnable belongs to that task.
  // (A Task handed to another task, or kept past its task's end, is a
  // programmer error caught here or by the arena's bounds check.)
  MOTE_ASSERT(current_runnable != nullptr && "coroutine frame destroyed outside its task");
  current_runnable->task()->arena_.deallocate(frame, size);
}

void abort_current_task_for_frame_storage() noexcept {
  current_runnable->task()->request_end(StatusCode::resource_exhausted);
}
}  // namespace internal

// --- TaskStorageBase ---------------------------------------------------------

internal::CompletionHook TaskStorageBase::root_hook_{&TaskStorageBase::on_root_complete};

TaskStorageBase::TaskStorageBase(std::byte* frames, std::size_t capacity)
    : Runnable(this), arena_(frames, capacity) {}

TaskStorageBase::~TaskStorageBase() { MOTE_ASSERT(state_ != TaskState::running); }

void TaskStorageBase::request_end(StatusCode why) {
  if (state_ != TaskState::running) return;
  Runnable* running = internal::current_runnable;
  if (running != nullptr && running->task() == this) {
    // Its frames are on the call stack right now: end it once it suspends.
    if (end_requested_ == StatusCode::ok) end_requested_ = why;
    return;
  }
  executor_->end_task(*this, why);
}

void TaskStorageBase::cancel() { request_end(StatusCode::cancelled); }

std::coroutine_handle<> TaskStorageBase::on_root_complete(internal::CompletionHook*,
                                                          std::coroutine_handle<> root) {
  TaskStorageBase* task = internal::current_runnable->task();
  MOTE_ASSERT(task->root_ == root);
  StatusCode status = StatusCode::ok;
  if (task->returns_status_) {
    status = std::coroutine_handle<internal::Promise<Status>>::from_address(root.address())
                 .promise()
                 .take_result()
                 .code();
  }
  root.destroy();
  task->root_ = nullptr;
  task->executor_->finish(*task, status);
  return std::noop_coroutine();
}

// --- Executor ------------------------------------------------------------------

namespace {
// The tail's next_ points here, so "queued" is simply next_ != nullptr.
// (Never dereferenced; an address no Runnable can have.)
Runnable* queue_end() {
  alignas(Runnable) static constinit char marker = 0;
  return static_cast<Runnable*>(static_cast<void*>(&marker));
}
}  // namespace

Executor::~Executor() { MOTE_ASSERT(live_tasks_ == 0 && "tasks still running"); }

Status Executor::start(TaskStorageBase& storage, std::coroutine_handle<> root,
                       bool returns_status) {
  if (!root) {
    storage.state_ = TaskState::finished;
    storage.exit_status_ = StatusCode::resource_exhausted;
    return Status::resource_exhausted();
  }
  storage.root_ = root;
  storage.resume_point_ = root;
  storage.returns_status_ = returns_status;
  storage.state_ = TaskState::running;
  storage.exit_status_ = StatusCode::ok;
  storage.end_requested_ = StatusCode::ok;
  ++live_tasks_;
  schedule(storage);
  return ok_status();
}

void Executor::schedule(Runnable& runnable) {
  if (runnable.queued()) return;
  runnable.next_ = queue_end();
  if (tail_ == nullptr) {
    head_ = &runnable;
  } else {
    tail_->next_ = &runnable;
  }
  tail_ = &runnable;
}

// O(queue length); only cancellation of a ready line of execution needs it.
void Executor::unschedule(Runnable& runnable) {
  if (!runnable.queued()) return;
  Runnable* previous = nullptr;
  for (Runnable* r = head_; r != queue_end(); previous = r, r = r->next_) {
    if (r != &runnable) continue;
    Runnable* next = r->next_ == queue_end() ? nullptr : r->next_;
    if (previous == nullptr) {
      head_ = next;
    } else {
      previous->next_ = next == nullptr ? queue_end() : next;
    }
    if (tail_ == &runnable) tail_ = previous;
    runnable.next_ = nullptr;
    return;
  }
  MOTE_ASSERT(false && "runnable marked queued but not on this executor's queue");
}

void Executor::run_ready() {
  while (head_ != nullptr) {
    Runnable* runnable = head_;
    head_ = runnable->next_ == queue_end() ? nullptr : runnable->next_;
    if (head_ == nullptr) tail_ = nullptr;
    runnable->next_ = nullptr;

    TaskStorageBase* task = runnable->task();
    internal::current_runnable = runnable;
    runnable->resume_point_.resume();
    internal::current_runnable = nullptr;
    if (task->end_requested_ != StatusCode::ok && task->state_ == TaskState::running) {
      end_task(*task, task->end_requested_);
    }
  }
}

void Executor::end_task(TaskStorageBase& task, StatusCode why) {
  MOTE_ASSERT(task.state_ == TaskState::running);
  // Destroying the root destroys every frame the task owns, innermost last
  // awaited first; their awaiters deregister wakers and timers as they go.
  Runnable* previous = internal::current_runnable;
  internal::current_runnable = &task;
  std::exchange(task.root_, nullptr).destroy();
  internal::current_runnable = previous;
  unschedule(task);
  MOTE_ASSERT(task.arena_.empty());
  finish(task, why);
}

void Executor::finish(TaskStorageBase& task, StatusCode status) {
  task.state_ = TaskState::finished;
  task.exit_status_ = status;
  task.end_requested_ = StatusCode::ok;
  --live_tasks_;
  while (!task.joiners_.empty()) {
    TaskStorageBase::JoinAwaiter& joiner = task.joiners_.pop_front();
    joiner.waker_.wake();
  }
}

void Executor::watch(InterruptEvent& event) { interrupt_events_.push_back(event); }

bool Executor::poll_interrupts() {
  bool woke = false;
  for (auto it = interrupt_events_.begin(); it != interrupt_events_.end();) {
    InterruptEvent& event = *it++;
    if (event.try_take()) {
      interrupt_events_.remove(event);
      event.waker_.wake();
      woke = true;
    }
  }
  return woke;
}

Status Executor::run_until(Instant deadline) {
  MOTE_ASSERT(internal::current_runnable == nullptr && "run() from inside a task");
  for (;;) {
    run_ready();
    if (live_tasks_ == 0) return ok_status();
    if (poll_interrupts()) continue;
    const Instant current = driver_.now();
    if (timers_.expire(current) != 0) continue;
    if (current >= deadline) return Status::deadline_exceeded();
    const Instant next = timers_.next_deadline();
    if (!driver_.wait_until(next < deadline ? next : deadline)) {
      MOTE_LOG_ERROR("stalled: %u task(s) wait and nothing can wake them",
                     static_cast<unsigned>(live_tasks_));
      return Status::failed_precondition();
    }
  }
}

void Executor::run_until_stalled() {
  for (;;) {
    run_ready();
    // A deadline already past means: collect ready events, do not block.
    driver_.wait_until(Instant::min());
    poll_interrupts();
    if (head_ != nullptr) continue;
    if (timers_.expire(driver_.now()) == 0 && head_ == nullptr) return;
  }
}

}  // namespace mote::async
