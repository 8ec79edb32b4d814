#include "mote/hal/sim/ds18b20.hpp"

#include <algorithm>

namespace mote::hal::sim {
namespace {

constexpr std::uint8_t kConvertT = 0x44;
constexpr std::uint8_t kReadScratchpad = 0xBE;
constexpr std::uint8_t kWriteScratchpad = 0x4E;
constexpr std::uint8_t kCopyScratchpad = 0x48;
constexpr std::uint8_t kRecallE2 = 0xB8;
constexpr std::uint8_t kReadPowerSupply = 0xB4;

// The register's limits: -55 °C and +125 °C in 1/16 °C.
constexpr std::int16_t kMinSixteenths = -55 * 16;
constexpr std::int16_t kMaxSixteenths = 125 * 16;

}  // namespace

SimDs18b20::SimDs18b20(std::uint64_t serial)
    : SimDs18b20(OneWireRom::from_serial(kFamilyCode, serial)) {}

SimDs18b20::SimDs18b20(OneWireRom rom) : SimOneWireDevice(rom) {}

void SimDs18b20::set_temperature(MilliCelsius temperature) {
  // Round down (toward -inf) to a 1/16 °C step: floor(mC * 16 / 1000).
  std::int64_t scaled = std::int64_t{temperature.value} * 16;
  std::int64_t sixteenths = scaled / 1000;
  if (scaled % 1000 != 0 && scaled < 0) --sixteenths;
  sixteenths = std::clamp<std::int64_t>(sixteenths, kMinSixteenths, kMaxSixteenths);
  measured_ = static_cast<std::int16_t>(sixteenths);
}

void SimDs18b20::power_cycle() {
  reset_registers();
  go_idle();
}

void SimDs18b20::reset_registers() {
  temperature_ = 0x0550;
  th_ = eeprom_th_;
  tl_ = eeprom_tl_;
  config_ = eeprom_config_;
  converting_ = false;
}

async::Duration SimDs18b20::conversion_time(int resolution_bits) {
  // 93.75 ms at 9 bits, doubling with each bit.
  const int steps = std::clamp(resolution_bits, 9, 12) - 9;
  return async::Duration(93750 << steps);
}

bool SimDs18b20::converting() {
  finish_conversion_if_due();
  return converting_;
}

void SimDs18b20::finish_conversion_if_due() {
  if (converting_ && now() >= conversion_done_) {
    if (parasite_ && !powered_) {
      brown_out();  // nothing powered the conversion
      return;
    }
    converting_ = false;
    temperature_ = converting_value_;
  }
}

// The part restarts once the line is back at its idle high level, in time
// for whatever the master does next (unlike power_cycle(), the bus state is
// left alone: a brown-out found at a reset must not eat the presence pulse).
void SimDs18b20::brown_out() {
  ++brown_outs_;
  reset_registers();
}

void SimDs18b20::on_strong_pull_up(bool on) {
  if (!parasite_ || !converting_) return;
  if (on) {
    // Within 10 µs of CONVERT T: on the virtual clock, the same instant.
    powered_ = now() == conversion_start_;
    return;
  }
  if (now() < conversion_done_) {
    brown_out();  // the pull-up ended (or a slot came) mid-conversion
    return;
  }
  finish_conversion_if_due();
}

std::array<std::byte, 9> SimDs18b20::scratchpad() {
  finish_conversion_if_due();
  const auto raw = static_cast<std::uint16_t>(temperature_);
  std::array<std::byte, 9> bytes = {std::byte(raw & 0xFF), std::byte(raw >> 8), std::byte(th_),
                                    std::byte(tl_),        std::byte(config_),  std::byte(0xFF),
                                    std::byte(0x0C),       std::byte(0x10),     std::byte(0)};
  bytes[8] = std::byte(one_wire_crc8(ConstByteSpan(bytes.data(), 8)));
  return bytes;
}

void SimDs18b20::on_reset() {
  // A parasite part converting without power has already lost it.
  if (parasite_ && converting_ && !powered_) {
    brown_out();
    return;
  }
  finish_conversion_if_due();
}

void SimDs18b20::on_function_command(std::uint8_t command) {
  finish_conversion_if_due();
  switch (command) {
    case kConvertT: {
      ++conversions_;
      if (brown_out_on_convert_) {
        power_cycle();  // the supply sags and the part resets before converting
        return;
      }
      const int bits = resolution_bits();
      // Bits the resolution leaves undefined read as 0 here.
      const auto mask = static_cast<std::int16_t>(~((1 << (12 - bits)) - 1));
      converting_value_ = static_cast<std::int16_t>(measured_ & mask);
      converting_ = true;
      powered_ = false;
      conversion_start_ = now();
      conversion_done_ = conversion_start_ + conversion_time(bits);
      polling_ = Polling::conversion;
      answer_polls();
      return;
    }
    case kReadScratchpad: {
      std::array<std::byte, 9> bytes = scratchpad();
      if (corrupt_scratchpad_) bytes[0] ^= std::byte{0x01};  // after the CRC was computed
      transmit(bytes);
      return;
    }
    case kWriteScratchpad:
      bytes_received_ = 0;
      receive_bytes();
      return;
    case kCopyScratchpad:
      eeprom_th_ = th_;
      eeprom_tl_ = tl_;
      eeprom_config_ = config_;
      return;
    case kRecallE2:
      th_ = eeprom_th_;
      tl_ = eeprom_tl_;
      config_ = eeprom_config_;
      return;
    case kReadPowerSupply:
      polling_ = Polling::power_supply;
      answer_polls();
      return;
    default: return;  // unknown: idle until the next reset
  }
}

void SimDs18b20::on_byte_received(std::uint8_t byte) {
  switch (bytes_received_++) {
    case 0: th_ = byte; break;
    case 1: tl_ = byte; break;
    case 2:
      // Only R1 and R0 (bits 6:5) are writable; bit 7 reads 0, bits 4:0 read 1.
      config_ = static_cast<std::uint8_t>((byte & 0x60) | 0x1F);
      go_idle();
      break;
    default: break;
  }
}

bool SimDs18b20::poll_bit() {
  if (polling_ == Polling::power_supply) return !parasite_;  // parasite parts pull low
  if (parasite_ && converting_ && !powered_) {
    brown_out();  // a read slot instead of power
    return true;
  }
  finish_conversion_if_due();
  return !converting_;
}

}  // namespace mote::hal::sim
