#pragma once
// Delays: wait for a duration without blocking the executor.
//
// delay(d) completes when the executor's clock has moved on by at least d.
//   Wakes: the executor's timer queue. Cancels: destroying the awaiter.
//
// ExecutorDelay is the implementation every platform has: the executor's own
// timers (on the simulator, a virtual delay that takes no real time).

#include "mote/async/awaitable.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/time.hpp"

namespace mote::hal {

template <typename T>
concept Delay = requires(T& delay, async::Duration duration) {
  { delay.delay(duration) } -> async::AwaitableOf<void>;
};

struct ExecutorDelay {
  async::SleepAwaiter delay(async::Duration duration) { return async::sleep_for(duration); }
};
static_assert(Delay<ExecutorDelay>);

}  // namespace mote::hal
