#include "mote/net/wire/arp.hpp"

namespace mote::net::wire {

Result<ArpRepr> ArpRepr::parse(const ArpPacket<>& packet) {
  // RFC 826 "Packet Reception": the hardware type and protocol must be ones
  // this host speaks; the stack speaks Ethernet (1) and IPv4 (0x0800).
  if (packet.hardware_type() != ArpPacket<>::kHardwareEthernet ||
      packet.protocol_type() != ArpPacket<>::kProtocolIpv4 ||
      packet.hardware_len() != MacAddress::kSize || packet.protocol_len() != Ipv4Address::kSize) {
    return Status::unimplemented();
  }
  const std::uint16_t operation = packet.operation();
  if (operation != static_cast<std::uint16_t>(ArpOperation::request) &&
      operation != static_cast<std::uint16_t>(ArpOperation::reply)) {
    return Status::unimplemented();
  }
  return ArpRepr{
      ArpOperation{operation},
      MacAddress::from_bytes(packet.source_hardware_address().data()),
      Ipv4Address::from_bytes(packet.source_protocol_address().data()),
      MacAddress::from_bytes(packet.target_hardware_address().data()),
      Ipv4Address::from_bytes(packet.target_protocol_address().data()),
  };
}

Result<std::size_t> ArpRepr::emit(ByteSpan buffer) const {
  if (buffer.size() < buffer_len()) return Status::resource_exhausted();
  auto packet = ArpPacket<ByteSpan>::unchecked(buffer);
  packet.set_hardware_type(ArpPacket<>::kHardwareEthernet);
  packet.set_protocol_type(ArpPacket<>::kProtocolIpv4);
  packet.set_hardware_len(MacAddress::kSize);
  packet.set_protocol_len(Ipv4Address::kSize);
  packet.set_operation(static_cast<std::uint16_t>(operation));
  source_hardware_address.write_to(packet.source_hardware_address().data());
  source_protocol_address.write_to(packet.source_protocol_address().data());
  target_hardware_address.write_to(packet.target_hardware_address().data());
  target_protocol_address.write_to(packet.target_protocol_address().data());
  return buffer_len();
}

}  // namespace mote::net::wire
