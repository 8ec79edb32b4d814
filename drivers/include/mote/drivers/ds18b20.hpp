#pragma once
// DS18B20: Maxim's 1-Wire digital thermometer (datasheet 19-7487), over any
// hal::OneWireBus, waiting with any hal::Delay. Freestanding, no heap.
//
//   hal::OneWireRom roms[4];
//   MOTE_CO_TRY_ASSIGN(std::size_t n, co_await one_wire_search_all(bus, roms));
//   Ds18b20 sensor(bus, delay, roms[0]);
//   MOTE_CO_TRY(co_await sensor.set_resolution(10));
//   Result<hal::MilliCelsius> t = co_await sensor.read_temperature();
//
// read_temperature(): select the device (MATCH ROM, or SKIP ROM when it is
// alone on the bus), CONVERT T, poll the bus (one read slot every
// kPollInterval through the Delay; the device answers 0 while converting)
// until it answers 1 or the conversion has taken 1.25 x t_CONV of its
// resolution, then READ SCRATCHPAD and check it.
//
// Parasite power. A part wired with DQ and GND only draws its conversion
// current from the data line, and cannot signal while it converts. The first
// read asks the part (READ POWER SUPPLY, 0xB4: a parasite-powered part pulls
// the read slot low; with SKIP ROM, any such part on the bus does). For a
// parasite-powered part CONVERT T is written with the bus's strong pull-up
// (hal::OneWireStrongPullUp: switched on within 10 µs of the command), held
// for t_CONV of the resolution, then released before READ SCRATCHPAD. A bus
// without a strong pull-up cannot power the conversion reliably (the
// datasheet's requirement): failed_precondition. Since the conversion cannot
// be seen running, exactly +85 °C (the power-on value) is data_loss in
// parasite mode: a part that browned out reads the same, and a sagging line
// is the likelier cause there.
//   Wakes: the bus operations and the delay. Cancels: destroying the awaiter
//   (the device may finish its conversion unobserved; the next read starts a
//   new one).
//   Errors:
//     not_found          no presence pulse, or nobody sent the scratchpad
//                        (nine 0xFF bytes: the device is gone, others answered)
//     data_loss          scratchpad CRC mismatch, impossible configuration
//                        byte or temperature, or the +85 °C power-on value
//                        without a conversion seen to run (below)
//     deadline_exceeded  the device was still converting at the timeout
//     unavailable        the bus is shorted
//     failed_precondition  a parasite-powered part on a bus without a strong
//                        pull-up
//
// Why +85 °C can be an error. The temperature register holds 0x0550
// (+85 °C) from power-on until the first conversion completes. A device
// whose supply sags when the conversion current starts resets instead of
// converting: it then answers "done" at once, and its scratchpad holds
// 0x0550, a valid CRC and a plausible temperature. A converting DS18B20
// answers 0 to read slots for at least tens of milliseconds, so when the
// very first poll after CONVERT T already reads 1 no conversion ran, and
// 0x0550 is reported as data_loss. A genuine 85 °C after a conversion that
// was seen running is returned.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "mote/async/task.hpp"
#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/drivers/one_wire.hpp"
#include "mote/hal/delay.hpp"
#include "mote/hal/one_wire.hpp"
#include "mote/hal/one_wire_rom.hpp"
#include "mote/hal/sensor.hpp"

namespace mote::drivers {
namespace ds18b20 {

inline constexpr std::uint8_t kFamilyCode = 0x28;

// Function commands (datasheet, "DS18B20 function commands").
inline constexpr std::uint8_t kConvertT = 0x44;
inline constexpr std::uint8_t kWriteScratchpad = 0x4E;
inline constexpr std::uint8_t kReadScratchpad = 0xBE;
inline constexpr std::uint8_t kCopyScratchpad = 0x48;
inline constexpr std::uint8_t kRecallE2 = 0xB8;
inline constexpr std::uint8_t kReadPowerSupply = 0xB4;

// The power-on value of the temperature register: +85 °C.
inline constexpr std::int16_t kPowerOnRaw = 0x0550;

// How the part is powered (READ POWER SUPPLY).
enum class PowerSupply : std::uint8_t { external, parasite };

// How often read_temperature() polls a converting device.
inline constexpr async::Duration kPollInterval = std::chrono::milliseconds(10);

// t_CONV (max), by resolution: 93.75, 187.5, 375, 750 ms for 9..12 bits.
// Resolutions outside 9..12 are clamped.
[[nodiscard]] async::Duration conversion_time(int resolution_bits);
// How long read_temperature() waits for a conversion: t_CONV plus a quarter.
[[nodiscard]] async::Duration conversion_timeout(int resolution_bits);

// The configuration register for a resolution: 0 R1 R0 1 1 1 1 1.
[[nodiscard]] constexpr std::uint8_t config_for_resolution(int resolution_bits) {
  return static_cast<std::uint8_t>(((resolution_bits - 9) & 0x3) << 5 | 0x1F);
}
[[nodiscard]] constexpr int resolution_of_config(std::uint8_t config) {
  return 9 + ((config >> 5) & 0x3);
}

// The temperature register (two's complement, 1/16 °C) in m°C. 1/16 °C is
// 62.5 m°C: an odd count's half millidegree is dropped toward zero, so
// +25.0625 °C reads 25062 and -25.0625 °C reads -25062.
[[nodiscard]] constexpr hal::MilliCelsius to_millicelsius(std::int16_t raw) {
  return hal::MilliCelsius{raw * 125 / 2};
}

struct Scratchpad {
  std::int16_t raw_temperature = 0;  // 1/16 °C, bits below the resolution zeroed
  std::int8_t th = 0;                // alarm high, °C
  std::int8_t tl = 0;                // alarm low, °C
  std::uint8_t config = 0;
  [[nodiscard]] int resolution_bits() const { return resolution_of_config(config); }
  [[nodiscard]] hal::MilliCelsius temperature() const { return to_millicelsius(raw_temperature); }
};

// Checks and decodes the nine bytes READ SCRATCHPAD sends.
// Errors: not_found (all 0xFF: nobody drove the bus), data_loss (CRC
// mismatch, configuration byte with its fixed bits wrong, temperature
// outside -55..+125 °C), invalid_argument (not nine bytes).
[[nodiscard]] Result<Scratchpad> parse_scratchpad(ConstByteSpan bytes);

}  // namespace ds18b20

template <hal::OneWireBus Bus, hal::Delay Delayer>
class Ds18b20 {
 public:
  // The device with this ROM code (selected with MATCH ROM).
  Ds18b20(Bus& bus, Delayer& delay, hal::OneWireRom rom) : bus_(bus), delay_(delay), rom_(rom) {}
  // The only device on the bus (selected with SKIP ROM).
  static Ds18b20 alone_on_bus(Bus& bus, Delayer& delay) { return Ds18b20(bus, delay); }

  // hal::TemperatureSensor (see the header comment).
  async::Task<Result<hal::MilliCelsius>> read_temperature();

  // READ SCRATCHPAD, checked. Errors as read_temperature's, bar the timeout.
  async::Task<Result<ds18b20::Scratchpad>> read_scratchpad();

  // READ POWER SUPPLY; read_temperature() asks once and remembers.
  async::Task<Result<ds18b20::PowerSupply>> read_power_supply();
  // What the last READ POWER SUPPLY said (nullopt before the first).
  [[nodiscard]] std::optional<ds18b20::PowerSupply> power_supply() const { return power_; }

  // Sets the resolution (9..12 bits; t_CONV halves with each bit less): reads
  // the scratchpad to keep TH and TL, writes TH, TL and the new configuration,
  // and reads it back. In the device's RAM only: a power cycle restores the
  // EEPROM's (COPY SCRATCHPAD is not issued, to spare its write cycles).
  // Errors: invalid_argument (bits outside 9..12), data_loss (the read-back
  // differs), and read_scratchpad's.
  async::Task<Status> set_resolution(int bits);

  // The resolution the driver assumes when timing a conversion: 12 bits (the
  // slowest) until it has read the device's configuration.
  [[nodiscard]] int resolution_bits() const { return resolution_bits_; }
  [[nodiscard]] std::optional<hal::OneWireRom> rom() const { return rom_; }

 private:
  Ds18b20(Bus& bus, Delayer& delay) : bus_(bus), delay_(delay) {}

  Bus& bus_;
  Delayer& delay_;
  std::optional<hal::OneWireRom> rom_;
  std::optional<ds18b20::PowerSupply> power_;
  int resolution_bits_ = 12;
};

template <hal::OneWireBus Bus, hal::Delay Delayer>
async::Task<Result<ds18b20::Scratchpad>> Ds18b20<Bus, Delayer>::read_scratchpad() {
  MOTE_CO_TRY(co_await one_wire_select(bus_, rom_));
  MOTE_CO_TRY(co_await bus_.write_byte(ds18b20::kReadScratchpad));
  std::array<std::byte, 9> bytes{};
  for (std::byte& b : bytes) {
    Result<std::uint8_t> byte = co_await bus_.read_byte();
    MOTE_CO_TRY(byte);
    b = std::byte{*byte};
  }
  Result<ds18b20::Scratchpad> scratchpad = ds18b20::parse_scratchpad(bytes);
  if (scratchpad.ok()) resolution_bits_ = scratchpad->resolution_bits();
  co_return scratchpad;
}

template <hal::OneWireBus Bus, hal::Delay Delayer>
async::Task<Result<ds18b20::PowerSupply>> Ds18b20<Bus, Delayer>::read_power_supply() {
  MOTE_CO_TRY(co_await one_wire_select(bus_, rom_));
  MOTE_CO_TRY(co_await bus_.write_byte(ds18b20::kReadPowerSupply));
  Result<bool> line = co_await bus_.read_bit();
  MOTE_CO_TRY(line);
  power_ = *line ? ds18b20::PowerSupply::external : ds18b20::PowerSupply::parasite;
  co_return *power_;
}

template <hal::OneWireBus Bus, hal::Delay Delayer>
async::Task<Result<hal::MilliCelsius>> Ds18b20<Bus, Delayer>::read_temperature() {
  if (!power_) MOTE_CO_TRY(co_await read_power_supply());
  MOTE_CO_TRY(co_await one_wire_select(bus_, rom_));
  if (*power_ == ds18b20::PowerSupply::parasite) {
    // Powered through the strong pull-up for t_CONV; no polling.
    if constexpr (hal::OneWireStrongPullUp<Bus>) {
      MOTE_CO_TRY(co_await bus_.write_byte_then_pull_up(ds18b20::kConvertT));
      co_await delay_.delay(ds18b20::conversion_time(resolution_bits_));
      MOTE_CO_TRY(co_await bus_.end_pull_up());
      Result<ds18b20::Scratchpad> scratchpad = co_await read_scratchpad();
      MOTE_CO_TRY(scratchpad);
      if (scratchpad->raw_temperature == ds18b20::kPowerOnRaw) co_return Status::data_loss();
      co_return scratchpad->temperature();
    } else {
      co_return Status::failed_precondition();  // nothing can power the conversion
    }
  }
  MOTE_CO_TRY(co_await bus_.write_byte(ds18b20::kConvertT));

  // Poll: 0 while converting, 1 when done (externally powered parts).
  const async::Duration timeout = ds18b20::conversion_timeout(resolution_bits_);
  async::Duration waited{0};
  bool seen_converting = false;
  for (;;) {
    Result<bool> done = co_await bus_.read_bit();
    MOTE_CO_TRY(done);
    if (*done) break;
    seen_converting = true;
    if (waited >= timeout) co_return Status::deadline_exceeded();
    co_await delay_.delay(ds18b20::kPollInterval);
    waited += ds18b20::kPollInterval;
  }

  Result<ds18b20::Scratchpad> scratchpad = co_await read_scratchpad();
  MOTE_CO_TRY(scratchpad);
  if (scratchpad->raw_temperature == ds18b20::kPowerOnRaw && !seen_converting) {
    co_return Status::data_loss();  // the power-on value: no conversion ran
  }
  co_return scratchpad->temperature();
}

template <hal::OneWireBus Bus, hal::Delay Delayer>
async::Task<Status> Ds18b20<Bus, Delayer>::set_resolution(int bits) {
  if (bits < 9 || bits > 12) co_return Status::invalid_argument();
  Result<ds18b20::Scratchpad> before = co_await read_scratchpad();
  MOTE_CO_TRY(before);
  const std::uint8_t config = ds18b20::config_for_resolution(bits);
  MOTE_CO_TRY(co_await one_wire_select(bus_, rom_));
  MOTE_CO_TRY(co_await bus_.write_byte(ds18b20::kWriteScratchpad));
  MOTE_CO_TRY(co_await bus_.write_byte(static_cast<std::uint8_t>(before->th)));
  MOTE_CO_TRY(co_await bus_.write_byte(static_cast<std::uint8_t>(before->tl)));
  MOTE_CO_TRY(co_await bus_.write_byte(config));
  Result<ds18b20::Scratchpad> after = co_await read_scratchpad();
  MOTE_CO_TRY(after);
  if (after->config != config || after->th != before->th || after->tl != before->tl) {
    co_return Status::data_loss();
  }
  co_return ok_status();
}

}  // namespace mote::drivers
