#include "mote/net/wire/ipv4.hpp"

namespace mote::net::wire {

Result<Ipv4Repr> Ipv4Repr::parse(const Ipv4Packet<>& packet, ChecksumMode mode) {
  // Built in the Result, which every return returns (NRVO), as in
  // TcpRepr::parse: moving a local out would load fields just stored.
  Result<Ipv4Repr> result(std::in_place);
  if (mode == ChecksumMode::verify && !packet.verify_checksum()) {
    result = Status::data_loss();
    return result;
  }
  Ipv4Repr& repr = *result;
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
  return result;
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
  // RFC 1071's sum of the header's words, taken from the values rather than
  // read back from the bytes just stored (a load over several narrower
  // stores waits for them to retire).
  std::uint64_t words = 0x4500u + (static_cast<std::uint32_t>(dscp << 2 | (ecn & 0x03))) +
                        buffer_len() + identification +
                        ((dont_fragment ? 0x4000u : 0u) | (more_fragments ? 0x2000u : 0u) |
                         ((fragment_offset / 8u) & 0x1fffu)) +
                        (std::uint32_t{ttl} << 8 | static_cast<std::uint8_t>(protocol));
  words += (source.to_u32() >> 16) + (source.to_u32() & 0xffffu);
  words += (destination.to_u32() >> 16) + (destination.to_u32() & 0xffffu);
  InternetChecksum sum;
  sum.add_u32(static_cast<std::uint32_t>(words));
  packet.set_header_checksum(sum.checksum());
  return kHeaderLen;
}

}  // namespace mote::net::wire
