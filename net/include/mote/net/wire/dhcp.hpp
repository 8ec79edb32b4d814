#pragma once
// DHCPv4 (RFC 2131) messages with the options of RFC 2132 that a client
// needs, over Ethernet hardware addresses.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mote/base/assert.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/inline_vector.hpp"
#include "mote/base/result.hpp"
#include "mote/net/wire/address.hpp"
#include "mote/net/wire/view.hpp"

namespace mote::net::wire {

// RFC 2132 §9.6, "DHCP Message Type".
enum class DhcpMessageType : std::uint8_t {
  discover = 1,
  offer = 2,
  request = 3,
  decline = 4,
  ack = 5,
  nak = 6,
  release = 7,
  inform = 8,
};

// RFC 2132 option codes the Repr reads and writes.
enum class DhcpOptionCode : std::uint8_t {
  pad = 0,
  subnet_mask = 1,
  router = 3,
  dns_server = 6,
  host_name = 12,
  domain_name = 15,
  broadcast_address = 28,
  requested_ip = 50,
  lease_time = 51,
  message_type = 53,
  server_identifier = 54,
  parameter_request_list = 55,
  message = 56,
  max_message_size = 57,
  renewal_time = 58,
  rebinding_time = 59,
  client_identifier = 61,
  end = 255,
};

// One option: its code and its data (empty for PAD and END).
struct DhcpOption {
  std::uint8_t code = 0;
  ConstByteSpan data;
};

// Walks an option area; stops at END or at the end of the bytes. On an area
// that check_dhcp_options() accepted every option it returns is whole.
class DhcpOptionReader {
 public:
  constexpr explicit DhcpOptionReader(ConstByteSpan options) : rest_(options) {}

  // The next option other than PAD, or nothing at END / the end.
  constexpr std::optional<DhcpOption> next() {
    // RFC 2132 §3.1: "The pad option can be used to cause subsequent fields
    // to align on word boundaries." Skip it.
    while (!rest_.empty() && rest_[0] == std::byte{0}) rest_ = rest_.subspan(1);
    // §3.2: "The end option marks the end of valid information in the vendor field."
    if (rest_.empty() || rest_[0] == std::byte{0xff} || rest_.size() < 2) {
      rest_ = {};
      return std::nullopt;
    }
    const auto length = std::to_integer<std::size_t>(rest_[1]);
    if (length + 2 > rest_.size()) {
      rest_ = {};
      return std::nullopt;
    }
    DhcpOption option{std::to_integer<std::uint8_t>(rest_[0]), rest_.subspan(2, length)};
    rest_ = rest_.subspan(2 + length);
    return option;
  }

 private:
  ConstByteSpan rest_;
};

// out_of_range if an option's length octet or data runs past the end. A
// missing END is tolerated when the options fill the area exactly.
Status check_dhcp_options(ConstByteSpan options);

template <PacketBytes Bytes = ConstByteSpan>
class DhcpPacket {
 public:
  // op .. file: RFC 2131 §2, Figure 1.
  static constexpr std::size_t kFixedLen = 236;
  // The fixed part plus the magic cookie.
  static constexpr std::size_t kOptionsOffset = 240;
  // RFC 2131 §3: "the first four octets of the 'options' field of the DHCP
  // message contain the (decimal) values 99, 130, 83 and 99".
  static constexpr std::uint32_t kMagicCookie = 0x63825363;
  static constexpr std::uint8_t kBootRequest = 1;
  static constexpr std::uint8_t kBootReply = 2;

  // The fixed part and cookie fit (out_of_range); the cookie is DHCP's and
  // hlen fits chaddr (invalid_argument); the options are well formed
  // (check_dhcp_options).
  static Result<DhcpPacket> checked(Bytes buffer) {
    if (buffer.size() < kOptionsOffset) return Status::out_of_range();
    DhcpPacket packet(buffer);
    if (packet.magic_cookie() != kMagicCookie || packet.hardware_len() > 16) {
      return Status::invalid_argument();
    }
    MOTE_TRY(check_dhcp_options(packet.options()));
    return packet;
  }
  static constexpr DhcpPacket unchecked(Bytes buffer) {
    MOTE_ASSERT(buffer.size() >= kOptionsOffset);
    return DhcpPacket(buffer);
  }

  [[nodiscard]] constexpr Bytes bytes() const { return buffer_; }
  [[nodiscard]] constexpr std::uint8_t op() const { return byte_at(0); }
  [[nodiscard]] constexpr std::uint8_t hardware_type() const { return byte_at(1); }
  [[nodiscard]] constexpr std::uint8_t hardware_len() const { return byte_at(2); }
  [[nodiscard]] constexpr std::uint8_t hops() const { return byte_at(3); }
  [[nodiscard]] constexpr std::uint32_t transaction_id() const { return load_be32(&buffer_[4]); }
  [[nodiscard]] constexpr std::uint16_t secs() const { return load_be16(&buffer_[8]); }
  [[nodiscard]] constexpr std::uint16_t flags() const { return load_be16(&buffer_[10]); }
  // RFC 2131 §2: the leftmost bit of 'flags' is the BROADCAST flag.
  [[nodiscard]] constexpr bool broadcast() const { return (flags() & 0x8000u) != 0; }
  [[nodiscard]] constexpr Ipv4Address client_ip() const { return address_at(12); }       // ciaddr
  [[nodiscard]] constexpr Ipv4Address your_ip() const { return address_at(16); }         // yiaddr
  [[nodiscard]] constexpr Ipv4Address server_ip() const { return address_at(20); }       // siaddr
  [[nodiscard]] constexpr Ipv4Address relay_agent_ip() const { return address_at(24); }  // giaddr
  // chaddr: the first hardware_len() of its 16 bytes.
  [[nodiscard]] constexpr Bytes client_hardware_address() const {
    return buffer_.subspan(28, hardware_len());
  }
  [[nodiscard]] constexpr Bytes server_name() const { return buffer_.subspan(44, 64); }  // sname
  [[nodiscard]] constexpr Bytes boot_file() const { return buffer_.subspan(108, 128); }  // file
  [[nodiscard]] constexpr std::uint32_t magic_cookie() const { return load_be32(&buffer_[236]); }
  [[nodiscard]] constexpr Bytes options() const { return buffer_.subspan(kOptionsOffset); }

  constexpr void set_op(std::uint8_t value) requires kIsWritable<Bytes> {
    buffer_[0] = std::byte{value};
  }
  constexpr void set_hardware(std::uint8_t type, std::uint8_t len) requires kIsWritable<Bytes> {
    buffer_[1] = std::byte{type};
    buffer_[2] = std::byte{len};
  }
  constexpr void set_hops(std::uint8_t value) requires kIsWritable<Bytes> {
    buffer_[3] = std::byte{value};
  }
  constexpr void set_transaction_id(std::uint32_t value) requires kIsWritable<Bytes> {
    store_be32(&buffer_[4], value);
  }
  constexpr void set_secs(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[8], value);
  }
  constexpr void set_flags(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[10], value);
  }
  constexpr void set_client_ip(Ipv4Address address) requires kIsWritable<Bytes> {
    address.write_to(&buffer_[12]);
  }
  constexpr void set_your_ip(Ipv4Address address) requires kIsWritable<Bytes> {
    address.write_to(&buffer_[16]);
  }
  constexpr void set_server_ip(Ipv4Address address) requires kIsWritable<Bytes> {
    address.write_to(&buffer_[20]);
  }
  constexpr void set_relay_agent_ip(Ipv4Address address) requires kIsWritable<Bytes> {
    address.write_to(&buffer_[24]);
  }
  constexpr void set_magic_cookie() requires kIsWritable<Bytes> {
    store_be32(&buffer_[236], kMagicCookie);
  }

 private:
  constexpr explicit DhcpPacket(Bytes buffer) : buffer_(buffer) {}
  [[nodiscard]] constexpr std::uint8_t byte_at(std::size_t offset) const {
    return std::to_integer<std::uint8_t>(buffer_[offset]);
  }
  [[nodiscard]] constexpr Ipv4Address address_at(std::size_t offset) const {
    return Ipv4Address::from_bytes(&buffer_[offset]);
  }

  Bytes buffer_;
};

// A DHCP message between a client on Ethernet and a server. Options that are
// absent are nullopt or empty. Text and byte options point into the parsed
// packet (no copy). Options not listed here are skipped on parse; option
// overload (52) and the sname/file fields are not read.
//
// emit() writes the options in one fixed order that matches what dhclient
// and dnsmasq send, and pads the message to the 300 bytes BOOTP relays
// expect (RFC 1542 §2.1).
struct DhcpRepr {
  static constexpr std::size_t kMaxDnsServers = 3;
  // RFC 1542 §2.1: BOOTP messages are padded to at least 300 octets.
  static constexpr std::size_t kMinMessageLen = 300;

  DhcpMessageType message_type = DhcpMessageType::discover;
  std::uint32_t transaction_id = 0;
  std::uint16_t secs = 0;
  bool broadcast = false;
  MacAddress client_hardware_address;
  Ipv4Address client_ip;       // ciaddr
  Ipv4Address your_ip;         // yiaddr
  Ipv4Address server_ip;       // siaddr
  Ipv4Address relay_agent_ip;  // giaddr

  std::optional<Ipv4Address> server_identifier;  // 54
  std::optional<Ipv4Address> requested_ip;       // 50
  std::optional<std::uint32_t> lease_time;       // 51, seconds
  std::optional<std::uint32_t> renewal_time;     // 58, T1
  std::optional<std::uint32_t> rebinding_time;   // 59, T2
  std::optional<Ipv4Address> subnet_mask;        // 1
  std::optional<Ipv4Address> broadcast_address;  // 28
  // 3: RFC 2132 §3.5 lists routers "in order of preference"; the first is kept.
  std::optional<Ipv4Address> router;
  // 6: the first kMaxDnsServers, in order of preference; more are dropped.
  InlineVector<Ipv4Address, kMaxDnsServers> dns_servers;
  std::optional<std::uint16_t> max_message_size;  // 57
  ConstByteSpan client_identifier;                // 61
  ConstByteSpan parameter_request_list;           // 55
  std::string_view host_name;                     // 12
  std::string_view domain_name;                   // 15
  std::string_view message;                       // 56, why a NAK or DECLINE

  // unimplemented for a BOOTP message (no option 53), a message type
  // beyond INFORM, or hardware other than Ethernet; invalid_argument for an
  // op that does not match the message type or an option of the wrong size.
  static Result<DhcpRepr> parse(const DhcpPacket<>& packet);

  [[nodiscard]] std::size_t options_len() const;
  [[nodiscard]] std::size_t buffer_len() const;
  // Returns buffer_len(). invalid_argument when a text or byte option is
  // longer than 255 bytes.
  Result<std::size_t> emit(ByteSpan buffer) const;

  friend bool operator==(const DhcpRepr& a, const DhcpRepr& b);
};

}  // namespace mote::net::wire
