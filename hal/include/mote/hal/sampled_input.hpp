#pragma once
// SampledInput: a DigitalInput made from a pin that can only be read, by
// sampling it on the executor's timers. For parts (or emulators) without an
// edge interrupt: QEMU 7.2's micro:bit has the nRF51 GPIO but no GPIOTE, and
// the MPS2's FPGA I/O has no interrupt at all.
//
//   Nrf51Pin pin(13, Nrf51Pin::Mode::input_pull_up);
//   hal::SampledInput button(pin, 1ms);           // a hal::DigitalInput
//   co_await button.wait_for_edge(hal::Edge::falling);
//
// wait_for_edge samples at the call and then every `period`; it completes
// when a sample differs from the one before in the wanted direction. So the
// edge is seen up to one period late, and a pulse that starts and ends
// between two samples is missed: pick the period from the shortest pulse
// that matters (a button: a few ms, which also debounces it).
//   Wakes: the executor's timer, every period while a task waits (the core
//   sleeps in between: no busy loop). Cancels: destroying the waiting task
//   removes its timer. Any number of tasks may wait, each sampling on its own.
//   Errors: whatever the pin's read() reports.

#include <concepts>

#include "mote/async/sleep.hpp"
#include "mote/async/task.hpp"
#include "mote/async/time.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/hal/gpio.hpp"

namespace mote::hal {

template <typename T>
concept ReadablePin = requires(T& pin) {
  { pin.read() } -> std::same_as<Result<bool>>;
};

template <ReadablePin Pin>
class SampledInput {
 public:
  SampledInput(Pin& pin, async::Duration period) : pin_(pin), period_(period) {}

  Result<bool> read() { return pin_.read(); }

  async::Task<Status> wait_for_edge(Edge edge) { return wait(edge, false); }
  async::Task<Status> wait_for_level(bool high) {
    return wait(high ? Edge::rising : Edge::falling, true);
  }

  [[nodiscard]] async::Duration period() const { return period_; }

 private:
  async::Task<Status> wait(Edge edge, bool done_if_at_level) {
    MOTE_CO_TRY_ASSIGN(bool previous, pin_.read());
    if (done_if_at_level && previous == (edge == Edge::rising)) co_return ok_status();
    for (;;) {
      co_await async::sleep_for(period_);
      MOTE_CO_TRY_ASSIGN(const bool level, pin_.read());
      if (level != previous && (edge == Edge::any || level == (edge == Edge::rising))) {
        co_return ok_status();
      }
      previous = level;
    }
  }

  Pin& pin_;
  async::Duration period_;
};

}  // namespace mote::hal
