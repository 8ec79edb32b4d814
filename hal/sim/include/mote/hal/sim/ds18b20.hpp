#pragma once
// SimDs18b20: a DS18B20 digital thermometer on a SimOneWireBus, externally
// powered or (set_parasite_power) parasite-powered, as its datasheet (Maxim
// 19-7487) describes it:
//
// - ROM code: family 0x28, the 48-bit serial given, CRC-8.
// - Scratchpad: temperature LSB/MSB, TH, TL, configuration, 0xFF, 0x0C,
//   0x10, CRC-8. Power-on: temperature 0x0550 (+85 °C), TH/TL/configuration
//   from "EEPROM" (default 75 °C, 70 °C, 12 bits).
// - CONVERT T (0x44) takes t_CONV for the configured resolution, 93.75 /
//   187.5 / 375 / 750 ms for 9..12 bits, on the executor's clock; read slots
//   meanwhile return 0, then 1 once the conversion is done. The result is
//   the temperature set_temperature() gave, rounded down to the resolution
//   (bits the resolution leaves undefined read as 0) and clamped to
//   -55..+125 °C.
// - READ SCRATCHPAD (0xBE), WRITE SCRATCHPAD (0x4E: TH, TL, config),
//   COPY SCRATCHPAD (0x48), RECALL E2 (0xB8), READ POWER SUPPLY (0xB4: the
//   read slot reads 1 when externally powered, 0 in parasite mode).
// - Parasite power: the conversion runs only if the master switches on the
//   strong pull-up right after CONVERT T (the same instant on the virtual
//   clock) and holds it until t_CONV has passed. Ending it early, or any
//   slot or reset meanwhile (polling cannot work in parasite mode), or no
//   strong pull-up at all, browns the part out: it resets to its power-on
//   state (+85 °C) instead of converting.
//
// Faults: set_responding(false) (from SimOneWireDevice), corrupt_scratchpad
// (a bit flipped on the wire: the CRC no longer matches), and
// brown_out_on_convert (the conversion current resets the part, so it never
// converts and keeps reading +85 °C: the classic weak-supply failure).

#include <array>
#include <cstdint>

#include "mote/async/time.hpp"
#include "mote/hal/sensor.hpp"
#include "mote/hal/sim/one_wire_bus.hpp"

namespace mote::hal::sim {

class SimDs18b20 final : public SimOneWireDevice {
 public:
  static constexpr std::uint8_t kFamilyCode = 0x28;

  // A device with this 48-bit serial number.
  explicit SimDs18b20(std::uint64_t serial);
  // A device with exactly this ROM code (a bad CRC byte is the test's choice).
  explicit SimDs18b20(OneWireRom rom);

  // What the next conversion measures, in 1/16 °C (the 12-bit register).
  void set_temperature_sixteenths(std::int16_t sixteenths) { measured_ = sixteenths; }
  // The same in m°C, rounded down to a 1/16 °C step.
  void set_temperature(MilliCelsius temperature);

  void set_corrupt_scratchpad(bool corrupt) { corrupt_scratchpad_ = corrupt; }
  void set_brown_out_on_convert(bool brown_out) { brown_out_on_convert_ = brown_out; }
  // DQ and GND only: powered from the data line (see above).
  void set_parasite_power(bool parasite) { parasite_ = parasite; }
  // Conversions lost for want of the strong pull-up (parasite mode).
  [[nodiscard]] unsigned brown_outs() const { return brown_outs_; }
  // Back to the power-on state (scratchpad +85 °C, EEPROM values).
  void power_cycle();

  // The scratchpad as READ SCRATCHPAD would send it (CRC included).
  [[nodiscard]] std::array<std::byte, 9> scratchpad();
  [[nodiscard]] int resolution_bits() const { return 9 + ((config_ >> 5) & 0x3); }
  [[nodiscard]] bool converting();
  [[nodiscard]] unsigned conversions() const { return conversions_; }

  // t_CONV, the maximum conversion time at a resolution (datasheet table).
  [[nodiscard]] static async::Duration conversion_time(int resolution_bits);

 private:
  void on_reset() override;
  void on_function_command(std::uint8_t command) override;
  void on_byte_received(std::uint8_t byte) override;
  bool poll_bit() override;
  void on_strong_pull_up(bool on) override;
  void finish_conversion_if_due();
  void brown_out();
  void reset_registers();

  enum class Polling : std::uint8_t { conversion, power_supply };

  std::int16_t measured_ = 25 * 16;
  std::int16_t temperature_ = 0x0550;  // the register: +85 °C at power-on
  std::uint8_t th_ = 75;
  std::uint8_t tl_ = 70;
  std::uint8_t config_ = 0x7F;
  std::uint8_t eeprom_th_ = 75;
  std::uint8_t eeprom_tl_ = 70;
  std::uint8_t eeprom_config_ = 0x7F;
  std::uint8_t bytes_received_ = 0;
  Polling polling_ = Polling::conversion;
  bool converting_ = false;
  std::int16_t converting_value_ = 0;
  async::Instant conversion_start_{};
  async::Instant conversion_done_{};
  unsigned conversions_ = 0;
  bool corrupt_scratchpad_ = false;
  bool brown_out_on_convert_ = false;
  bool parasite_ = false;
  bool powered_ = false;  // parasite mode: the strong pull-up came in time and is held
  unsigned brown_outs_ = 0;
};

}  // namespace mote::hal::sim
