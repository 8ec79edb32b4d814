#pragma once
// InterruptEvent: how an interrupt handler (or another thread) wakes a task.
//
// Wakers, run queue and primitives belong to the executor's thread; an
// interrupt handler may only raise() an InterruptEvent. That stores one flag
// and calls Driver::notify(), so the executor's wait ends; the executor then
// wakes the task waiting on the event. No lock and no compare-and-swap, so it
// works on a Cortex-M0.
//
//   // UART receive interrupt:           // the driver's task side:
//   void UART0_IRQHandler() {             for (;;) {
//     rx_ring.push(UART0->DATA);            while (auto byte = rx_ring.pop()) handle(*byte);
//     rx_event.raise();                     co_await rx_event.wait();
//   }                                     }
//
// Raises coalesce: any number of raise() calls before the task runs wake it
// once, so the task must handle everything that has happened (drain the FIFO),
// not count raises. One task may wait on an event at a time.
//
// Wakes: raise(). Cancels: destroying the waiter (the event stays raised for
// the next wait).

#include <atomic>
#include <coroutine>

#include "mote/async/executor.hpp"
#include "mote/base/intrusive_list.hpp"

namespace mote::async {

class InterruptEvent : private IntrusiveListNode {
 public:
  explicit InterruptEvent(Executor& executor) : executor_(executor) {}
  InterruptEvent(const InterruptEvent&) = delete;
  InterruptEvent& operator=(const InterruptEvent&) = delete;
  ~InterruptEvent() { MOTE_ASSERT(!linked() && "destroyed while a task waits on it"); }

  // Interrupt-safe and thread-safe.
  void raise() {
    pending_.store(true, std::memory_order_release);
    executor_.driver().notify();
  }

  // True when raised since the last wait completed.
  [[nodiscard]] bool pending() const { return pending_.load(std::memory_order_acquire); }

  // Consumes a pending raise without waiting; true if there was one. A
  // backend whose operation completed without waiting (the bytes were
  // already there) can clear a stale raise with it, so the next wait does
  // not wake at once for nothing. A raise() between the load and the store
  // is folded into this one, which is what "raises coalesce" means.
  bool try_take() {
    if (!pending_.load(std::memory_order_acquire)) return false;
    pending_.store(false, std::memory_order_relaxed);
    return true;
  }

  class [[nodiscard]] WaitAwaiter {
   public:
    explicit WaitAwaiter(InterruptEvent& event) : event_(event) {}
    WaitAwaiter(const WaitAwaiter&) = delete;
    WaitAwaiter& operator=(const WaitAwaiter&) = delete;
    ~WaitAwaiter() { event_.unlink(); }
    bool await_ready() { return event_.try_take(); }
    void await_suspend(std::coroutine_handle<> suspended) {
      MOTE_ASSERT(!event_.linked() && "one waiter per InterruptEvent");
      event_.waker_ = Waker(park(suspended));
      event_.executor_.watch(event_);
    }
    void await_resume() const {}

   private:
    InterruptEvent& event_;
  };
  WaitAwaiter wait() { return WaitAwaiter(*this); }

 private:
  friend class Executor;
  friend class IntrusiveList<InterruptEvent>;

  Executor& executor_;
  std::atomic<bool> pending_{false};
  Waker waker_;
};

}  // namespace mote::async
