#include "mote/net/iface/interface.hpp"

#include <algorithm>
#include <cstring>

#include "mote/net/iface/probe_table.hpp"
#include "mote/net/socket/tcp_socket.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/net/wire/arp.hpp"
#include "mote/net/wire/ethernet.hpp"
#include "mote/net/wire/icmpv4.hpp"
#include "mote/net/wire/udp.hpp"

namespace mote::net {

using io::Ipv4Address;
using wire::ArpOperation;
using wire::ArpPacket;
using wire::ArpRepr;
using wire::EthernetFrame;
using wire::EthernetRepr;
using wire::EtherType;
using wire::Icmpv4Packet;
using wire::Icmpv4Repr;
using wire::Icmpv4Type;
using wire::IpProtocol;
using wire::Ipv4Packet;
using wire::Ipv4Repr;
using wire::MacAddress;
using wire::UdpDatagram;
using wire::UdpRepr;

namespace {

// RFC 1112 §6.4: an IPv4 multicast group maps to 01:00:5e plus its low 23 bits.
MacAddress multicast_mac(Ipv4Address group) {
  const std::uint32_t value = group.to_u32();
  return {0x01,
          0x00,
          0x5e,
          static_cast<std::uint8_t>((value >> 16) & 0x7f),
          static_cast<std::uint8_t>(value >> 8),
          static_cast<std::uint8_t>(value)};
}

std::uint32_t prefix_mask(std::uint8_t prefix_len) {
  return prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_len);
}

// The UDP port table's slot for a port (Fibonacci hashing).
std::size_t home_slot(std::uint16_t port, std::size_t table_size) {
  return (static_cast<std::uint32_t>(port) * 2654435769u >> 16) & (table_size - 1);
}

}  // namespace

Interface::Interface(DeviceCapabilities device, const InterfaceConfig& config,
                     InterfaceMemory memory)
    : device_(device),
      config_(config),
      memory_(memory),
      neighbours_(memory.neighbours),
      pending_(memory.pending, config.pending_per_neighbour),
      reassembler_(memory.reassembly_slots, memory.reassembly_bytes) {
  MOTE_ASSERT(memory.rx_frame.size() >= device.max_frame_len());
  MOTE_ASSERT(memory.tx_frame.size() >= device.max_frame_len());
  MOTE_ASSERT(!memory.udp_table.empty() &&
              (memory.udp_table.size() & (memory.udp_table.size() - 1)) == 0);
  for (UdpSocket*& slot : memory_.udp_table) slot = nullptr;
  MOTE_ASSERT(!memory.tcp_table.empty() &&
              (memory.tcp_table.size() & (memory.tcp_table.size() - 1)) == 0);
  for (TcpSocket*& slot : memory_.tcp_table) slot = nullptr;
}

Interface::~Interface() {
  for (UdpSocket* socket : memory_.udp_table) {
    if (socket != nullptr) socket->detach();
  }
  if (tcp_ != nullptr) {
    for (TcpSocket* socket : memory_.tcp_table) {
      if (socket != nullptr) socket->detach();
    }
    while (tcp_listeners_ != nullptr) unlisten_tcp(*tcp_listeners_);
  }
}

// --- Addresses ---------------------------------------------------------------

Status Interface::set_ipv4_address(Ipv4Address address, std::uint8_t prefix_len) {
  if (prefix_len > 32 || !address.is_unicast()) return Status::invalid_argument();
  address_ = address;
  prefix_len_ = prefix_len;
  if (!gateway_.is_unspecified() && !gateway_.same_subnet(address_, prefix_len_)) {
    gateway_ = Ipv4Address();
  }
  if (device_.medium == Medium::ethernet) {
    announcements_left_ = config_.announcements;
    next_announcement_ = Instant::min();
  }
  request_poll();
  return ok_status();
}

void Interface::clear_ipv4_address() {
  address_ = Ipv4Address();
  gateway_ = Ipv4Address();
  prefix_len_ = 0;
  announcements_left_ = 0;
}

Status Interface::set_default_gateway(Ipv4Address gateway) {
  if (!gateway.is_unspecified() && (!has_ipv4_address() || !gateway.is_unicast() ||
                                    !gateway.same_subnet(address_, prefix_len_))) {
    return Status::invalid_argument();
  }
  gateway_ = gateway;
  return ok_status();
}

bool Interface::is_broadcast(Ipv4Address address) const {
  if (address.is_broadcast()) return true;
  // RFC 919/922: the directed broadcast of our subnet (all host bits set),
  // for prefixes that leave room for hosts.
  if (!has_ipv4_address() || prefix_len_ >= 31) return false;
  const std::uint32_t mask = prefix_mask(prefix_len_);
  return (address.to_u32() & mask) == (address_.to_u32() & mask) &&
         (address.to_u32() | mask) == 0xffffffffu;
}

Result<Interface::NextHop> Interface::next_hop(Ipv4Address destination) const {
  if (destination.is_unspecified()) return Status::invalid_argument();
  NextHop hop;
  if (is_broadcast(destination)) {
    hop.hardware_address = MacAddress::broadcast();
    hop.resolved = true;
    return hop;
  }
  if (destination.is_multicast()) {
    hop.hardware_address = multicast_mac(destination);
    hop.resolved = true;
    return hop;
  }
  if (!has_ipv4_address()) return Status::not_found();
  // Sending to ourselves needs a loopback path on Ethernet; mote has none.
  if (destination == address_ && device_.medium == Medium::ethernet) return Status::not_found();
  if (device_.medium == Medium::ip) {
    hop.resolved = true;
    return hop;
  }
  // RFC 1122 §3.3.1.1: on-link destinations directly, others via a gateway.
  if (destination.same_subnet(address_, prefix_len_)) {
    hop.address = destination;
  } else if (!gateway_.is_unspecified()) {
    hop.address = gateway_;
  } else {
    return Status::not_found();
  }
  return hop;
}

Status Interface::check_route(Ipv4Address destination) const {
  return next_hop(destination).status();
}

std::size_t Interface::max_udp_payload() const {
  return device_.mtu - Ipv4Repr::kHeaderLen - UdpRepr::kHeaderLen;
}

// --- UDP sockets -------------------------------------------------------------

UdpSocket* Interface::find_udp(std::uint16_t port) const {
  const std::size_t size = memory_.udp_table.size();
  for (std::size_t i = home_slot(port, size);; i = (i + 1) & (size - 1)) {
    UdpSocket* socket = memory_.udp_table[i];
    if (socket == nullptr) return nullptr;
    if (socket->port_ == port) return socket;
  }
}

Status Interface::bind_udp(UdpSocket& socket, std::uint16_t port) {
  const std::size_t size = memory_.udp_table.size();
  // At most half full, so probes stay short and a free slot always exists.
  if (udp_count_ + 1 > size / 2) return Status::resource_exhausted();
  if (port == 0) {
    // RFC 6335 §6: ephemeral ports from 49152 to 65535, tried in turn.
    for (unsigned tries = 0; tries < 16384 && port == 0; ++tries) {
      const std::uint16_t candidate = next_ephemeral_port_;
      next_ephemeral_port_ =
          next_ephemeral_port_ == 65535 ? 49152 : static_cast<std::uint16_t>(candidate + 1);
      if (find_udp(candidate) == nullptr) port = candidate;
    }
    if (port == 0) return Status::resource_exhausted();
  } else if (find_udp(port) != nullptr) {
    return Status::already_exists();
  }
  std::size_t i = home_slot(port, size);
  while (memory_.udp_table[i] != nullptr) i = (i + 1) & (size - 1);
  socket.port_ = port;
  memory_.udp_table[i] = &socket;
  ++udp_count_;
  return ok_status();
}

void Interface::unbind_udp(UdpSocket& socket) {
  const std::size_t size = memory_.udp_table.size();
  std::size_t i = home_slot(socket.port_, size);
  while (memory_.udp_table[i] != &socket) {
    if (memory_.udp_table[i] == nullptr) return;
    i = (i + 1) & (size - 1);
  }
  internal::erase_probed(memory_.udp_table, i,
                         [&](const UdpSocket* entry) { return home_slot(entry->port_, size); });
  --udp_count_;
}

// --- Input -------------------------------------------------------------------

std::size_t Interface::receive_frame(Instant now, ConstByteSpan frame, ByteSpan tx) {
  expire(now);
  return take_frame(now, frame, tx);
}

std::size_t Interface::take_frame(Instant now, ConstByteSpan frame, ByteSpan tx) {
  ++stats_.rx_frames;
  // An IP link has no link addresses.
  static constexpr MacAddress kNoLinkSource{};
  if (device_.medium == Medium::ip) return process_ipv4(now, frame, kNoLinkSource, true, tx);

  Result<EthernetFrame<>> ethernet = EthernetFrame<>::checked(frame);
  if (!ethernet.ok()) {
    ++stats_.rx_dropped;
    return 0;
  }
  const MacAddress destination = ethernet->destination();
  const bool to_us = destination == config_.hardware_address;
  if (!to_us && !destination.is_broadcast() && !destination.is_multicast()) {
    ++stats_.rx_dropped;  // another host's frame (a bridge or a hub)
    return 0;
  }
  if (ethernet->source() == config_.hardware_address) {
    ++stats_.rx_dropped;  // our own frame looped back by the medium
    return 0;
  }
  switch (ethernet->ethertype()) {
    case static_cast<std::uint16_t>(EtherType::arp):
      return process_arp(now, ethernet->payload(), tx);
    case static_cast<std::uint16_t>(EtherType::ipv4):
      return process_ipv4(now, ethernet->payload(), ethernet->source(), to_us, tx);
    default: ++stats_.rx_dropped; return 0;
  }
}

std::size_t Interface::process_arp(Instant now, ConstByteSpan packet, ByteSpan tx) {
  Result<ArpPacket<>> view = ArpPacket<>::checked(packet);
  Result<ArpRepr> arp = view.ok() ? ArpRepr::parse(*view) : Result<ArpRepr>(view.status());
  if (!arp.ok()) {
    ++stats_.rx_dropped;
    return 0;
  }
  const Ipv4Address sender = arp->source_protocol_address;
  // Nonsense senders are not learned: broadcast/multicast hardware, or
  // our own address (another host claiming it: RFC 5227 §2.4 conflict).
  const bool sender_usable =
      arp->source_hardware_address.is_unicast() && sender.is_unicast() && sender != address_;
  // RFC 826 "Packet Reception": update the sender's entry if there is one
  // (Merge_flag) ...
  bool merged = false;
  if (sender_usable) {
    Neighbour* entry = neighbours_.find(sender);
    if (entry != nullptr) {
      neighbours_.fill(sender, arp->source_hardware_address, now + config_.neighbour_lifetime, now);
      merged = true;
    }
  }
  // ... "?Am I the target protocol address?"
  if (!has_ipv4_address() || arp->target_protocol_address != address_) return 0;
  // "If Merge_flag is false, add the triplet ... to the translation table."
  if (sender_usable && !merged) {
    neighbours_.fill(sender, arp->source_hardware_address, now + config_.neighbour_lifetime, now);
  }
  if (arp->operation != ArpOperation::request) return 0;
  // "Swap hardware and protocol fields, putting the local hardware and
  // protocol addresses in the sender fields. Set the ar$op field to
  // ares_op$REPLY. Send the packet to the (new) target hardware address."
  ++stats_.arp_replies_sent;
  return emit_arp(tx, ArpOperation::reply, arp->source_hardware_address, sender,
                  arp->source_hardware_address);
}

std::size_t Interface::process_ipv4(Instant now, ConstByteSpan packet,
                                    const MacAddress& link_source, bool link_unicast_to_us,
                                    ByteSpan tx) {
  Result<Ipv4Packet<>> view = Ipv4Packet<>::checked(packet);
  if (!view.ok()) {
    ++stats_.rx_dropped;
    return 0;
  }
  Result<Ipv4Repr> parsed = Ipv4Repr::parse(*view, config_.rx_checksums);
  if (!parsed.ok()) {
    ++(parsed.status().code() == StatusCode::data_loss ? stats_.rx_checksum_errors
                                                       : stats_.rx_dropped);
    return 0;
  }
  // Read in place: a copy of the whole header, just stored field by field,
  // would wait for those stores.
  const Ipv4Repr& received = *parsed;
  // RFC 1122 §3.2.1.3: a source that is broadcast or multicast is invalid,
  // and "A host MUST silently discard an incoming datagram containing an IP
  // source address that is invalid".
  if (received.source.is_broadcast() || received.source.is_multicast() ||
      is_broadcast(received.source)) {
    ++stats_.rx_dropped;
    return 0;
  }
  // RFC 1122 §3.2.1.3 / §3.3.6: take what is addressed to us, to the
  // limited broadcast or to our subnet's broadcast. Multicast groups are not
  // joined. With no address yet, take unicast sent to our hardware address
  // (RFC 2131 §4.1 servers may unicast the offer to the future address).
  const bool to_broadcast = is_broadcast(received.destination);
  const bool to_us =
      has_ipv4_address() ? received.destination == address_ : (link_unicast_to_us && !to_broadcast);
  if (!to_us && !to_broadcast) {
    ++stats_.rx_dropped;
    return 0;
  }
  // RFC 1122 §3.2.1.7: "A host MUST NOT discard a datagram just because it
  // was received with TTL less than 2" — a host does not forward, so TTL is
  // not checked on input.
  const Ipv4Repr* header = &received;
  ConstByteSpan payload = view->payload();
  std::optional<Reassembler::Datagram> whole;
  if (received.is_fragment()) {
    whole = reassembler_.add(now, received, payload, config_.reassembly_timeout);
    if (!whole) return 0;
    header = &whole->header;
    payload = whole->payload;
  }
  const Ipv4Repr& ip = *header;
  // RFC 1122 §3.2.2: "An ICMP error message MUST NOT be sent as the result
  // of receiving ... a datagram destined to an IP broadcast or IP multicast
  // address; a datagram sent as a link-layer broadcast; ... a datagram whose
  // source address does not define a single host". (ICMP messages never
  // draw errors here: only echo requests are answered.)
  const bool may_answer_error =
      !to_broadcast && link_unicast_to_us && has_ipv4_address() && ip.source.is_unicast();
  switch (ip.protocol) {
    case IpProtocol::udp: return process_udp(ip, payload, may_answer_error, link_source, tx);
    case IpProtocol::icmp:
      if (to_broadcast) return 0;  // RFC 1122 §3.2.2.6: MAY ignore broadcast echo; Linux does
      return process_icmp(ip, payload, link_source, tx);
    case IpProtocol::tcp:
      if (tcp_ != nullptr) {
        // RFC 1122 §4.2.3.10: segments to broadcast or multicast are dropped.
        if (to_broadcast || !has_ipv4_address()) return 0;
        return tcp_->process(*this, now, ip, payload, link_source, tx);
      }
      [[fallthrough]];  // no TCP in use: as any transport we lack
    default:
      // RFC 1122 §3.2.2.1: protocol unreachable for a transport we lack.
      if (!may_answer_error) return 0;
      return icmp_error(static_cast<std::uint8_t>(Icmpv4Type::destination_unreachable),
                        static_cast<std::uint8_t>(wire::Icmpv4Unreachable::protocol), ip, payload,
                        link_source, tx);
  }
}

std::size_t Interface::process_udp(const Ipv4Repr& ip, ConstByteSpan datagram,
                                   bool may_answer_error, MacAddress link_source, ByteSpan tx) {
  Result<UdpDatagram<>> view = UdpDatagram<>::checked(datagram);
  Result<UdpRepr> udp = view.ok()
                            ? UdpRepr::parse(*view, ip.source, ip.destination, config_.rx_checksums)
                            : Result<UdpRepr>(view.status());
  if (!udp.ok()) {
    ++(udp.status().code() == StatusCode::data_loss ? stats_.rx_checksum_errors
                                                    : stats_.rx_dropped);
    return 0;
  }
  UdpSocket* socket = find_udp(udp->destination_port);
  if (socket != nullptr) {
    if (socket->deliver(ip.source, udp->source_port, udp->payload)) {
      ++stats_.udp_delivered;
    } else {
      ++stats_.udp_rx_full;
    }
    return 0;
  }
  ++stats_.udp_no_socket;
  // RFC 1122 §4.1.3.1: "If a datagram arrives addressed to a UDP port for
  // which there is no pending LISTEN call, UDP SHOULD send an ICMP Port
  // Unreachable message" (within the limits of §3.2.2, above).
  if (!may_answer_error) return 0;
  return icmp_error(static_cast<std::uint8_t>(Icmpv4Type::destination_unreachable),
                    static_cast<std::uint8_t>(wire::Icmpv4Unreachable::port), ip, datagram,
                    link_source, tx);
}

std::size_t Interface::process_icmp(const Ipv4Repr& ip, ConstByteSpan message,
                                    MacAddress link_source, ByteSpan tx) {
  Result<Icmpv4Packet<>> view = Icmpv4Packet<>::checked(message);
  Result<Icmpv4Repr> icmp = view.ok() ? Icmpv4Repr::parse(*view, config_.rx_checksums)
                                      : Result<Icmpv4Repr>(view.status());
  if (!icmp.ok()) {
    ++(icmp.status().code() == StatusCode::data_loss ? stats_.rx_checksum_errors
                                                     : stats_.rx_dropped);
    return 0;
  }
  // Destination unreachable about a TCP segment goes to its connection.
  // Other errors about our own datagrams have no socket to go to (UDP
  // sockets do not report them): counted as received and dropped.
  if (icmp->type == Icmpv4Type::destination_unreachable &&
      icmp->invoking_header.protocol == IpProtocol::tcp && tcp_ != nullptr) {
    tcp_->unreachable(*this, *icmp);
    return 0;
  }
  if (icmp->type != Icmpv4Type::echo_request || !has_ipv4_address()) return 0;
  // RFC 792 / RFC 1122 §3.2.2.6: the reply carries the request's
  // identifier, sequence and data, to the request's source.
  Icmpv4Repr reply;
  reply.type = Icmpv4Type::echo_reply;
  reply.identifier = icmp->identifier;
  reply.sequence = icmp->sequence;
  reply.data = icmp->data;
  const std::size_t len = emit_icmp(reply, ip.source, link_source, tx);
  ++(len != 0 ? stats_.echo_replies_sent : stats_.tx_dropped);
  return len;
}

std::size_t Interface::build_icmp(const Icmpv4Repr& icmp, Ipv4Address destination, ByteSpan tx) {
  const std::size_t ip_len = Ipv4Repr::kHeaderLen + icmp.buffer_len();
  // Too big to send without fragmenting (a large echo request).
  if (ip_len > device_.mtu || link_header_len() + ip_len > tx.size()) return 0;
  const ByteSpan ip_bytes = tx.subspan(link_header_len());
  // What the message quotes or echoes is in the receive buffer or the
  // reassembler, apart from tx: emit copies it.
  if (!icmp.emit(ip_bytes.subspan(Ipv4Repr::kHeaderLen)).ok()) return 0;
  Ipv4Repr header{address_, destination, IpProtocol::icmp, icmp.buffer_len()};
  header.ttl = config_.ttl;
  header.identification = next_identification_++;
  if (!header.emit(ip_bytes).ok()) return 0;
  return ip_len;
}

std::size_t Interface::emit_icmp(const Icmpv4Repr& icmp, Ipv4Address destination,
                                 MacAddress link_destination, ByteSpan tx) {
  const std::size_t ip_len = build_icmp(icmp, destination, tx);
  return ip_len == 0 ? 0 : finish_frame(tx, link_destination, ip_len);
}

std::size_t Interface::icmp_error(std::uint8_t type, std::uint8_t code, const Ipv4Repr& ip,
                                  ConstByteSpan data, MacAddress link_source, ByteSpan tx) {
  // RFC 1812 §4.3.2.3: "as much of the original datagram as possible
  // without the length of the ICMP datagram exceeding 576 bytes".
  constexpr std::size_t kMaxErrorPacket = 576;
  const std::size_t limit = std::min(kMaxErrorPacket, device_.mtu);
  constexpr std::size_t kOverhead = Ipv4Repr::kHeaderLen + Icmpv4Packet<>::kHeaderLen;
  Icmpv4Repr error;
  error.type = Icmpv4Type{type};
  error.code = code;
  error.invoking_header = ip;
  // The quote: the header re-emitted (without options) and the start of
  // the datagram's data.
  const std::size_t room = limit - kOverhead - Ipv4Repr::kHeaderLen;
  error.data = data.first(std::min(data.size(), room));
  const std::size_t len = emit_icmp(error, ip.source, link_source, tx);
  if (len != 0) ++stats_.icmp_errors_sent;
  return len;
}

// --- Output ------------------------------------------------------------------

std::size_t Interface::finish_frame(ByteSpan tx, MacAddress destination, std::size_t ip_len) {
  if (device_.medium == Medium::ip) return ip_len;
  const EthernetRepr ethernet{config_.hardware_address, destination, EtherType::ipv4};
  static_cast<void>(ethernet.emit(tx));
  return EthernetRepr::kHeaderLen + ip_len;
}

std::size_t Interface::emit_arp(ByteSpan tx, ArpOperation operation, MacAddress target_mac,
                                Ipv4Address target, MacAddress link_destination) {
  const ArpRepr arp{operation, config_.hardware_address, address_, target_mac, target};
  if (!arp.emit(tx.subspan(EthernetRepr::kHeaderLen)).ok()) return 0;
  const EthernetRepr ethernet{config_.hardware_address, link_destination, EtherType::arp};
  static_cast<void>(ethernet.emit(tx));
  return EthernetRepr::kHeaderLen + ArpRepr::buffer_len();
}

std::size_t Interface::route_packet(Instant now, ByteSpan tx, Ipv4Address destination,
                                    std::size_t ip_len) {
  Result<NextHop> hop = next_hop(destination);
  if (!hop.ok()) {
    ++stats_.tx_dropped;
    return 0;
  }
  if (hop->resolved) return finish_frame(tx, hop->hardware_address, ip_len);
  if (const MacAddress* mac = neighbours_.lookup(hop->address, now)) {
    return finish_frame(tx, *mac, ip_len);
  }
  // Unresolved: park the packet and start (or go on) asking.
  Neighbour* entry = neighbours_.find(hop->address);
  if (entry == nullptr || entry->state != Neighbour::State::incomplete) {
    entry = neighbours_.start(hop->address, now);
  }
  if (entry == nullptr ||
      !pending_.push(hop->address, ConstByteSpan(tx).subspan(link_header_len(), ip_len))) {
    ++stats_.tx_dropped;
    return 0;
  }
  return next_arp_frame(now, tx);
}

std::size_t Interface::next_frame(Instant now, ByteSpan tx) {
  expire(now);
  return build_next_frame(now, tx);
}

std::size_t Interface::build_next_frame(Instant now, ByteSpan tx) {
  if (std::size_t len = next_pending_frame(now, tx); len != 0) return len;
  if (std::size_t len = next_arp_frame(now, tx); len != 0) return len;
  if (std::size_t len = next_time_exceeded_frame(now, tx); len != 0) return len;
  if (udp_count_ != 0) {
    if (std::size_t len = next_udp_frame(now, tx); len != 0) return len;
  }
  return tcp_ != nullptr ? tcp_->next_frame(*this, now, tx) : 0;
}

std::size_t Interface::next_time_exceeded_frame(Instant now, ByteSpan tx) {
  if (!reassembly_expired_) return 0;
  const Reassembler::Expired expired = *reassembly_expired_;
  reassembly_expired_.reset();
  // RFC 1122 §3.3.2: "If the reassembly timeout expires, the partially-
  // reassembled datagram MUST be discarded and an ICMP Time Exceeded
  // message sent to the source host (if fragment zero has been received)"
  // — within §3.2.2's limits: not about broadcasts or non-host sources.
  if (!has_ipv4_address() || is_broadcast(expired.header.destination) ||
      !expired.header.source.is_unicast()) {
    return 0;
  }
  Icmpv4Repr error;
  error.type = Icmpv4Type::time_exceeded;
  error.code = static_cast<std::uint8_t>(wire::Icmpv4TimeExceeded::fragment_reassembly);
  error.invoking_header = expired.header;
  error.data = ConstByteSpan(expired.data).first(expired.data_len);
  const std::size_t ip_len = build_icmp(error, expired.header.source, tx);
  if (ip_len == 0) return 0;
  ++stats_.icmp_errors_sent;
  // Unlike the immediate answers, this one has no frame to answer: route it.
  return route_packet(now, tx, expired.header.source, ip_len);
}

std::size_t Interface::next_pending_frame(Instant now, ByteSpan tx) {
  if (pending_.empty()) return 0;
  Ipv4Address ready;
  const MacAddress* mac = nullptr;
  pending_.any_of([&](Ipv4Address hop) {
    mac = neighbours_.lookup(hop, now);
    ready = hop;
    return mac != nullptr;
  });
  if (mac == nullptr) return 0;
  const MacAddress destination = *mac;
  const std::size_t ip_len = pending_.take(ready, tx.subspan(link_header_len()));
  if (ip_len == 0) return 0;
  return finish_frame(tx, destination, ip_len);
}

std::size_t Interface::next_arp_frame(Instant now, ByteSpan tx) {
  if (device_.medium != Medium::ethernet) return 0;
  if (announcements_left_ > 0 && next_announcement_ <= now && has_ipv4_address()) {
    // RFC 5227 §2.3: an ARP announcement is a request with both sender and
    // target protocol address set to the announced address, target
    // hardware address zero, broadcast.
    --announcements_left_;
    next_announcement_ = now + config_.announce_interval;
    ++stats_.arp_requests_sent;
    return emit_arp(tx, ArpOperation::request, MacAddress(), address_, MacAddress::broadcast());
  }
  for (Neighbour& entry : neighbours_.entries()) {
    if (entry.state != Neighbour::State::incomplete || entry.deadline > now) continue;
    if (entry.attempts >= config_.arp_attempts) {
      // Resolution failed: drop what waited for it (RFC 1122 §2.3.2.1).
      stats_.tx_dropped += static_cast<std::uint32_t>(pending_.drop(entry.address));
      entry = Neighbour{};
      continue;
    }
    ++entry.attempts;
    entry.deadline = now + config_.arp_retry_interval;
    ++stats_.arp_requests_sent;
    return emit_arp(tx, ArpOperation::request, MacAddress(), entry.address,
                    MacAddress::broadcast());
  }
  return 0;
}

std::size_t Interface::next_udp_frame(Instant now, ByteSpan tx) {
  const std::size_t size = memory_.udp_table.size();
  for (std::size_t n = 0; n < size; ++n) {
    const std::size_t index = (udp_cursor_ + n) & (size - 1);
    UdpSocket* socket = memory_.udp_table[index];
    if (socket == nullptr) continue;
    // A datagram parked for ARP (or dropped) yields no frame: go on with
    // the same socket's next one.
    while (std::optional<PacketRing::Packet> datagram = socket->tx_queue().peek()) {
      udp_cursor_ = (index + 1) & (size - 1);
      const Ipv4Address destination = datagram->meta.address;
      const Ipv4Address source = has_ipv4_address() ? address_ : Ipv4Address();
      const std::size_t udp_len = UdpRepr::kHeaderLen + datagram->payload.size();
      const std::size_t ip_len = Ipv4Repr::kHeaderLen + udp_len;
      bool built = false;
      if (ip_len <= device_.mtu && link_header_len() + ip_len <= tx.size()) {
        const ByteSpan ip_bytes = tx.subspan(link_header_len());
        const UdpRepr udp{socket->port_, datagram->meta.port, datagram->payload};
        Ipv4Repr header{source, destination, IpProtocol::udp, udp_len};
        header.ttl = config_.ttl;
        header.identification = next_identification_++;
        built = udp.emit(ip_bytes.subspan(Ipv4Repr::kHeaderLen), source, destination).ok() &&
                header.emit(ip_bytes).ok();
      }
      socket->tx_queue().dequeue();
      socket->on_sent();
      if (!built) {
        ++stats_.tx_dropped;  // cannot be sent: drop it rather than stall
        continue;
      }
      if (const std::size_t frame_len = route_packet(now, tx, destination, ip_len);
          frame_len != 0) {
        return frame_len;
      }
    }
  }
  return 0;
}

void Interface::expire(Instant now) {
  if (std::optional<Reassembler::Expired> expired = reassembler_.expire(now)) {
    reassembly_expired_ = expired;
  }
  for (Neighbour& entry : neighbours_.entries()) {
    if (entry.state == Neighbour::State::incomplete && entry.attempts >= config_.arp_attempts &&
        entry.deadline <= now) {
      stats_.tx_dropped += static_cast<std::uint32_t>(pending_.drop(entry.address));
      entry = Neighbour{};
    }
  }
}

Instant Interface::poll_at(Instant now) const {
  if (more_work_ || reassembly_expired_) return now;
  for (UdpSocket* socket : memory_.udp_table) {
    if (socket != nullptr && !socket->tx_queue().empty()) return now;
  }
  Instant at = reassembler_.next_expiry();
  if (tcp_ != nullptr) at = std::min(at, tcp_->poll_at(*this, now));
  if (device_.medium == Medium::ethernet) {
    if (announcements_left_ > 0 && has_ipv4_address()) at = std::min(at, next_announcement_);
    for (const Neighbour& entry : neighbours_.entries()) {
      if (entry.state == Neighbour::State::incomplete) at = std::min(at, entry.deadline);
    }
    // A parked packet whose neighbour has been resolved meanwhile.
    const bool flush = pending_.any_of([&](Ipv4Address hop) {
      for (const Neighbour& entry : neighbours_.entries()) {
        if (entry.state == Neighbour::State::reachable && entry.address == hop &&
            entry.deadline > now) {
          return true;
        }
      }
      return false;
    });
    if (flush) return now;
  }
  return std::max(at, now);
}

}  // namespace mote::net
