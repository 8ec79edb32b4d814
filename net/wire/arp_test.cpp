#include "mote/net/wire/arp.hpp"

#include <gtest/gtest.h>
#include <vector>

#include "testdata/captures.hpp"
#include "testdata/layers.hpp"

namespace mote::net::wire {
namespace {

using testdata::copy_of;

constexpr MacAddress kClient(0x02, 0, 0, 0, 0, 0x0c);
constexpr MacAddress kServer(0x02, 0, 0, 0, 0, 0x05);
constexpr Ipv4Address kClientIp(192, 168, 69, 105);
constexpr Ipv4Address kServerIp(192, 168, 69, 1);

ConstByteSpan arp_of(std::span<const std::uint8_t> frame) {
  return testdata::frame_of(frame).subspan(14);
}

TEST(ArpRepr, ParsesACapturedRequestAndReply) {
  const auto request = ArpPacket<>::checked(arp_of(testdata::kArpRequest)).value();
  EXPECT_EQ(request.hardware_type(), 1);
  EXPECT_EQ(request.protocol_type(), 0x0800);
  EXPECT_EQ(request.hardware_len(), 6);
  EXPECT_EQ(request.protocol_len(), 4);
  EXPECT_EQ(request.packet_len(), 28u);
  EXPECT_EQ(ArpRepr::parse(request).value(),
            (ArpRepr{ArpOperation::request, kClient, kClientIp, MacAddress(), kServerIp}));

  const auto reply = ArpPacket<>::checked(arp_of(testdata::kArpReply)).value();
  EXPECT_EQ(ArpRepr::parse(reply).value(),
            (ArpRepr{ArpOperation::reply, kServer, kServerIp, kClient, kClientIp}));
}

TEST(ArpRepr, RoundTripsByteForByte) {
  for (ConstByteSpan original : {arp_of(testdata::kArpRequest), arp_of(testdata::kArpReply)}) {
    const ArpRepr repr = ArpRepr::parse(ArpPacket<>::checked(original).value()).value();
    ASSERT_EQ(repr.buffer_len(), original.size());
    std::vector<std::byte> out(repr.buffer_len());
    ASSERT_EQ(repr.emit(out).value(), 28u);
    EXPECT_EQ(out, copy_of(original));
  }
}

TEST(ArpPacket, RejectsTruncatedPackets) {
  const ConstByteSpan packet = arp_of(testdata::kArpReply);
  EXPECT_EQ(ArpPacket<>::checked(packet.first(7)).status(), Status::out_of_range());
  EXPECT_EQ(ArpPacket<>::checked(packet.first(27)).status(), Status::out_of_range());
  EXPECT_TRUE(ArpPacket<>::checked(packet.first(28)).ok());

  auto long_addresses = copy_of(packet);
  long_addresses[4] = std::byte{16};  // ar$hln = 16: 8 + 2 * 20 = 48 bytes needed
  EXPECT_EQ(ArpPacket<>::checked(long_addresses).status(), Status::out_of_range());
}

TEST(ArpPacket, ReadsOtherAddressSizes) {
  // A 20-byte-hardware (InfiniBand) / IPv4 request: the view reads it, the
  // Repr declines it.
  std::vector<std::byte> bytes(8 + 2 * (20 + 4));
  auto packet = ArpPacket<ByteSpan>::unchecked(bytes);
  packet.set_hardware_type(32);
  packet.set_protocol_type(0x0800);
  packet.set_hardware_len(20);
  packet.set_protocol_len(4);
  packet.set_operation(1);
  bytes[8 + 20] = std::byte{10};  // spa starts after the 20-byte sha
  const auto checked = ArpPacket<>::checked(bytes).value();
  EXPECT_EQ(checked.source_hardware_address().size(), 20u);
  EXPECT_EQ(checked.source_protocol_address()[0], std::byte{10});
  EXPECT_EQ(checked.target_protocol_address().data(), bytes.data() + 8 + 20 + 4 + 20);
  EXPECT_EQ(ArpRepr::parse(checked).status(), Status::unimplemented());
}

TEST(ArpRepr, DeclinesOtherProtocolsAndOpcodes) {
  const ConstByteSpan packet = arp_of(testdata::kArpRequest);
  auto ipv6 = copy_of(packet);
  ipv6[2] = std::byte{0x86};
  ipv6[3] = std::byte{0xdd};
  EXPECT_EQ(ArpRepr::parse(ArpPacket<>::checked(ipv6).value()).status(), Status::unimplemented());
  auto rarp = copy_of(packet);
  rarp[7] = std::byte{3};  // RARP request (RFC 903)
  EXPECT_EQ(ArpRepr::parse(ArpPacket<>::checked(rarp).value()).status(), Status::unimplemented());
}

TEST(ArpRepr, EmitNeedsRoom) {
  const ArpRepr repr{ArpOperation::request, kClient, kClientIp, MacAddress(), kServerIp};
  std::vector<std::byte> small(27);
  EXPECT_EQ(repr.emit(small).status(), Status::resource_exhausted());
}

}  // namespace
}  // namespace mote::net::wire
