#include "mote/firmware/fpgaio_led.hpp"

#include "mote/base/assert.hpp"
#include "mote/firmware/cortex_m.hpp"
#include "mote/hal/gpio.hpp"
#include "mote/hal/sampled_input.hpp"

namespace mote::firmware {
namespace {

static_assert(hal::DigitalOutput<FpgaioLed>);
static_assert(hal::ReadablePin<FpgaioLed>);

volatile std::uint32_t& led0() {
  return *reinterpret_cast<volatile std::uint32_t*>(  // NOLINT(performance-no-int-to-ptr)
      FpgaioLed::kLed0);
}

}  // namespace

FpgaioLed::FpgaioLed(unsigned index, bool initial) : index_(index), mask_(1U << index) {
  MOTE_ASSERT(index < kLeds);
  set(initial).ignore_error();
}

Status FpgaioLed::set(bool on) {
  const cortex_m::InterruptLock lock;
  const std::uint32_t value = led0();
  led0() = on ? (value | mask_) : (value & ~mask_);
  return ok_status();
}

Status FpgaioLed::toggle() {
  const cortex_m::InterruptLock lock;
  led0() = led0() ^ mask_;
  return ok_status();
}

bool FpgaioLed::latched() const { return (led0() & mask_) != 0; }

}  // namespace mote::firmware
