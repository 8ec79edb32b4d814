#pragma once
// What the mote rows and the Asio rows share: the workload parameters, and
// the Asio row functions, defined in asio_bench.cpp, which is compiled with
// exceptions and RTTI (Asio's awaitable machinery needs them) and includes
// nothing from mote.

namespace benchmark {
class State;
}  // namespace benchmark

namespace mote_bench {

inline constexpr int kSpawnBatch = 1000;      // spawns per benchmark iteration
inline constexpr int kPingPongRounds = 1000;  // round trips per iteration (2 messages each)
inline constexpr int kTimers = 10'000;        // concurrent timers per iteration
// Timer i sleeps timer_delay_us(i) = i / 5 whole microseconds: 0 .. 1999 us,
// evenly spread (mote's clock ticks in microseconds, so five timers share each
// value). Both sides use exactly these durations.
inline constexpr long kTimerSpanUs = 2000;
inline constexpr long timer_delay_us(int i) {
  return static_cast<long>(i) * kTimerSpanUs / kTimers;
}

void asio_spawn_complete(benchmark::State& state);
void asio_ping_pong(benchmark::State& state);
void asio_timers_10k(benchmark::State& state);

}  // namespace mote_bench
