// The interface on captured frames and hand-built ones, with explicit time:
// every frame in goes through receive_frame(), every frame out comes from
// its answer or from next_frame(), and time only moves when the test says.

#include "mote/net/iface/interface.hpp"

#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "../wire/testdata/captures.hpp"
#include "../wire/testdata/layers.hpp"
#include "mote/net/socket/tcp_socket.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/net/wire/wire.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using io::Endpoint;
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
using wire::testdata::frame_of;
namespace testdata = wire::testdata;

// The captures' two hosts.
constexpr MacAddress kServerMac{0x02, 0, 0, 0, 0, 0x05};
constexpr MacAddress kClientMac{0x02, 0, 0, 0, 0, 0x0c};
constexpr Ipv4Address kServerIp(192, 168, 69, 1);
constexpr Ipv4Address kClientIp(192, 168, 69, 105);
constexpr Ipv4Address kRouterIp(192, 168, 69, 254);
constexpr MacAddress kRouterMac{0x02, 0, 0, 0, 0, 0xfe};

using Bytes = std::vector<std::byte>;

Bytes bytes(ConstByteSpan span) { return {span.begin(), span.end()}; }

// A UDP datagram in an Ethernet frame, as a peer would send it.
Bytes udp_frame(MacAddress from_mac, MacAddress to_mac, Ipv4Address from, Ipv4Address to,
                std::uint16_t from_port, std::uint16_t to_port, ConstByteSpan payload) {
  Bytes frame(14 + 20 + 8 + payload.size());
  const ByteSpan buffer(frame);
  const UdpRepr udp{from_port, to_port, payload};
  EXPECT_TRUE(udp.emit(buffer.subspan(34), from, to).ok());
  Ipv4Repr ip{from, to, IpProtocol::udp, udp.buffer_len()};
  EXPECT_TRUE(ip.emit(buffer.subspan(14)).ok());
  EXPECT_TRUE((EthernetRepr{from_mac, to_mac, EtherType::ipv4}.emit(buffer).ok()));
  return frame;
}

// An IPv4 fragment (`data` is the part of the datagram's payload at `offset`).
Bytes fragment_frame(Ipv4Address from, std::uint16_t id, std::uint16_t offset, bool more,
                     ConstByteSpan data) {
  Bytes frame(14 + 20 + data.size());
  const ByteSpan buffer(frame);
  std::copy(data.begin(), data.end(), frame.begin() + 34);
  Ipv4Repr ip{from, kServerIp, IpProtocol::udp, data.size()};
  ip.identification = id;
  ip.more_fragments = more;
  ip.fragment_offset = offset;
  EXPECT_TRUE(ip.emit(buffer.subspan(14)).ok());
  EXPECT_TRUE((EthernetRepr{kClientMac, kServerMac, EtherType::ipv4}.emit(buffer).ok()));
  return frame;
}

Bytes arp_frame(ArpOperation operation, MacAddress sender_mac, Ipv4Address sender,
                MacAddress target_mac, Ipv4Address target, MacAddress link_destination) {
  Bytes frame(42);
  const ByteSpan buffer(frame);
  EXPECT_TRUE(
      (ArpRepr{operation, sender_mac, sender, target_mac, target}.emit(buffer.subspan(14)).ok()));
  EXPECT_TRUE((EthernetRepr{sender_mac, link_destination, EtherType::arp}.emit(buffer).ok()));
  return frame;
}

struct ParsedUdp {
  EthernetRepr ethernet;
  Ipv4Repr ip;
  UdpRepr udp;
};

ParsedUdp parse_udp(ConstByteSpan frame) {
  ParsedUdp parsed;
  auto ethernet = EthernetFrame<>::checked(frame);
  EXPECT_TRUE(ethernet.ok());
  parsed.ethernet = *EthernetRepr::parse(*ethernet);
  auto packet = Ipv4Packet<>::checked(ethernet->payload());
  EXPECT_TRUE(packet.ok());
  parsed.ip = *Ipv4Repr::parse(*packet);
  auto datagram = UdpDatagram<>::checked(packet->payload());
  EXPECT_TRUE(datagram.ok());
  auto udp = UdpRepr::parse(*datagram, parsed.ip.source, parsed.ip.destination);
  EXPECT_TRUE(udp.ok());
  parsed.udp = *udp;
  return parsed;
}

ArpRepr parse_arp(ConstByteSpan frame) {
  auto ethernet = EthernetFrame<>::checked(frame);
  EXPECT_TRUE(ethernet.ok());
  EXPECT_EQ(ethernet->ethertype(), static_cast<std::uint16_t>(EtherType::arp));
  auto packet = ArpPacket<>::checked(ethernet->payload());
  EXPECT_TRUE(packet.ok());
  auto arp = ArpRepr::parse(*packet);
  EXPECT_TRUE(arp.ok());
  return *arp;
}

class InterfaceTest : public ::testing::Test {
 protected:
  InterfaceTest() { EXPECT_TRUE(iface_.set_ipv4_address(kServerIp, 24).ok()); }

  // Feeds a frame; returns the immediate answer (empty if none).
  Bytes receive(ConstByteSpan frame) {
    const std::size_t len = iface_.receive_frame(now_, frame, tx_);
    return bytes(ConstByteSpan(tx_).first(len));
  }
  Bytes receive(std::span<const std::uint8_t> frame) { return receive(frame_of(frame)); }
  Bytes next() {
    const std::size_t len = iface_.next_frame(now_, tx_);
    return bytes(ConstByteSpan(tx_).first(len));
  }
  // Takes the two RFC 5227 announcements that follow set_ipv4_address.
  void skip_announcements() {
    ASSERT_EQ(next().size(), 42u);
    now_ += 2s;
    ASSERT_EQ(next().size(), 42u);
    ASSERT_TRUE(next().empty());
  }

  static InterfaceConfig config() {
    InterfaceConfig config;
    config.hardware_address = kServerMac;
    return config;
  }

  Instant now_ = Instant{} + 1000s;
  StaticInterface<> iface_{{Medium::ethernet, 1500}, config()};
  std::array<std::byte, 1514> tx_{};
  StaticUdpSocket<2048, 2048> socket_;
  std::array<std::byte, 2048> buffer_{};
};

// --- ARP --------------------------------------------------------------------

TEST_F(InterfaceTest, AnswersCapturedArpRequestWithLinuxsExactReply) {
  const Bytes reply = receive(testdata::kArpRequest);
  EXPECT_EQ(reply, bytes(frame_of(testdata::kArpReply)));
  // RFC 826: the asking host (we are its target) is learned on the way.
  const MacAddress* learned = iface_.neighbours().lookup(kClientIp, now_);
  ASSERT_NE(learned, nullptr);
  EXPECT_EQ(*learned, kClientMac);
  EXPECT_EQ(iface_.stats().arp_replies_sent, 1u);
}

TEST_F(InterfaceTest, IgnoresArpForOtherAddressesAndLearnsNothingNew) {
  const Bytes request = arp_frame(ArpOperation::request, kClientMac, kClientIp, MacAddress(),
                                  Ipv4Address(192, 168, 69, 7), MacAddress::broadcast());
  EXPECT_TRUE(receive(request).empty());
  EXPECT_EQ(iface_.neighbours().find(kClientIp), nullptr);
}

TEST_F(InterfaceTest, ArpFromOthersUpdatesOnlyEntriesItAlreadyHas) {
  // Learn the client, then hear it (with a new address) talking to someone else.
  receive(testdata::kArpRequest);
  const MacAddress moved{0x02, 0, 0, 0, 0, 0x99};
  receive(arp_frame(ArpOperation::request, moved, kClientIp, MacAddress(),
                    Ipv4Address(192, 168, 69, 7), MacAddress::broadcast()));
  EXPECT_EQ(*iface_.neighbours().lookup(kClientIp, now_), moved);
  // A stranger talking to someone else is not added (no Merge_flag, not the target).
  receive(arp_frame(ArpOperation::request, kRouterMac, kRouterIp, MacAddress(),
                    Ipv4Address(192, 168, 69, 7), MacAddress::broadcast()));
  EXPECT_EQ(iface_.neighbours().find(kRouterIp), nullptr);
}

TEST_F(InterfaceTest, DoesNotLearnSomeoneClaimingOurAddress) {
  receive(arp_frame(ArpOperation::request, kRouterMac, kServerIp, MacAddress(), kServerIp,
                    MacAddress::broadcast()));
  EXPECT_EQ(iface_.neighbours().find(kServerIp), nullptr);
}

TEST_F(InterfaceTest, AnnouncesANewAddressTwiceTwoSecondsApart) {
  const Bytes first = next();
  ASSERT_EQ(first.size(), 42u);
  const ArpRepr announcement = parse_arp(first);
  EXPECT_EQ(announcement.operation, ArpOperation::request);
  EXPECT_EQ(announcement.source_protocol_address, kServerIp);
  EXPECT_EQ(announcement.target_protocol_address, kServerIp);
  EXPECT_EQ(announcement.source_hardware_address, kServerMac);
  EXPECT_TRUE(next().empty());
  EXPECT_EQ(iface_.poll_at(now_), now_ + 2s);
  now_ += 1999ms;
  EXPECT_TRUE(next().empty());
  now_ += 1ms;
  EXPECT_EQ(parse_arp(next()).target_protocol_address, kServerIp);
  EXPECT_TRUE(next().empty());
  EXPECT_EQ(iface_.poll_at(now_), async::kNever);
}

TEST_F(InterfaceTest, ResolvesTheNextHopThenSendsTheParkedDatagram) {
  skip_announcements();
  ASSERT_TRUE(socket_.bind(iface_, 5000).ok());
  const auto payload = bytes_from_literal("hello");
  ASSERT_TRUE(socket_.try_send_to(payload, Endpoint{kClientIp, 7000}).ok());
  EXPECT_EQ(iface_.poll_at(now_), now_);

  // First an ARP request (RFC 826) for the client, broadcast.
  const Bytes request = next();
  const ArpRepr arp = parse_arp(request);
  EXPECT_EQ(arp.operation, ArpOperation::request);
  EXPECT_EQ(arp.target_protocol_address, kClientIp);
  EXPECT_EQ(arp.source_protocol_address, kServerIp);
  EXPECT_EQ(EthernetFrame<>::checked(request)->destination(), MacAddress::broadcast());
  EXPECT_EQ(socket_.tx_queued(), 0u);  // parked in the interface now
  EXPECT_TRUE(next().empty());
  EXPECT_EQ(iface_.poll_at(now_), now_ + 1s);

  // The client answers; the datagram goes out to its hardware address.
  EXPECT_TRUE(receive(arp_frame(ArpOperation::reply, kClientMac, kClientIp, kServerMac, kServerIp,
                                kServerMac))
                  .empty());
  EXPECT_EQ(iface_.poll_at(now_), now_);
  const Bytes frame = next();  // the parsed payload points into it
  const ParsedUdp sent = parse_udp(frame);
  EXPECT_EQ(sent.ethernet.destination, kClientMac);
  EXPECT_EQ(sent.ethernet.source, kServerMac);
  EXPECT_EQ(sent.ip.source, kServerIp);
  EXPECT_EQ(sent.ip.destination, kClientIp);
  EXPECT_EQ(sent.ip.ttl, 64);
  EXPECT_EQ(sent.udp.source_port, 5000);
  EXPECT_EQ(sent.udp.destination_port, 7000);
  EXPECT_EQ(bytes(sent.udp.payload), bytes(payload));
  EXPECT_TRUE(next().empty());

  // Resolved now: the next datagram goes straight out.
  ASSERT_TRUE(socket_.try_send_to(payload, Endpoint{kClientIp, 7000}).ok());
  EXPECT_EQ(parse_udp(next()).ethernet.destination, kClientMac);
}

TEST_F(InterfaceTest, GivesUpAfterThreeArpRequestsAndDropsWhatWaited) {
  skip_announcements();
  ASSERT_TRUE(socket_.bind(iface_, 5000).ok());
  ASSERT_TRUE(socket_.try_send_to(bytes_from_literal("x"), Endpoint{kClientIp, 7000}).ok());
  ASSERT_EQ(parse_arp(next()).target_protocol_address, kClientIp);
  now_ += 1s;
  ASSERT_EQ(parse_arp(next()).target_protocol_address, kClientIp);
  now_ += 1s;
  ASSERT_EQ(parse_arp(next()).target_protocol_address, kClientIp);
  EXPECT_EQ(iface_.stats().arp_requests_sent, 2u + 3u);
  EXPECT_EQ(iface_.poll_at(now_), now_ + 1s);
  now_ += 1s;
  EXPECT_TRUE(next().empty());  // no fourth request
  EXPECT_EQ(iface_.stats().tx_dropped, 1u);
  EXPECT_EQ(iface_.neighbours().find(kClientIp), nullptr);
  EXPECT_EQ(iface_.poll_at(now_), async::kNever);
  // A late reply finds nothing to send.
  receive(arp_frame(ArpOperation::reply, kClientMac, kClientIp, kServerMac, kServerIp, kServerMac));
  EXPECT_TRUE(next().empty());
}

TEST_F(InterfaceTest, KeepsAtMostFourPacketsPerUnresolvedNeighbour) {
  skip_announcements();
  ASSERT_TRUE(socket_.bind(iface_, 5000).ok());
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(socket_.try_send_to(bytes_from_literal("x"), Endpoint{kClientIp, 7000}).ok());
  }
  ASSERT_EQ(parse_arp(next()).target_protocol_address, kClientIp);
  EXPECT_TRUE(next().empty());
  EXPECT_EQ(iface_.stats().tx_dropped, 2u);
  receive(arp_frame(ArpOperation::reply, kClientMac, kClientIp, kServerMac, kServerIp, kServerMac));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(parse_udp(next()).udp.destination_port, 7000);
  EXPECT_TRUE(next().empty());
}

TEST_F(InterfaceTest, NeighbourEntriesExpire) {
  skip_announcements();
  receive(testdata::kArpRequest);  // learns the client
  ASSERT_TRUE(socket_.bind(iface_, 5000).ok());
  ASSERT_TRUE(socket_.try_send_to(bytes_from_literal("x"), Endpoint{kClientIp, 7000}).ok());
  EXPECT_EQ(parse_udp(next()).ethernet.destination, kClientMac);
  now_ += 61s;
  ASSERT_TRUE(socket_.try_send_to(bytes_from_literal("x"), Endpoint{kClientIp, 7000}).ok());
  EXPECT_EQ(parse_arp(next()).target_protocol_address, kClientIp);
}

TEST_F(InterfaceTest, RoutesOffLinkTrafficThroughTheGateway) {
  skip_announcements();
  ASSERT_TRUE(socket_.bind(iface_, 5000).ok());
  const Endpoint far{Ipv4Address(192, 168, 70, 2), 53};
  EXPECT_EQ(socket_.try_send_to(bytes_from_literal("q"), far), Status::not_found());
  EXPECT_EQ(iface_.set_default_gateway(Ipv4Address(10, 0, 0, 1)), Status::invalid_argument());
  ASSERT_TRUE(iface_.set_default_gateway(kRouterIp).ok());
  ASSERT_TRUE(socket_.try_send_to(bytes_from_literal("q"), far).ok());
  EXPECT_EQ(parse_arp(next()).target_protocol_address, kRouterIp);
  receive(arp_frame(ArpOperation::reply, kRouterMac, kRouterIp, kServerMac, kServerIp, kServerMac));
  const Bytes frame = next();
  const ParsedUdp sent = parse_udp(frame);
  EXPECT_EQ(sent.ethernet.destination, kRouterMac);
  EXPECT_EQ(sent.ip.destination, far.address.v4());
}

// --- ICMP -------------------------------------------------------------------

TEST_F(InterfaceTest, AnswersCapturedPingLikeLinux) {
  const Bytes reply = receive(testdata::kPingRequest);
  ASSERT_EQ(reply.size(), testdata::kPingReply.size());
  const Bytes linux_reply = bytes(frame_of(testdata::kPingReply));
  // Ethernet header and the whole ICMP message are identical; in the IPv4
  // header only the identification differs (and so the checksum).
  EXPECT_TRUE(std::equal(reply.begin(), reply.begin() + 14, linux_reply.begin()));
  EXPECT_TRUE(std::equal(reply.begin() + 34, reply.end(), linux_reply.begin() + 34));
  const Ipv4Repr ip = *Ipv4Repr::parse(*Ipv4Packet<>::checked(ConstByteSpan(reply).subspan(14)));
  EXPECT_EQ(ip.source, kServerIp);
  EXPECT_EQ(ip.destination, kClientIp);
  EXPECT_EQ(ip.protocol, IpProtocol::icmp);
  EXPECT_EQ(iface_.stats().echo_replies_sent, 1u);
}

TEST_F(InterfaceTest, AnswersUdpToAClosedPortLikeLinux) {
  const Bytes reply = receive(testdata::kUdpDatagram);
  ASSERT_EQ(reply.size(), testdata::kIcmpPortUnreachable.size());
  const Bytes linux_reply = bytes(frame_of(testdata::kIcmpPortUnreachable));
  // The ICMP message (type, code, checksum, the quoted header and data) is
  // byte for byte Linux's; Linux's IPv4 header has DSCP CS6, ours 0.
  EXPECT_TRUE(std::equal(reply.begin() + 34, reply.end(), linux_reply.begin() + 34));
  EXPECT_TRUE(std::equal(reply.begin(), reply.begin() + 14, linux_reply.begin()));
  EXPECT_EQ(iface_.stats().udp_no_socket, 1u);
  EXPECT_EQ(iface_.stats().icmp_errors_sent, 1u);
}

// --- ICMP errors to TCP connections (RFC 1122 §4.2.3.9, RFC 5927) ----------

// A destination unreachable from `from` about the datagram `sent` (an IPv4
// packet we sent), quoting its header and the first `quoted` bytes after it.
Bytes unreachable_frame(Ipv4Address from, wire::Icmpv4Unreachable code, ConstByteSpan sent,
                        std::size_t quoted = 8) {
  auto packet = Ipv4Packet<>::checked(sent);
  EXPECT_TRUE(packet.ok());
  Icmpv4Repr icmp;
  icmp.type = Icmpv4Type::destination_unreachable;
  icmp.code = static_cast<std::uint8_t>(code);
  icmp.invoking_header = *Ipv4Repr::parse(*packet);
  icmp.data = packet->payload().first(quoted);
  Bytes frame(14 + 20 + icmp.buffer_len());
  const ByteSpan buffer(frame);
  EXPECT_TRUE(icmp.emit(buffer.subspan(34)).ok());
  EXPECT_TRUE((Ipv4Repr{from, kServerIp, IpProtocol::icmp, icmp.buffer_len()}
                   .emit(buffer.subspan(14))
                   .ok()));
  EXPECT_TRUE((EthernetRepr{kClientMac, kServerMac, EtherType::ipv4}.emit(buffer).ok()));
  return frame;
}

class InterfaceTcpIcmpTest : public InterfaceTest {
 protected:
  // Connects to the client's port 80 and returns the IPv4 packet of the SYN.
  Bytes send_syn() {
    skip_announcements();
    EXPECT_TRUE(iface_.connect_tcp(tcp_, Endpoint{kClientIp, 80}, now_).ok());
    EXPECT_EQ(parse_arp(next()).target_protocol_address, kClientIp);
    receive(
        arp_frame(ArpOperation::reply, kClientMac, kClientIp, kServerMac, kServerIp, kServerMac));
    const Bytes syn = next();
    EXPECT_EQ(tcp_.tcb().state(), TcpState::syn_sent);
    return {syn.begin() + 14, syn.end()};
  }
  // The SYN with its sequence number moved by `delta`.
  static Bytes shifted(Bytes packet, std::uint32_t delta) {
    store_be32(&packet[20 + 4], load_be32(&packet[20 + 4]) + delta);
    return packet;
  }

  StaticTcpSocket<1024, 1024> tcp_;
};

TEST_F(InterfaceTcpIcmpTest, PortUnreachableRefusesTheConnect) {
  const Bytes syn = send_syn();
  EXPECT_TRUE(receive(unreachable_frame(kClientIp, wire::Icmpv4Unreachable::port, syn)).empty());
  EXPECT_EQ(tcp_.tcb().state(), TcpState::closed);
  EXPECT_EQ(tcp_.tcb().error(), Status::unavailable());
  EXPECT_EQ(iface_.stats().tcp_icmp_errors, 1u);
}

TEST_F(InterfaceTcpIcmpTest, HostUnreachableFromARouterIsNoRoute) {
  const Bytes syn = send_syn();
  receive(unreachable_frame(kRouterIp, wire::Icmpv4Unreachable::host, syn, 28));
  EXPECT_EQ(tcp_.tcb().state(), TcpState::closed);
  EXPECT_EQ(tcp_.tcb().error(), Status::not_found());
  EXPECT_EQ(iface_.stats().tcp_icmp_errors, 1u);
}

TEST_F(InterfaceTcpIcmpTest, ErrorsThatDoNotMatchAreCountedAndDropped) {
  const Bytes syn = send_syn();
  const std::uint32_t dropped = iface_.stats().rx_dropped;
  // RFC 5927 §4.1: a sequence number outside SND.UNA..SND.MAX (the SYN is
  // ISS alone).
  receive(unreachable_frame(kClientIp, wire::Icmpv4Unreachable::port, shifted(syn, 1)));
  receive(unreachable_frame(kClientIp, wire::Icmpv4Unreachable::port, shifted(syn, ~0u)));
  // Another connection's ports.
  Bytes other_port = syn;
  store_be16(&other_port[20 + 2], 81);
  receive(unreachable_frame(kClientIp, wire::Icmpv4Unreachable::port, other_port));
  // Malformed: less than the 8 bytes of TCP header RFC 792 asks for.
  receive(unreachable_frame(kClientIp, wire::Icmpv4Unreachable::port, syn, 7));
  EXPECT_EQ(iface_.stats().rx_dropped, dropped + 4);
  // Fragmentation needed: no path MTU discovery, so nothing to do.
  receive(unreachable_frame(kRouterIp, wire::Icmpv4Unreachable::fragmentation_needed, syn));
  EXPECT_EQ(iface_.stats().rx_dropped, dropped + 5);
  EXPECT_EQ(iface_.stats().tcp_icmp_errors, 0u);
  EXPECT_EQ(tcp_.tcb().state(), TcpState::syn_sent);
  // The real one still counts.
  receive(unreachable_frame(kClientIp, wire::Icmpv4Unreachable::protocol, syn));
  EXPECT_EQ(tcp_.tcb().error(), Status::unavailable());
}

TEST_F(InterfaceTest, AnswersTcpWithProtocolUnreachableWhenTcpIsNotInUse) {
  // RFC 1122 §3.2.2.1: a transport we lack. (Once TCP is in use a closed
  // port gets a RST instead.)
  Bytes frame(14 + 20 + 20);
  const ByteSpan buffer(frame);
  wire::TcpRepr syn;
  syn.source_port = 40000;
  syn.destination_port = 80;
  syn.seq_number = 7;
  syn.flags = wire::TcpFlags(wire::TcpFlags::kSyn);
  ASSERT_TRUE(syn.emit(buffer.subspan(34), kClientIp, kServerIp).ok());
  ASSERT_TRUE((Ipv4Repr{kClientIp, kServerIp, IpProtocol::tcp, 20}.emit(buffer.subspan(14)).ok()));
  ASSERT_TRUE((EthernetRepr{kClientMac, kServerMac, EtherType::ipv4}.emit(buffer).ok()));
  const Bytes reply = receive(frame);
  auto packet = Ipv4Packet<>::checked(ConstByteSpan(reply).subspan(14));
  ASSERT_TRUE(packet.ok());
  auto icmp = Icmpv4Repr::parse(*Icmpv4Packet<>::checked(packet->payload()));
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->type, Icmpv4Type::destination_unreachable);
  EXPECT_EQ(icmp->code, static_cast<std::uint8_t>(wire::Icmpv4Unreachable::protocol));
  EXPECT_EQ(icmp->quoted_tcp()->seq_number, 7u);
  EXPECT_EQ(iface_.stats().icmp_errors_sent, 1u);
}

TEST_F(InterfaceTest, NeverAnswersBroadcastsWithIcmp) {
  const auto payload = bytes_from_literal("x");
  EXPECT_TRUE(receive(udp_frame(kClientMac, MacAddress::broadcast(), kClientIp,
                                Ipv4Address::broadcast(), 1234, 9, payload))
                  .empty());
  EXPECT_TRUE(receive(udp_frame(kClientMac, MacAddress::broadcast(), kClientIp,
                                Ipv4Address(192, 168, 69, 255), 1234, 9, payload))
                  .empty());
  // Our unicast address, but a link-layer broadcast (RFC 1122 §3.2.2).
  EXPECT_TRUE(receive(udp_frame(kClientMac, MacAddress::broadcast(), kClientIp, kServerIp, 1234, 9,
                                payload))
                  .empty());
  EXPECT_EQ(iface_.stats().udp_no_socket, 3u);
  EXPECT_EQ(iface_.stats().icmp_errors_sent, 0u);
}

TEST_F(InterfaceTest, DropsBadChecksumsAndOtherHostsTraffic) {
  Bytes corrupt = bytes(frame_of(testdata::kPingRequest));
  corrupt[24] ^= std::byte{0x01};  // IPv4 header checksum
  EXPECT_TRUE(receive(corrupt).empty());
  EXPECT_EQ(iface_.stats().rx_checksum_errors, 1u);
  corrupt = bytes(frame_of(testdata::kUdpDatagram));
  corrupt.back() ^= std::byte{0x01};  // UDP payload
  EXPECT_TRUE(receive(corrupt).empty());
  EXPECT_EQ(iface_.stats().rx_checksum_errors, 2u);

  // To another IP address, to another MAC address, from a broadcast source.
  EXPECT_TRUE(
      receive(udp_frame(kClientMac, kServerMac, kClientIp, Ipv4Address(192, 168, 69, 9), 1, 2, {}))
          .empty());
  EXPECT_TRUE(receive(udp_frame(kClientMac, kRouterMac, kClientIp, kServerIp, 1, 2, {})).empty());
  EXPECT_TRUE(
      receive(udp_frame(kClientMac, kServerMac, Ipv4Address::broadcast(), kServerIp, 1, 2, {}))
          .empty());
  EXPECT_EQ(iface_.stats().rx_dropped, 3u);
  // Truncated frames of every layer.
  const Bytes whole = bytes(frame_of(testdata::kUdpDatagram));
  for (std::size_t len = 0; len < whole.size(); ++len) {
    EXPECT_TRUE(receive(ConstByteSpan(whole).first(len)).empty()) << len;
  }
  EXPECT_EQ(iface_.stats().udp_delivered, 0u);
}

TEST_F(InterfaceTest, IgnoresReceivedChecksumsWhenTheLinkHasCheckedThem) {
  InterfaceConfig offload = config();
  offload.rx_checksums = wire::ChecksumMode::ignore;
  StaticInterface<> iface({Medium::ethernet, 1500}, offload);
  ASSERT_TRUE(iface.set_ipv4_address(kServerIp, 24).ok());
  Bytes corrupt = bytes(frame_of(testdata::kPingRequest));
  corrupt[24] ^= std::byte{0x01};  // IPv4 header checksum
  corrupt[36] ^= std::byte{0x01};  // ICMP checksum
  EXPECT_NE(iface.receive_frame(now_, corrupt, tx_), 0u);
  EXPECT_EQ(iface.stats().echo_replies_sent, 1u);
}

// --- UDP --------------------------------------------------------------------

TEST_F(InterfaceTest, DeliversUdpToTheBoundSocket) {
  ASSERT_TRUE(socket_.bind(iface_, 9).ok());
  EXPECT_TRUE(receive(testdata::kUdpDatagram).empty());
  Result<io::Datagram> got = socket_.try_receive_from(buffer_);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->from, (Endpoint{kClientIp, 0xe801}));
  EXPECT_EQ(as_string_view(ConstByteSpan(buffer_).first(got->size)), "x\n");
  EXPECT_FALSE(got->truncated);
  EXPECT_EQ(socket_.try_receive_from(buffer_).status(), Status::unavailable());
}

TEST_F(InterfaceTest, TakesAUnicastDhcpOfferBeforeItHasAnAddress) {
  InterfaceConfig client_config;
  client_config.hardware_address = kClientMac;
  StaticInterface<> client({Medium::ethernet, 1500}, client_config);
  StaticUdpSocket<1024, 1024> dhcp;
  ASSERT_TRUE(dhcp.bind(client, 68).ok());
  // The captured offer is unicast to the offered address, 192.168.69.105.
  EXPECT_EQ(client.receive_frame(now_, frame_of(testdata::kDhcpOffer), tx_), 0u);
  Result<io::Datagram> got = dhcp.try_receive_from(buffer_);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->from, (Endpoint{kServerIp, 67}));
  EXPECT_EQ(got->size, testdata::udp_payload_of(testdata::kDhcpOffer).size());
  // And it sends from 0.0.0.0 to the broadcast address (DHCPDISCOVER).
  ASSERT_TRUE(
      dhcp.try_send_to(bytes_from_literal("discover"), Endpoint{Ipv4Address::broadcast(), 67})
          .ok());
  const std::size_t len = client.next_frame(now_, tx_);
  const ParsedUdp sent = parse_udp(ConstByteSpan(tx_).first(len));
  EXPECT_EQ(sent.ethernet.destination, MacAddress::broadcast());
  EXPECT_EQ(sent.ip.source, Ipv4Address());
  EXPECT_EQ(sent.ip.destination, Ipv4Address::broadcast());
  EXPECT_EQ(sent.udp.source_port, 68);
  // Unicast needs an address.
  EXPECT_EQ(dhcp.try_send_to(bytes_from_literal("x"), Endpoint{kServerIp, 67}),
            Status::not_found());
}

TEST_F(InterfaceTest, PortTableFindsEverySocketAfterRandomBindsAndCloses) {
  // 8 sockets in a 16-slot table, bound and closed at random, checked
  // against a std::map after every step.
  std::vector<std::unique_ptr<StaticUdpSocket<64, 64>>> sockets;
  for (int i = 0; i < 8; ++i) sockets.push_back(std::make_unique<StaticUdpSocket<64, 64>>());
  std::map<std::uint16_t, UdpSocket*> model;
  std::mt19937 random(7);
  for (int step = 0; step < 4000; ++step) {
    UdpSocket& socket = *sockets[random() % sockets.size()];
    if (socket.is_open()) {
      model.erase(socket.port());
      socket.close();
    } else {
      // Few distinct ports, so collisions and probe runs are common.
      const auto port = static_cast<std::uint16_t>(1 + random() % 40);
      const Status status = socket.bind(iface_, port);
      if (model.contains(port)) {
        EXPECT_EQ(status, Status::already_exists());
      } else {
        ASSERT_TRUE(status.ok());
        model[port] = &socket;
      }
    }
    for (std::uint16_t port = 1; port <= 40; ++port) {
      auto found = model.find(port);
      ASSERT_EQ(iface_.find_udp(port), found == model.end() ? nullptr : found->second)
          << "step " << step << " port " << port;
    }
  }
}

TEST_F(InterfaceTest, BindsEphemeralPortsAndRefusesWhenFull) {
  std::vector<std::unique_ptr<StaticUdpSocket<64, 64>>> sockets;
  for (int i = 0; i < 8; ++i) {
    sockets.push_back(std::make_unique<StaticUdpSocket<64, 64>>());
    ASSERT_TRUE(sockets.back()->bind(iface_, 0).ok());
    EXPECT_GE(sockets.back()->port(), 49152);
  }
  EXPECT_NE(sockets[0]->port(), sockets[1]->port());
  StaticUdpSocket<64, 64> extra;
  EXPECT_EQ(extra.bind(iface_, 0), Status::resource_exhausted());
  EXPECT_EQ(sockets[0]->bind(iface_, 1), Status::failed_precondition());
}

TEST_F(InterfaceTest, RefusesDatagramsLargerThanTheMtu) {
  ASSERT_TRUE(socket_.bind(iface_, 5000).ok());
  Bytes big(1473);
  EXPECT_EQ(socket_.try_send_to(big, Endpoint{kClientIp, 7}), Status::resource_exhausted());
  EXPECT_EQ(socket_.try_send_to(big, Endpoint{Ipv4Address(), 7}), Status::invalid_argument());
  EXPECT_EQ(socket_.try_send_to(ConstByteSpan(big).first(1472), Endpoint{kClientIp, 0}),
            Status::invalid_argument());
  EXPECT_TRUE(socket_.try_send_to(ConstByteSpan(big).first(1472), Endpoint{kClientIp, 7}).ok());
}

// --- Reassembly -------------------------------------------------------------

class InterfaceReassemblyTest : public InterfaceTest {
 protected:
  InterfaceReassemblyTest() {
    EXPECT_TRUE(socket_.bind(iface_, 4000).ok());
    // A 1208-byte UDP datagram (8 + 1200) cut into three fragments.
    payload_.resize(1200);
    for (std::size_t i = 0; i < payload_.size(); ++i) payload_[i] = std::byte(i * 7);
    datagram_.resize(8 + payload_.size());
    EXPECT_TRUE((UdpRepr{1111, 4000, payload_}.emit(datagram_, kClientIp, kServerIp).ok()));
  }
  Bytes piece(std::uint16_t offset, std::size_t len, bool more, std::uint16_t id = 42) {
    return fragment_frame(kClientIp, id, offset, more,
                          ConstByteSpan(datagram_).subspan(offset, len));
  }
  bool received_whole() {
    Result<io::Datagram> got = socket_.try_receive_from(buffer_);
    return got.ok() && got->size == payload_.size() &&
           std::equal(payload_.begin(), payload_.end(), buffer_.begin());
  }

  Bytes payload_;
  Bytes datagram_;
};

TEST_F(InterfaceReassemblyTest, JoinsFragmentsInAnyOrder) {
  receive(piece(800, 408, false));
  receive(piece(0, 400, true));
  EXPECT_FALSE(received_whole());
  receive(piece(400, 400, true));
  EXPECT_TRUE(received_whole());
  EXPECT_EQ(iface_.reassembly_stats().reassembled, 1u);
}

TEST_F(InterfaceReassemblyTest, IgnoresDuplicatesAndDropsOverlaps) {
  receive(piece(0, 400, true));
  receive(piece(0, 400, true));
  receive(piece(400, 400, true));
  receive(piece(800, 408, false));
  EXPECT_TRUE(received_whole());
  // A fragment overlapping another in part kills the datagram.
  receive(piece(0, 400, true, 43));
  receive(piece(392, 400, true, 43));
  receive(piece(400, 400, true, 43));
  receive(piece(800, 408, false, 43));
  EXPECT_FALSE(received_whole());
  EXPECT_EQ(iface_.reassembly_stats().dropped, 1u);
}

TEST_F(InterfaceReassemblyTest, TimesOutIncompleteDatagrams) {
  skip_announcements();
  receive(piece(400, 400, true));  // no fragment zero: dropped silently
  now_ += 30s;
  EXPECT_TRUE(next().empty());
  EXPECT_EQ(iface_.reassembly_stats().timed_out, 1u);

  receive(testdata::kArpRequest);  // learn the client's hardware address
  receive(piece(0, 400, true));
  EXPECT_EQ(iface_.poll_at(now_), now_ + 30s);
  now_ += 30s;
  receive(piece(400, 400, true));  // starts a new datagram: the old one expired
  receive(piece(800, 408, false));
  EXPECT_FALSE(received_whole());
  EXPECT_EQ(iface_.reassembly_stats().timed_out, 2u);
  // RFC 1122 §3.3.2: fragment zero had come, so the source hears of it:
  // time exceeded, code 1, quoting that fragment's header and 8 bytes.
  EXPECT_EQ(iface_.poll_at(now_), now_);
  const Bytes frame = next();
  auto packet = Ipv4Packet<>::checked(EthernetFrame<>::checked(frame)->payload());
  ASSERT_TRUE(packet.ok());
  EXPECT_EQ(packet->destination(), kClientIp);
  auto icmp = Icmpv4Repr::parse(*Icmpv4Packet<>::checked(packet->payload()));
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->type, Icmpv4Type::time_exceeded);
  EXPECT_EQ(icmp->code, 1);
  EXPECT_EQ(icmp->invoking_header.identification, 42);
  EXPECT_TRUE(icmp->invoking_header.more_fragments);
  EXPECT_EQ(bytes(icmp->data), bytes(ConstByteSpan(datagram_).first(8)));
  EXPECT_EQ(iface_.stats().icmp_errors_sent, 1u);
}

TEST_F(InterfaceReassemblyTest, BoundsSlotsAndBytes) {
  // Two slots of 2048 bytes: a third datagram under way is refused...
  receive(piece(0, 400, true, 1));
  receive(piece(0, 400, true, 2));
  receive(piece(0, 400, true, 3));
  EXPECT_EQ(iface_.reassembly_stats().dropped, 1u);
  // ... and so is one longer than a slot.
  receive(fragment_frame(kClientIp, 1, 2000, false, Bytes(100)));
  EXPECT_EQ(iface_.reassembly_stats().dropped, 2u);
  // Non-final fragments must be multiples of 8 bytes.
  receive(piece(0, 401, true, 2));
  EXPECT_EQ(iface_.reassembly_stats().dropped, 3u);
}

}  // namespace
}  // namespace mote::net
