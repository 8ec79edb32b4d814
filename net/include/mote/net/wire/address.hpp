#pragma once
// The addresses the wire layer carries: a 48-bit Ethernet MAC address and an
// IPv4 address (io::Ipv4Address). Plain constexpr value types; they are read from and written
// to packets one byte at a time, so a buffer needs no alignment.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/io/address.hpp"

namespace mote::net::wire {

class MacAddress {
 public:
  static constexpr std::size_t kSize = 6;
  // "02:00:00:00:00:0c"
  static constexpr std::size_t kMaxTextLen = 17;

  constexpr MacAddress() = default;  // 00:00:00:00:00:00
  constexpr MacAddress(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                       std::uint8_t e, std::uint8_t f)
      : octets_{a, b, c, d, e, f} {}

  // Reads kSize bytes from `bytes`; the caller has checked they are there.
  static constexpr MacAddress from_bytes(const std::byte* bytes) {
    MacAddress address;
    for (std::size_t i = 0; i < kSize; ++i)
      address.octets_[i] = std::to_integer<std::uint8_t>(bytes[i]);
    return address;
  }
  static constexpr MacAddress broadcast() { return {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}; }

  // Writes kSize bytes to `bytes`.
  constexpr void write_to(std::byte* bytes) const {
    for (std::size_t i = 0; i < kSize; ++i) bytes[i] = static_cast<std::byte>(octets_[i]);
  }
  [[nodiscard]] constexpr const std::array<std::uint8_t, kSize>& octets() const { return octets_; }

  [[nodiscard]] constexpr bool is_broadcast() const { return *this == broadcast(); }
  // IEEE 802-2014 §8.2: the I/G bit, the least significant bit of the first
  // octet, is 1 for a group (multicast or broadcast) address.
  [[nodiscard]] constexpr bool is_multicast() const { return (octets_[0] & 0x01) != 0; }
  [[nodiscard]] constexpr bool is_unicast() const { return !is_multicast(); }
  // The U/L bit: 1 for a locally administered address.
  [[nodiscard]] constexpr bool is_local() const { return (octets_[0] & 0x02) != 0; }
  [[nodiscard]] constexpr bool is_zero() const { return *this == MacAddress(); }

  // Lower-case hex, colon-separated. resource_exhausted if `out` holds fewer
  // than kMaxTextLen characters. No NUL is written.
  Result<std::size_t> format(std::span<char> out) const;

  friend constexpr bool operator==(const MacAddress&, const MacAddress&) = default;
  friend constexpr auto operator<=>(const MacAddress&, const MacAddress&) = default;

 private:
  std::array<std::uint8_t, kSize> octets_{};
};

// IPv4 addresses are io's (io/address.hpp): one type for the whole stack.
using io::Ipv4Address;

}  // namespace mote::net::wire
