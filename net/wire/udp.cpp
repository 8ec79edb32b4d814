#include "mote/net/wire/udp.hpp"

namespace mote::net::wire {

Result<UdpRepr> UdpRepr::parse(const UdpDatagram<>& datagram, Ipv4Address source,
                               Ipv4Address destination, ChecksumMode mode) {
  if (mode == ChecksumMode::verify && !datagram.verify_checksum(source, destination)) {
    return Status::data_loss();
  }
  return UdpRepr{datagram.source_port(), datagram.destination_port(), datagram.payload()};
}

Result<std::size_t> UdpRepr::emit(ByteSpan buffer, Ipv4Address source,
                                  Ipv4Address destination) const {
  // RFC 768: Length is a 16-bit field.
  if (buffer_len() > 0xffff) return Status::invalid_argument();
  if (buffer.size() < buffer_len()) return Status::resource_exhausted();
  copy_bytes(payload, buffer.data() + kHeaderLen);
  auto datagram = UdpDatagram<ByteSpan>::unchecked(buffer);
  datagram.set_source_port(source_port);
  datagram.set_destination_port(destination_port);
  datagram.set_length(static_cast<std::uint16_t>(buffer_len()));
  datagram.fill_checksum(source, destination);
  return buffer_len();
}

}  // namespace mote::net::wire
