#pragma once
// Mutex: mutual exclusion between tasks across suspension points.
//
//   Mutex::Guard guard = co_await bus_mutex.lock();   // released when guard dies
//
// Fair: unlock() hands the mutex straight to the longest waiter.
// Wakes: the holder's unlock. Cancels: destroying the waiter; if it had
// already been handed the mutex, the mutex passes on to the next waiter.

#include <utility>

#include "mote/async/waiter.hpp"

namespace mote::async {

class Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  ~Mutex() { MOTE_ASSERT(!locked_ && waiters_.empty()); }

  class [[nodiscard]] Guard {
   public:
    Guard() = default;
    explicit Guard(Mutex& mutex) : mutex_(&mutex) {}
    Guard(Guard&& other) noexcept : mutex_(std::exchange(other.mutex_, nullptr)) {}
    Guard& operator=(Guard&& other) noexcept {
      if (this != &other) {
        release();
        mutex_ = std::exchange(other.mutex_, nullptr);
      }
      return *this;
    }
    ~Guard() { release(); }
    [[nodiscard]] bool owns_lock() const { return mutex_ != nullptr; }
    void release() {
      if (mutex_ != nullptr) std::exchange(mutex_, nullptr)->unlock();
    }

   private:
    Mutex* mutex_ = nullptr;
  };

  // Without waiting; the caller must unlock() (or adopt it into a Guard).
  [[nodiscard]] bool try_lock() {
    if (locked_) return false;
    locked_ = true;
    return true;
  }

  void unlock() {
    MOTE_ASSERT(locked_);
    if (waiters_.empty()) {
      locked_ = false;
      return;
    }
    auto& next = static_cast<LockAwaiter&>(waiters_.front());
    next.granted_ = true;  // stays locked: ownership moves to `next`
    next.notify();
  }

  [[nodiscard]] bool locked() const { return locked_; }

  class [[nodiscard]] LockAwaiter : private internal::Waiter {
   public:
    explicit LockAwaiter(Mutex& mutex) : mutex_(mutex) {}
    ~LockAwaiter() {
      if (granted_) mutex_.unlock();
    }
    bool await_ready() { return mutex_.try_lock(); }
    void await_suspend(std::coroutine_handle<> suspended) { park_on(mutex_.waiters_, suspended); }
    Guard await_resume() {
      granted_ = false;
      return Guard(mutex_);
    }

   private:
    friend class Mutex;
    Mutex& mutex_;
    bool granted_ = false;
  };
  LockAwaiter lock() { return LockAwaiter(*this); }

 private:
  internal::WaitQueue waiters_;
  bool locked_ = false;
};

}  // namespace mote::async
