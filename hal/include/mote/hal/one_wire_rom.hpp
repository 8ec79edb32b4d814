#pragma once
// 1-Wire ROM codes, ROM-level commands and the protocol's CRC-8: what bus
// masters, device models and drivers all need to agree on.
//
// Every 1-Wire device has a unique 64-bit ROM code, sent least significant
// bit first: the family code (byte 0; 0x28 for a DS18B20), a 48-bit serial
// number (bytes 1..6) and a CRC-8 of the first seven bytes (byte 7).

#include <compare>
#include <cstddef>
#include <cstdint>

#include "mote/base/bytes.hpp"

namespace mote::hal {

// ROM commands (Maxim application note 187; DS18B20 datasheet, "ROM commands").
inline constexpr std::uint8_t kOneWireReadRom = 0x33;
inline constexpr std::uint8_t kOneWireMatchRom = 0x55;
inline constexpr std::uint8_t kOneWireSkipRom = 0xCC;
inline constexpr std::uint8_t kOneWireSearchRom = 0xF0;
inline constexpr std::uint8_t kOneWireAlarmSearch = 0xEC;

// Maxim's 1-Wire CRC-8: polynomial x^8 + x^5 + x^4 + 1, shifted out least
// significant bit first (0x8C reflected), initial value 0. Running it over
// data followed by its CRC byte yields 0.
[[nodiscard]] constexpr std::uint8_t one_wire_crc8_update(std::uint8_t crc, std::uint8_t byte) {
  for (int bit = 0; bit < 8; ++bit) {
    const bool mix = ((crc ^ byte) & 0x01u) != 0;
    crc = static_cast<std::uint8_t>(crc >> 1);
    if (mix) crc = static_cast<std::uint8_t>(crc ^ 0x8Cu);
    byte = static_cast<std::uint8_t>(byte >> 1);
  }
  return crc;
}

[[nodiscard]] constexpr std::uint8_t one_wire_crc8(ConstByteSpan data) {
  std::uint8_t crc = 0;
  for (std::byte b : data) crc = one_wire_crc8_update(crc, std::to_integer<std::uint8_t>(b));
  return crc;
}

// A ROM code as one integer: byte i of the code (in bus order) is bits
// 8i..8i+7, so bit n of value() is the n-th bit on the wire.
class OneWireRom {
 public:
  constexpr OneWireRom() = default;
  constexpr explicit OneWireRom(std::uint64_t value) : value_(value) {}

  // The ROM code of a device with this family and 48-bit serial number,
  // with its CRC byte computed.
  [[nodiscard]] static constexpr OneWireRom from_serial(std::uint8_t family, std::uint64_t serial) {
    std::uint64_t value = family | ((serial & 0xFFFF'FFFF'FFFFull) << 8);
    std::uint8_t crc = 0;
    for (int i = 0; i < 7; ++i) {
      crc = one_wire_crc8_update(crc, static_cast<std::uint8_t>(value >> (8 * i)));
    }
    return OneWireRom(value | (std::uint64_t{crc} << 56));
  }

  [[nodiscard]] constexpr std::uint64_t value() const { return value_; }
  [[nodiscard]] constexpr std::uint8_t byte(int index) const {
    return static_cast<std::uint8_t>(value_ >> (8 * index));
  }
  [[nodiscard]] constexpr bool bit(int index) const { return ((value_ >> index) & 1u) != 0; }
  [[nodiscard]] constexpr std::uint8_t family() const { return byte(0); }
  [[nodiscard]] constexpr std::uint64_t serial() const {
    return (value_ >> 8) & 0xFFFF'FFFF'FFFFull;
  }
  [[nodiscard]] constexpr std::uint8_t crc() const { return byte(7); }
  // The CRC byte matches the first seven. An all-zero code passes the CRC
  // (as it does on the wire) but is no device's: it is rejected too.
  [[nodiscard]] constexpr bool valid() const {
    if (value_ == 0) return false;
    std::uint8_t crc = 0;
    for (int i = 0; i < 8; ++i) crc = one_wire_crc8_update(crc, byte(i));
    return crc == 0;
  }

  friend constexpr auto operator<=>(OneWireRom, OneWireRom) = default;

 private:
  std::uint64_t value_ = 0;
};

}  // namespace mote::hal
