#pragma once
// FpgaioLed: one of the MPS2's user LEDs, driven through the FPGA I/O block's
// LED0 register (0x40028000; bit n is LED n; QEMU's mps2-fpgaio models two),
// a hal::DigitalOutput. The register reads back what was written, which
// read() reports, so hal::SampledInput can watch it too.
//
//   mote::firmware::FpgaioLed led(0);
//   led.toggle();
//
// LED0 holds all the LEDs, so set() is a read-modify-write of it, done with
// interrupts masked: tasks and interrupt handlers may drive different LEDs.

#include <cstdint>

#include "mote/base/result.hpp"
#include "mote/base/status.hpp"

namespace mote::firmware {

class FpgaioLed {
 public:
  static constexpr std::uintptr_t kLed0 = 0x40028000U;
  static constexpr unsigned kLeds = 2;

  explicit FpgaioLed(unsigned index, bool initial = false);
  FpgaioLed(const FpgaioLed&) = delete;
  FpgaioLed& operator=(const FpgaioLed&) = delete;

  Status set(bool on);
  Status toggle();
  // The LED's bit of LED0 as the register reads it back.
  Result<bool> read() const { return latched(); }
  [[nodiscard]] bool latched() const;
  [[nodiscard]] unsigned index() const { return index_; }

 private:
  unsigned index_;
  std::uint32_t mask_;
};

}  // namespace mote::firmware
