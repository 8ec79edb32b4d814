#pragma once
// Semaphore: a count of permits shared by tasks (connection slots, buffers).
//
//   co_await slots.acquire();
//   Semaphore::Guard held(slots);   // released at scope exit, cancellation included
//
// Permits may also be released by hand (release()), from any task: a
// producer/consumer pair can use one side's acquire and the other's release.
//
// FIFO: a waiter asking for many permits is not overtaken by later ones.
// Wakes: release() once the longest waiter's permits are available.
// Cancels: destroying the waiter; permits already granted to it are released.

#include <cstddef>
#include <utility>

#include "mote/async/waiter.hpp"

namespace mote::async {

class Semaphore {
 public:
  explicit Semaphore(std::size_t permits) : permits_(permits) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  ~Semaphore() { MOTE_ASSERT(waiters_.empty()); }

  [[nodiscard]] bool try_acquire(std::size_t count = 1) {
    if (!waiters_.empty() || permits_ < count) return false;
    permits_ -= count;
    return true;
  }

  void release(std::size_t count = 1) {
    permits_ += count;
    grant();
  }

  [[nodiscard]] std::size_t available() const { return permits_; }

  // Takes over `count` permits already acquired and releases them when it
  // dies, so a task cancelled while holding them gives them back.
  class [[nodiscard]] Guard {
   public:
    explicit Guard(Semaphore& semaphore, std::size_t count = 1)
        : semaphore_(&semaphore), count_(count) {}
    Guard(Guard&& other) noexcept
        : semaphore_(std::exchange(other.semaphore_, nullptr)), count_(other.count_) {}
    Guard& operator=(Guard&& other) noexcept {
      if (this != &other) {
        release();
        semaphore_ = std::exchange(other.semaphore_, nullptr);
        count_ = other.count_;
      }
      return *this;
    }
    ~Guard() { release(); }
    void release() {
      if (semaphore_ != nullptr) std::exchange(semaphore_, nullptr)->release(count_);
    }

   private:
    Semaphore* semaphore_;
    std::size_t count_;
  };

  class [[nodiscard]] AcquireAwaiter : private internal::Waiter {
   public:
    AcquireAwaiter(Semaphore& semaphore, std::size_t count)
        : semaphore_(semaphore), count_(count) {}
    ~AcquireAwaiter() {
      if (granted_) {
        semaphore_.release(count_);
      } else if (linked()) {
        // Leaving the head of the queue may let the next waiters through.
        unlink();
        semaphore_.grant();
      }
    }
    bool await_ready() { return semaphore_.try_acquire(count_); }
    void await_suspend(std::coroutine_handle<> suspended) {
      park_on(semaphore_.waiters_, suspended);
    }
    void await_resume() { granted_ = false; }

   private:
    friend class Semaphore;
    Semaphore& semaphore_;
    std::size_t count_;
    bool granted_ = false;
  };
  AcquireAwaiter acquire(std::size_t count = 1) { return AcquireAwaiter(*this, count); }

 private:
  void grant() {
    while (!waiters_.empty()) {
      auto& next = static_cast<AcquireAwaiter&>(waiters_.front());
      if (next.count_ > permits_) return;
      permits_ -= next.count_;
      next.granted_ = true;
      next.notify();
    }
  }

  internal::WaitQueue waiters_;
  std::size_t permits_;
};

}  // namespace mote::async
