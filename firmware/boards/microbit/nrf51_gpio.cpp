#include "mote/firmware/nrf51_gpio.hpp"

#include "mote/base/assert.hpp"
#include "mote/hal/gpio.hpp"
#include "mote/hal/sampled_input.hpp"

namespace mote::firmware {
namespace {

static_assert(hal::DigitalOutput<Nrf51Pin>);
static_assert(hal::DigitalInput<hal::SampledInput<Nrf51Pin>>);

// nRF51 Series Reference Manual v3.0, 14 "GPIO".
enum Offset : std::uintptr_t {
  kOut = 0x504,
  kOutSet = 0x508,
  kOutClr = 0x50C,
  kIn = 0x510,
  kPinCnf = 0x700,  // + 4 * pin
};

// PIN_CNF fields.
constexpr std::uint32_t kDirOutput = 1U << 0;
constexpr std::uint32_t kInputDisconnect = 1U << 1;  // 0: input buffer connected
constexpr std::uint32_t kPullDown = 1U << 2;
constexpr std::uint32_t kPullUp = 3U << 2;
constexpr std::uint32_t kDriveS0D1 = 6U << 8;  // standard 0, disconnected 1

volatile std::uint32_t& reg(std::uintptr_t offset) {
  return *reinterpret_cast<volatile std::uint32_t*>(  // NOLINT(performance-no-int-to-ptr)
      Nrf51Pin::kBase + offset);
}

std::uint32_t pin_config(Nrf51Pin::Mode mode) {
  switch (mode) {
    case Nrf51Pin::Mode::input: return 0;
    case Nrf51Pin::Mode::input_pull_up: return kPullUp;
    case Nrf51Pin::Mode::input_pull_down: return kPullDown;
    case Nrf51Pin::Mode::output: return kDirOutput;
    case Nrf51Pin::Mode::output_open_drain: return kDirOutput | kDriveS0D1;
  }
  return kInputDisconnect;
}

}  // namespace

Nrf51Pin::Nrf51Pin(unsigned pin, Mode mode, bool initial) : pin_(pin), mask_(1U << pin) {
  MOTE_ASSERT(pin < kPins);
  reg(initial ? kOutSet : kOutClr) = mask_;
  reg(kPinCnf + 4 * pin) = pin_config(mode);
}

Status Nrf51Pin::set(bool high) {
  reg(high ? kOutSet : kOutClr) = mask_;
  return ok_status();
}

Status Nrf51Pin::toggle() { return set(!latched()); }

Result<bool> Nrf51Pin::read() const { return (reg(kIn) & mask_) != 0; }

bool Nrf51Pin::latched() const { return (reg(kOut) & mask_) != 0; }

}  // namespace mote::firmware
