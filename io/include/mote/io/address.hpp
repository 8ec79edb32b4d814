#pragma once
// Network addresses for every layer that names a peer: io's streams and
// datagram sockets, mote's own stack (net) and the kernel's. Plain constexpr
// value types, freestanding, with text forms that round-trip.
//
//   Ipv4Address  192.0.2.1            (RFC 791; dotted quad, no octal)
//   Ipv6Address  2001:db8::1           (RFC 4291 §2.2 in, RFC 5952 out)
//   IpAddress    either of them
//   Endpoint     192.0.2.1:1883, [2001:db8::1]:5683

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"

namespace mote::io {

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

class Ipv6Address {
 public:
  static constexpr std::size_t kSize = 16;
  // "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is the longest RFC 5952 form.
  static constexpr std::size_t kMaxTextLen = 45;

  constexpr Ipv6Address() = default;  // ::
  explicit constexpr Ipv6Address(const std::array<std::uint8_t, kSize>& octets) : octets_(octets) {}
  // From eight 16-bit groups, most significant first.
  static constexpr Ipv6Address from_groups(const std::array<std::uint16_t, 8>& groups) {
    Ipv6Address address;
    for (std::size_t i = 0; i < 8; ++i) {
      address.octets_[2 * i] = static_cast<std::uint8_t>(groups[i] >> 8);
      address.octets_[2 * i + 1] = static_cast<std::uint8_t>(groups[i]);
    }
    return address;
  }
  [[nodiscard]] constexpr std::uint16_t group(std::size_t index) const {
    return static_cast<std::uint16_t>((octets_[2 * index] << 8) | octets_[2 * index + 1]);
  }
  static constexpr Ipv6Address from_bytes(const std::byte* bytes) {
    Ipv6Address address;
    for (std::size_t i = 0; i < kSize; ++i)
      address.octets_[i] = std::to_integer<std::uint8_t>(bytes[i]);
    return address;
  }
  constexpr void write_to(std::byte* bytes) const {
    for (std::size_t i = 0; i < kSize; ++i) bytes[i] = static_cast<std::byte>(octets_[i]);
  }
  [[nodiscard]] constexpr const std::array<std::uint8_t, kSize>& octets() const { return octets_; }

  static constexpr Ipv6Address unspecified() { return {}; }
  static constexpr Ipv6Address loopback() { return from_groups({0, 0, 0, 0, 0, 0, 0, 1}); }
  // RFC 4291 §2.5.5.2: ::ffff:a.b.c.d
  static constexpr Ipv6Address v4_mapped(Ipv4Address v4) {
    const std::uint32_t value = v4.to_u32();
    return from_groups({0, 0, 0, 0, 0, 0xffff, static_cast<std::uint16_t>(value >> 16),
                        static_cast<std::uint16_t>(value)});
  }

  // RFC 4291 §2.2: eight groups of 1-4 hex digits; one "::" for a run of zero
  // groups; the last 32 bits may be a dotted quad. No zone index ("%eth0").
  // invalid_argument for anything else.
  static Result<Ipv6Address> parse(std::string_view text);
  // RFC 5952 §4: lower case, no leading zeros, the longest run of two or
  // more zero groups as "::" (the first if tied), IPv4-mapped as
  // ::ffff:a.b.c.d. resource_exhausted if `out` is too small.
  Result<std::size_t> format(std::span<char> out) const;

  [[nodiscard]] constexpr bool is_unspecified() const { return *this == Ipv6Address(); }
  [[nodiscard]] constexpr bool is_loopback() const { return *this == loopback(); }
  [[nodiscard]] constexpr bool is_multicast() const { return octets_[0] == 0xff; }  // ff00::/8
  [[nodiscard]] constexpr bool is_link_local() const {                              // fe80::/10
    return octets_[0] == 0xfe && (octets_[1] & 0xc0) == 0x80;
  }
  [[nodiscard]] constexpr bool is_v4_mapped() const {
    for (std::size_t i = 0; i < 10; ++i) {
      if (octets_[i] != 0) return false;
    }
    return octets_[10] == 0xff && octets_[11] == 0xff;
  }
  // The IPv4 address of an IPv4-mapped address (precondition: is_v4_mapped()).
  [[nodiscard]] constexpr Ipv4Address to_v4() const {
    return Ipv4Address(octets_[12], octets_[13], octets_[14], octets_[15]);
  }

  friend constexpr bool operator==(const Ipv6Address&, const Ipv6Address&) = default;
  friend constexpr auto operator<=>(const Ipv6Address&, const Ipv6Address&) = default;

 private:
  std::array<std::uint8_t, kSize> octets_{};
};

// An IPv4 or an IPv6 address.
class IpAddress {
 public:
  constexpr IpAddress() = default;                       // 0.0.0.0
  constexpr IpAddress(Ipv4Address v4) : address_(v4) {}  // NOLINT(google-explicit-constructor)
  constexpr IpAddress(Ipv6Address v6) : address_(v6) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] constexpr bool is_v4() const { return address_.index() == 0; }
  [[nodiscard]] constexpr bool is_v6() const { return address_.index() == 1; }
  // Preconditions: is_v4() / is_v6().
  [[nodiscard]] constexpr Ipv4Address v4() const { return *std::get_if<Ipv4Address>(&address_); }
  [[nodiscard]] constexpr Ipv6Address v6() const { return *std::get_if<Ipv6Address>(&address_); }

  [[nodiscard]] constexpr bool is_unspecified() const {
    return is_v4() ? v4().is_unspecified() : v6().is_unspecified();
  }
  [[nodiscard]] constexpr bool is_loopback() const {
    return is_v4() ? v4().is_loopback() : v6().is_loopback();
  }

  // IPv4 text if it parses as IPv4, else IPv6 text.
  static Result<IpAddress> parse(std::string_view text);
  Result<std::size_t> format(std::span<char> out) const;

  friend constexpr bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  std::variant<Ipv4Address, Ipv6Address> address_;
};

// An address and a port: a peer or a local binding.
struct Endpoint {
  // "192.0.2.1:1883" and "[2001:db8::1]:1883" (RFC 3986 §3.2.2 brackets).
  static constexpr std::size_t kMaxTextLen = Ipv6Address::kMaxTextLen + 8;

  IpAddress address;
  std::uint16_t port = 0;

  // Port 0..65535 in decimal without leading zeros; invalid_argument otherwise.
  static Result<Endpoint> parse(std::string_view text);
  Result<std::size_t> format(std::span<char> out) const;

  friend constexpr bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace mote::io
