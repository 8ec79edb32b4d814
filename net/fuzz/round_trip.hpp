#pragma once
// The property every net/wire fuzzer checks, one function per protocol:
// whatever the bytes, checked() and parse() return or refuse without reading
// out of bounds (ASan) or undefined behaviour (UBSan); and when they accept,
// emitting the Repr succeeds and parsing the result (checksums verified this
// time, since emit computes them) gives the same Repr.
//
// Checksums are ignored on the first parse: a random input almost never
// carries a valid one, and they would hide everything behind them.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "mote/net/wire/wire.hpp"

namespace mote::net::wire::fuzz {

inline void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "net wire fuzzer: %s\n", what);
    std::abort();
  }
}

// Reads every byte of `bytes` so that ASan sees a view that runs past its buffer.
inline unsigned touch(ConstByteSpan bytes) {
  unsigned sum = 0;
  for (std::byte b : bytes) sum += std::to_integer<unsigned>(b);
  return sum;
}

inline void round_trip_arp(ConstByteSpan input) {
  Result<ArpPacket<>> packet = ArpPacket<>::checked(input);
  if (!packet.ok()) return;
  touch(packet->source_hardware_address());
  touch(packet->target_protocol_address());
  Result<ArpRepr> repr = ArpRepr::parse(*packet);
  if (!repr.ok()) return;
  std::vector<std::byte> out(repr->buffer_len());
  check(repr->emit(out).ok(), "ARP emit failed");
  check(ArpRepr::parse(ArpPacket<>::checked(out).value()).value() == *repr, "ARP differs");
}

inline void round_trip_dhcp(ConstByteSpan input) {
  Result<DhcpPacket<>> packet = DhcpPacket<>::checked(input);
  if (!packet.ok()) return;
  DhcpOptionReader reader(packet->options());
  while (std::optional<DhcpOption> option = reader.next()) touch(option->data);
  Result<DhcpRepr> repr = DhcpRepr::parse(*packet);
  if (!repr.ok()) return;
  std::vector<std::byte> out(repr->buffer_len());
  check(repr->emit(out).ok(), "DHCP emit failed");
  Result<DhcpPacket<>> again = DhcpPacket<>::checked(out);
  check(again.ok(), "emitted DHCP does not check");
  check(DhcpRepr::parse(*again).value() == *repr, "DHCP differs");
}

inline void touch_name(const DnsName& name) {
  char text[DnsName::kMaxTextLen];
  const Result<std::size_t> length = name.to_text(text);
  check(length.ok(), "a checked name does not fit kMaxTextLen");
  check(name.wire_len() <= DnsName::kMaxWireLen, "a checked name is longer than 255");
}

inline void round_trip_dns(ConstByteSpan input) {
  Result<DnsPacket<>> packet = DnsPacket<>::checked(input);
  if (!packet.ok()) return;
  DnsReader reader(*packet);
  while (std::optional<DnsQuestion> question = reader.next_question()) touch_name(question->name);
  while (std::optional<DnsRecord> record = reader.next_record()) {
    touch_name(record->name);
    touch(record->data);
    if (std::optional<DnsName> target = record->canonical_name()) touch_name(*target);
  }
  Result<DnsRepr> repr = DnsRepr::parse(*packet);
  if (!repr.ok()) return;
  std::vector<std::byte> out(repr->buffer_len());
  check(repr->emit(out).ok(), "DNS emit failed");
  Result<DnsPacket<>> again = DnsPacket<>::checked(out);
  check(again.ok(), "emitted DNS does not check");
  check(DnsRepr::parse(*again).value() == *repr, "DNS differs");
}

// The addresses stand in for an IPv4 header's in the pseudo-header.
inline void round_trip_udp(ConstByteSpan input, Ipv4Address source = Ipv4Address(10, 0, 0, 1),
                           Ipv4Address destination = Ipv4Address(10, 0, 0, 2)) {
  Result<UdpDatagram<>> datagram = UdpDatagram<>::checked(input);
  if (!datagram.ok()) return;
  touch(datagram->payload());
  Result<UdpRepr> repr = UdpRepr::parse(*datagram, source, destination, ChecksumMode::ignore);
  if (!repr.ok()) return;
  std::vector<std::byte> out(repr->buffer_len());
  check(repr->emit(out, source, destination).ok(), "UDP emit failed");
  Result<UdpDatagram<>> again = UdpDatagram<>::checked(out);
  check(again.ok(), "emitted UDP does not check");
  check(UdpRepr::parse(*again, source, destination).value() == *repr, "UDP differs");
  // What DHCP and DNS ride on.
  if (repr->source_port == 67 || repr->source_port == 68 || repr->destination_port == 67 ||
      repr->destination_port == 68) {
    round_trip_dhcp(repr->payload);
  }
  if (repr->source_port == 53 || repr->destination_port == 53) round_trip_dns(repr->payload);
}

inline void round_trip_tcp(ConstByteSpan input, Ipv4Address source = Ipv4Address(10, 0, 0, 1),
                           Ipv4Address destination = Ipv4Address(10, 0, 0, 2)) {
  Result<TcpSegment<>> segment = TcpSegment<>::checked(input);
  if (!segment.ok()) return;
  TcpOptionReader reader(segment->options());
  while (std::optional<TcpOption> option = reader.next()) touch(option->data);
  touch(segment->payload());
  Result<TcpRepr> repr = TcpRepr::parse(*segment, source, destination, ChecksumMode::ignore);
  if (!repr.ok()) return;
  // Options that fit as received may not in emit's aligned layout (say MSS,
  // timestamps and three SACK blocks: 40 bytes packed, 44 aligned).
  if (repr->options_len() > TcpRepr::kMaxOptionsLen) return;
  std::vector<std::byte> out(repr->buffer_len());
  check(repr->emit(out, source, destination).ok(), "TCP emit failed");
  Result<TcpSegment<>> again = TcpSegment<>::checked(out);
  check(again.ok(), "emitted TCP does not check");
  check(TcpRepr::parse(*again, source, destination).value() == *repr, "TCP differs");
}

inline void round_trip_icmpv4(ConstByteSpan input) {
  Result<Icmpv4Packet<>> packet = Icmpv4Packet<>::checked(input);
  if (!packet.ok()) return;
  touch(packet->data());
  Result<Icmpv4Repr> repr = Icmpv4Repr::parse(*packet, ChecksumMode::ignore);
  if (!repr.ok()) return;
  if (Result<Icmpv4QuotedTcp> quoted = repr->quoted_tcp(); quoted.ok()) {
    check(repr->data.size() >= 8 && load_be16(repr->data.data()) == quoted->source_port &&
              load_be32(repr->data.data() + 4) == quoted->seq_number,
          "quoted TCP header misread");
  }
  std::vector<std::byte> out(repr->buffer_len());
  check(repr->emit(out).ok(), "ICMP emit failed");
  Result<Icmpv4Packet<>> again = Icmpv4Packet<>::checked(out);
  check(again.ok(), "emitted ICMP does not check");
  check(Icmpv4Repr::parse(*again).value() == *repr, "ICMP differs");
}

inline void round_trip_ipv4(ConstByteSpan input) {
  Result<Ipv4Packet<>> packet = Ipv4Packet<>::checked(input);
  if (!packet.ok()) return;
  touch(packet->options());
  touch(packet->payload());
  Result<Ipv4Repr> repr = Ipv4Repr::parse(*packet, ChecksumMode::ignore);
  if (!repr.ok()) return;
  std::vector<std::byte> out(repr->buffer_len());
  check(repr->emit(out).ok(), "IPv4 emit failed");
  copy_bytes(packet->payload(), out.data() + Ipv4Repr::kHeaderLen);
  Result<Ipv4Packet<>> again = Ipv4Packet<>::checked(out);
  check(again.ok(), "emitted IPv4 does not check");
  check(Ipv4Repr::parse(*again).value() == *repr, "IPv4 differs");
  if (repr->is_fragment()) return;
  switch (repr->protocol) {
    case IpProtocol::icmp: round_trip_icmpv4(packet->payload()); break;
    case IpProtocol::udp: round_trip_udp(packet->payload(), repr->source, repr->destination); break;
    case IpProtocol::tcp: round_trip_tcp(packet->payload(), repr->source, repr->destination); break;
  }
}

inline void round_trip_ethernet(ConstByteSpan input) {
  Result<EthernetFrame<>> frame = EthernetFrame<>::checked(input);
  if (!frame.ok()) return;
  Result<EthernetRepr> repr = EthernetRepr::parse(*frame);
  if (!repr.ok()) return;
  std::vector<std::byte> out(input.size());
  check(repr->emit(out).ok(), "Ethernet emit failed");
  copy_bytes(frame->payload(), out.data() + EthernetRepr::kHeaderLen);
  check(EthernetRepr::parse(EthernetFrame<>::checked(out).value()).value() == *repr,
        "Ethernet differs");
  switch (repr->ethertype) {
    case EtherType::arp: round_trip_arp(frame->payload()); break;
    case EtherType::ipv4: round_trip_ipv4(frame->payload()); break;
    default: break;
  }
}

}  // namespace mote::net::wire::fuzz
