// The Boost.Asio rows: the same work as the mote rows in mote_bench.cpp, with
// C++20 coroutines (boost::asio::awaitable, co_spawn, use_awaitable).
//
// Settings, chosen to favour Asio while staying correct on one thread:
// - io_context(1): concurrency hint 1, Asio's documented single-threaded
//   setting. BOOST_ASIO_CONCURRENCY_HINT_UNSAFE (no locking at all) and the
//   default hint measured the same within noise.
// - ping_pong uses experimental::channel (not the thread-safe
//   concurrent_channel) with capacity 1, like mote's Channel<int, 1>;
//   capacity 0 measured the same within noise.
// - spawn_complete runs one untimed batch first, so Asio's per-thread
//   recycling allocator and its queues are warm.

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "asio_rows.hpp"
#include "counters.hpp"

namespace asio = boost::asio;

#ifndef MOTE_BENCH_ASIO_HINT
#define MOTE_BENCH_ASIO_HINT 1
#endif
#ifndef MOTE_BENCH_ASIO_CHANNEL_CAPACITY
#define MOTE_BENCH_ASIO_CHANNEL_CAPACITY 1
#endif

namespace mote_bench {
namespace {

constexpr int kAsioHint = MOTE_BENCH_ASIO_HINT;

// --- spawn_complete ------------------------------------------------------------

asio::awaitable<void> trivial(int* done) {
  ++*done;
  co_return;
}

// --- ping_pong -----------------------------------------------------------------

using IntChannel = asio::experimental::channel<void(boost::system::error_code, int)>;

asio::awaitable<void> pinger(IntChannel& ping, IntChannel& pong, int rounds, int* last) {
  for (int i = 0; i < rounds; ++i) {
    co_await ping.async_send(boost::system::error_code{}, i, asio::use_awaitable);
    *last = co_await pong.async_receive(asio::use_awaitable);
  }
}

asio::awaitable<void> ponger(IntChannel& ping, IntChannel& pong, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    const int value = co_await ping.async_receive(asio::use_awaitable);
    co_await pong.async_send(boost::system::error_code{}, value + 1, asio::use_awaitable);
  }
}

// --- timers_10k ----------------------------------------------------------------

asio::awaitable<void> sleeper(long delay_us, int* done) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::microseconds(delay_us));
  co_await timer.async_wait(asio::use_awaitable);
  ++*done;
}

}  // namespace

void asio_spawn_complete(benchmark::State& state) {
  asio::io_context io(kAsioHint);
  int done = 0;
  for (int i = 0; i < kSpawnBatch; ++i) asio::co_spawn(io, trivial(&done), asio::detached);
  io.run();
  io.restart();
  done = 0;
  const AllocCount before = alloc_count();
  for (auto _ : state) {
    for (int i = 0; i < kSpawnBatch; ++i) asio::co_spawn(io, trivial(&done), asio::detached);
    io.run();
    io.restart();
  }
  const double ops = static_cast<double>(state.iterations()) * kSpawnBatch;
  report_allocations(state, before, ops);
  if (done != static_cast<long>(ops)) state.SkipWithError("asio: not every spawned task completed");
  state.counters["ops"] = kSpawnBatch;
}

void asio_ping_pong(benchmark::State& state) {
  asio::io_context io(kAsioHint);
  IntChannel ping(io.get_executor(), MOTE_BENCH_ASIO_CHANNEL_CAPACITY);
  IntChannel pong(io.get_executor(), MOTE_BENCH_ASIO_CHANNEL_CAPACITY);
  bool ok = true;
  const AllocCount before = alloc_count();
  for (auto _ : state) {
    int last = -1;
    asio::co_spawn(io, pinger(ping, pong, kPingPongRounds, &last), asio::detached);
    asio::co_spawn(io, ponger(ping, pong, kPingPongRounds), asio::detached);
    io.run();
    io.restart();
    if (last != kPingPongRounds) ok = false;
  }
  report_allocations(state, before, static_cast<double>(state.iterations()) * 2 * kPingPongRounds);
  if (!ok) state.SkipWithError("asio: ping-pong lost a message");
  state.counters["ops"] = 2 * kPingPongRounds;  // one-way messages per iteration
}

void asio_timers_10k(benchmark::State& state) {
  asio::io_context io(kAsioHint);
  long done = 0;
  const AllocCount before = alloc_count();
  for (auto _ : state) {
    int batch_done = 0;
    for (int i = 0; i < kTimers; ++i) {
      asio::co_spawn(io, sleeper(timer_delay_us(i), &batch_done), asio::detached);
    }
    io.run();
    io.restart();
    done += batch_done;
  }
  report_allocations(state, before, static_cast<double>(state.iterations()) * kTimers);
  if (done != static_cast<long>(state.iterations()) * kTimers) {
    state.SkipWithError("asio: not every timer fired");
  }
  state.counters["ops"] = kTimers;
}

}  // namespace mote_bench
