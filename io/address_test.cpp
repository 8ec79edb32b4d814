#include "mote/io/address.hpp"

#include <gtest/gtest.h>
#include <string>

namespace mote::io {
namespace {

template <typename T>
std::string text(const T& value) {
  char buffer[Endpoint::kMaxTextLen];
  Result<std::size_t> n = value.format(buffer);
  EXPECT_TRUE(n.ok());
  return n.ok() ? std::string(buffer, *n) : std::string("<error>");
}

TEST(Ipv6AddressTest, ParsesEveryTextForm) {
  const Ipv6Address doc = Ipv6Address::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1});
  EXPECT_EQ(Ipv6Address::parse("2001:db8::1").value(), doc);
  EXPECT_EQ(Ipv6Address::parse("2001:0DB8:0000:0000:0000:0000:0000:0001").value(), doc);
  EXPECT_EQ(Ipv6Address::parse("2001:db8:0:0:0:0:0:1").value(), doc);
  EXPECT_EQ(Ipv6Address::parse("::").value(), Ipv6Address());
  EXPECT_EQ(Ipv6Address::parse("::1").value(), Ipv6Address::loopback());
  EXPECT_EQ(Ipv6Address::parse("fe80::").value(),
            Ipv6Address::from_groups({0xfe80, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(Ipv6Address::parse("::ffff:192.0.2.1").value(),
            Ipv6Address::v4_mapped(Ipv4Address(192, 0, 2, 1)));
  EXPECT_EQ(Ipv6Address::parse("1:2:3:4:5:6:7::").value(),
            Ipv6Address::from_groups({1, 2, 3, 4, 5, 6, 7, 0}));
  EXPECT_EQ(Ipv6Address::parse("::2:3:4:5:6:7:8").value(),
            Ipv6Address::from_groups({0, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(Ipv6AddressTest, RejectsMalformedText) {
  for (const char* bad :
       {"", ":", ":::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1",
        "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", ":1::", "1::2:", "fe80::1%eth0", "::ffff:1.2.3",
        "::1.2.3.4.5", "1:2:3:4:5:6:7:1.2.3.4", "[::1]", " ::1"}) {
    EXPECT_EQ(Ipv6Address::parse(bad).status(), Status::invalid_argument()) << bad;
  }
}

TEST(Ipv6AddressTest, FormatsAsRfc5952Says) {
  EXPECT_EQ(text(Ipv6Address::parse("2001:0db8:0000:0000:0000:0000:0000:0001").value()),
            "2001:db8::1");
  EXPECT_EQ(text(Ipv6Address()), "::");
  EXPECT_EQ(text(Ipv6Address::loopback()), "::1");
  // §4.2.2: a single zero group is not compressed.
  EXPECT_EQ(text(Ipv6Address::parse("2001:db8:0:1:1:1:1:1").value()), "2001:db8:0:1:1:1:1:1");
  // §4.2.3: the longest run, and the first of equal runs.
  EXPECT_EQ(text(Ipv6Address::parse("2001:0:0:1:0:0:0:1").value()), "2001:0:0:1::1");
  EXPECT_EQ(text(Ipv6Address::parse("2001:db8:0:0:1:0:0:1").value()), "2001:db8::1:0:0:1");
  EXPECT_EQ(text(Ipv6Address::parse("FE80::ABCD").value()), "fe80::abcd");
  EXPECT_EQ(text(Ipv6Address::v4_mapped(Ipv4Address(192, 0, 2, 1))), "::ffff:192.0.2.1");
  EXPECT_EQ(text(Ipv6Address::parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").value()),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(Ipv6AddressTest, Classifies) {
  EXPECT_TRUE(Ipv6Address::parse("ff02::1").value().is_multicast());
  EXPECT_TRUE(Ipv6Address::parse("fe80::1").value().is_link_local());
  EXPECT_FALSE(Ipv6Address::parse("fec0::1").value().is_link_local());
  EXPECT_TRUE(Ipv6Address::parse("::ffff:10.0.0.1").value().is_v4_mapped());
  EXPECT_EQ(Ipv6Address::parse("::ffff:10.0.0.1").value().to_v4(), Ipv4Address(10, 0, 0, 1));
}

TEST(IpAddressTest, HoldsEitherFamily) {
  const IpAddress v4 = IpAddress::parse("127.0.0.1").value();
  const IpAddress v6 = IpAddress::parse("::1").value();
  EXPECT_TRUE(v4.is_v4());
  EXPECT_TRUE(v6.is_v6());
  EXPECT_TRUE(v4.is_loopback());
  EXPECT_TRUE(v6.is_loopback());
  EXPECT_NE(v4, v6);
  EXPECT_EQ(text(v4), "127.0.0.1");
  EXPECT_EQ(text(v6), "::1");
  EXPECT_EQ(IpAddress::parse("localhost").status(), Status::invalid_argument());
}

TEST(EndpointTest, ParsesAndFormatsBothFamilies) {
  const Endpoint broker = Endpoint::parse("192.0.2.10:1883").value();
  EXPECT_EQ(broker.address, IpAddress(Ipv4Address(192, 0, 2, 10)));
  EXPECT_EQ(broker.port, 1883);
  EXPECT_EQ(text(broker), "192.0.2.10:1883");
  const Endpoint coap = Endpoint::parse("[2001:db8::1]:5683").value();
  EXPECT_EQ(coap.address, IpAddress(Ipv6Address::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1})));
  EXPECT_EQ(coap.port, 5683);
  EXPECT_EQ(text(coap), "[2001:db8::1]:5683");
  EXPECT_EQ(Endpoint::parse("0.0.0.0:0").value().port, 0);
  EXPECT_EQ(Endpoint::parse("1.2.3.4:65535").value().port, 65535);
  for (const char* bad : {"1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:01", "1.2.3.4:-1",
                          "::1:80", "[::1]", "[::1]80", "[1.2.3.4]:80", "host:80", ":80"}) {
    EXPECT_EQ(Endpoint::parse(bad).status(), Status::invalid_argument()) << bad;
  }
}

TEST(AddressFormatTest, TooSmallBufferWritesNothing) {
  char small[4] = {'x', 'x', 'x', 'x'};
  EXPECT_EQ(Ipv6Address::loopback().format(std::span<char>(small, 2)).status(),
            Status::resource_exhausted());
  EXPECT_EQ(Endpoint::parse("1.2.3.4:5").value().format(small).status(),
            Status::resource_exhausted());
  EXPECT_EQ(small[0], 'x');
}

}  // namespace
}  // namespace mote::io
