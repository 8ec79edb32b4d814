#include "mote/net/wire/ethernet.hpp"

#include <gtest/gtest.h>
#include <vector>

#include "testdata/captures.hpp"
#include "testdata/layers.hpp"

namespace mote::net::wire {
namespace {

using testdata::copy_of;
using testdata::frame_of;

constexpr MacAddress kClient(0x02, 0, 0, 0, 0, 0x0c);
constexpr MacAddress kServer(0x02, 0, 0, 0, 0, 0x05);

TEST(EthernetFrame, ReadsACapturedFrame) {
  const auto frame = EthernetFrame<>::checked(frame_of(testdata::kArpRequest)).value();
  EXPECT_EQ(frame.destination(), MacAddress::broadcast());
  EXPECT_EQ(frame.source(), kClient);
  EXPECT_EQ(frame.ethertype(), 0x0806);
  EXPECT_EQ(frame.payload().size(), 28u);
  EXPECT_EQ(frame.payload().data(), frame_of(testdata::kArpRequest).data() + 14);
}

TEST(EthernetFrame, RejectsATruncatedHeader) {
  const ConstByteSpan frame = frame_of(testdata::kArpRequest);
  EXPECT_EQ(EthernetFrame<>::checked(frame.first(13)).status(), Status::out_of_range());
  EXPECT_EQ(EthernetFrame<>::checked({}).status(), Status::out_of_range());
  EXPECT_TRUE(EthernetFrame<>::checked(frame.first(14)).ok());
  EXPECT_TRUE(EthernetFrame<>::checked(frame.first(14)).value().payload().empty());
}

TEST(EthernetRepr, ParsesAndEmitsTheSameBytes) {
  for (ConstByteSpan original : {frame_of(testdata::kPingRequest), frame_of(testdata::kArpReply),
                                 frame_of(testdata::kDhcpDiscover)}) {
    const auto frame = EthernetFrame<>::checked(original).value();
    const EthernetRepr repr = EthernetRepr::parse(frame).value();
    std::vector<std::byte> out(original.size());
    ASSERT_EQ(repr.emit(out).value(), EthernetRepr::kHeaderLen);
    copy_bytes(frame.payload(), out.data() + EthernetRepr::kHeaderLen);
    EXPECT_EQ(out, copy_of(original));
  }
  const EthernetRepr ping =
      EthernetRepr::parse(EthernetFrame<>::checked(frame_of(testdata::kPingReply)).value()).value();
  EXPECT_EQ(ping, (EthernetRepr{kServer, kClient, EtherType::ipv4}));
}

TEST(EthernetRepr, RejectsAn8023LengthField) {
  auto bytes = copy_of(frame_of(testdata::kArpRequest));
  bytes[12] = std::byte{0x05};  // 0x05dc = 1500, a length
  bytes[13] = std::byte{0xdc};
  const auto frame = EthernetFrame<>::checked(bytes).value();
  EXPECT_EQ(EthernetRepr::parse(frame).status(), Status::unimplemented());
  bytes[13] = std::byte{0xff};  // 0x05ff: still a length
  EXPECT_EQ(EthernetRepr::parse(EthernetFrame<>::checked(bytes).value()).status(),
            Status::unimplemented());
  bytes[12] = std::byte{0x06};  // 0x06ff: the smallest EtherTypes are accepted
  bytes[13] = std::byte{0x00};
  EXPECT_TRUE(EthernetRepr::parse(EthernetFrame<>::checked(bytes).value()).ok());
}

TEST(EthernetRepr, EmitNeedsRoomForTheHeader) {
  const EthernetRepr repr{kClient, kServer, EtherType::arp};
  std::vector<std::byte> small(13);
  EXPECT_EQ(repr.emit(small).status(), Status::resource_exhausted());
}

TEST(EthernetFrame, WritableViewSetsFields) {
  std::vector<std::byte> bytes(20);
  auto frame = EthernetFrame<ByteSpan>::checked(bytes).value();
  frame.set_destination(kServer);
  frame.set_source(kClient);
  frame.set_ethertype(0x86dd);
  frame.payload()[0] = std::byte{0x60};
  EXPECT_EQ(frame.destination(), kServer);
  EXPECT_EQ(frame.source(), kClient);
  EXPECT_EQ(frame.ethertype(), 0x86dd);
  EXPECT_EQ(bytes[14], std::byte{0x60});
}

}  // namespace
}  // namespace mote::net::wire
