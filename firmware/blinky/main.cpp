// blinky: the board's LED through the HAL, checked through the registers.
//   blinker  every kPeriod toggles the LED (hal::DigitalOutput) and checks
//            that the output register (latched()) and the pin (read())
//            both show the new level
//   watcher  counts the LED's rising edges through hal::SampledInput
//            (a hal::DigitalInput sampling the pin every kSamplePeriod)
// Each toggle is followed by at least one sample before the next (the
// watcher's deadline always comes first), so the watcher must count exactly
// kToggles / 2 rising edges (one period after the last toggle the blinker
// ends a watcher still waiting, so a missed edge fails instead of hanging). main checks that, the
// number of toggles, the final level and that the waits took their time, prints "blinky: PASS" and
// returns 0.

#include <chrono>
#include <functional>

#define MOTE_LOG_MODULE "blinky"
#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/base/log.hpp"
#include "mote/firmware/board.hpp"
#include "mote/firmware/board_led.hpp"
#include "mote/firmware/check.hpp"
#include "mote/firmware/semihosting.hpp"
#include "mote/firmware/systick_driver.hpp"
#include "mote/hal/gpio.hpp"
#include "mote/hal/sampled_input.hpp"

namespace {

using namespace std::chrono_literals;
using mote::Status;
using mote::async::Duration;
using mote::async::Task;
using mote::firmware::BoardLed;
using mote::firmware::check;

static_assert(mote::hal::DigitalOutput<BoardLed>);
static_assert(mote::hal::DigitalInput<mote::hal::SampledInput<BoardLed>>);

constexpr int kToggles = 10;
constexpr Duration kPeriod = 10ms;
constexpr Duration kSamplePeriod = 1ms;

struct Results {
  int toggles = 0;
  int register_mismatches = 0;
  int pin_mismatches = 0;
  int rising_edges = 0;
  Status watch_status;
};

mote::async::TaskStorage<256> blinker_storage;
mote::async::TaskStorage<256> watcher_storage;

Task<void> blinker(BoardLed& led, Results& results) {
  bool expected = false;
  for (int i = 0; i < kToggles; ++i) {
    co_await mote::async::sleep_for(kPeriod);
    if (!led.toggle().ok()) co_return;
    expected = !expected;
    ++results.toggles;
    if (led.latched() != expected) ++results.register_mismatches;
    const mote::Result<bool> level = led.read();
    if (!level.ok() || *level != expected) ++results.pin_mismatches;
  }
  // A watcher that missed an edge would wait for ever: give it one more
  // period, then end it (main then reports what it saw).
  co_await mote::async::sleep_for(kPeriod);
  watcher_storage.cancel();
}

Task<void> watcher(mote::hal::SampledInput<BoardLed>& input, Results& results) {
  for (int i = 0; i < kToggles / 2; ++i) {
    const Status status = co_await input.wait_for_edge(mote::hal::Edge::rising);
    if (!status.ok()) {
      results.watch_status = status;
      co_return;
    }
    ++results.rising_edges;
  }
}

Results results;

}  // namespace

int main() {
  mote::firmware::SysTickDriver driver(mote::firmware::board::kCoreClockHz);
  mote::async::Executor executor(driver);
  BoardLed led;
  mote::hal::SampledInput<BoardLed> input(led, kSamplePeriod);
  MOTE_LOG_INFO(
      "board %s: %d toggles every %ld ms", mote::firmware::board::kName, kToggles,
      static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(kPeriod).count()));

  bool ok = check(!led.latched(), "the LED starts off");
  ok &= check(executor.spawn(watcher_storage, watcher, std::ref(input), std::ref(results)).ok(),
              "spawn watcher");
  ok &= check(executor.spawn(blinker_storage, blinker, std::ref(led), std::ref(results)).ok(),
              "spawn blinker");
  if (!ok) return 1;

  const mote::async::Instant start = executor.now();
  const Status run = executor.run();
  const Duration elapsed = executor.now() - start;

  MOTE_LOG_INFO("%d toggles, %d rising edges seen, frame bytes used: blinker %u, watcher %u",
                results.toggles, results.rising_edges,
                static_cast<unsigned>(blinker_storage.high_water_mark()),
                static_cast<unsigned>(watcher_storage.high_water_mark()));
  ok &= check(run.ok(), "executor.run() returned ok");
  ok &= check(results.toggles == kToggles, "every toggle succeeded");
  ok &= check(results.register_mismatches == 0, "the output register followed every toggle");
  ok &= check(results.pin_mismatches == 0, "the pin followed every toggle");
  ok &= check(results.watch_status.ok(), "the watcher's waits succeeded");
  ok &= check(results.rising_edges == kToggles / 2, "the watcher saw every rising edge");
  ok &= check(!led.latched(), "an even number of toggles leaves the LED off");
  ok &= check(elapsed >= kToggles * kPeriod, "the toggles took their time");
  if (!ok) return 1;

  mote::firmware::semihosting::write0("blinky: PASS\n");
  return 0;
}
