#pragma once
// SimBme280: a BME280 on a SimI2cBus, register by register (datasheet
// BST-BME280-DS002, section 5):
//
// - 0xD0 chip id 0x60; 0xE0 reset (0xB6 resets every register and sets
//   status.im_update for 1 ms while the NVM is copied);
// - 0xF2 ctrl_hum, 0xF4 ctrl_meas, 0xF5 config (writable); 0xF3 status;
// - 0xF7..0xFE data, 0x88..0xA1 and 0xE1..0xE7 calibration (read-only).
//
// I2C: a write sets the register pointer and then takes register/value
// pairs; a read auto-increments from the pointer.
//
// Writing forced mode (01 or 10) to ctrl_meas starts a measurement: status.
// measuring is set for the typical measurement time (1 + 2 T + (2 P + 0.5) +
// (2 H + 0.5) ms by the oversampling counts, on the executor's clock), then
// the data registers take the raw ADC values set_raw() gave (0x80000/0x8000
// for a skipped quantity, as the part reports), and the mode returns to sleep.
//
// The calibration defaults to the BMP280 datasheet's worked example for
// temperature and pressure (section 3.12: adc_T 519888 -> 25.08 °C) and to
// typical production values for humidity; set_calibration() replaces it.
//
// Faults: set_responding(false) (nothing acknowledges), set_chip_id() (another
// part), set_stuck_measuring(true) (status.measuring never clears).

#include <array>
#include <cstdint>

#include "mote/async/time.hpp"
#include "mote/hal/sim/i2c_bus.hpp"

namespace mote::hal::sim {

class SimBme280 final : public SimI2cDevice {
 public:
  explicit SimBme280(I2cAddress address = 0x76);

  // What the next measurement yields: 20-bit pressure and temperature,
  // 16-bit humidity ADC values.
  void set_raw(std::int32_t adc_p, std::int32_t adc_t, std::int32_t adc_h);
  // 26 bytes for 0x88..0xA1 and 7 for 0xE1..0xE7.
  void set_calibration(ConstByteSpan block0, ConstByteSpan block1);
  void set_chip_id(std::uint8_t chip_id) { registers_[0xD0] = chip_id; }
  void set_stuck_measuring(bool stuck) { stuck_measuring_ = stuck; }

  [[nodiscard]] std::uint8_t register_value(std::uint8_t reg);
  [[nodiscard]] unsigned measurements() const { return measurements_; }
  [[nodiscard]] unsigned resets() const { return resets_; }

  // The typical time of one forced measurement for a ctrl_hum/ctrl_meas pair.
  [[nodiscard]] static async::Duration typical_measurement_time(std::uint8_t ctrl_hum,
                                                                std::uint8_t ctrl_meas);

 private:
  Status on_write(ConstByteSpan data) override;
  Status on_read(ByteSpan buffer) override;
  void write_register(std::uint8_t reg, std::uint8_t value);
  void soft_reset();
  void update();  // finishes a measurement or NVM copy that is due

  std::array<std::uint8_t, 256> registers_{};
  std::array<std::uint8_t, 26> calibration0_{};
  std::array<std::uint8_t, 7> calibration1_{};
  std::int32_t adc_p_ = 0x80000;
  std::int32_t adc_t_ = 0x80000;
  std::int32_t adc_h_ = 0x8000;
  std::uint8_t pointer_ = 0;
  std::uint8_t ctrl_hum_latched_ = 0;  // ctrl_hum as of the last ctrl_meas write
  bool measuring_ = false;
  bool updating_ = false;
  async::Instant measurement_done_{};
  async::Instant update_done_{};
  unsigned measurements_ = 0;
  unsigned resets_ = 0;
  bool stuck_measuring_ = false;
};

}  // namespace mote::hal::sim
