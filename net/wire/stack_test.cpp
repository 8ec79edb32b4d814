// Whole frames through every layer: parse them down to the application and
// build them back up in place, innermost layer first, with no copy.

#include <gtest/gtest.h>
#include <vector>

#include "mote/net/wire/wire.hpp"
#include "testdata/captures.hpp"
#include "testdata/layers.hpp"

namespace mote::net::wire {

// Every view compiles in both forms (explicit instantiation instantiates
// every member whose constraints hold, the setters included).
template class EthernetFrame<ConstByteSpan>;
template class EthernetFrame<ByteSpan>;
template class ArpPacket<ConstByteSpan>;
template class ArpPacket<ByteSpan>;
template class Ipv4Packet<ConstByteSpan>;
template class Ipv4Packet<ByteSpan>;
template class Icmpv4Packet<ConstByteSpan>;
template class Icmpv4Packet<ByteSpan>;
template class UdpDatagram<ConstByteSpan>;
template class UdpDatagram<ByteSpan>;
template class TcpSegment<ConstByteSpan>;
template class TcpSegment<ByteSpan>;
template class DhcpPacket<ConstByteSpan>;
template class DhcpPacket<ByteSpan>;
template class DnsPacket<ConstByteSpan>;
template class DnsPacket<ByteSpan>;

namespace {

using testdata::copy_of;
using testdata::frame_of;

struct Layers {
  EthernetRepr ethernet;
  Ipv4Repr ipv4;
  UdpRepr udp;
};

Layers parse_udp_frame(ConstByteSpan bytes) {
  const auto frame = EthernetFrame<>::checked(bytes).value();
  const EthernetRepr ethernet = EthernetRepr::parse(frame).value();
  EXPECT_EQ(ethernet.ethertype, EtherType::ipv4);
  const auto packet = Ipv4Packet<>::checked(frame.payload()).value();
  const Ipv4Repr ipv4 = Ipv4Repr::parse(packet).value();
  EXPECT_EQ(ipv4.protocol, IpProtocol::udp);
  const auto datagram = UdpDatagram<>::checked(packet.payload()).value();
  const UdpRepr udp = UdpRepr::parse(datagram, ipv4.source, ipv4.destination).value();
  return {ethernet, ipv4, udp};
}

TEST(Stack, BuildsADhcpAckInPlace) {
  const ConstByteSpan original = frame_of(testdata::kDhcpAck);
  const Layers layers = parse_udp_frame(original);
  const DhcpRepr dhcp = DhcpRepr::parse(DhcpPacket<>::checked(layers.udp.payload).value()).value();
  EXPECT_EQ(dhcp.message_type, DhcpMessageType::ack);

  std::vector<std::byte> buffer(original.size());
  const ByteSpan ip = ByteSpan(buffer).subspan(EthernetRepr::kHeaderLen);
  const ByteSpan udp = ip.subspan(Ipv4Repr::kHeaderLen);
  const ByteSpan app = udp.subspan(UdpRepr::kHeaderLen);
  const std::size_t app_len = dhcp.emit(app).value();

  UdpRepr udp_repr = layers.udp;
  udp_repr.payload = app.first(app_len);  // already in place: no copy
  const std::size_t udp_len =
      udp_repr.emit(udp, layers.ipv4.source, layers.ipv4.destination).value();
  Ipv4Repr ip_repr = layers.ipv4;
  ip_repr.payload_len = udp_len;
  ASSERT_TRUE(ip_repr.emit(ip).ok());
  ASSERT_TRUE(layers.ethernet.emit(buffer).ok());
  EXPECT_EQ(buffer, copy_of(original));
}

TEST(Stack, ParsesADnsAnswerFromTheFrame) {
  const Layers layers = parse_udp_frame(frame_of(testdata::kDnsResponseCname));
  EXPECT_EQ(layers.udp.source_port, 53);
  const DnsRepr dns = DnsRepr::parse(DnsPacket<>::checked(layers.udp.payload).value()).value();
  EXPECT_TRUE(dns.question->name.equals("www.example.com"));
  EXPECT_EQ(dns.answers[1].address, Ipv4Address(93, 184, 215, 14));
}

TEST(Stack, BuildsATcpSynInPlace) {
  const ConstByteSpan original = frame_of(testdata::kTcpSyn);
  const auto frame = EthernetFrame<>::checked(original).value();
  const auto packet = Ipv4Packet<>::checked(frame.payload()).value();
  const Ipv4Repr ipv4 = Ipv4Repr::parse(packet).value();
  const TcpRepr tcp =
      TcpRepr::parse(TcpSegment<>::checked(packet.payload()).value(), ipv4.source, ipv4.destination)
          .value();

  std::vector<std::byte> buffer(original.size());
  const ByteSpan segment = ByteSpan(buffer).subspan(14 + 20);
  ASSERT_EQ(tcp.emit(segment, ipv4.source, ipv4.destination).value(), segment.size());
  ASSERT_TRUE(ipv4.emit(ByteSpan(buffer).subspan(14)).ok());
  ASSERT_TRUE(EthernetRepr::parse(frame).value().emit(buffer).ok());
  EXPECT_EQ(buffer, copy_of(original));
}

// The example in docs/net.md, kept compiling here.
Status receive_and_query(ConstByteSpan rx, ByteSpan tx, MacAddress my_mac, MacAddress router_mac,
                         Ipv4Address my_ip, Ipv4Address dns_server, UdpRepr& received) {
  // Receive: Ethernet -> IPv4 -> UDP.
  MOTE_TRY_ASSIGN(auto frame, EthernetFrame<>::checked(rx));
  MOTE_TRY_ASSIGN(EthernetRepr eth, EthernetRepr::parse(frame));
  if (eth.ethertype != EtherType::ipv4) return Status::unimplemented();
  MOTE_TRY_ASSIGN(auto packet, Ipv4Packet<>::checked(frame.payload()));
  MOTE_TRY_ASSIGN(Ipv4Repr ip, Ipv4Repr::parse(packet));  // header checksum
  MOTE_TRY_ASSIGN(auto datagram, UdpDatagram<>::checked(packet.payload()));
  MOTE_TRY_ASSIGN(received, UdpRepr::parse(datagram, ip.source, ip.destination));
  // received.payload points into rx.

  // Send: a DNS query, built in place in tx, innermost layer first.
  const ByteSpan ip_bytes = tx.subspan(EthernetRepr::kHeaderLen);
  const ByteSpan udp_bytes = ip_bytes.subspan(Ipv4Repr::kHeaderLen);
  const ByteSpan dns_bytes = udp_bytes.subspan(UdpRepr::kHeaderLen);
  MOTE_TRY_ASSIGN(DnsRepr query, DnsRepr::query(0x1234, "example.com"));
  MOTE_TRY_ASSIGN(std::size_t dns_len, query.emit(dns_bytes));
  const UdpRepr udp{49152, 53, dns_bytes.first(dns_len)};  // already in place: no copy
  MOTE_TRY_ASSIGN(std::size_t udp_len, udp.emit(udp_bytes, my_ip, dns_server));
  const Ipv4Repr header{my_ip, dns_server, IpProtocol::udp, udp_len};
  MOTE_TRY(header.emit(ip_bytes));
  const EthernetRepr link{my_mac, router_mac, EtherType::ipv4};
  MOTE_TRY(link.emit(tx));
  return ok_status();
}

TEST(Stack, TheDocExampleWorks) {
  std::vector<std::byte> tx(14 + 20 + 8 + 29);
  UdpRepr received;
  const MacAddress mac(0x02, 0, 0, 0, 0, 0x0c);
  const MacAddress router(0x02, 0, 0, 0, 0, 0x05);
  const Ipv4Address me(192, 168, 69, 105);
  const Ipv4Address server(192, 168, 69, 1);
  ASSERT_TRUE(
      receive_and_query(frame_of(testdata::kDnsResponseA), tx, mac, router, me, server, received)
          .ok());
  EXPECT_EQ(received.source_port, 53);
  // What was sent is dig's query but for the ID, the AD bit and the port.
  const Layers sent = parse_udp_frame(tx);
  const DnsRepr query = DnsRepr::parse(DnsPacket<>::checked(sent.udp.payload).value()).value();
  EXPECT_TRUE(query.question->name.equals("example.com"));
  EXPECT_EQ(sent.ipv4.destination, server);
  EXPECT_EQ(sent.ethernet.destination, router);
  std::vector<std::byte> small(tx.size() - 1);
  EXPECT_EQ(receive_and_query(frame_of(testdata::kDnsResponseA), small, mac, router, me, server,
                              received),
            Status::resource_exhausted());
}

TEST(Stack, AnswersAnArpRequest) {
  const auto frame = EthernetFrame<>::checked(frame_of(testdata::kArpRequest)).value();
  const ArpRepr request = ArpRepr::parse(ArpPacket<>::checked(frame.payload()).value()).value();
  ASSERT_EQ(request.operation, ArpOperation::request);
  const MacAddress server(0x02, 0, 0, 0, 0, 0x05);

  // What the server sent back (RFC 826: swap, fill in our address, opcode reply).
  const ArpRepr reply{ArpOperation::reply, server, request.target_protocol_address,
                      request.source_hardware_address, request.source_protocol_address};
  std::vector<std::byte> buffer(EthernetRepr::kHeaderLen + reply.buffer_len());
  ASSERT_TRUE(reply.emit(ByteSpan(buffer).subspan(EthernetRepr::kHeaderLen)).ok());
  ASSERT_TRUE(
      (EthernetRepr{server, request.source_hardware_address, EtherType::arp}).emit(buffer).ok());
  EXPECT_EQ(buffer, copy_of(frame_of(testdata::kArpReply)));
}

}  // namespace
}  // namespace mote::net::wire
