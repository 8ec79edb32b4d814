#pragma once
// SimSht3x: a Sensirion SHT3x humidity and temperature sensor on a SimI2cBus,
// as its datasheet (SHT3x-DIS) describes the single-shot mode without clock
// stretching:
//
// - Commands are two bytes, MSB first. A measurement command (0x2400 /
//   0x240B / 0x2416: high / medium / low repeatability) starts a measurement
//   of 12.5 / 4.5 / 2.5 ms (typical) on the executor's clock; until it is
//   done the sensor NACKs the read header (not_found on the bus). Then a read
//   returns temperature and humidity words, each followed by its CRC-8
//   (0x31, init 0xFF); the data is read once (a second read is NACKed).
// - Soft reset (0x30A2), heater on/off (0x306D/0x3066), read status (0xF32D,
//   three bytes with CRC), clear status (0x3041). The status register starts
//   (and resets) at 0x8010: alert pending, reset detected.
// - An unknown command is refused (the second byte NACKed: data_loss) and
//   sets the status register's command-failed bit.
//
// Faults: set_responding(false) (from SimI2cDevice), set_corrupt_crc (a bit
// flipped in the humidity word on the wire), set_stuck_measuring (the
// measurement never finishes).

#include <cstdint>

#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/inline_vector.hpp"
#include "mote/hal/sensor.hpp"
#include "mote/hal/sim/i2c_bus.hpp"

namespace mote::hal::sim {

class SimSht3x final : public SimI2cDevice {
 public:
  explicit SimSht3x(I2cAddress address = 0x44) : SimI2cDevice(address) {}

  // The raw signal words the next measurement returns.
  void set_raw(std::uint16_t temperature, std::uint16_t humidity) {
    raw_temperature_ = temperature;
    raw_humidity_ = humidity;
  }
  // The same from physical values (the datasheet's formulas, inverted and
  // rounded to the nearest step).
  void set_measurement(MilliCelsius temperature, MilliPercentRh humidity);

  void set_corrupt_crc(bool corrupt) { corrupt_crc_ = corrupt; }
  void set_stuck_measuring(bool stuck) { stuck_measuring_ = stuck; }

  [[nodiscard]] unsigned measurements() const { return measurements_; }
  [[nodiscard]] unsigned resets() const { return resets_; }
  [[nodiscard]] bool heater_on() const { return (status_ & (1U << 13)) != 0; }
  [[nodiscard]] std::uint16_t status() const { return status_; }
  // The typical measurement time for a measurement command (0 for others).
  [[nodiscard]] static async::Duration measurement_time(std::uint16_t command);

 private:
  Status on_write(ConstByteSpan data) override;
  Status on_read(ByteSpan buffer) override;
  void queue_word(std::uint16_t word);

  std::uint16_t raw_temperature_ = 0x6666;  // about 25 °C
  std::uint16_t raw_humidity_ = 0x8000;     // 50 %RH
  std::uint16_t status_ = 0x8010;
  InlineVector<std::byte, 6> output_;  // what the next read returns
  bool measuring_ = false;
  async::Instant measurement_done_{};
  unsigned measurements_ = 0;
  unsigned resets_ = 0;
  bool corrupt_crc_ = false;
  bool stuck_measuring_ = false;
};

}  // namespace mote::hal::sim
