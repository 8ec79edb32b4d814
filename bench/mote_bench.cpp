// mote_async_bench: mote's async core side by side with Boost.Asio's C++20
// coroutines on the same work, in one binary and one run. The Asio rows are in
// asio_bench.cpp (compiled separately, with exceptions); docs/benchmarks.md
// says what each row measures.
//
// Every row reports the counter `ops` (operations per benchmark iteration, so
// ns/op = time / ops; scripts/bench does the division), allocs_per_op and
// bytes_per_op (heap use inside the timed loop), and each mote row the frame
// bytes its tasks used (frame_bytes, the high-water mark of one task).

#include <benchmark/benchmark.h>
#include <cstdlib>
#include <memory>
#include <optional>

#include "asio_rows.hpp"
#include "counters.hpp"
#include "mote/async/channel.hpp"
#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/platform/epoll_driver.hpp"

namespace mote_bench {
namespace {

using mote::async::Channel;
using mote::async::Duration;
using mote::async::Executor;
using mote::async::Task;
using mote::async::TaskStorage;
using mote::platform::EpollDriver;

// Frame bytes per task: room for each row's frames on x86-64 (the rows report
// the high-water mark as frame_bytes).
constexpr std::size_t kTrivialFrameBytes = 64;
constexpr std::size_t kPingPongFrameBytes = 256;
constexpr std::size_t kSleeperFrameBytes = 160;

// --- spawn_complete ------------------------------------------------------------

Task<void> trivial(int* done) {
  ++*done;
  co_return;
}

void mote_spawn_complete(benchmark::State& state) {
  EpollDriver driver;
  Executor executor(driver);
  auto storage = std::make_unique<TaskStorage<kTrivialFrameBytes>[]>(kSpawnBatch);
  int done = 0;
  bool ok = true;
  const AllocCount before = alloc_count();
  for (auto _ : state) {
    for (int i = 0; i < kSpawnBatch; ++i) ok &= executor.spawn(storage[i], trivial, &done).ok();
    ok &= executor.run().ok();
    if (!ok) break;
  }
  const double ops = static_cast<double>(state.iterations()) * kSpawnBatch;
  report_allocations(state, before, ops);
  if (!ok) {
    state.SkipWithError("mote: spawn or run failed");
  } else if (done != static_cast<long>(ops)) {
    state.SkipWithError("mote: not every spawned task completed");
  }
  state.counters["ops"] = kSpawnBatch;
  state.counters["frame_bytes"] = static_cast<double>(storage[0].high_water_mark());
}

// --- ping_pong -----------------------------------------------------------------

using IntChannel = Channel<int, 1>;

Task<void> pinger(IntChannel* ping, IntChannel* pong, int rounds, int* last) {
  for (int i = 0; i < rounds; ++i) {
    if (!(co_await ping->send(i)).ok()) co_return;
    std::optional<int> value = co_await pong->receive();
    if (!value) co_return;
    *last = *value;
  }
}

Task<void> ponger(IntChannel* ping, IntChannel* pong, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    std::optional<int> value = co_await ping->receive();
    if (!value) co_return;
    if (!(co_await pong->send(*value + 1)).ok()) co_return;
  }
}

void mote_ping_pong(benchmark::State& state) {
  EpollDriver driver;
  Executor executor(driver);
  TaskStorage<kPingPongFrameBytes> a;
  TaskStorage<kPingPongFrameBytes> b;
  IntChannel ping;
  IntChannel pong;
  bool ok = true;
  const AllocCount before = alloc_count();
  for (auto _ : state) {
    int last = -1;
    ok &= executor.spawn(a, pinger, &ping, &pong, kPingPongRounds, &last).ok();
    ok &= executor.spawn(b, ponger, &ping, &pong, kPingPongRounds).ok();
    ok &= executor.run().ok();
    ok &= last == kPingPongRounds;
    if (!ok) break;
  }
  report_allocations(state, before, static_cast<double>(state.iterations()) * 2 * kPingPongRounds);
  if (!ok) state.SkipWithError("mote: ping-pong lost a message or a task failed");
  state.counters["ops"] = 2 * kPingPongRounds;  // one-way messages per iteration
  state.counters["frame_bytes"] = static_cast<double>(a.high_water_mark());
}

// --- timers_10k ----------------------------------------------------------------

Task<void> sleeper(long delay_us, int* done) {
  co_await mote::async::sleep_for(Duration(delay_us));
  ++*done;
}

void mote_timers_10k(benchmark::State& state) {
  EpollDriver driver;
  Executor executor(driver);
  auto storage = std::make_unique<TaskStorage<kSleeperFrameBytes>[]>(kTimers);
  long done = 0;
  bool ok = true;
  const AllocCount before = alloc_count();
  for (auto _ : state) {
    int batch_done = 0;
    for (int i = 0; i < kTimers; ++i) {
      ok &= executor.spawn(storage[i], sleeper, timer_delay_us(i), &batch_done).ok();
    }
    ok &= executor.run().ok();
    done += batch_done;
    if (!ok) break;
  }
  report_allocations(state, before, static_cast<double>(state.iterations()) * kTimers);
  if (!ok) {
    state.SkipWithError("mote: spawn or run failed");
  } else if (done != static_cast<long>(state.iterations()) * kTimers) {
    state.SkipWithError("mote: not every timer fired");
  }
  state.counters["ops"] = kTimers;
  state.counters["frame_bytes"] = static_cast<double>(storage[0].high_water_mark());
}

}  // namespace

struct Row {
  const char* name;
  void (*function)(benchmark::State&);
};

}  // namespace mote_bench

// Pairs are registered next to each other: <row>/mote then <row>/asio.
// MOTE_BENCH_ITERATIONS=N fixes every row at N iterations (for instruction
// counts under callgrind: the difference between two N gives the steady state).
int main(int argc, char** argv) {
  using mote_bench::Row;
  const Row rows[] = {
      {"spawn_complete/mote", mote_bench::mote_spawn_complete},
      {"spawn_complete/asio", mote_bench::asio_spawn_complete},
      {"ping_pong/mote", mote_bench::mote_ping_pong},
      {"ping_pong/asio", mote_bench::asio_ping_pong},
      {"timers_10k/mote", mote_bench::mote_timers_10k},
      {"timers_10k/asio", mote_bench::asio_timers_10k},
  };
  const char* fixed = std::getenv("MOTE_BENCH_ITERATIONS");
  for (const Row& row : rows) {
    benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(row.name, row.function);
    b->UseRealTime();
    if (fixed != nullptr) b->Iterations(std::atol(fixed));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
