#pragma once
// UDP (RFC 768): the datagram view and its Repr, checksummed over the IPv4
// pseudo-header.

#include <cstddef>
#include <cstdint>

#include "mote/base/assert.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/net/wire/address.hpp"
#include "mote/net/wire/checksum.hpp"
#include "mote/net/wire/view.hpp"

namespace mote::net::wire {

template <PacketBytes Bytes = ConstByteSpan>
class UdpDatagram {
 public:
  static constexpr std::size_t kHeaderLen = 8;
  static constexpr std::uint8_t kProtocol = 17;

  // The header fits (out_of_range); Length covers the header
  // (invalid_argument) and fits in the buffer (out_of_range).
  static constexpr Result<UdpDatagram> checked(Bytes buffer) {
    if (buffer.size() < kHeaderLen) return Status::out_of_range();
    UdpDatagram datagram(buffer);
    // RFC 768: "Length is the length in octets of this user datagram
    // including this header and the data. (This means the minimum value of
    // the length is eight.)"
    if (datagram.length() < kHeaderLen) return Status::invalid_argument();
    if (datagram.length() > buffer.size()) return Status::out_of_range();
    return datagram;
  }
  static constexpr UdpDatagram unchecked(Bytes buffer) {
    MOTE_ASSERT(buffer.size() >= kHeaderLen);
    return UdpDatagram(buffer);
  }

  [[nodiscard]] constexpr Bytes bytes() const { return buffer_; }
  [[nodiscard]] constexpr std::uint16_t source_port() const { return load_be16(&buffer_[0]); }
  [[nodiscard]] constexpr std::uint16_t destination_port() const { return load_be16(&buffer_[2]); }
  [[nodiscard]] constexpr std::uint16_t length() const { return load_be16(&buffer_[4]); }
  [[nodiscard]] constexpr std::uint16_t checksum() const { return load_be16(&buffer_[6]); }
  [[nodiscard]] constexpr Bytes payload() const {
    return buffer_.subspan(kHeaderLen, length() - kHeaderLen);
  }

  // RFC 768: "An all zero transmitted checksum value means that the
  // transmitter generated no checksum": that verifies too.
  [[nodiscard]] constexpr bool verify_checksum(Ipv4Address source, Ipv4Address destination) const {
    if (checksum() == 0) return true;
    InternetChecksum sum;
    sum.add_ipv4_pseudo_header(source, destination, kProtocol, length());
    sum.add(buffer_.first(length()));
    return sum.verifies();
  }

  constexpr void set_source_port(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[0], value);
  }
  constexpr void set_destination_port(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[2], value);
  }
  constexpr void set_length(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[4], value);
  }
  constexpr void set_checksum(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[6], value);
  }
  // Call once Length and the payload are in place.
  constexpr void fill_checksum(Ipv4Address source,
                               Ipv4Address destination) requires kIsWritable<Bytes> {
    set_checksum(0);
    InternetChecksum sum;
    sum.add_ipv4_pseudo_header(source, destination, kProtocol, length());
    sum.add(buffer_.first(length()));
    // RFC 768: "If the computed checksum is zero, it is transmitted as all
    // ones (the equivalent in one's complement arithmetic)."
    const std::uint16_t value = sum.checksum();
    set_checksum(value == 0 ? 0xffff : value);
  }

 private:
  constexpr explicit UdpDatagram(Bytes buffer) : buffer_(buffer) {}

  Bytes buffer_;
};

// A UDP datagram. parse() points `payload` into the datagram (no copy);
// emit() copies it after the header unless it is already there, so a
// payload emitted in place at buffer.subspan(kHeaderLen) costs no copy.
struct UdpRepr {
  static constexpr std::size_t kHeaderLen = UdpDatagram<>::kHeaderLen;

  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  ConstByteSpan payload;

  // data_loss when `mode` is verify and the checksum is wrong. The
  // addresses are those of the IPv4 header, for the pseudo-header.
  static Result<UdpRepr> parse(const UdpDatagram<>& datagram, Ipv4Address source,
                               Ipv4Address destination, ChecksumMode mode = ChecksumMode::verify);
  [[nodiscard]] constexpr std::size_t buffer_len() const { return kHeaderLen + payload.size(); }
  // Returns buffer_len(). invalid_argument if it exceeds 65535.
  Result<std::size_t> emit(ByteSpan buffer, Ipv4Address source, Ipv4Address destination) const;

  friend constexpr bool operator==(const UdpRepr& a, const UdpRepr& b) {
    return a.source_port == b.source_port && a.destination_port == b.destination_port &&
           same_bytes(a.payload, b.payload);
  }
};

}  // namespace mote::net::wire
