#pragma once
// SimDriver: a platform driver with a virtual clock, for deterministic tests.
//
// Time moves only when the executor would wait (it jumps straight to the next
// deadline, so "sleep for an hour" takes no real time) or when the test calls
// advance(). With no deadline pending and no notify(), a wait can never end:
// the driver says so and Executor::run() reports the stall instead of hanging.

#include "mote/async/driver.hpp"
#include "mote/base/assert.hpp"

namespace mote::platform {

class SimDriver final : public async::Driver {
 public:
  explicit SimDriver(async::Instant start = async::Instant{}) : now_(start) {}

  async::Instant now() override { return now_; }

  bool wait_until(async::Instant deadline) override {
    ++waits_;
    if (notified_) {
      notified_ = false;
      return true;
    }
    if (deadline == async::kNever) return false;
    if (deadline > now_) now_ = deadline;
    return true;
  }

  void notify() override { notified_ = true; }

  // Moves the clock forward; the executor fires the timers due on its next pass.
  void advance(async::Duration duration) {
    MOTE_ASSERT(duration >= async::Duration::zero());
    now_ += duration;
  }

  // How many times the executor asked to wait.
  [[nodiscard]] unsigned waits() const { return waits_; }

 private:
  async::Instant now_;
  unsigned waits_ = 0;
  bool notified_ = false;
};

}  // namespace mote::platform
