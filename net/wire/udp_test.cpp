#include "mote/net/wire/udp.hpp"

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

TEST(UdpRepr, ParsesACapturedDatagram) {
  const auto datagram = UdpDatagram<>::checked(transport_of(testdata::kUdpDatagram)).value();
  EXPECT_EQ(datagram.length(), 10);
  EXPECT_TRUE(datagram.verify_checksum(kClientIp, kServerIp));
  const UdpRepr repr = UdpRepr::parse(datagram, kClientIp, kServerIp).value();
  EXPECT_EQ(repr.destination_port, 9);
  EXPECT_EQ(repr.source_port, datagram.source_port());
  EXPECT_EQ(as_string_view(repr.payload), "x\n");
  EXPECT_EQ(repr.payload.data(), transport_of(testdata::kUdpDatagram).data() + 8);
}

TEST(UdpRepr, RoundTripsCapturedDatagramsByteForByte) {
  struct Case {
    std::span<const std::uint8_t> frame;
    Ipv4Address source;
    Ipv4Address destination;
  };
  for (const Case& c : {Case{testdata::kUdpDatagram, kClientIp, kServerIp},
                        Case{testdata::kDnsResponseCname, kServerIp, kClientIp},
                        Case{testdata::kDhcpDiscover, Ipv4Address(), Ipv4Address::broadcast()},
                        Case{testdata::kDhcpAck, kServerIp, kClientIp}}) {
    const ConstByteSpan original = transport_of(c.frame);
    const UdpRepr repr =
        UdpRepr::parse(UdpDatagram<>::checked(original).value(), c.source, c.destination).value();
    std::vector<std::byte> out(repr.buffer_len());
    ASSERT_EQ(repr.emit(out, c.source, c.destination).value(), original.size());
    EXPECT_EQ(out, copy_of(original));
  }
}

TEST(UdpRepr, ChecksumIsVerifiedUnlessIgnoredOrAbsent) {
  auto bytes = copy_of(transport_of(testdata::kDnsQueryA));
  bytes[12] ^= std::byte{0x01};  // a payload byte
  const auto datagram = UdpDatagram<>::checked(bytes).value();
  EXPECT_EQ(UdpRepr::parse(datagram, kClientIp, kServerIp).status(), Status::data_loss());
  EXPECT_TRUE(UdpRepr::parse(datagram, kClientIp, kServerIp, ChecksumMode::ignore).ok());

  // RFC 768: a zero checksum means none was computed.
  store_be16(bytes.data() + 6, 0);
  EXPECT_TRUE(UdpRepr::parse(UdpDatagram<>::checked(bytes).value(), kClientIp, kServerIp).ok());

  // The right bytes from the wrong host fail: the pseudo-header counts.
  const auto original = UdpDatagram<>::checked(transport_of(testdata::kDnsQueryA)).value();
  EXPECT_EQ(UdpRepr::parse(original, kServerIp, kClientIp).status(), Status::ok_status());
  EXPECT_EQ(UdpRepr::parse(original, kClientIp, Ipv4Address(192, 168, 69, 2)).status(),
            Status::data_loss());
}

TEST(UdpDatagram, RejectsInconsistentLengths) {
  const ConstByteSpan good = transport_of(testdata::kDnsQueryA);
  EXPECT_EQ(UdpDatagram<>::checked(good.first(7)).status(), Status::out_of_range());
  EXPECT_EQ(UdpDatagram<>::checked(good.first(good.size() - 1)).status(), Status::out_of_range());
  auto short_length = copy_of(good);
  store_be16(short_length.data() + 4, 7);
  EXPECT_EQ(UdpDatagram<>::checked(short_length).status(), Status::invalid_argument());
  auto header_only = copy_of(good);
  store_be16(header_only.data() + 4, 8);
  EXPECT_TRUE(UdpDatagram<>::checked(header_only).value().payload().empty());
  // Bytes past Length are not payload.
  std::vector<std::byte> padded = copy_of(good);
  padded.resize(padded.size() + 6);
  EXPECT_EQ(UdpDatagram<>::checked(padded).value().payload().size(), good.size() - 8);
}

TEST(UdpRepr, AComputedZeroChecksumIsSentAsAllOnes) {
  // Two payload bytes chosen so that the checksum comes out zero.
  std::vector<std::byte> payload(2);
  UdpRepr repr{1234, 5678, payload};
  std::vector<std::byte> out(repr.buffer_len());
  ASSERT_TRUE(repr.emit(out, kClientIp, kServerIp).ok());
  store_be16(payload.data(), load_be16(out.data() + 6));
  ASSERT_TRUE(repr.emit(out, kClientIp, kServerIp).ok());
  EXPECT_EQ(load_be16(out.data() + 6), 0xffff);
  const auto datagram = UdpDatagram<>::checked(out).value();
  EXPECT_TRUE(datagram.verify_checksum(kClientIp, kServerIp));
}

TEST(UdpRepr, EmitsInPlaceAndChecksLimits) {
  std::vector<std::byte> buffer(8 + 5);
  copy_bytes(bytes_of("hello"), buffer.data() + 8);
  const UdpRepr repr{40000, 53, ByteSpan(buffer).subspan(8)};
  ASSERT_EQ(repr.emit(buffer, kClientIp, kServerIp).value(), 13u);
  EXPECT_EQ(as_string_view(ConstByteSpan(buffer).subspan(8)), "hello");
  EXPECT_EQ(UdpRepr::parse(UdpDatagram<>::checked(buffer).value(), kClientIp, kServerIp).value(),
            repr);

  std::vector<std::byte> small(12);
  EXPECT_EQ(repr.emit(small, kClientIp, kServerIp).status(), Status::resource_exhausted());
  const std::vector<std::byte> huge(65528);
  std::vector<std::byte> out(65536);
  EXPECT_EQ((UdpRepr{1, 2, huge}).emit(out, kClientIp, kServerIp).status(),
            Status::invalid_argument());
  EXPECT_TRUE(
      (UdpRepr{1, 2, ConstByteSpan(huge).first(65527)}).emit(out, kClientIp, kServerIp).ok());
}

}  // namespace
}  // namespace mote::net::wire
