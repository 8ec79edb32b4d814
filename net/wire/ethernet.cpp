#include "mote/net/wire/ethernet.hpp"

namespace mote::net::wire {

Result<EthernetRepr> EthernetRepr::parse(const EthernetFrame<>& frame) {
  // IEEE 802.3 §3.2.6: values below 0x0600 are a length, not an EtherType.
  if (frame.ethertype() < kMinEtherType) return Status::unimplemented();
  return EthernetRepr{frame.source(), frame.destination(), EtherType{frame.ethertype()}};
}

Result<std::size_t> EthernetRepr::emit(ByteSpan buffer) const {
  if (buffer.size() < kHeaderLen) return Status::resource_exhausted();
  auto frame = EthernetFrame<ByteSpan>::unchecked(buffer);
  frame.set_destination(destination);
  frame.set_source(source);
  frame.set_ethertype(static_cast<std::uint16_t>(ethertype));
  return kHeaderLen;
}

}  // namespace mote::net::wire
