#include "mote/net/wire/icmpv4.hpp"

namespace mote::net::wire {
namespace {

// The IPv4 header an error message quotes (RFC 792: "Internet Header + 64
// bits of Original Data Datagram"). The quote is usually cut short, so the
// header's Total Length may exceed it; everything else is checked as for a
// packet.
Result<Ipv4Repr> parse_invoking_header(ConstByteSpan quote, std::size_t& header_len) {
  if (quote.size() < Ipv4Packet<>::kMinHeaderLen) return Status::out_of_range();
  const auto header = Ipv4Packet<>::unchecked(quote);
  if (header.version() != 4 || header.header_len() < Ipv4Packet<>::kMinHeaderLen) {
    return Status::invalid_argument();
  }
  if (header.header_len() > quote.size()) return Status::out_of_range();
  if (header.total_len() < header.header_len()) return Status::invalid_argument();
  header_len = header.header_len();
  Ipv4Repr repr;
  repr.source = header.source();
  repr.destination = header.destination();
  repr.protocol = IpProtocol{header.protocol()};
  repr.payload_len = header.total_len() - header.header_len();
  repr.ttl = header.ttl();
  repr.dscp = header.dscp();
  repr.ecn = header.ecn();
  repr.identification = header.identification();
  repr.dont_fragment = header.dont_fragment();
  repr.more_fragments = header.more_fragments();
  repr.fragment_offset = header.fragment_offset();
  return repr;
}

}  // namespace

Result<Icmpv4Repr> Icmpv4Repr::parse(const Icmpv4Packet<>& packet, ChecksumMode mode) {
  if (mode == ChecksumMode::verify && !packet.verify_checksum()) return Status::data_loss();
  Icmpv4Repr repr;
  repr.type = Icmpv4Type{packet.type()};
  repr.code = packet.code();
  switch (repr.type) {
    case Icmpv4Type::echo_request:
    case Icmpv4Type::echo_reply:
      // RFC 792 "Echo or Echo Reply Message": identifier and sequence number
      // "to aid in matching echos and replies"; the data is returned as is.
      repr.identifier = packet.echo_identifier();
      repr.sequence = packet.echo_sequence();
      repr.data = packet.data();
      return repr;
    case Icmpv4Type::destination_unreachable:
    case Icmpv4Type::time_exceeded: {
      if (repr.type == Icmpv4Type::destination_unreachable) {
        repr.next_hop_mtu = packet.next_hop_mtu();
      }
      std::size_t header_len = 0;
      MOTE_TRY_ASSIGN(repr.invoking_header, parse_invoking_header(packet.data(), header_len));
      repr.data = packet.data().subspan(header_len);
      return repr;
    }
  }
  return Status::unimplemented();
}

Result<Icmpv4QuotedTcp> Icmpv4Repr::quoted_tcp() const {
  // A TCP header is at least 20 bytes (RFC 9293 §3.1); only the first
  // fragment holds it.
  constexpr std::size_t kMinTcpHeaderLen = 20;
  if (!is_error() || invoking_header.protocol != IpProtocol::tcp ||
      invoking_header.fragment_offset != 0 || invoking_header.payload_len < kMinTcpHeaderLen) {
    return Status::invalid_argument();
  }
  if (data.size() < 8) return Status::out_of_range();
  return Icmpv4QuotedTcp{load_be16(&data[0]), load_be16(&data[2]), load_be32(&data[4])};
}

Result<std::size_t> Icmpv4Repr::emit(ByteSpan buffer) const {
  if (type != Icmpv4Type::echo_request && type != Icmpv4Type::echo_reply && !is_error()) {
    return Status::invalid_argument();
  }
  if (buffer.size() < buffer_len()) return Status::resource_exhausted();
  std::size_t data_offset = Icmpv4Packet<>::kHeaderLen;
  if (is_error()) data_offset += Ipv4Repr::kHeaderLen;
  copy_bytes(data, buffer.data() + data_offset);
  auto packet = Icmpv4Packet<ByteSpan>::unchecked(buffer.first(buffer_len()));
  packet.set_type(static_cast<std::uint8_t>(type));
  packet.set_code(code);
  if (is_error()) {
    // RFC 792: the rest of the header is unused (zero), except for RFC 1191's
    // next-hop MTU in a destination unreachable.
    packet.set_rest_of_header(
        0, type == Icmpv4Type::destination_unreachable ? next_hop_mtu : std::uint16_t{0});
    MOTE_TRY(invoking_header.emit(buffer.subspan(Icmpv4Packet<>::kHeaderLen)));
  } else {
    packet.set_rest_of_header(identifier, sequence);
  }
  packet.fill_checksum();
  return buffer_len();
}

bool operator==(const Icmpv4Repr& a, const Icmpv4Repr& b) {
  if (a.type != b.type || a.code != b.code || !same_bytes(a.data, b.data)) return false;
  if (a.is_error()) {
    return a.invoking_header == b.invoking_header &&
           (a.type != Icmpv4Type::destination_unreachable || a.next_hop_mtu == b.next_hop_mtu);
  }
  return a.identifier == b.identifier && a.sequence == b.sequence;
}

}  // namespace mote::net::wire
