#pragma once
// Nrf51Pin: one pin of the nRF51822's GPIO port (0x50000000, 32 pins), a
// hal::DigitalOutput, and readable (read() samples the pin's input buffer), so
// hal::SampledInput makes it a hal::DigitalInput.
//
//   mote::firmware::Nrf51Pin led(13, Nrf51Pin::Mode::output);
//   led.set(true);                                  // OUTSET: one store
//   led.toggle();
//   Nrf51Pin button(17, Nrf51Pin::Mode::input_pull_up);   // micro:bit button A
//   mote::hal::SampledInput a(button, 1ms);
//   co_await a.wait_for_edge(mote::hal::Edge::falling);   // pressed
//
// Every mode keeps the input buffer connected, so read() reports the pin's
// level for outputs too (what the pin actually does, where latched() reports
// what the OUT register asks for). set() writes OUTSET or OUTCLR, which touch
// only this pin: no read-modify-write, so interrupt handlers that drive other
// pins need no lock. toggle() reads OUT first: one owner per pin.
//
// Edges: the nRF51 has GPIOTE (IN events on four channels, PORT from the
// SENSE mechanism), but QEMU 7.2 does not model it (0x40006000 is an
// unimplemented region there), so inputs are sampled (hal::SampledInput)
// until an interrupt-driven input can be tested.

#include <cstdint>

#include "mote/base/result.hpp"
#include "mote/base/status.hpp"

namespace mote::firmware {

class Nrf51Pin {
 public:
  static constexpr std::uintptr_t kBase = 0x50000000U;
  static constexpr unsigned kPins = 32;

  enum class Mode : std::uint8_t {
    input,
    input_pull_up,
    input_pull_down,
    output,             // push-pull (standard drive, S0S1)
    output_open_drain,  // drives 0, floats for 1 (S0D1)
  };

  // Configures the pin (PIN_CNF), for outputs after setting OUT to `initial`
  // so the pin never glitches to the other level.
  Nrf51Pin(unsigned pin, Mode mode, bool initial = false);
  Nrf51Pin(const Nrf51Pin&) = delete;
  Nrf51Pin& operator=(const Nrf51Pin&) = delete;

  Status set(bool high);
  Status toggle();
  // The pin's level (IN).
  Result<bool> read() const;
  // What the output register drives (OUT).
  [[nodiscard]] bool latched() const;
  [[nodiscard]] unsigned pin() const { return pin_; }

 private:
  unsigned pin_;
  std::uint32_t mask_;
};

}  // namespace mote::firmware
