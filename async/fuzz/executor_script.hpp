#pragma once
// A scripted workout of the executor for the fuzzer and the stress test: a
// byte string decides which tasks are spawned, what each does (channel sends
// and receives with timeouts, select, join, mutex, semaphore, event, signal,
// yields, sleeps), when tasks are cancelled and when time moves. Whatever the
// bytes, the run must keep these invariants, checked here; a violation aborts:
//   - nothing sent is lost or duplicated: values that left the channel
//     (counted where they arrive) plus values still in it equal values that
//     entered it;
//   - the mutex is held by at most one task, the semaphore by at most two;
//   - after cancelling everything, no task is live and every primitive is free
//     (the primitives' destructors assert that no waiter is left behind);
//   - ASan/UBSan see no bad access (cancelled frames must leave nothing behind).

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>

#include "mote/async/async.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::async::script {

using namespace std::chrono_literals;

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "executor script invariant broken: %s\n", what);
    std::abort();
  }
}

struct World {
  Channel<int, 2> channel;
  Mutex mutex;
  Semaphore semaphore{2};
  Event event;
  Signal<int> signal;
  int next_value = 0;
  long sent = 0;      // values that entered the channel
  long received = 0;  // values that left it
  int mutex_holders = 0;
  int semaphore_holders = 0;
  long timed_out = 0;
};

// Counts a holder for as long as it lives, including when its frame is
// destroyed by cancellation.
struct Holding {
  explicit Holding(int& count, int limit, const char* what) : count_(count) {
    ++count_;
    check(count_ <= limit, what);
  }
  Holding(const Holding&) = delete;
  Holding& operator=(const Holding&) = delete;
  ~Holding() { --count_; }
  int& count_;
};

inline Task<bool> receive_one(World& world) {
  std::optional<int> value = co_await world.channel.receive();
  if (!value) co_return false;
  ++world.received;  // counted where it arrives, before anything can cancel
  co_return true;
}

inline Task<void> send_one(World& world) {
  const int value = world.next_value++;
  if ((co_await world.channel.send(value)).ok()) ++world.sent;
}

inline Task<void> nap(Duration duration) { co_await sleep_for(duration); }

inline Task<void> wait_event(World& world) { co_await world.event.wait(); }

inline Task<int> wait_signal(World& world) { co_return co_await world.signal.wait(); }

using Program = std::array<std::uint8_t, 8>;

inline Task<void> worker(World& world, Program program) {
  for (std::uint8_t op : program) {
    const Duration d = Duration(1000 * (1 + (op >> 4)));  // 1..16 ms
    switch (op & 0x0f) {
      case 0: co_await send_one(world); break;
      case 1: (void)co_await receive_one(world); break;
      case 2:
        if (!(co_await with_timeout(d, send_one(world))).ok()) ++world.timed_out;
        break;
      case 3:
        if (!(co_await with_timeout(d, receive_one(world))).ok()) ++world.timed_out;
        break;
      case 4: (void)co_await select(receive_one(world), nap(d)); break;
      case 5: (void)co_await select(receive_one(world), receive_one(world)); break;
      case 6: (void)co_await join(send_one(world), nap(d)); break;
      case 7: {
        Mutex::Guard guard = co_await world.mutex.lock();
        Holding holding(world.mutex_holders, 1, "mutex held by one task at most");
        co_await sleep_for(d);
        break;
      }
      case 8: {
        co_await world.semaphore.acquire();
        Semaphore::Guard permit(world.semaphore);
        Holding holding(world.semaphore_holders, 2, "semaphore held by two at most");
        co_await sleep_for(d);
        break;
      }
      case 9: (void)co_await with_timeout(d, wait_event(world)); break;
      case 10: (void)co_await select(wait_signal(world), nap(d)); break;
      case 11: co_await yield_now(); break;
      default: co_await sleep_for(d); break;
    }
  }
}

// What a run did, so a test can check that its scripts exercise something.
struct Stats {
  long spawned = 0;
  long cancelled_while_running = 0;
  long sent = 0;
  long received = 0;
  long timed_out = 0;
};

inline Stats run(std::span<const std::uint8_t> bytes) {
  Stats stats;
  constexpr int kSlots = 6;
  platform::SimDriver driver;
  Executor executor(driver);
  World world;
  std::array<TaskStorage<2048>, kSlots> slots;

  std::size_t i = 0;
  auto next = [&]() -> std::uint8_t { return i < bytes.size() ? bytes[i++] : 0; };
  while (i < bytes.size()) {
    const std::uint8_t op = next();
    const int slot = op % kSlots;
    switch ((op >> 3) % 8) {
      case 0:
      case 1: {
        Program program{};
        for (auto& step : program) step = next();
        if (slots[slot].state() != TaskState::running) {
          check(executor.spawn(slots[slot], worker, std::ref(world), program).ok(), "spawn");
          ++stats.spawned;
        }
        break;
      }
      case 2:
        if (slots[slot].state() == TaskState::running) ++stats.cancelled_while_running;
        slots[slot].cancel();
        break;
      case 3:
        driver.advance(Duration(1000 * (next() % 20)));
        executor.run_until_stalled();
        break;
      case 4:
        if (world.channel.try_send(world.next_value++).ok()) ++world.sent;
        break;
      case 5:
        if (world.channel.try_receive()) ++world.received;
        break;
      case 6:
        if (op & 0x80) {
          world.event.set();
        } else {
          world.event.reset();
        }
        world.signal.signal(op);
        break;
      default: executor.run_until_stalled(); break;
    }
  }
  executor.run_until_stalled();
  for (auto& slot : slots) slot.cancel();
  check(executor.live_tasks() == 0, "no task live after cancelling all");
  check(!world.mutex.locked(), "mutex free at the end");
  check(world.semaphore.available() == 2, "semaphore permits all back");
  check(world.mutex_holders == 0 && world.semaphore_holders == 0, "no holder left");
  long left = 0;
  while (world.channel.try_receive()) ++left;
  check(world.sent == world.received + left, "every value sent was received or is still queued");
  stats.sent = world.sent;
  stats.received = world.received;
  stats.timed_out = world.timed_out;
  return stats;
}

}  // namespace mote::async::script
