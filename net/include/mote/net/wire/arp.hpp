#pragma once
// ARP (RFC 826): the packet view for any hardware/protocol pair, and a Repr
// for the one the stack speaks, Ethernet + IPv4.

#include <cstddef>
#include <cstdint>

#include "mote/base/assert.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/net/wire/address.hpp"
#include "mote/net/wire/view.hpp"

namespace mote::net::wire {

// RFC 826 "ar$op": the opcode.
enum class ArpOperation : std::uint16_t { request = 1, reply = 2 };

template <PacketBytes Bytes = ConstByteSpan>
class ArpPacket {
 public:
  // ar$hrd, ar$pro, ar$hln, ar$pln, ar$op: the part before the addresses.
  static constexpr std::size_t kFixedLen = 8;
  // RFC 826 with Ethernet (ar$hrd = 1, ar$hln = 6) and IPv4 (ar$pro = 0x0800, ar$pln = 4).
  static constexpr std::uint16_t kHardwareEthernet = 1;
  static constexpr std::uint16_t kProtocolIpv4 = 0x0800;
  static constexpr std::size_t kEthernetIpv4Len = kFixedLen + std::size_t{2} * (6 + 4);

  // The four addresses must fit: 8 + 2 * (ar$hln + ar$pln) bytes. Bytes
  // after them (Ethernet padding) are allowed.
  static constexpr Result<ArpPacket> checked(Bytes buffer) {
    if (buffer.size() < kFixedLen) return Status::out_of_range();
    ArpPacket packet(buffer);
    if (buffer.size() < packet.packet_len()) return Status::out_of_range();
    return packet;
  }
  static constexpr ArpPacket unchecked(Bytes buffer) {
    MOTE_ASSERT(buffer.size() >= kFixedLen);
    return ArpPacket(buffer);
  }

  [[nodiscard]] constexpr Bytes bytes() const { return buffer_; }
  [[nodiscard]] constexpr std::uint16_t hardware_type() const { return load_be16(&buffer_[0]); }
  [[nodiscard]] constexpr std::uint16_t protocol_type() const { return load_be16(&buffer_[2]); }
  [[nodiscard]] constexpr std::uint8_t hardware_len() const {
    return std::to_integer<std::uint8_t>(buffer_[4]);
  }
  [[nodiscard]] constexpr std::uint8_t protocol_len() const {
    return std::to_integer<std::uint8_t>(buffer_[5]);
  }
  [[nodiscard]] constexpr std::uint16_t operation() const { return load_be16(&buffer_[6]); }
  // ar$sha, ar$spa, ar$tha, ar$tpa: hardware_len() or protocol_len() bytes each.
  [[nodiscard]] constexpr Bytes source_hardware_address() const {
    return buffer_.subspan(kFixedLen, hardware_len());
  }
  [[nodiscard]] constexpr Bytes source_protocol_address() const {
    return buffer_.subspan(kFixedLen + hardware_len(), protocol_len());
  }
  [[nodiscard]] constexpr Bytes target_hardware_address() const {
    return buffer_.subspan(kFixedLen + hardware_len() + protocol_len(), hardware_len());
  }
  [[nodiscard]] constexpr Bytes target_protocol_address() const {
    return buffer_.subspan(kFixedLen + 2 * std::size_t{hardware_len()} + protocol_len(),
                           protocol_len());
  }
  [[nodiscard]] constexpr std::size_t packet_len() const {
    return kFixedLen + 2 * (std::size_t{hardware_len()} + protocol_len());
  }

  constexpr void set_hardware_type(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[0], value);
  }
  constexpr void set_protocol_type(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[2], value);
  }
  constexpr void set_hardware_len(std::uint8_t value) requires kIsWritable<Bytes> {
    buffer_[4] = std::byte{value};
  }
  constexpr void set_protocol_len(std::uint8_t value) requires kIsWritable<Bytes> {
    buffer_[5] = std::byte{value};
  }
  constexpr void set_operation(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[6], value);
  }

 private:
  constexpr explicit ArpPacket(Bytes buffer) : buffer_(buffer) {}

  Bytes buffer_;
};

// An Ethernet/IPv4 ARP request or reply.
struct ArpRepr {
  ArpOperation operation = ArpOperation::request;
  MacAddress source_hardware_address;
  Ipv4Address source_protocol_address;
  // Ignored in a request (RFC 826 leaves it unset; Linux sends zeros).
  MacAddress target_hardware_address;
  Ipv4Address target_protocol_address;

  // unimplemented for other hardware or protocol types, address lengths, or
  // opcodes (RARP, InARP).
  static Result<ArpRepr> parse(const ArpPacket<>& packet);
  [[nodiscard]] static constexpr std::size_t buffer_len() { return ArpPacket<>::kEthernetIpv4Len; }
  // Returns buffer_len().
  Result<std::size_t> emit(ByteSpan buffer) const;

  friend constexpr bool operator==(const ArpRepr&, const ArpRepr&) = default;
};

}  // namespace mote::net::wire
