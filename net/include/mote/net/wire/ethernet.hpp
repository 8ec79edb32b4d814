#pragma once
// Ethernet II frames (IEEE 802.3 §3.1.1 with the EtherType of RFC 894): a
// 14-byte header and the payload. The frame check sequence is the link
// driver's business and is not part of the buffer.

#include <cstddef>
#include <cstdint>

#include "mote/base/assert.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/net/wire/address.hpp"
#include "mote/net/wire/view.hpp"

namespace mote::net::wire {

// IEEE 802.3 §3.2.6: a value of 0x0600 or more is an EtherType; less is the
// length of an 802.3 LLC frame, which the stack does not speak.
enum class EtherType : std::uint16_t { ipv4 = 0x0800, arp = 0x0806, ipv6 = 0x86dd };
inline constexpr std::uint16_t kMinEtherType = 0x0600;

template <PacketBytes Bytes = ConstByteSpan>
class EthernetFrame {
 public:
  static constexpr std::size_t kHeaderLen = 14;

  static constexpr Result<EthernetFrame> checked(Bytes buffer) {
    if (buffer.size() < kHeaderLen) return Status::out_of_range();
    return EthernetFrame(buffer);
  }
  static constexpr EthernetFrame unchecked(Bytes buffer) {
    MOTE_ASSERT(buffer.size() >= kHeaderLen);
    return EthernetFrame(buffer);
  }

  [[nodiscard]] constexpr Bytes bytes() const { return buffer_; }
  [[nodiscard]] constexpr MacAddress destination() const {
    return MacAddress::from_bytes(&buffer_[kDestination]);
  }
  [[nodiscard]] constexpr MacAddress source() const {
    return MacAddress::from_bytes(&buffer_[kSource]);
  }
  [[nodiscard]] constexpr std::uint16_t ethertype() const {
    return load_be16(&buffer_[kEtherTypeOffset]);
  }
  // Everything after the header, including any padding up to the 60-byte
  // minimum frame: the network layer's length field says how much is real.
  [[nodiscard]] constexpr Bytes payload() const { return buffer_.subspan(kHeaderLen); }

  constexpr void set_destination(MacAddress address) requires kIsWritable<Bytes> {
    address.write_to(&buffer_[kDestination]);
  }
  constexpr void set_source(MacAddress address) requires kIsWritable<Bytes> {
    address.write_to(&buffer_[kSource]);
  }
  constexpr void set_ethertype(std::uint16_t ethertype) requires kIsWritable<Bytes> {
    store_be16(&buffer_[kEtherTypeOffset], ethertype);
  }

 private:
  static constexpr std::size_t kDestination = 0;
  static constexpr std::size_t kSource = 6;
  static constexpr std::size_t kEtherTypeOffset = 12;

  constexpr explicit EthernetFrame(Bytes buffer) : buffer_(buffer) {}

  Bytes buffer_;
};

// The header of an Ethernet II frame. emit() writes the header only: the
// payload goes at buffer.subspan(kHeaderLen), usually emitted there first.
struct EthernetRepr {
  static constexpr std::size_t kHeaderLen = EthernetFrame<>::kHeaderLen;

  MacAddress source;
  MacAddress destination;
  EtherType ethertype = EtherType::ipv4;

  // unimplemented for an 802.3 length field in place of an EtherType.
  static Result<EthernetRepr> parse(const EthernetFrame<>& frame);
  [[nodiscard]] static constexpr std::size_t buffer_len() { return kHeaderLen; }
  // Returns the header length.
  Result<std::size_t> emit(ByteSpan buffer) const;

  friend constexpr bool operator==(const EthernetRepr&, const EthernetRepr&) = default;
};

}  // namespace mote::net::wire
