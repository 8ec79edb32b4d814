#pragma once
// Signal<T>: hands the latest value to a waiting task ("the newest reading",
// "the link came up"). signal() never waits: with a task waiting, the value
// goes to the first waiter; otherwise it is stored, replacing any value not
// yet taken. Signal<> carries no value.
//
//   co_await link_up.wait();          // wakes on the next signal()
//
// Wakes: signal(). Cancels: destroying the waiter; a value already handed to
// it goes to the next waiter, or back into the Signal if nothing newer is there.

#include <cstdint>
#include <optional>
#include <utility>
#include <variant>

#include "mote/async/waiter.hpp"

namespace mote::async {

template <typename T = std::monostate>
class Signal {
 public:
  Signal() = default;
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;
  ~Signal() { MOTE_ASSERT(waiters_.empty()); }

  void signal(T value) {
    ++signals_;
    hand_or_store(std::move(value));
  }
  void signal() requires std::is_same_v<T, std::monostate> { signal(std::monostate{}); }

  // The stored value, if any, taken without waiting.
  std::optional<T> try_take() { return std::exchange(value_, std::nullopt); }
  [[nodiscard]] bool signaled() const { return value_.has_value(); }
  void reset() { value_.reset(); }

  class [[nodiscard]] WaitAwaiter : private internal::Waiter {
   public:
    explicit WaitAwaiter(Signal& signal) : signal_(signal) {}
    ~WaitAwaiter() {
      if (handed_) signal_.give_back(std::move(*handed_), generation_);
    }
    bool await_ready() {
      if (!signal_.value_) return false;
      handed_ = std::exchange(signal_.value_, std::nullopt);
      generation_ = signal_.signals_;
      return true;
    }
    void await_suspend(std::coroutine_handle<> suspended) { park_on(signal_.waiters_, suspended); }
    T await_resume() {
      T value = std::move(*handed_);
      handed_.reset();
      return value;
    }

   private:
    friend class Signal;
    Signal& signal_;
    std::optional<T> handed_;
    std::uint32_t generation_ = 0;  // the signal() that produced handed_
  };
  WaitAwaiter wait() { return WaitAwaiter(*this); }

 private:
  void hand_or_store(T&& value) {
    if (!waiters_.empty()) {
      auto& waiter = static_cast<WaitAwaiter&>(waiters_.front());
      waiter.handed_.emplace(std::move(value));
      waiter.generation_ = signals_;
      waiter.notify();
      return;
    }
    value_.emplace(std::move(value));
  }
  // A cancelled waiter returns the value it was handed, unless a newer one
  // has been signalled since (handed out or stored): the latest value wins.
  void give_back(T&& value, std::uint32_t generation) {
    if (generation == signals_) hand_or_store(std::move(value));
  }

  std::optional<T> value_;
  std::uint32_t signals_ = 0;
  internal::WaitQueue waiters_;
};

}  // namespace mote::async
