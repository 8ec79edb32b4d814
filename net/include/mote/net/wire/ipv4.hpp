#pragma once
// IPv4 (RFC 791): the header view and its Repr. Options are skipped (their
// length comes from IHL, which is checked); fragments are parsed and
// reported, reassembly is a later layer's job.

#include <cstddef>
#include <cstdint>

#include "mote/base/assert.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/net/wire/address.hpp"
#include "mote/net/wire/checksum.hpp"
#include "mote/net/wire/view.hpp"

namespace mote::net::wire {

// IP protocol numbers (the IANA registry) the stack knows; any other value
// is carried as it is.
enum class IpProtocol : std::uint8_t { icmp = 1, tcp = 6, udp = 17 };

template <PacketBytes Bytes = ConstByteSpan>
class Ipv4Packet {
 public:
  static constexpr std::size_t kMinHeaderLen = 20;
  static constexpr std::size_t kMaxHeaderLen = 60;
  static constexpr std::size_t kMaxPacketLen = 0xffff;

  // Checks, in order: the fixed header fits (out_of_range); the version is 4
  // and IHL is at least 5 (invalid_argument); the header IHL gives fits
  // (out_of_range); Total Length covers the header (invalid_argument) and
  // fits in the buffer (out_of_range). Bytes past Total Length (link-layer
  // padding) are allowed and are not part of payload().
  static constexpr Result<Ipv4Packet> checked(Bytes buffer) {
    if (buffer.size() < kMinHeaderLen) return Status::out_of_range();
    Ipv4Packet packet(buffer);
    // RFC 791 §3.1: "Version: 4 bits ... Internet Header Length is the length
    // of the internet header in 32 bit words ... the minimum value for a
    // correct header is 5."
    if (packet.version() != 4 || packet.header_len() < kMinHeaderLen) {
      return Status::invalid_argument();
    }
    if (packet.header_len() > buffer.size()) return Status::out_of_range();
    // "Total Length is the length of the datagram, measured in octets,
    // including internet header and data."
    if (packet.total_len() < packet.header_len()) return Status::invalid_argument();
    if (packet.total_len() > buffer.size()) return Status::out_of_range();
    return packet;
  }
  static constexpr Ipv4Packet unchecked(Bytes buffer) {
    MOTE_ASSERT(buffer.size() >= kMinHeaderLen);
    return Ipv4Packet(buffer);
  }

  [[nodiscard]] constexpr Bytes bytes() const { return buffer_; }
  [[nodiscard]] constexpr std::uint8_t version() const { return byte_at(0) >> 4; }
  [[nodiscard]] constexpr std::size_t header_len() const {
    return std::size_t{static_cast<std::uint8_t>(byte_at(0) & 0x0f)} * 4;
  }
  // RFC 2474 / RFC 3168: the old Type of Service octet.
  [[nodiscard]] constexpr std::uint8_t dscp() const { return byte_at(1) >> 2; }
  [[nodiscard]] constexpr std::uint8_t ecn() const { return byte_at(1) & 0x03; }
  [[nodiscard]] constexpr std::uint16_t total_len() const { return load_be16(&buffer_[2]); }
  [[nodiscard]] constexpr std::uint16_t identification() const { return load_be16(&buffer_[4]); }
  // RFC 791 flags: bit 0 reserved, must be zero; DF; MF.
  [[nodiscard]] constexpr bool reserved_flag() const { return (byte_at(6) & 0x80) != 0; }
  [[nodiscard]] constexpr bool dont_fragment() const { return (byte_at(6) & 0x40) != 0; }
  [[nodiscard]] constexpr bool more_fragments() const { return (byte_at(6) & 0x20) != 0; }
  // In bytes: the field counts units of 8 octets.
  [[nodiscard]] constexpr std::uint16_t fragment_offset() const {
    return static_cast<std::uint16_t>((load_be16(&buffer_[6]) & 0x1fffu) * 8u);
  }
  [[nodiscard]] constexpr std::uint8_t ttl() const { return byte_at(8); }
  [[nodiscard]] constexpr std::uint8_t protocol() const { return byte_at(9); }
  [[nodiscard]] constexpr std::uint16_t header_checksum() const { return load_be16(&buffer_[10]); }
  [[nodiscard]] constexpr Ipv4Address source() const {
    return Ipv4Address::from_bytes(&buffer_[12]);
  }
  [[nodiscard]] constexpr Ipv4Address destination() const {
    return Ipv4Address::from_bytes(&buffer_[16]);
  }
  [[nodiscard]] constexpr Bytes options() const {
    return buffer_.subspan(kMinHeaderLen, header_len() - kMinHeaderLen);
  }
  [[nodiscard]] constexpr Bytes payload() const {
    return buffer_.subspan(header_len(), total_len() - header_len());
  }
  // RFC 791 §3.1: "The checksum field is the 16 bit one's complement of the
  // one's complement sum of all 16 bit words in the header."
  [[nodiscard]] constexpr bool verify_checksum() const {
    InternetChecksum checksum;
    checksum.add(buffer_.first(header_len()));
    return checksum.verifies();
  }

  constexpr void set_version_and_header_len(std::size_t header_len) requires kIsWritable<Bytes> {
    buffer_[0] = static_cast<std::byte>(0x40 | ((header_len / 4) & 0x0f));
  }
  constexpr void set_dscp_ecn(std::uint8_t dscp, std::uint8_t ecn) requires kIsWritable<Bytes> {
    buffer_[1] = static_cast<std::byte>((dscp << 2) | (ecn & 0x03));
  }
  constexpr void set_total_len(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[2], value);
  }
  constexpr void set_identification(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[4], value);
  }
  // `offset` in bytes, a multiple of 8.
  constexpr void set_flags_and_fragment_offset(bool dont_fragment, bool more_fragments,
                                               std::uint16_t offset) requires kIsWritable<Bytes> {
    store_be16(&buffer_[6], static_cast<std::uint16_t>((dont_fragment ? 0x4000u : 0u) |
                                                       (more_fragments ? 0x2000u : 0u) |
                                                       ((offset / 8u) & 0x1fffu)));
  }
  constexpr void set_ttl(std::uint8_t value) requires kIsWritable<Bytes> {
    buffer_[8] = std::byte{value};
  }
  constexpr void set_protocol(std::uint8_t value) requires kIsWritable<Bytes> {
    buffer_[9] = std::byte{value};
  }
  constexpr void set_header_checksum(std::uint16_t value) requires kIsWritable<Bytes> {
    store_be16(&buffer_[10], value);
  }
  constexpr void set_source(Ipv4Address address) requires kIsWritable<Bytes> {
    address.write_to(&buffer_[12]);
  }
  constexpr void set_destination(Ipv4Address address) requires kIsWritable<Bytes> {
    address.write_to(&buffer_[16]);
  }
  // RFC 791 §3.1: "For purposes of computing the checksum, the value of the
  // checksum field is zero." Call after every other header field is set.
  constexpr void fill_checksum() requires kIsWritable<Bytes> {
    set_header_checksum(0);
    set_header_checksum(internet_checksum(buffer_.first(header_len())));
  }

 private:
  constexpr explicit Ipv4Packet(Bytes buffer) : buffer_(buffer) {}
  [[nodiscard]] constexpr std::uint8_t byte_at(std::size_t offset) const {
    return std::to_integer<std::uint8_t>(buffer_[offset]);
  }

  Bytes buffer_;
};

// An IPv4 header. emit() writes a 20-byte header (no options) with Total
// Length = 20 + payload_len and a correct checksum; the payload goes at
// buffer.subspan(kHeaderLen), usually emitted there first.
struct Ipv4Repr {
  static constexpr std::size_t kHeaderLen = Ipv4Packet<>::kMinHeaderLen;

  Ipv4Address source;
  Ipv4Address destination;
  IpProtocol protocol = IpProtocol::udp;
  std::size_t payload_len = 0;
  // RFC 1122 §3.2.1.7: a host's default TTL; RFC 1700 gave 64.
  std::uint8_t ttl = 64;
  std::uint8_t dscp = 0;
  std::uint8_t ecn = 0;
  std::uint16_t identification = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint16_t fragment_offset = 0;  // in bytes, a multiple of 8

  // data_loss when `mode` is verify and the header checksum is wrong.
  // Options are skipped; payload_len excludes them.
  static Result<Ipv4Repr> parse(const Ipv4Packet<>& packet,
                                ChecksumMode mode = ChecksumMode::verify);

  // A fragment (RFC 791 §3.2): MF set or a non-zero offset.
  [[nodiscard]] constexpr bool is_fragment() const {
    return more_fragments || fragment_offset != 0;
  }
  [[nodiscard]] static constexpr std::size_t header_len() { return kHeaderLen; }
  [[nodiscard]] constexpr std::size_t buffer_len() const { return kHeaderLen + payload_len; }
  // Writes the header into buffer[0, 20) and returns 20. resource_exhausted
  // if the buffer is shorter than the header; invalid_argument if the
  // datagram would exceed 65535 bytes or a field is out of its range.
  Result<std::size_t> emit(ByteSpan buffer) const;

  friend constexpr bool operator==(const Ipv4Repr&, const Ipv4Repr&) = default;
};

}  // namespace mote::net::wire
