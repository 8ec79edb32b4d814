#include "mote/drivers/ds18b20.hpp"

#include <algorithm>

namespace mote::drivers::ds18b20 {
namespace {

// The register's range: -55 °C and +125 °C in 1/16 °C.
constexpr std::int16_t kMinRaw = -55 * 16;
constexpr std::int16_t kMaxRaw = 125 * 16;

}  // namespace

async::Duration conversion_time(int resolution_bits) {
  // 93.75 ms at 9 bits, doubling with each bit.
  const int steps = std::clamp(resolution_bits, 9, 12) - 9;
  return async::Duration(93750 << steps);
}

async::Duration conversion_timeout(int resolution_bits) {
  const async::Duration t_conv = conversion_time(resolution_bits);
  return t_conv + t_conv / 4;
}

Result<Scratchpad> parse_scratchpad(ConstByteSpan bytes) {
  if (bytes.size() != 9) return Status::invalid_argument();
  if (std::ranges::all_of(bytes, [](std::byte b) { return b == std::byte{0xFF}; })) {
    return Status::not_found();
  }
  if (hal::one_wire_crc8(bytes) != 0) return Status::data_loss();
  Scratchpad scratchpad;
  scratchpad.config = std::to_integer<std::uint8_t>(bytes[4]);
  // Bit 7 reads 0 and bits 4..0 read 1: anything else is not a DS18B20's
  // register (an all-zero scratchpad, from a line held low, passes the CRC).
  if ((scratchpad.config & 0x9F) != 0x1F) return Status::data_loss();
  // Bits below the resolution are undefined (datasheet, "Configuration
  // register"): clear them.
  const int undefined_bits = 12 - scratchpad.resolution_bits();
  const auto raw = static_cast<std::int16_t>(load_le16(bytes.data()));
  scratchpad.raw_temperature = static_cast<std::int16_t>(raw & ~((1 << undefined_bits) - 1));
  if (scratchpad.raw_temperature < kMinRaw || scratchpad.raw_temperature > kMaxRaw) {
    return Status::data_loss();
  }
  scratchpad.th = static_cast<std::int8_t>(std::to_integer<std::uint8_t>(bytes[2]));
  scratchpad.tl = static_cast<std::int8_t>(std::to_integer<std::uint8_t>(bytes[3]));
  return scratchpad;
}

}  // namespace mote::drivers::ds18b20
