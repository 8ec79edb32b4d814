#pragma once
// Immediate<Fn>: the awaiter of a simulated operation that completes without
// suspending. The operation runs when it is awaited (not when it is created),
// so an awaiter that is never awaited has done nothing.
//
// Simulated buses take no virtual time per transfer: a transaction is a
// function call. Time passes only where a device model says it does (a
// DS18B20 conversion, a BME280 measurement), on the executor's clock.

#include <coroutine>
#include <utility>

namespace mote::hal::sim {

template <typename Fn>
class [[nodiscard]] Immediate {
 public:
  explicit Immediate(Fn fn) : fn_(std::move(fn)) {}

  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<> /*unused*/) const noexcept {}
  decltype(auto) await_resume() { return fn_(); }

 private:
  Fn fn_;
};

}  // namespace mote::hal::sim
