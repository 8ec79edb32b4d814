#pragma once
// The addresses the wire layer carries: a 48-bit Ethernet MAC address and an
// IPv4 address. Plain constexpr value types; they are read from and written
// to packets one byte at a time, so a buffer needs no alignment.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"

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

class Ipv4Address {
 public:
  static constexpr std::size_t kSize = 4;
  // "255.255.255.255"
  static constexpr std::size_t kMaxTextLen = 15;

  constexpr Ipv4Address() = default;  // 0.0.0.0
  constexpr Ipv4Address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
      : value_((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) |
               std::uint32_t{d}) {}

  // From / to the address as a host-order integer (a.b.c.d = a << 24 | ...).
  static constexpr Ipv4Address from_u32(std::uint32_t value) {
    Ipv4Address address;
    address.value_ = value;
    return address;
  }
  [[nodiscard]] constexpr std::uint32_t to_u32() const { return value_; }

  // Reads kSize bytes (network order) from `bytes`; the caller has checked they are there.
  static constexpr Ipv4Address from_bytes(const std::byte* bytes) {
    return from_u32(load_be32(bytes));
  }
  constexpr void write_to(std::byte* bytes) const { store_be32(bytes, value_); }
  [[nodiscard]] constexpr std::array<std::uint8_t, kSize> octets() const {
    return {static_cast<std::uint8_t>(value_ >> 24), static_cast<std::uint8_t>(value_ >> 16),
            static_cast<std::uint8_t>(value_ >> 8), static_cast<std::uint8_t>(value_)};
  }

  static constexpr Ipv4Address unspecified() { return {}; }
  static constexpr Ipv4Address broadcast() { return from_u32(0xffffffffu); }

  // Dotted-quad text, exactly four decimal octets 0..255 without leading
  // zeros ("010.0.0.1" is rejected: some parsers read it as octal).
  // invalid_argument for anything else.
  static constexpr Result<Ipv4Address> parse(std::string_view text);

  // Dotted-quad text. resource_exhausted if `out` is too small for this
  // address (kMaxTextLen always suffices). No NUL is written.
  Result<std::size_t> format(std::span<char> out) const;

  // RFC 1122 §3.2.1.3 and RFC 6890 (special-purpose address registry).
  [[nodiscard]] constexpr bool is_unspecified() const { return value_ == 0; }
  [[nodiscard]] constexpr bool is_broadcast() const { return value_ == 0xffffffffu; }
  [[nodiscard]] constexpr bool is_multicast() const { return (value_ >> 28) == 0xe; }  // 224/4
  [[nodiscard]] constexpr bool is_loopback() const { return (value_ >> 24) == 127; }   // 127/8
  [[nodiscard]] constexpr bool is_link_local() const {
    return (value_ >> 16) == 0xa9fe;  // 169.254/16
  }
  // RFC 1918: 10/8, 172.16/12, 192.168/16.
  [[nodiscard]] constexpr bool is_private() const {
    return (value_ >> 24) == 10 || (value_ >> 20) == 0xac1 || (value_ >> 16) == 0xc0a8;
  }
  [[nodiscard]] constexpr bool is_unicast() const {
    return !is_unspecified() && !is_broadcast() && !is_multicast();
  }

  // Whether `other` is in this address's subnet of `prefix_len` bits (0..32).
  [[nodiscard]] constexpr bool same_subnet(Ipv4Address other, unsigned prefix_len) const {
    const std::uint32_t mask = prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_len);
    return (value_ & mask) == (other.value_ & mask);
  }

  friend constexpr bool operator==(Ipv4Address, Ipv4Address) = default;
  friend constexpr auto operator<=>(Ipv4Address, Ipv4Address) = default;

 private:
  std::uint32_t value_ = 0;
};

constexpr Result<Ipv4Address> Ipv4Address::parse(std::string_view text) {
  std::uint32_t value = 0;
  std::size_t position = 0;
  for (int octet_index = 0; octet_index < 4; ++octet_index) {
    if (octet_index > 0) {
      if (position >= text.size() || text[position] != '.') return Status::invalid_argument();
      ++position;
    }
    const std::size_t start = position;
    std::uint32_t octet = 0;
    while (position < text.size() && text[position] >= '0' && text[position] <= '9' &&
           position - start < 3) {
      octet = octet * 10 + static_cast<std::uint32_t>(text[position] - '0');
      ++position;
    }
    const std::size_t digits = position - start;
    if (digits == 0 || octet > 255 || (digits > 1 && text[start] == '0')) {
      return Status::invalid_argument();
    }
    value = (value << 8) | octet;
  }
  if (position != text.size()) return Status::invalid_argument();
  return from_u32(value);
}

}  // namespace mote::net::wire
