#pragma once
// Time as the executor sees it: a monotonic clock with microsecond ticks,
// read through the platform Driver. Durations are std::chrono durations, so
// `sleep_for(250ms)` works with the standard literals.

#include <chrono>
#include <cstdint>

namespace mote::async {

using Duration = std::chrono::duration<std::int64_t, std::micro>;

// The executor's clock. It has no static now(): time comes from the Driver the
// executor was built with (a real clock on Linux and Cortex-M, a virtual one
// in the simulator), so `Executor::now()` / `async::now()` is how code reads it.
struct Clock {
  using rep = Duration::rep;
  using period = Duration::period;
  using duration = Duration;
  using time_point = std::chrono::time_point<Clock, Duration>;
  static constexpr bool is_steady = true;
};

using Instant = Clock::time_point;

// A deadline that never comes.
inline constexpr Instant kNever = Instant::max();

}  // namespace mote::async
