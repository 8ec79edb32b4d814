#pragma once
// TMP102: Texas Instruments' I2C digital temperature sensor (datasheet
// SBOS397), over any hal::I2cBus, waiting with any hal::Delay. Freestanding,
// no heap. This driver is the worked example of docs/guide.md ("write a
// sensor driver against the HAL").
//
//   Tmp102 sensor(i2c, delay);                        // 0x48 (ADD0 to GND), continuous
//   MOTE_CO_TRY(co_await sensor.configure());         // extended range, first conversion
//   Result<hal::MilliCelsius> t = co_await sensor.read_temperature();
//
// Modes:
//   continuous  the part converts on its own (4 conversions/s by default);
//               read_temperature() reads the latest result.
//   one_shot    the part sleeps in shutdown (about 0.5 uA); read_temperature()
//               writes OS=1 to start one conversion, waits the typical
//               conversion time, then polls OS (it reads 1 once the result is
//               in the register) every kPollInterval, kPollAttempts times.
// configure() writes the configuration register: shutdown for one_shot,
// extended mode (13 bits, so the range reaches +150 °C) and the conversion
// rate. In continuous mode it then waits one conversion time: until the
// first conversion the temperature register reads 0 °C, which is not a
// measurement. Without configure() the part keeps its power-up state
// (continuous, 12 bits, 4 Hz), which read_temperature() also decodes.
//   Wakes: the bus operations and the delay. Cancels: destroying the awaiter
//   (a one-shot conversion left behind finishes unobserved).
//   Errors:
//     not_found          nothing acknowledged the address
//     data_loss          a temperature word with bits set that the part
//                        always clears (a floating bus reads 0xFFFF), or
//                        outside the part's range (-55..+150 °C)
//     deadline_exceeded  a one-shot conversion never finished
//     and the bus's own (unavailable, deadline_exceeded for a stuck bus)
//
// The temperature register (datasheet 7.5.4): a two's-complement count of
// 0.0625 °C, left-justified: 12 bits in D15..D4 with D0 = 0, or in extended
// mode 13 bits in D15..D3 with D0 = 1; the bits below the count are 0.

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
namespace tmp102 {

// ADD0 wired to GND, V+, SDA or SCL (datasheet table 7-4).
inline constexpr hal::I2cAddress kAddressGnd = 0x48;
inline constexpr hal::I2cAddress kAddressVplus = 0x49;
inline constexpr hal::I2cAddress kAddressSda = 0x4A;
inline constexpr hal::I2cAddress kAddressScl = 0x4B;

// The pointer register selects what the next read or write addresses.
inline constexpr std::uint8_t kTemperatureRegister = 0x00;
inline constexpr std::uint8_t kConfigurationRegister = 0x01;
inline constexpr std::uint8_t kLowLimitRegister = 0x02;
inline constexpr std::uint8_t kHighLimitRegister = 0x03;

// Configuration register bits (datasheet 7.5.3, table 7-10), as a 16-bit
// word: the first byte on the bus is the high byte.
inline constexpr std::uint16_t kOneShot = 1U << 15;         // OS
inline constexpr std::uint16_t kResolutionBits = 3U << 13;  // R1 R0, read-only 11
inline constexpr std::uint16_t kShutdown = 1U << 8;         // SD
inline constexpr std::uint16_t kAlert = 1U << 5;            // AL, read-only
inline constexpr std::uint16_t kExtendedMode = 1U << 4;     // EM
inline constexpr std::uint16_t kRateShift = 6;              // CR1 CR0
inline constexpr std::uint16_t kRateMask = 3U << kRateShift;
inline constexpr std::uint16_t kPowerUpConfiguration = 0x60A0;

enum class ConversionRate : std::uint8_t { quarter_hz = 0, one_hz = 1, four_hz = 2, eight_hz = 3 };
enum class Mode : std::uint8_t { continuous, one_shot };

// Conversion time: 26 ms typical, 35 ms maximum (datasheet 6.5).
inline constexpr async::Duration kConversionTime = std::chrono::milliseconds(26);
inline constexpr async::Duration kPollInterval = std::chrono::milliseconds(3);
inline constexpr int kPollAttempts = 4;  // 26 + 4 x 3 = 38 ms > 35 ms

// The part's specified range (datasheet 1, 6.5).
inline constexpr hal::MilliCelsius kMinimum{-55000};
inline constexpr hal::MilliCelsius kMaximum{150000};

// The two bytes of the temperature register, first byte first: the
// temperature (rounded to the nearest m°C, halves away from zero), or
// data_loss (see the header comment); invalid_argument if not two bytes.
[[nodiscard]] Result<hal::MilliCelsius> parse_temperature(ConstByteSpan bytes);

// The configuration word configure() writes for `mode` and `rate`.
[[nodiscard]] std::uint16_t configuration_for(Mode mode, ConversionRate rate);

}  // namespace tmp102

template <hal::I2cBus Bus, hal::Delay Delayer>
class Tmp102 {
 public:
  Tmp102(Bus& bus, Delayer& delay, hal::I2cAddress address = tmp102::kAddressGnd,
         tmp102::Mode mode = tmp102::Mode::continuous,
         tmp102::ConversionRate rate = tmp102::ConversionRate::four_hz)
      : bus_(bus), delay_(delay), address_(address), mode_(mode), rate_(rate) {}

  // Writes the configuration for the mode and rate (see the header comment).
  async::Task<Status> configure();
  // hal::TemperatureSensor.
  async::Task<Result<hal::MilliCelsius>> read_temperature();
  // The configuration register as the part reports it.
  async::Task<Result<std::uint16_t>> read_configuration();

  [[nodiscard]] hal::I2cAddress address() const { return address_; }
  [[nodiscard]] tmp102::Mode mode() const { return mode_; }

 private:
  async::Task<Status> write_configuration(std::uint16_t word);
  async::Task<Status> run_one_shot();

  Bus& bus_;
  Delayer& delay_;
  hal::I2cAddress address_;
  tmp102::Mode mode_;
  tmp102::ConversionRate rate_;
};

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Status> Tmp102<Bus, Delayer>::write_configuration(std::uint16_t word) {
  const std::array<std::byte, 3> bytes{std::byte{tmp102::kConfigurationRegister},
                                       std::byte(word >> 8), std::byte(word & 0xFF)};
  co_return co_await bus_.write(address_, bytes);
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Result<std::uint16_t>> Tmp102<Bus, Delayer>::read_configuration() {
  const std::array<std::byte, 1> pointer{std::byte{tmp102::kConfigurationRegister}};
  std::array<std::byte, 2> bytes{};
  MOTE_CO_TRY(co_await bus_.write_read(address_, pointer, bytes));
  co_return load_be16(bytes.data());
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Status> Tmp102<Bus, Delayer>::configure() {
  MOTE_CO_TRY(co_await write_configuration(tmp102::configuration_for(mode_, rate_)));
  // Continuous: the register holds 0 until the first conversion is done.
  if (mode_ == tmp102::Mode::continuous) co_await delay_.delay(tmp102::kConversionTime);
  co_return ok_status();
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Status> Tmp102<Bus, Delayer>::run_one_shot() {
  MOTE_CO_TRY(
      co_await write_configuration(tmp102::configuration_for(mode_, rate_) | tmp102::kOneShot));
  co_await delay_.delay(tmp102::kConversionTime);
  for (int attempt = 0;; ++attempt) {
    Result<std::uint16_t> configuration = co_await read_configuration();
    MOTE_CO_TRY(configuration);
    // OS reads 0 while the conversion runs, 1 once it is done.
    if ((*configuration & tmp102::kOneShot) != 0) co_return ok_status();
    if (attempt == tmp102::kPollAttempts) co_return Status::deadline_exceeded();
    co_await delay_.delay(tmp102::kPollInterval);
  }
}

template <hal::I2cBus Bus, hal::Delay Delayer>
async::Task<Result<hal::MilliCelsius>> Tmp102<Bus, Delayer>::read_temperature() {
  if (mode_ == tmp102::Mode::one_shot) MOTE_CO_TRY(co_await run_one_shot());
  const std::array<std::byte, 1> pointer{std::byte{tmp102::kTemperatureRegister}};
  std::array<std::byte, 2> bytes{};
  MOTE_CO_TRY(co_await bus_.write_read(address_, pointer, bytes));
  co_return tmp102::parse_temperature(bytes);
}

}  // namespace mote::drivers
