#pragma once
// SHT3x: Sensirion's I2C humidity and temperature sensor (SHT30/31/35,
// datasheet "SHT3x-DIS", version 7), over any hal::I2cBus, waiting with any
// hal::Delay. Freestanding, no heap.
//
//   Sht3x sensor(i2c, delay);                       // 0x44 (ADDR to VSS), high repeatability
//   Result<sht3x::Reading> r = co_await sensor.read();
//   // r->temperature (MilliCelsius), r->humidity (MilliPercentRh)
//
// read(): a single-shot measurement without clock stretching (the command
// 0x2400/0x240B/0x2416 for high/medium/low repeatability), a wait of the
// datasheet's maximum measurement time (15/6/4 ms), then a read of six bytes:
// temperature and humidity, each a big-endian word followed by its CRC-8
// (polynomial 0x31, initial value 0xFF). Until the measurement is done the
// sensor NACKs the read header; the driver then polls every kPollInterval,
// kPollAttempts times, before giving up.
//   Wakes: the bus operations and the delay. Cancels: destroying the awaiter
//   (a measurement left behind is discarded by the next command).
//   Errors:
//     not_found          the command was not acknowledged (nothing at the address)
//     data_loss          a CRC mismatch (the word is not used), a refused command byte
//     deadline_exceeded  the result never became readable
//     and the bus's own (unavailable, deadline_exceeded for a stuck bus)
//
// Conversion (datasheet 4.13): T = -45 °C + 175 °C x S_T / 65535 and
// RH = 100 % x S_RH / 65535, rounded to the nearest m°C / m%RH.

#include <array>
#include <cstdint>

#include "mote/async/task.hpp"
#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/hal/delay.hpp"
#include "mote/hal/i2c.hpp"
#include "mote/hal/sensor.hpp"

namespace mote::drivers {
namespace sht3x {

inline constexpr hal::I2cAddress kDefaultAddress = 0x44;    // ADDR to VSS
inline constexpr hal::I2cAddress kAlternateAddress = 0x45;  // ADDR to VDD

enum class Repeatability : std::uint8_t { low, medium, high };

// Commands (datasheet, tables 9, 13, 15, 16, 17), sent MSB first.
inline constexpr std::uint16_t kMeasureHigh = 0x2400;  // single shot, no clock stretching
inline constexpr std::uint16_t kMeasureMedium = 0x240B;
inline constexpr std::uint16_t kMeasureLow = 0x2416;
inline constexpr std::uint16_t kSoftReset = 0x30A2;
inline constexpr std::uint16_t kHeaterOn = 0x306D;
inline constexpr std::uint16_t kHeaterOff = 0x3066;
inline constexpr std::uint16_t kReadStatus = 0xF32D;
inline constexpr std::uint16_t kClearStatus = 0x3041;

// Status register bits (table 18).
inline constexpr std::uint16_t kStatusAlertPending = 1U << 15;
inline constexpr std::uint16_t kStatusHeaterOn = 1U << 13;
inline constexpr std::uint16_t kStatusResetDetected = 1U << 4;
inline constexpr std::uint16_t kStatusCommandFailed = 1U << 1;
inline constexpr std::uint16_t kStatusWriteCrcFailed = 1U << 0;

// Polling once the maximum measurement time has passed.
inline constexpr async::Duration kPollInterval = std::chrono::milliseconds(1);
inline constexpr int kPollAttempts = 5;
// Soft reset time (table 4, max).
inline constexpr async::Duration kSoftResetTime = std::chrono::microseconds(1500);

[[nodiscard]] std::uint16_t measure_command(Repeatability repeatability);
// The maximum measurement duration (table 4): 4, 6, 15 ms.
[[nodiscard]] async::Duration measurement_time(Repeatability repeatability);

// Sensirion's CRC-8: polynomial 0x31, initial 0xFF, no reflection, no final
// XOR (datasheet 4.12: CRC(0xBEEF) = 0x92).
[[nodiscard]] std::uint8_t crc8(ConstByteSpan bytes);

[[nodiscard]] hal::MilliCelsius to_millicelsius(std::uint16_t raw);
[[nodiscard]] hal::MilliPercentRh to_millipercent_rh(std::uint16_t raw);

struct Reading {
  hal::MilliCelsius temperature;
  hal::MilliPercentRh humidity;
};

// A word and its CRC (three bytes). data_loss on a CRC mismatch,
// invalid_argument if not three bytes.
[[nodiscard]] Result<std::uint16_t> parse_word(ConstByteSpan bytes);
// The six bytes of a measurement: temperature word + CRC, humidity word + CRC.
[[nodiscard]] Result<Reading> parse_measurement(ConstByteSpan bytes);

}  // namespace sht3x

template <hal::I2cBus Bus, hal::Delay Delayer>
class Sht3x {
 public:
  Sht3x(Bus& bus, Delayer& delay, hal::I2cAddress address = sht3x::kDefaultAddress,
        sht3x::Repeatability repeatability = sht3x::Repeatability::high)
      : bus_(bus), delay_(delay), address_(address), repeatability_(repeatability) {}

  // A single-shot measurement (see the header comment).
  async::Task<Result<sht3x::Reading>> read();
  // hal::TemperatureSensor: read(), the temperature only.
  async::Task<Result<hal::MilliCelsius>> read_temperature();

  // Soft reset, then the reset time. The status register then shows
  // kStatusResetDetected and the heater is off.
  async::Task<Status> soft_reset();
  // The status register (CRC checked).
  async::Task<Result<std::uint16_t>> read_status();
  async::Task<Status> clear_status();
  // The on-chip heater (a few °C; for checking the sensor, or drying it).
  async::Task<Status> set_heater(bool on);

  [[nodiscard]] hal::I2cAddress address() const { return address_; }

 private:
  async::Task<Status> command(std::uint16_t code);

  Bus& bus_;
  Delayer& delay_;
  hal::I2cAddress address_;
  sht3x::Repeatability repeatability_;
};

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Status> Sht3x<Bus, Delayer>::command(std::uint16_t code) {
  const std::array<std::byte, 2> bytes{std::byte(code >> 8), std::byte(code & 0xFF)};
  co_return co_await bus_.write(address_, bytes);
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Result<sht3x::Reading>> Sht3x<Bus, Delayer>::read() {
  MOTE_CO_TRY(co_await command(sht3x::measure_command(repeatability_)));
  co_await delay_.delay(sht3x::measurement_time(repeatability_));
  std::array<std::byte, 6> bytes{};
  for (int attempt = 0;; ++attempt) {
    const Status status = co_await bus_.read(address_, bytes);
    if (status.ok()) break;
    // A NACKed read header: the measurement is not finished yet.
    if (status != Status::not_found()) co_return status;
    if (attempt == sht3x::kPollAttempts) co_return Status::deadline_exceeded();
    co_await delay_.delay(sht3x::kPollInterval);
  }
  co_return sht3x::parse_measurement(bytes);
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Result<hal::MilliCelsius>> Sht3x<Bus, Delayer>::read_temperature() {
  Result<sht3x::Reading> reading = co_await read();
  MOTE_CO_TRY(reading);
  co_return reading->temperature;
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Status> Sht3x<Bus, Delayer>::soft_reset() {
  MOTE_CO_TRY(co_await command(sht3x::kSoftReset));
  co_await delay_.delay(sht3x::kSoftResetTime);
  co_return ok_status();
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Result<std::uint16_t>> Sht3x<Bus, Delayer>::read_status() {
  const std::array<std::byte, 2> code{std::byte(sht3x::kReadStatus >> 8),
                                      std::byte(sht3x::kReadStatus & 0xFF)};
  std::array<std::byte, 3> bytes{};
  MOTE_CO_TRY(co_await bus_.write_read(address_, code, bytes));
  co_return sht3x::parse_word(bytes);
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Status> Sht3x<Bus, Delayer>::clear_status() {
  co_return co_await command(sht3x::kClearStatus);
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Status> Sht3x<Bus, Delayer>::set_heater(bool on) {
  co_return co_await command(on ? sht3x::kHeaterOn : sht3x::kHeaterOff);
}

}  // namespace mote::drivers
