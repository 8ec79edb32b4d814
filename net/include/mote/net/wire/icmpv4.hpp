#pragma once
// ICMPv4 (RFC 792): echo request and reply, destination unreachable and time
// exceeded (each quoting the datagram that caused it).

#include <cstddef>
#include <cstdint>

#include "mote/base/assert.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/net/wire/checksum.hpp"
#include "mote/net/wire/ipv4.hpp"
#include "mote/net/wire/view.hpp"

namespace mote::net::wire {

enum class Icmpv4Type : std::uint8_t {
  echo_reply = 0,
  destination_unreachable = 3,
  echo_request = 8,
  time_exceeded = 11,
};

// RFC 792 destination unreachable codes (RFC 1122 §3.2.2.1 adds 6..12).
enum class Icmpv4Unreachable : std::uint8_t {
  net = 0,
  host = 1,
  protocol = 2,
  port = 3,
  fragmentation_needed = 4,  // RFC 1191: next_hop_mtu is set
  source_route_failed = 5,
};

// RFC 792 time exceeded codes.
enum class Icmpv4TimeExceeded : std::uint8_t { ttl_in_transit = 0, fragment_reassembly = 1 };

template <PacketBytes Bytes = ConstByteSpan>
class Icmpv4Packet {
 public:
  // Type, code, checksum and four bytes whose meaning depends on the type.
  static constexpr std::size_t kHeaderLen = 8;

  // The whole buffer is the message (its length comes from the IPv4 header).
  static constexpr Result<Icmpv4Packet> checked(Bytes buffer) {
    if (buffer.size() < kHeaderLen) return Status::out_of_range();
    return Icmpv4Packet(buffer);
  }
  static constexpr Icmpv4Packet unchecked(Bytes buffer) {
    MOTE_ASSERT(buffer.size() >= kHeaderLen);
    return Icmpv4Packet(buffer);
  }

  [[nodiscard]] constexpr Bytes bytes() const { return buffer_; }
  [[nodiscard]] constexpr std::uint8_t type() const {
    return std::to_integer<std::uint8_t>(buffer_[0]);
  }
  [[nodiscard]] constexpr std::uint8_t code() const {
    return std::to_integer<std::uint8_t>(buffer_[1]);
  }
  [[nodiscard]] constexpr std::uint16_t checksum() const { return load_be16(&buffer_[2]); }
  // Echo: "Identifier" and "Sequence Number".
  [[nodiscard]] constexpr std::uint16_t echo_identifier() const { return load_be16(&buffer_[4]); }
  [[nodiscard]] constexpr std::uint16_t echo_sequence() const { return load_be16(&buffer_[6]); }
  // Destination unreachable, code 4: RFC 1191 §4 "Next-Hop MTU" in the low
  // 16 bits of the unused field.
  [[nodiscard]] constexpr std::uint16_t next_hop_mtu() const { return load_be16(&buffer_[6]); }
  // Echo: the data to return. Errors: the invoking datagram's header and data.
  [[nodiscard]] constexpr Bytes data() const { return buffer_.subspan(kHeaderLen); }

  // RFC 792: "The checksum is the 16-bit ones's complement of the one's
  // complement sum of the ICMP message starting with the ICMP Type."
  [[nodiscard]] constexpr bool verify_checksum() const {
    InternetChecksum sum;
    sum.add(buffer_);
    return sum.verifies();
  }

  constexpr void set_type(std::uint8_t value) requires kIsWritable<Bytes> {
    buffer_[0] = std::byte{value};
  }
  constexpr void set_code(std::uint8_t value) requires kIsWritable<Bytes> {
    buffer_[1] = std::byte{value};
  }
  constexpr void set_checksum(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[2], value);
  }
  // The four type-dependent bytes as two 16-bit halves.
  constexpr void set_rest_of_header(std::uint16_t high,
                                    std::uint16_t low) requires kIsWritable<Bytes> {
    store_be16(&buffer_[4], high);
    store_be16(&buffer_[6], low);
  }
  // "For computing the checksum, the checksum field should be zero."
  constexpr void fill_checksum() requires kIsWritable<Bytes> {
    set_checksum(0);
    set_checksum(internet_checksum(buffer_));
  }

 private:
  constexpr explicit Icmpv4Packet(Bytes buffer) : buffer_(buffer) {}

  Bytes buffer_;
};

// What an error quotes of a TCP segment: RFC 792's "64 bits of Original
// Data Datagram" are the ports and the sequence number (RFC 9293 §3.1),
// enough to find the connection and check the segment was one it sent
// (RFC 5927 §4.1).
struct Icmpv4QuotedTcp {
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t seq_number = 0;
};

// One of the four supported messages.
//   echo request / reply:  identifier, sequence, data (the echoed bytes)
//   destination unreachable / time exceeded:  invoking_header (the quoted
//     IPv4 header, options dropped), data (the quoted bytes after it: RFC 792
//     asks for 64 bits, Linux quotes as much as fits in 576 bytes, RFC 1812
//     §4.3.2.3), next_hop_mtu (unreachable, RFC 1191)
struct Icmpv4Repr {
  Icmpv4Type type = Icmpv4Type::echo_request;
  std::uint8_t code = 0;
  std::uint16_t identifier = 0;
  std::uint16_t sequence = 0;
  std::uint16_t next_hop_mtu = 0;
  Ipv4Repr invoking_header;
  ConstByteSpan data;

  // data_loss on a wrong checksum (mode verify); unimplemented for other
  // types; for the errors, the quoted header is checked like a packet's
  // (invalid_argument, out_of_range) except that its Total Length may run
  // past the quote, and its checksum is not verified.
  static Result<Icmpv4Repr> parse(const Icmpv4Packet<>& packet,
                                  ChecksumMode mode = ChecksumMode::verify);

  // The TCP segment an error quotes. invalid_argument when this is not an
  // error, or the quoted datagram is not TCP, not its first fragment, or
  // too short to have held a TCP header; out_of_range when fewer than 8
  // bytes of it are quoted.
  [[nodiscard]] Result<Icmpv4QuotedTcp> quoted_tcp() const;

  [[nodiscard]] constexpr bool is_error() const {
    return type == Icmpv4Type::destination_unreachable || type == Icmpv4Type::time_exceeded;
  }
  [[nodiscard]] constexpr std::size_t buffer_len() const {
    return Icmpv4Packet<>::kHeaderLen + (is_error() ? Ipv4Repr::kHeaderLen : 0) + data.size();
  }
  // Returns buffer_len(). `data` is copied unless it is already in place.
  Result<std::size_t> emit(ByteSpan buffer) const;

  friend bool operator==(const Icmpv4Repr& a, const Icmpv4Repr& b);
};

}  // namespace mote::net::wire
