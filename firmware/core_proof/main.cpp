// core_proof: the async core on bare metal. Three tasks, each in its own
// static TaskStorage, on one executor driven by SysTick + WFI:
//   producer  sends 1..kCount over a Channel, sleeping between sends
//   consumer  receives until the channel closes and sums what it got
//   ticker    sleeps kTicks times in parallel with the other two
// main checks the results and the elapsed time, prints "core_proof: PASS"
// and returns 0, which becomes QEMU's exit status.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>

#define MOTE_LOG_MODULE "core_proof"
#include "mote/async/channel.hpp"
#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/base/log.hpp"
#include "mote/firmware/board.hpp"
#include "mote/firmware/check.hpp"
#include "mote/firmware/semihosting.hpp"
#include "mote/firmware/systick_driver.hpp"

namespace {

using mote::firmware::check;

using namespace std::chrono_literals;
using mote::async::Channel;
using mote::async::Duration;
using mote::async::Task;

constexpr int kCount = 8;
constexpr Duration kSendPeriod = 5ms;
constexpr int kTicks = 4;
constexpr Duration kTickPeriod = 10ms;

struct Results {
  int received = 0;
  int sum = 0;
  int ticks = 0;
  bool send_failed = false;
};

Task<void> producer(Channel<int, 4>& channel, Results& results) {
  for (int i = 1; i <= kCount; ++i) {
    co_await mote::async::sleep_for(kSendPeriod);
    if (!(co_await channel.send(i)).ok()) results.send_failed = true;
  }
  channel.close();
}

Task<void> consumer(Channel<int, 4>& channel, Results& results) {
  while (std::optional<int> value = co_await channel.receive()) {
    ++results.received;
    results.sum += *value;
  }
}

Task<void> ticker(Results& results) {
  for (int i = 0; i < kTicks; ++i) {
    co_await mote::async::sleep_for(kTickPeriod);
    ++results.ticks;
  }
}

// Static: frames live here, not on the stack and not on a heap.
mote::async::TaskStorage<256> producer_storage;
mote::async::TaskStorage<256> consumer_storage;
mote::async::TaskStorage<256> ticker_storage;
Channel<int, 4> channel;
Results results;

long to_us(Duration d) { return static_cast<long>(d.count()); }

}  // namespace

int main() {
  mote::firmware::SysTickDriver driver(mote::firmware::board::kCoreClockHz);
  mote::async::Executor executor(driver);
  MOTE_LOG_INFO("board %s: 3 tasks, channel of 4", mote::firmware::board::kName);

  bool ok = true;
  ok &= check(executor.spawn(producer_storage, producer, std::ref(channel), std::ref(results)).ok(),
              "spawn producer");
  ok &= check(executor.spawn(consumer_storage, consumer, std::ref(channel), std::ref(results)).ok(),
              "spawn consumer");
  ok &= check(executor.spawn(ticker_storage, ticker, std::ref(results)).ok(), "spawn ticker");
  if (!ok) return 1;

  const mote::async::Instant start = executor.now();
  const mote::Status run = executor.run();
  const Duration elapsed = executor.now() - start;

  MOTE_LOG_INFO("received %d values, sum %d, %d ticks, %ld us", results.received, results.sum,
                results.ticks, to_us(elapsed));
  MOTE_LOG_INFO("frame bytes used: producer %u, consumer %u, ticker %u",
                static_cast<unsigned>(producer_storage.high_water_mark()),
                static_cast<unsigned>(consumer_storage.high_water_mark()),
                static_cast<unsigned>(ticker_storage.high_water_mark()));

  ok &= check(run.ok(), "executor.run() returned ok");
  ok &= check(producer_storage.exit_status().ok(), "producer finished ok");
  ok &= check(consumer_storage.exit_status().ok(), "consumer finished ok");
  ok &= check(ticker_storage.exit_status().ok(), "ticker finished ok");
  ok &= check(!results.send_failed, "every send succeeded");
  ok &= check(results.received == kCount, "received every value");
  ok &= check(results.sum == kCount * (kCount + 1) / 2, "sum of the values");
  ok &= check(results.ticks == kTicks, "ticker ran to the end");
  // No sleep ended early. (No upper bound: QEMU's clock follows the host's,
  // and a loaded host must not fail the test.)
  const Duration shortest = std::max<Duration>(kCount * kSendPeriod, kTicks * kTickPeriod);
  ok &= check(elapsed >= shortest, "the sleeps took their time");
  if (!ok) return 1;

  mote::firmware::semihosting::write0("core_proof: PASS\n");
  return 0;
}
