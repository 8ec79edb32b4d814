#include "mote/net/wire/icmpv4.hpp"

#include <gtest/gtest.h>
#include <vector>

#include "testdata/captures.hpp"
#include "testdata/layers.hpp"

namespace mote::net::wire {
namespace {

using testdata::copy_of;
using testdata::transport_of;

constexpr Ipv4Address kClientIp(192, 168, 69, 105);
constexpr Ipv4Address kServerIp(192, 168, 69, 1);

Icmpv4Repr parse(ConstByteSpan bytes, ChecksumMode mode = ChecksumMode::verify) {
  return Icmpv4Repr::parse(Icmpv4Packet<>::checked(bytes).value(), mode).value();
}

std::vector<std::byte> emit(const Icmpv4Repr& repr) {
  std::vector<std::byte> out(repr.buffer_len());
  EXPECT_EQ(repr.emit(out).value(), out.size());
  return out;
}

TEST(Icmpv4Repr, ParsesALinuxPingAndItsReply) {
  const Icmpv4Repr request = parse(transport_of(testdata::kPingRequest));
  EXPECT_EQ(request.type, Icmpv4Type::echo_request);
  EXPECT_EQ(request.code, 0);
  EXPECT_EQ(request.identifier, 0x2354);
  EXPECT_EQ(request.sequence, 1);
  EXPECT_EQ(request.data.size(), 56u);           // ping's default, a timestamp first
  EXPECT_EQ(request.data[16], std::byte{0x10});  // a 16-byte timeval, then 0x10, 0x11, ...

  const Icmpv4Repr reply = parse(transport_of(testdata::kPingReply));
  EXPECT_EQ(reply.type, Icmpv4Type::echo_reply);
  EXPECT_EQ(reply.identifier, request.identifier);
  EXPECT_EQ(reply.sequence, request.sequence);
  EXPECT_TRUE(same_bytes(reply.data, request.data));
}

TEST(Icmpv4Repr, ParsesAPortUnreachableAndItsQuote) {
  const Icmpv4Repr repr = parse(transport_of(testdata::kIcmpPortUnreachable));
  EXPECT_EQ(repr.type, Icmpv4Type::destination_unreachable);
  EXPECT_EQ(repr.code, static_cast<std::uint8_t>(Icmpv4Unreachable::port));
  EXPECT_TRUE(repr.is_error());
  // The quoted datagram: the UDP "x\n" the client sent to port 9.
  EXPECT_EQ(repr.invoking_header.source, kClientIp);
  EXPECT_EQ(repr.invoking_header.destination, kServerIp);
  EXPECT_EQ(repr.invoking_header.protocol, IpProtocol::udp);
  EXPECT_EQ(repr.invoking_header.payload_len, 10u);
  ASSERT_EQ(repr.data.size(), 10u);  // Linux quoted all of it
  EXPECT_EQ(load_be16(repr.data.data() + 2), 9);
}

TEST(Icmpv4Repr, ParsesATimeExceeded) {
  const Icmpv4Repr repr = parse(transport_of(testdata::kIcmpTimeExceeded));
  EXPECT_EQ(repr.type, Icmpv4Type::time_exceeded);
  EXPECT_EQ(repr.code, static_cast<std::uint8_t>(Icmpv4TimeExceeded::ttl_in_transit));
  EXPECT_EQ(repr.invoking_header.ttl, 1);
  EXPECT_EQ(repr.invoking_header.destination, Ipv4Address(192, 168, 70, 2));
  EXPECT_EQ(repr.invoking_header.protocol, IpProtocol::icmp);
  EXPECT_EQ(repr.data.size(), 64u);
  EXPECT_EQ(repr.data[0], std::byte{8});  // the quoted echo request
}

TEST(Icmpv4Repr, RoundTripsCapturedMessagesByteForByte) {
  for (auto frame : {std::span<const std::uint8_t>(testdata::kPingRequest),
                     std::span<const std::uint8_t>(testdata::kPingReply),
                     std::span<const std::uint8_t>(testdata::kIcmpPortUnreachable),
                     std::span<const std::uint8_t>(testdata::kIcmpTimeExceeded)}) {
    const ConstByteSpan original = transport_of(frame);
    const Icmpv4Repr repr = parse(original);
    EXPECT_EQ(repr.buffer_len(), original.size());
    EXPECT_EQ(emit(repr), copy_of(original));
  }
}

TEST(Icmpv4Repr, EmitsFragmentationNeededWithTheNextHopMtu) {
  Icmpv4Repr repr;
  repr.type = Icmpv4Type::destination_unreachable;
  repr.code = static_cast<std::uint8_t>(Icmpv4Unreachable::fragmentation_needed);
  repr.next_hop_mtu = 1280;
  repr.invoking_header = Ipv4Repr{kClientIp, kServerIp, IpProtocol::tcp, 1460};
  repr.invoking_header.dont_fragment = true;
  const auto kTcpPorts = make_bytes(0x9f, 0x10, 0x1f, 0x90, 0, 0, 0, 1);
  repr.data = kTcpPorts;
  const std::vector<std::byte> bytes = emit(repr);
  EXPECT_EQ(bytes.size(), 8u + 20u + 8u);
  EXPECT_EQ(load_be16(bytes.data() + 6), 1280);
  EXPECT_EQ(parse(bytes), repr);
}

TEST(Icmpv4Repr, ReadsTheQuotedTcpHeaderStrictly) {
  Icmpv4Repr repr;
  repr.type = Icmpv4Type::destination_unreachable;
  repr.code = static_cast<std::uint8_t>(Icmpv4Unreachable::port);
  repr.invoking_header = Ipv4Repr{kServerIp, kClientIp, IpProtocol::tcp, 40};
  const auto kTcpStart = make_bytes(0xc0, 0x00, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0x00);
  repr.data = kTcpStart;
  const Icmpv4QuotedTcp quoted = repr.quoted_tcp().value();
  EXPECT_EQ(quoted.source_port, 49152);
  EXPECT_EQ(quoted.destination_port, 80);
  EXPECT_EQ(quoted.seq_number, 0x12345678u);
  // RFC 792's 64 bits and no fewer.
  repr.data = ConstByteSpan(kTcpStart).first(7);
  EXPECT_EQ(repr.quoted_tcp().status(), Status::out_of_range());
  repr.data = kTcpStart;
  // Not the first fragment (no TCP header there), not long enough to
  // have held one, not TCP, not an error.
  repr.invoking_header.fragment_offset = 1480;
  EXPECT_EQ(repr.quoted_tcp().status(), Status::invalid_argument());
  repr.invoking_header.fragment_offset = 0;
  repr.invoking_header.payload_len = 19;
  EXPECT_EQ(repr.quoted_tcp().status(), Status::invalid_argument());
  EXPECT_EQ(parse(transport_of(testdata::kIcmpPortUnreachable)).quoted_tcp().status(),
            Status::invalid_argument());  // a UDP datagram
  EXPECT_EQ(parse(transport_of(testdata::kPingRequest)).quoted_tcp().status(),
            Status::invalid_argument());
}

TEST(Icmpv4Repr, ChecksumIsVerifiedUnlessIgnored) {
  auto bytes = copy_of(transport_of(testdata::kPingRequest));
  bytes[20] ^= std::byte{0xff};  // a data byte
  const auto packet = Icmpv4Packet<>::checked(bytes).value();
  EXPECT_EQ(Icmpv4Repr::parse(packet).status(), Status::data_loss());
  EXPECT_TRUE(Icmpv4Repr::parse(packet, ChecksumMode::ignore).ok());
}

TEST(Icmpv4Repr, RejectsTruncatedAndMalformedMessages) {
  const ConstByteSpan ping = transport_of(testdata::kPingRequest);
  EXPECT_EQ(Icmpv4Packet<>::checked(ping.first(7)).status(), Status::out_of_range());
  EXPECT_TRUE(Icmpv4Packet<>::checked(ping.first(8)).ok());

  const ConstByteSpan unreachable = transport_of(testdata::kIcmpPortUnreachable);
  auto parse_status = [](ConstByteSpan bytes) {
    return Icmpv4Repr::parse(Icmpv4Packet<>::checked(bytes).value(), ChecksumMode::ignore).status();
  };
  // A quote shorter than an IPv4 header.
  EXPECT_EQ(parse_status(unreachable.first(8 + 19)), Status::out_of_range());
  EXPECT_TRUE(parse_status(unreachable.first(8 + 20)).ok());
  // A quote that is not IPv4, or whose IHL runs past it.
  auto version6 = copy_of(unreachable);
  version6[8] = std::byte{0x60};
  EXPECT_EQ(parse_status(version6), Status::invalid_argument());
  auto long_header = copy_of(unreachable.first(8 + 24));
  long_header[8] = std::byte{0x47};  // 28-byte header in a 24-byte quote
  EXPECT_EQ(parse_status(long_header), Status::out_of_range());
  auto short_total = copy_of(unreachable);
  store_be16(short_total.data() + 8 + 2, 12);
  EXPECT_EQ(parse_status(short_total), Status::invalid_argument());
}

TEST(Icmpv4Repr, DeclinesOtherTypes) {
  auto redirect = copy_of(transport_of(testdata::kIcmpPortUnreachable));
  redirect[0] = std::byte{5};
  auto timestamp = copy_of(transport_of(testdata::kPingRequest));
  timestamp[0] = std::byte{13};
  for (const auto& bytes : {redirect, timestamp}) {
    EXPECT_EQ(
        Icmpv4Repr::parse(Icmpv4Packet<>::checked(bytes).value(), ChecksumMode::ignore).status(),
        Status::unimplemented());
  }
  Icmpv4Repr repr;
  repr.type = Icmpv4Type{5};
  std::vector<std::byte> out(64);
  EXPECT_EQ(repr.emit(out).status(), Status::invalid_argument());
}

TEST(Icmpv4Repr, EmitNeedsRoomAndCopiesInPlaceDataForFree) {
  const Icmpv4Repr request = parse(transport_of(testdata::kPingRequest));
  std::vector<std::byte> small(request.buffer_len() - 1);
  EXPECT_EQ(request.emit(small).status(), Status::resource_exhausted());

  // The echo reply built in the request's own buffer, data left in place.
  auto buffer = copy_of(transport_of(testdata::kPingRequest));
  Icmpv4Repr reply = parse(buffer);
  reply.type = Icmpv4Type::echo_reply;
  ASSERT_TRUE(reply.emit(buffer).ok());
  EXPECT_EQ(buffer, copy_of(transport_of(testdata::kPingReply)));
}

}  // namespace
}  // namespace mote::net::wire
