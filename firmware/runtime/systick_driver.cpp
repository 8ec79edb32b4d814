#include "mote/firmware/systick_driver.hpp"

#include "mote/firmware/cortex_m.hpp"
#include "mote/firmware/systick.hpp"

namespace mote::firmware {

SysTickDriver::SysTickDriver(std::uint32_t core_clock_hz) { systick::start(core_clock_hz); }

async::Instant SysTickDriver::now() {
  return async::Instant(
      async::Duration(static_cast<async::Duration::rep>(systick::microseconds())));
}

bool SysTickDriver::wait_until(async::Instant deadline) {
  for (;;) {
    // Check and sleep with interrupts masked: an interrupt that arrives after
    // the check still ends the WFI (it is pending), then runs once unmasked.
    cortex_m::disable_interrupts();
    if (notified_) {
      notified_ = false;
      cortex_m::enable_interrupts();
      return true;
    }
    // With no deadline, sleep until an interrupt handler calls notify()
    // (an InterruptEvent's raise()): on bare metal that can always happen.
    if (deadline != async::kNever && now() >= deadline) {
      cortex_m::enable_interrupts();
      return true;
    }
    cortex_m::wait_for_interrupt();
    cortex_m::enable_interrupts();
  }
}

void SysTickDriver::notify() { notified_ = true; }

}  // namespace mote::firmware
