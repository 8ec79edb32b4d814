#include "mote/net/wire/ipv4.hpp"

namespace mote::net::wire {

Result<Ipv4Repr> Ipv4Repr::parse(const Ipv4Packet<>& packet, ChecksumMode mode) {
  if (mode == ChecksumMode::verify && !packet.verify_checksum()) return Status::data_loss();
  Ipv4Repr repr;
  repr.source = packet.source();
  repr.destination = packet.destination();
  repr.protocol = IpProtocol{packet.protocol()};
  repr.payload_len = packet.payload().size();
  repr.ttl = packet.ttl();
  repr.dscp = packet.dscp();
  repr.ecn = packet.ecn();
  repr.identification = packet.identification();
  repr.dont_fragment = packet.dont_fragment();
  repr.more_fragments = packet.more_fragments();
  repr.fragment_offset = packet.fragment_offset();
  return repr;
}

Result<std::size_t> Ipv4Repr::emit(ByteSpan buffer) const {
  if (payload_len > Ipv4Packet<>::kMaxPacketLen - kHeaderLen || dscp > 0x3f || ecn > 0x03 ||
      fragment_offset % 8 != 0) {
    return Status::invalid_argument();
  }
  if (buffer.size() < kHeaderLen) return Status::resource_exhausted();
  auto packet = Ipv4Packet<ByteSpan>::unchecked(buffer);
  packet.set_version_and_header_len(kHeaderLen);
  packet.set_dscp_ecn(dscp, ecn);
  packet.set_total_len(static_cast<std::uint16_t>(buffer_len()));
  packet.set_identification(identification);
  packet.set_flags_and_fragment_offset(dont_fragment, more_fragments, fragment_offset);
  packet.set_ttl(ttl);
  packet.set_protocol(static_cast<std::uint8_t>(protocol));
  packet.set_source(source);
  packet.set_destination(destination);
  packet.fill_checksum();
  return kHeaderLen;
}

}  // namespace mote::net::wire
