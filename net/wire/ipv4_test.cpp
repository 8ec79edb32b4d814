#include "mote/net/wire/ipv4.hpp"

#include <gtest/gtest.h>
#include <vector>

#include "testdata/captures.hpp"
#include "testdata/layers.hpp"

namespace mote::net::wire {
namespace {

using testdata::copy_of;
using testdata::ipv4_of;

constexpr Ipv4Address kClientIp(192, 168, 69, 105);
constexpr Ipv4Address kServerIp(192, 168, 69, 1);

// Emits the header from the Repr and copies the payload after it.
std::vector<std::byte> re_emit(const Ipv4Packet<>& packet, const Ipv4Repr& repr) {
  std::vector<std::byte> out(repr.buffer_len());
  EXPECT_EQ(repr.emit(out).value(), 20u);
  copy_bytes(packet.payload(), out.data() + 20);
  return out;
}

void set_checksum(std::vector<std::byte>& header) {
  auto packet = Ipv4Packet<ByteSpan>::unchecked(header);
  packet.fill_checksum();
}

TEST(Ipv4Repr, ParsesALinuxPing) {
  const auto packet = Ipv4Packet<>::checked(ipv4_of(testdata::kPingRequest)).value();
  EXPECT_EQ(packet.version(), 4);
  EXPECT_EQ(packet.header_len(), 20u);
  EXPECT_EQ(packet.total_len(), 84);
  EXPECT_TRUE(packet.verify_checksum());
  const Ipv4Repr repr = Ipv4Repr::parse(packet).value();
  EXPECT_EQ(repr.source, kClientIp);
  EXPECT_EQ(repr.destination, kServerIp);
  EXPECT_EQ(repr.protocol, IpProtocol::icmp);
  EXPECT_EQ(repr.payload_len, 64u);
  EXPECT_EQ(repr.ttl, 64);
  EXPECT_EQ(repr.identification, 0xbe6f);
  EXPECT_TRUE(repr.dont_fragment);
  EXPECT_FALSE(repr.is_fragment());
  EXPECT_EQ(repr.dscp, 0);
}

TEST(Ipv4Repr, RoundTripsCapturedPacketsByteForByte) {
  // DISCOVER has TOS 0x10 and TTL 128 (dhclient writes its own header); the
  // port unreachable has DSCP CS6 and no DF.
  for (auto frame : {std::span<const std::uint8_t>(testdata::kPingRequest),
                     std::span<const std::uint8_t>(testdata::kDhcpDiscover),
                     std::span<const std::uint8_t>(testdata::kTcpSyn),
                     std::span<const std::uint8_t>(testdata::kIcmpPortUnreachable)}) {
    const auto packet = Ipv4Packet<>::checked(ipv4_of(frame)).value();
    const Ipv4Repr repr = Ipv4Repr::parse(packet).value();
    EXPECT_EQ(re_emit(packet, repr), copy_of(ipv4_of(frame)));
  }
  const Ipv4Repr discover =
      Ipv4Repr::parse(Ipv4Packet<>::checked(ipv4_of(testdata::kDhcpDiscover)).value()).value();
  EXPECT_EQ(discover.dscp, 4);
  EXPECT_EQ(discover.ttl, 128);
  EXPECT_EQ(discover.destination, Ipv4Address::broadcast());
  const Ipv4Repr unreachable =
      Ipv4Repr::parse(Ipv4Packet<>::checked(ipv4_of(testdata::kIcmpPortUnreachable)).value())
          .value();
  EXPECT_EQ(unreachable.dscp, 48);
  EXPECT_FALSE(unreachable.dont_fragment);
}

TEST(Ipv4Packet, LeavesEthernetPaddingOutOfThePayload) {
  // A 28-byte IPv4 packet padded to the 46-byte minimum Ethernet payload.
  std::vector<std::byte> bytes(46);
  Ipv4Repr repr{kClientIp, kServerIp, IpProtocol::udp, 8};
  ASSERT_TRUE(repr.emit(bytes).ok());
  const auto packet = Ipv4Packet<>::checked(bytes).value();
  EXPECT_EQ(packet.payload().size(), 8u);
  EXPECT_EQ(Ipv4Repr::parse(packet).value(), repr);
}

TEST(Ipv4Repr, ChecksumIsVerifiedUnlessIgnored) {
  auto bytes = copy_of(ipv4_of(testdata::kPingRequest));
  bytes[10] ^= std::byte{0x40};
  const auto packet = Ipv4Packet<>::checked(bytes).value();
  EXPECT_FALSE(packet.verify_checksum());
  EXPECT_EQ(Ipv4Repr::parse(packet).status(), Status::data_loss());
  EXPECT_TRUE(Ipv4Repr::parse(packet, ChecksumMode::ignore).ok());

  auto ttl_changed = copy_of(ipv4_of(testdata::kPingRequest));
  ttl_changed[8] = std::byte{63};
  EXPECT_EQ(Ipv4Repr::parse(Ipv4Packet<>::checked(ttl_changed).value()).status(),
            Status::data_loss());
}

TEST(Ipv4Packet, RejectsEveryInconsistentLength) {
  const ConstByteSpan good = ipv4_of(testdata::kPingRequest);
  EXPECT_EQ(Ipv4Packet<>::checked(good.first(19)).status(), Status::out_of_range());
  EXPECT_EQ(Ipv4Packet<>::checked(good.first(83)).status(), Status::out_of_range());
  EXPECT_TRUE(Ipv4Packet<>::checked(good).ok());

  auto version6 = copy_of(good);
  version6[0] = std::byte{0x65};
  EXPECT_EQ(Ipv4Packet<>::checked(version6).status(), Status::invalid_argument());

  auto ihl4 = copy_of(good);
  ihl4[0] = std::byte{0x44};
  EXPECT_EQ(Ipv4Packet<>::checked(ihl4).status(), Status::invalid_argument());

  auto ihl15 = copy_of(good.first(40));  // a 60-byte header in 40 bytes
  ihl15[0] = std::byte{0x4f};
  EXPECT_EQ(Ipv4Packet<>::checked(ihl15).status(), Status::out_of_range());

  auto total_below_header = copy_of(good);
  store_be16(total_below_header.data() + 2, 19);
  EXPECT_EQ(Ipv4Packet<>::checked(total_below_header).status(), Status::invalid_argument());

  auto total_beyond_buffer = copy_of(good);
  store_be16(total_beyond_buffer.data() + 2, 85);
  EXPECT_EQ(Ipv4Packet<>::checked(total_beyond_buffer).status(), Status::out_of_range());
}

TEST(Ipv4Packet, SkipsOptions) {
  // The ping with a Router Alert option (RFC 2113: 94 04 00 00) added.
  const ConstByteSpan ping = ipv4_of(testdata::kPingRequest);
  std::vector<std::byte> bytes(ping.size() + 4);
  copy_bytes(ping.first(20), bytes.data());
  const auto kRouterAlert = make_bytes(0x94, 0x04, 0x00, 0x00);
  copy_bytes(kRouterAlert, bytes.data() + 20);
  copy_bytes(ping.subspan(20), bytes.data() + 24);
  bytes[0] = std::byte{0x46};
  store_be16(bytes.data() + 2, static_cast<std::uint16_t>(bytes.size()));
  set_checksum(bytes);

  const auto packet = Ipv4Packet<>::checked(bytes).value();
  EXPECT_EQ(packet.header_len(), 24u);
  EXPECT_EQ(packet.options().size(), 4u);
  EXPECT_EQ(packet.payload().data(), bytes.data() + 24);
  const Ipv4Repr repr = Ipv4Repr::parse(packet).value();
  EXPECT_EQ(repr.payload_len, 64u);
  // Re-emitted without the option, the rest is the original ping.
  EXPECT_EQ(re_emit(packet, repr), copy_of(ping));
}

TEST(Ipv4Repr, ReportsFragments) {
  auto bytes = copy_of(ipv4_of(testdata::kPingRequest));
  store_be16(bytes.data() + 6, 0x2000 | (1480 / 8));  // MF, offset 1480
  set_checksum(bytes);
  const Ipv4Repr repr = Ipv4Repr::parse(Ipv4Packet<>::checked(bytes).value()).value();
  EXPECT_TRUE(repr.is_fragment());
  EXPECT_TRUE(repr.more_fragments);
  EXPECT_FALSE(repr.dont_fragment);
  EXPECT_EQ(repr.fragment_offset, 1480);
  std::vector<std::byte> out(repr.buffer_len());
  ASSERT_TRUE(repr.emit(out).ok());
  EXPECT_EQ(load_be16(out.data() + 6), 0x2000 | (1480 / 8));
}

TEST(Ipv4Repr, EmitRejectsImpossibleHeaders) {
  std::vector<std::byte> out(20);
  Ipv4Repr repr{kClientIp, kServerIp, IpProtocol::tcp, 0};
  EXPECT_TRUE(repr.emit(out).ok());
  EXPECT_EQ(repr.emit(ByteSpan(out).first(19)).status(), Status::resource_exhausted());

  Ipv4Repr too_long = repr;
  too_long.payload_len = 65516;
  EXPECT_EQ(too_long.emit(out).status(), Status::invalid_argument());
  too_long.payload_len = 65515;
  EXPECT_TRUE(too_long.emit(out).ok());

  Ipv4Repr bad_offset = repr;
  bad_offset.fragment_offset = 7;
  EXPECT_EQ(bad_offset.emit(out).status(), Status::invalid_argument());
  Ipv4Repr bad_dscp = repr;
  bad_dscp.dscp = 64;
  EXPECT_EQ(bad_dscp.emit(out).status(), Status::invalid_argument());
}

}  // namespace
}  // namespace mote::net::wire
