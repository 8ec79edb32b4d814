#pragma once
// The firmware's async::Driver: time from SysTick (see systick.hpp), waiting
// with WFI. Interrupt handlers that wake a task call notify().

#include <cstdint>

#include "mote/async/driver.hpp"

namespace mote::firmware {

class SysTickDriver final : public async::Driver {
 public:
  // Starts SysTick; `core_clock_hz` is the processor clock.
  explicit SysTickDriver(std::uint32_t core_clock_hz);

  async::Instant now() override;
  // Sleeps (WFI) until the deadline or a notify(); with no deadline, until a
  // notify() (interrupt handlers raise InterruptEvents, which notify).
  bool wait_until(async::Instant deadline) override;
  void notify() override;

 private:
  volatile bool notified_ = false;
};

}  // namespace mote::firmware
