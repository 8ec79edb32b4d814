#include "mote/net/wire/address.hpp"

#include <array>
#include <gtest/gtest.h>
#include <string_view>

namespace mote::net::wire {
namespace {

static_assert(Ipv4Address::parse("192.168.69.105").value() == Ipv4Address(192, 168, 69, 105));
static_assert(Ipv4Address(10, 0, 0, 1).to_u32() == 0x0a000001u);
static_assert(Ipv4Address(10, 0, 0, 1) < Ipv4Address(10, 0, 1, 0));
static_assert(MacAddress::broadcast().is_broadcast());

std::string_view text_of(const Result<std::size_t>& length, const std::array<char, 32>& buffer) {
  return {buffer.data(), length.value()};
}

TEST(MacAddress, ReadsWritesAndFormats) {
  constexpr auto kBytes = make_bytes(0x02, 0x00, 0x00, 0x00, 0x00, 0x0c);
  const MacAddress address = MacAddress::from_bytes(kBytes.data());
  EXPECT_EQ(address, MacAddress(0x02, 0, 0, 0, 0, 0x0c));
  std::array<std::byte, 6> out{};
  address.write_to(out.data());
  EXPECT_EQ(out, kBytes);

  std::array<char, 32> text{};
  EXPECT_EQ(text_of(address.format(text), text), "02:00:00:00:00:0c");
  std::array<char, 16> small{};
  EXPECT_EQ(address.format(small).status(), Status::resource_exhausted());
}

TEST(MacAddress, Classifies) {
  EXPECT_TRUE(MacAddress::broadcast().is_multicast());
  EXPECT_TRUE(MacAddress(0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb).is_multicast());  // mDNS group
  EXPECT_FALSE(MacAddress(0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb).is_broadcast());
  EXPECT_TRUE(MacAddress(0x02, 0, 0, 0, 0, 0x0c).is_local());
  EXPECT_TRUE(MacAddress(0x02, 0, 0, 0, 0, 0x0c).is_unicast());
  EXPECT_FALSE(MacAddress(0x52, 0x54, 0x00, 0x12, 0x34, 0x56).is_multicast());
  EXPECT_TRUE(MacAddress().is_zero());
  EXPECT_LT(MacAddress(0, 0, 0, 0, 0, 1), MacAddress(0, 0, 0, 0, 1, 0));
}

TEST(Ipv4Address, ParsesDottedQuads) {
  EXPECT_EQ(Ipv4Address::parse("0.0.0.0").value(), Ipv4Address::unspecified());
  EXPECT_EQ(Ipv4Address::parse("255.255.255.255").value(), Ipv4Address::broadcast());
  EXPECT_EQ(Ipv4Address::parse("93.184.215.14").value(), Ipv4Address(93, 184, 215, 14));
  EXPECT_EQ(Ipv4Address::parse("10.0.0.0").value(), Ipv4Address(10, 0, 0, 0));
}

TEST(Ipv4Address, RejectsAnythingElse) {
  for (std::string_view bad :
       {"", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1..2.3", "256.1.1.1", "1.2.3.1000", "01.2.3.4",
        "1.2.3.04", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "1,2,3,4", "1.2.3.4.5"}) {
    EXPECT_EQ(Ipv4Address::parse(bad).status(), Status::invalid_argument()) << bad;
  }
}

TEST(Ipv4Address, FormatsAndRoundTrips) {
  std::array<char, 32> text{};
  for (std::string_view address : {"0.0.0.0", "192.168.69.105", "255.255.255.255", "10.9.80.7"}) {
    const Ipv4Address parsed = Ipv4Address::parse(address).value();
    EXPECT_EQ(text_of(parsed.format(text), text), address);
  }
  std::array<char, 8> small{};
  EXPECT_EQ(Ipv4Address(1, 2, 3, 4).format(small).value(), 7u);  // exactly fits
  std::array<char, 6> too_small{};
  EXPECT_EQ(Ipv4Address(1, 2, 3, 4).format(too_small).status(), Status::resource_exhausted());
}

TEST(Ipv4Address, ReadsAndWritesNetworkOrder) {
  constexpr auto kBytes = make_bytes(192, 168, 69, 1);
  EXPECT_EQ(Ipv4Address::from_bytes(kBytes.data()), Ipv4Address(192, 168, 69, 1));
  std::array<std::byte, 4> out{};
  Ipv4Address(192, 168, 69, 1).write_to(out.data());
  EXPECT_EQ(out, kBytes);
  EXPECT_EQ(Ipv4Address(192, 168, 69, 1).octets(), (std::array<std::uint8_t, 4>{192, 168, 69, 1}));
}

TEST(Ipv4Address, Classifies) {
  EXPECT_TRUE(Ipv4Address().is_unspecified());
  EXPECT_TRUE(Ipv4Address::broadcast().is_broadcast());
  EXPECT_TRUE(Ipv4Address(224, 0, 0, 251).is_multicast());
  EXPECT_TRUE(Ipv4Address(239, 255, 255, 250).is_multicast());
  EXPECT_FALSE(Ipv4Address(240, 0, 0, 1).is_multicast());
  EXPECT_TRUE(Ipv4Address(127, 0, 0, 1).is_loopback());
  EXPECT_TRUE(Ipv4Address(169, 254, 1, 2).is_link_local());
  EXPECT_TRUE(Ipv4Address(10, 1, 2, 3).is_private());
  EXPECT_TRUE(Ipv4Address(172, 31, 0, 1).is_private());
  EXPECT_FALSE(Ipv4Address(172, 32, 0, 1).is_private());
  EXPECT_TRUE(Ipv4Address(192, 168, 0, 1).is_private());
  EXPECT_TRUE(Ipv4Address(93, 184, 215, 14).is_unicast());
  EXPECT_FALSE(Ipv4Address(224, 0, 0, 1).is_unicast());
  EXPECT_TRUE(Ipv4Address(192, 168, 69, 1).same_subnet(Ipv4Address(192, 168, 69, 105), 24));
  EXPECT_FALSE(Ipv4Address(192, 168, 69, 1).same_subnet(Ipv4Address(192, 168, 70, 2), 24));
  EXPECT_TRUE(Ipv4Address(1, 2, 3, 4).same_subnet(Ipv4Address(5, 6, 7, 8), 0));
  EXPECT_FALSE(Ipv4Address(1, 2, 3, 4).same_subnet(Ipv4Address(1, 2, 3, 5), 32));
}

}  // namespace
}  // namespace mote::net::wire
