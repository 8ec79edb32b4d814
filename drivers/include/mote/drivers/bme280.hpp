#pragma once
// BME280: Bosch's temperature, pressure and humidity sensor (datasheet
// BST-BME280-DS002), over any hal::I2cBus, waiting with any hal::Delay.
// Freestanding, no heap, no floating point: the datasheet's integer
// compensation (32-bit temperature, 64-bit pressure, 32-bit humidity).
//
//   Bme280 sensor(i2c, delay);                   // address 0x76, x1 oversampling
//   Result<Bme280Reading> r = co_await sensor.read();
//
// init(): read the chip id (0x60 at 0xD0), soft reset (0xB6 to 0xE0), wait
// 2 ms (start-up time) and poll status.im_update until the NVM copy is done,
// read the calibration (0x88..0xA1, 0xE1..0xE7), write ctrl_hum and config.
// read(): init() if needed, start a forced-mode measurement (ctrl_meas),
// wait for the datasheet's maximum measurement time (section 9.1), check
// status.measuring (polling a little longer if it is still set), read
// 0xF7..0xFE and compensate.
//   Wakes: the bus operations and the delay. Cancels: destroying the awaiter
//   (a measurement left running ends by itself; the next read() starts anew).
//   Errors:
//     not_found            nothing acknowledged the address
//     failed_precondition  something answered, but its chip id is not 0x60
//                          (a BMP280 reads 0x58): not this driver's part
//     invalid_argument     temperature oversampling skipped (the other two
//                          need t_fine)
//     data_loss            an implausible calibration (all 0s or 1s), a
//                          measurement that reads "skipped", or a value
//                          outside the part's range (-40..85 °C,
//                          300..1100 hPa)
//     deadline_exceeded    the NVM copy or the measurement never finished
//     and the bus's errors.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "mote/async/task.hpp"
#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/hal/delay.hpp"
#include "mote/hal/i2c.hpp"
#include "mote/hal/sensor.hpp"

namespace mote::drivers {
namespace bme280 {

inline constexpr hal::I2cAddress kPrimaryAddress = 0x76;    // SDO to GND
inline constexpr hal::I2cAddress kSecondaryAddress = 0x77;  // SDO to VDDIO
inline constexpr std::uint8_t kChipId = 0x60;

// Registers (datasheet, table 18).
inline constexpr std::uint8_t kRegCalibration0 = 0x88;  // 0x88..0xA1: 26 bytes
inline constexpr std::uint8_t kRegChipId = 0xD0;
inline constexpr std::uint8_t kRegReset = 0xE0;
inline constexpr std::uint8_t kRegCalibration1 = 0xE1;  // 0xE1..0xE7: 7 bytes
inline constexpr std::uint8_t kRegCtrlHum = 0xF2;
inline constexpr std::uint8_t kRegStatus = 0xF3;
inline constexpr std::uint8_t kRegCtrlMeas = 0xF4;
inline constexpr std::uint8_t kRegConfig = 0xF5;
inline constexpr std::uint8_t kRegData = 0xF7;  // 0xF7..0xFE: press, temp, hum
inline constexpr std::size_t kCalibration0Size = 26;
inline constexpr std::size_t kCalibration1Size = 7;
inline constexpr std::size_t kDataSize = 8;

inline constexpr std::uint8_t kResetCommand = 0xB6;
inline constexpr std::uint8_t kStatusMeasuring = 0x08;
inline constexpr std::uint8_t kStatusImUpdate = 0x01;
inline constexpr std::uint8_t kModeForced = 0x01;

// osrs_x fields: how many samples a measurement averages (skipped: none).
enum class Oversampling : std::uint8_t { skipped = 0, x1 = 1, x2 = 2, x4 = 3, x8 = 4, x16 = 5 };
// The IIR filter coefficient (config.filter).
enum class Filter : std::uint8_t { off = 0, x2 = 1, x4 = 2, x8 = 3, x16 = 4 };

struct Settings {
  Oversampling temperature = Oversampling::x1;
  Oversampling pressure = Oversampling::x1;
  Oversampling humidity = Oversampling::x1;
  Filter filter = Filter::off;
};

// The trimming parameters (datasheet, table 16), names as there.
struct Calibration {
  std::uint16_t dig_t1 = 0;
  std::int16_t dig_t2 = 0;
  std::int16_t dig_t3 = 0;
  std::uint16_t dig_p1 = 0;
  std::int16_t dig_p2 = 0;
  std::int16_t dig_p3 = 0;
  std::int16_t dig_p4 = 0;
  std::int16_t dig_p5 = 0;
  std::int16_t dig_p6 = 0;
  std::int16_t dig_p7 = 0;
  std::int16_t dig_p8 = 0;
  std::int16_t dig_p9 = 0;
  std::uint8_t dig_h1 = 0;
  std::int16_t dig_h2 = 0;
  std::uint8_t dig_h3 = 0;
  std::int16_t dig_h4 = 0;  // 12 bits: 0xE4[7:0] 0xE5[3:0]
  std::int16_t dig_h5 = 0;  // 12 bits: 0xE6[7:0] 0xE5[7:4]
  std::int8_t dig_h6 = 0;
};

// Decodes the two calibration blocks (26 bytes from 0x88, 7 from 0xE1).
// Errors: data_loss when dig_T1 or dig_P1 is 0 or 0xFFFF (a bus that read
// all 0s or 1s; dig_P1 = 0 would also divide by zero), invalid_argument for
// wrong sizes.
[[nodiscard]] Result<Calibration> parse_calibration(ConstByteSpan block0, ConstByteSpan block1);

// The ADC values of 0xF7..0xFE: 20-bit pressure and temperature, 16-bit
// humidity. A skipped measurement reads 0x80000 (0x8000 for humidity).
struct RawSample {
  std::int32_t pressure = 0;
  std::int32_t temperature = 0;
  std::int32_t humidity = 0;
};
inline constexpr std::int32_t kSkipped20 = 0x80000;
inline constexpr std::int32_t kSkipped16 = 0x8000;
[[nodiscard]] RawSample parse_sample(ConstByteSpan data);

// The datasheet's compensation formulas (section 4.2.3), integer versions.
// Temperature in 0.01 °C; `t_fine` carries it on to the other two.
[[nodiscard]] std::int32_t compensate_temperature(const Calibration& calibration,
                                                  std::int32_t adc_t, std::int32_t& t_fine);
// Pressure in Pa as Q24.8 (24 integer, 8 fraction bits); 0 when it cannot be
// computed (a calibration that would divide by zero).
[[nodiscard]] std::uint32_t compensate_pressure(const Calibration& calibration, std::int32_t adc_p,
                                                std::int32_t t_fine);
// Relative humidity in % as Q22.10.
[[nodiscard]] std::uint32_t compensate_humidity(const Calibration& calibration, std::int32_t adc_h,
                                                std::int32_t t_fine);

// The maximum time one forced measurement takes (datasheet, section 9.1):
// 1.25 ms + 2.3 ms x T oversampling + (2.3 ms x P oversampling + 0.575 ms)
// + (2.3 ms x H oversampling + 0.575 ms), the last two only when enabled.
[[nodiscard]] async::Duration max_measurement_time(const Settings& settings);

// The register values for these settings.
[[nodiscard]] constexpr std::uint8_t ctrl_hum(const Settings& s) {
  return static_cast<std::uint8_t>(s.humidity);
}
[[nodiscard]] constexpr std::uint8_t ctrl_meas(const Settings& s, std::uint8_t mode) {
  return static_cast<std::uint8_t>(static_cast<unsigned>(s.temperature) << 5 |
                                   static_cast<unsigned>(s.pressure) << 2 | mode);
}
[[nodiscard]] constexpr std::uint8_t config(const Settings& s) {
  return static_cast<std::uint8_t>(static_cast<unsigned>(s.filter) << 2);
}

}  // namespace bme280

struct Bme280Reading {
  hal::MilliCelsius temperature;
  std::optional<hal::MilliPascal> pressure;     // nullopt when pressure is skipped
  std::optional<hal::MilliPercentRh> humidity;  // nullopt when humidity is skipped
};

// Compensates and checks one sample (see Bme280's errors).
[[nodiscard]] Result<Bme280Reading> bme280_reading(const bme280::Calibration& calibration,
                                                   const bme280::Settings& settings,
                                                   const bme280::RawSample& sample);

template <hal::I2cBus Bus, hal::Delay Delayer>
class Bme280 {
 public:
  // How long init() and read() poll a busy status register, and how often.
  static constexpr int kStatusPolls = 10;
  static constexpr async::Duration kStatusPollInterval = std::chrono::milliseconds(1);
  // Start-up time after a (soft) reset (datasheet, table 1).
  static constexpr async::Duration kStartupTime = std::chrono::milliseconds(2);

  Bme280(Bus& bus, Delayer& delay, hal::I2cAddress address = bme280::kPrimaryAddress,
         bme280::Settings settings = {})
      : bus_(bus), delay_(delay), address_(address), settings_(settings) {}

  // Probe, reset, calibration, configuration (see the header comment).
  async::Task<Status> init();
  // One forced measurement of all enabled quantities; init() first if needed.
  async::Task<Result<Bme280Reading>> read();
  // hal::TemperatureSensor: read()'s temperature.
  async::Task<Result<hal::MilliCelsius>> read_temperature();

  [[nodiscard]] bool initialized() const { return initialized_; }
  [[nodiscard]] const bme280::Calibration& calibration() const { return calibration_; }
  [[nodiscard]] const bme280::Settings& settings() const { return settings_; }

 private:
  async::Task<Result<std::uint8_t>> read_register(std::uint8_t reg);
  async::Task<Status> write_register(std::uint8_t reg, std::uint8_t value);
  // Polls the status register until `mask` clears.
  async::Task<Status> wait_status_clear(std::uint8_t mask);

  Bus& bus_;
  Delayer& delay_;
  hal::I2cAddress address_;
  bme280::Settings settings_;
  bme280::Calibration calibration_;
  bool initialized_ = false;
};

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Result<std::uint8_t>> Bme280<Bus, Delayer>::read_register(std::uint8_t reg) {
  const std::array<std::byte, 1> request = {std::byte{reg}};
  std::array<std::byte, 1> value{};
  MOTE_CO_TRY(co_await bus_.write_read(address_, request, value));
  co_return std::to_integer<std::uint8_t>(value[0]);
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Status> Bme280<Bus, Delayer>::write_register(std::uint8_t reg, std::uint8_t value) {
  const std::array<std::byte, 2> request = {std::byte{reg}, std::byte{value}};
  co_return co_await bus_.write(address_, request);
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Status> Bme280<Bus, Delayer>::wait_status_clear(std::uint8_t mask) {
  for (int poll = 0; poll < kStatusPolls; ++poll) {
    Result<std::uint8_t> status = co_await read_register(bme280::kRegStatus);
    MOTE_CO_TRY(status);
    if ((*status & mask) == 0) co_return ok_status();
    co_await delay_.delay(kStatusPollInterval);
  }
  co_return Status::deadline_exceeded();
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Status> Bme280<Bus, Delayer>::init() {
  initialized_ = false;
  if (settings_.temperature == bme280::Oversampling::skipped) co_return Status::invalid_argument();
  Result<std::uint8_t> chip_id = co_await read_register(bme280::kRegChipId);
  MOTE_CO_TRY(chip_id);
  if (*chip_id != bme280::kChipId) co_return Status::failed_precondition();

  MOTE_CO_TRY(co_await write_register(bme280::kRegReset, bme280::kResetCommand));
  co_await delay_.delay(kStartupTime);
  MOTE_CO_TRY(co_await wait_status_clear(bme280::kStatusImUpdate));

  std::array<std::byte, bme280::kCalibration0Size> block0{};
  std::array<std::byte, bme280::kCalibration1Size> block1{};
  const std::array<std::byte, 1> reg0 = {std::byte{bme280::kRegCalibration0}};
  const std::array<std::byte, 1> reg1 = {std::byte{bme280::kRegCalibration1}};
  MOTE_CO_TRY(co_await bus_.write_read(address_, reg0, block0));
  MOTE_CO_TRY(co_await bus_.write_read(address_, reg1, block1));
  Result<bme280::Calibration> calibration = bme280::parse_calibration(block0, block1);
  MOTE_CO_TRY(calibration);
  calibration_ = *calibration;

  // ctrl_hum takes effect with the next ctrl_meas write (each measurement's).
  // In I2C writes the BME280 takes register/value pairs.
  const std::array<std::byte, 4> configure = {
      std::byte{bme280::kRegCtrlHum}, std::byte{bme280::ctrl_hum(settings_)},
      std::byte{bme280::kRegConfig}, std::byte{bme280::config(settings_)}};
  MOTE_CO_TRY(co_await bus_.write(address_, configure));
  initialized_ = true;
  co_return ok_status();
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Result<Bme280Reading>> Bme280<Bus, Delayer>::read() {
  if (!initialized_) MOTE_CO_TRY(co_await init());
  MOTE_CO_TRY(co_await write_register(bme280::kRegCtrlMeas,
                                      bme280::ctrl_meas(settings_, bme280::kModeForced)));
  co_await delay_.delay(bme280::max_measurement_time(settings_));
  MOTE_CO_TRY(co_await wait_status_clear(bme280::kStatusMeasuring));

  const std::array<std::byte, 1> reg = {std::byte{bme280::kRegData}};
  std::array<std::byte, bme280::kDataSize> data{};
  MOTE_CO_TRY(co_await bus_.write_read(address_, reg, data));
  co_return bme280_reading(calibration_, settings_, bme280::parse_sample(data));
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Result<hal::MilliCelsius>> Bme280<Bus, Delayer>::read_temperature() {
  Result<Bme280Reading> reading = co_await read();
  MOTE_CO_TRY(reading);
  co_return reading->temperature;
}

}  // namespace mote::drivers
