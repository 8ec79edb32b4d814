#pragma once
// Task<T>: the coroutine type of mote.
//
// A Task is lazy: calling a coroutine function creates its frame (in the
// running task's FrameArena) and nothing runs until the Task is co_awaited,
// joined, selected or spawned. Awaiting a Task runs it to completion and
// yields its co_return value. Destroying a Task that has not finished cancels
// it: its frame is destroyed, which runs the destructors of everything alive
// at its suspension point, and so deregisters whatever it was waiting on.
//
// Frames are never taken from a heap. When the task's frame storage is too
// small, the coroutine call yields a Task whose frame_allocation_failed() is
// true; co_awaiting it ends the whole task with resource_exhausted and a log
// line naming the storage size it needed.

#include <coroutine>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "mote/async/runnable.hpp"
#include "mote/base/assert.hpp"

namespace mote::async {

template <typename T = void>
class Task;

namespace internal {

// Frame storage of the running task; defined by the executor.
void* allocate_frame(std::size_t size) noexcept;
void deallocate_frame(void* frame, std::size_t size) noexcept;
// Ends the running task with resource_exhausted (the awaited Task had no frame).
void abort_current_task_for_frame_storage() noexcept;

// Who to tell when a coroutine finishes, for coroutines nobody co_awaits
// directly: a spawned task's root and the branches of join/select.
struct CompletionHook {
  // Returns the coroutine to transfer to (usually std::noop_coroutine()).
  std::coroutine_handle<> (*on_complete)(CompletionHook* self, std::coroutine_handle<> finished);
};

class PromiseBase {
 public:
  static void* operator new(std::size_t size) noexcept { return allocate_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    deallocate_frame(frame, size);
  }

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> finished) noexcept {
      PromiseBase& promise = finished.promise();
      if (promise.hook_ != nullptr) {
        // The hook may destroy this very frame: touch nothing after it.
        return promise.hook_->on_complete(promise.hook_, finished);
      }
      return promise.continuation_;
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept { MOTE_ASSERT(false && "exceptions are not used in mote"); }

  void set_continuation(std::coroutine_handle<> continuation) { continuation_ = continuation; }
  void set_hook(CompletionHook* hook) { hook_ = hook; }

 private:
  std::coroutine_handle<> continuation_;
  CompletionHook* hook_ = nullptr;
};

template <typename T>
class Promise final : public PromiseBase {
 public:
  Task<T> get_return_object() noexcept;
  static Task<T> get_return_object_on_allocation_failure() noexcept;

  template <typename U = T>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value_.emplace(std::forward<U>(value));
  }
  T take_result() { return std::move(*value_); }

 private:
  std::optional<T> value_;
};

template <>
class Promise<void> final : public PromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  static Task<void> get_return_object_on_allocation_failure() noexcept;
  void return_void() noexcept {}
  std::monostate take_result() { return {}; }
};

}  // namespace internal

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = internal::Promise<T>;
  using value_type = T;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  ~Task() { reset(); }

  // True when the coroutine call found no room for its frame in the task's
  // storage (or ran outside any task).
  [[nodiscard]] bool frame_allocation_failed() const { return !handle_; }
  [[nodiscard]] bool done() const { return handle_ && handle_.done(); }

  struct Awaiter {
    Handle handle;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      if (!handle) {
        internal::abort_current_task_for_frame_storage();
        return std::noop_coroutine();
      }
      handle.promise().set_continuation(awaiting);
      return handle;
    }
    T await_resume() {
      if constexpr (std::is_void_v<T>) {
        return;
      } else {
        return handle.promise().take_result();
      }
    }
  };
  Awaiter operator co_await() && noexcept { return Awaiter{handle_}; }

  // For join/select/spawn: the frame, still owned by this Task.
  [[nodiscard]] Handle handle() const { return handle_; }
  // Gives up ownership of the frame.
  Handle release() { return std::exchange(handle_, nullptr); }

 private:
  friend class internal::Promise<T>;
  explicit Task(Handle handle) : handle_(handle) {}

  void reset() {
    if (handle_) std::exchange(handle_, nullptr).destroy();
  }

  Handle handle_;
};

namespace internal {

template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
template <typename T>
Task<T> Promise<T>::get_return_object_on_allocation_failure() noexcept {
  return Task<T>();
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object_on_allocation_failure() noexcept {
  return Task<void>();
}

// What awaiting a Task<T> gives inside join/select results: void becomes
// std::monostate so every branch has a value type.
template <typename T>
using ResultOf = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

}  // namespace internal

}  // namespace mote::async
