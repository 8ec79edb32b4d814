#include "mote/net/wire/dhcp.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "testdata/captures.hpp"
#include "testdata/layers.hpp"

namespace mote::net::wire {
namespace {

using testdata::copy_of;
using testdata::udp_payload_of;

constexpr MacAddress kClient(0x02, 0, 0, 0, 0, 0x0c);
constexpr Ipv4Address kClientIp(192, 168, 69, 105);
constexpr Ipv4Address kServerIp(192, 168, 69, 1);
constexpr std::uint8_t kRequestedParameters[] = {1, 28, 3, 6, 15, 12};

DhcpRepr parse(ConstByteSpan bytes) {
  return DhcpRepr::parse(DhcpPacket<>::checked(bytes).value()).value();
}

Status parse_status(ConstByteSpan bytes) {
  Result<DhcpPacket<>> packet = DhcpPacket<>::checked(bytes);
  if (!packet.ok()) return packet.status();
  return DhcpRepr::parse(*packet).status();
}

// The options area of `message` replaced by `options` (cookie kept).
std::vector<std::byte> with_options(ConstByteSpan message, std::initializer_list<int> options) {
  std::vector<std::byte> bytes(message.begin(), message.begin() + 240);
  for (int option : options) bytes.push_back(static_cast<std::byte>(option));
  return bytes;
}

TEST(DhcpRepr, ParsesDhclientsDiscover) {
  const auto packet = DhcpPacket<>::checked(udp_payload_of(testdata::kDhcpDiscover)).value();
  EXPECT_EQ(packet.op(), DhcpPacket<>::kBootRequest);
  EXPECT_EQ(packet.magic_cookie(), DhcpPacket<>::kMagicCookie);
  const DhcpRepr repr = DhcpRepr::parse(packet).value();
  EXPECT_EQ(repr.message_type, DhcpMessageType::discover);
  EXPECT_EQ(repr.transaction_id, packet.transaction_id());
  EXPECT_EQ(repr.client_hardware_address, kClient);
  EXPECT_FALSE(repr.broadcast);
  EXPECT_EQ(repr.host_name, "mote-node");
  EXPECT_TRUE(same_bytes(repr.parameter_request_list, bytes_of(kRequestedParameters)));
  EXPECT_FALSE(repr.server_identifier.has_value());
  EXPECT_FALSE(repr.requested_ip.has_value());
}

TEST(DhcpRepr, ParsesDnsmasqsOfferAndAck) {
  const DhcpRepr offer = parse(udp_payload_of(testdata::kDhcpOffer));
  EXPECT_EQ(offer.message_type, DhcpMessageType::offer);
  EXPECT_EQ(offer.your_ip, kClientIp);
  EXPECT_EQ(offer.server_ip, kServerIp);
  EXPECT_EQ(offer.server_identifier, kServerIp);
  EXPECT_EQ(offer.lease_time, 43200u);
  EXPECT_EQ(offer.renewal_time, 21600u);
  EXPECT_EQ(offer.rebinding_time, 37800u);
  EXPECT_EQ(offer.subnet_mask, Ipv4Address(255, 255, 255, 0));
  EXPECT_EQ(offer.broadcast_address, Ipv4Address(192, 168, 69, 255));
  EXPECT_EQ(offer.router, kServerIp);
  ASSERT_EQ(offer.dns_servers.size(), 1u);
  EXPECT_EQ(offer.dns_servers[0], kServerIp);
  EXPECT_EQ(offer.domain_name, "lan");
  EXPECT_TRUE(offer.host_name.empty());

  const DhcpRepr ack = parse(udp_payload_of(testdata::kDhcpAck));
  EXPECT_EQ(ack.message_type, DhcpMessageType::ack);
  EXPECT_EQ(ack.transaction_id, offer.transaction_id);
  EXPECT_EQ(ack.host_name, "mote-node");
}

TEST(DhcpRepr, ParsesRequestReleaseAndNak) {
  const DhcpRepr request = parse(udp_payload_of(testdata::kDhcpRequest));
  EXPECT_EQ(request.message_type, DhcpMessageType::request);
  EXPECT_EQ(request.server_identifier, kServerIp);
  EXPECT_EQ(request.requested_ip, kClientIp);

  const DhcpRepr reboot = parse(udp_payload_of(testdata::kDhcpRequestInitReboot));
  EXPECT_EQ(reboot.requested_ip, Ipv4Address(192, 168, 99, 5));
  EXPECT_FALSE(reboot.server_identifier.has_value());

  const DhcpRepr release = parse(udp_payload_of(testdata::kDhcpRelease));
  EXPECT_EQ(release.message_type, DhcpMessageType::release);
  EXPECT_EQ(release.client_ip, kClientIp);

  const DhcpRepr nak = parse(udp_payload_of(testdata::kDhcpNak));
  EXPECT_EQ(nak.message_type, DhcpMessageType::nak);
  EXPECT_TRUE(nak.broadcast);
  EXPECT_EQ(nak.message, "wrong network");
  EXPECT_EQ(nak.your_ip, Ipv4Address());
}

TEST(DhcpRepr, RoundTripsEveryCapturedMessageByteForByte) {
  for (auto frame : {std::span<const std::uint8_t>(testdata::kDhcpDiscover),
                     std::span<const std::uint8_t>(testdata::kDhcpOffer),
                     std::span<const std::uint8_t>(testdata::kDhcpRequest),
                     std::span<const std::uint8_t>(testdata::kDhcpAck),
                     std::span<const std::uint8_t>(testdata::kDhcpRelease),
                     std::span<const std::uint8_t>(testdata::kDhcpRequestInitReboot),
                     std::span<const std::uint8_t>(testdata::kDhcpNak)}) {
    const ConstByteSpan original = udp_payload_of(frame);
    const DhcpRepr repr = parse(original);
    ASSERT_EQ(repr.buffer_len(), original.size());
    std::vector<std::byte> out(repr.buffer_len());
    ASSERT_EQ(repr.emit(out).value(), original.size());
    EXPECT_EQ(out, copy_of(original));
  }
}

TEST(DhcpRepr, EmitsADiscoverFromScratch) {
  DhcpRepr discover;
  discover.message_type = DhcpMessageType::discover;
  discover.transaction_id = 0x3903f326;
  discover.client_hardware_address = kClient;
  discover.broadcast = true;
  discover.host_name = "mote";
  discover.max_message_size = 1500;
  constexpr auto kClientId = make_bytes(1, 0x02, 0, 0, 0, 0, 0x0c);
  discover.client_identifier = kClientId;
  constexpr auto kParameters = make_bytes(1, 3, 6, 51, 58, 59);
  discover.parameter_request_list = kParameters;
  EXPECT_EQ(discover.buffer_len(), DhcpRepr::kMinMessageLen);
  std::vector<std::byte> out(discover.buffer_len());
  ASSERT_TRUE(discover.emit(out).ok());
  EXPECT_EQ(out[0], std::byte{1});  // BOOTREQUEST
  EXPECT_EQ(load_be16(out.data() + 10), 0x8000);
  EXPECT_EQ(parse(out), discover);
}

TEST(DhcpRepr, LongOptionsGrowTheMessagePast300Bytes) {
  DhcpRepr offer = parse(udp_payload_of(testdata::kDhcpOffer));
  const std::string long_name(200, 'n');
  offer.domain_name = long_name;
  EXPECT_GT(offer.buffer_len(), DhcpRepr::kMinMessageLen);
  std::vector<std::byte> out(offer.buffer_len());
  ASSERT_TRUE(offer.emit(out).ok());
  EXPECT_EQ(out.back(), std::byte{0xff});  // END, no padding needed
  EXPECT_EQ(parse(out), offer);
}

TEST(DhcpPacket, RejectsTruncatedOrForeignMessages) {
  const ConstByteSpan discover = udp_payload_of(testdata::kDhcpDiscover);
  EXPECT_EQ(parse_status(discover.first(239)), Status::out_of_range());
  EXPECT_EQ(parse_status(discover.first(240)), Status::unimplemented());  // no options: BOOTP

  auto bad_cookie = copy_of(discover);
  bad_cookie[239] = std::byte{0x64};
  EXPECT_EQ(parse_status(bad_cookie), Status::invalid_argument());
  auto long_chaddr = copy_of(discover);
  long_chaddr[2] = std::byte{17};
  EXPECT_EQ(parse_status(long_chaddr), Status::invalid_argument());
  auto token_ring = copy_of(discover);
  token_ring[1] = std::byte{6};
  EXPECT_EQ(parse_status(token_ring), Status::unimplemented());
}

TEST(DhcpPacket, WalksOptionsWithinBounds) {
  const ConstByteSpan discover = udp_payload_of(testdata::kDhcpDiscover);
  EXPECT_EQ(parse_status(with_options(discover, {53, 1, 1, 12})), Status::out_of_range());
  EXPECT_EQ(parse_status(with_options(discover, {53, 1, 1, 12, 5, 'm', 'o'})),
            Status::out_of_range());
  // PADs anywhere, and no END when the options fill the message, are fine.
  EXPECT_TRUE(parse_status(with_options(discover, {0, 0, 53, 1, 1, 0})).ok());
  // Garbage after END is never looked at.
  EXPECT_TRUE(parse_status(with_options(discover, {53, 1, 1, 255, 12, 200})).ok());

  const auto packet = DhcpPacket<>::checked(discover).value();
  std::vector<std::uint8_t> codes;
  DhcpOptionReader reader(packet.options());
  while (auto option = reader.next()) codes.push_back(option->code);
  EXPECT_EQ(codes, (std::vector<std::uint8_t>{53, 12, 55}));
}

TEST(DhcpRepr, RejectsBadOptionSizesAndTypes) {
  const ConstByteSpan discover = udp_payload_of(testdata::kDhcpDiscover);
  EXPECT_EQ(parse_status(with_options(discover, {12, 3, 'a', 'b', 'c', 255})),
            Status::unimplemented());  // no message type: BOOTP
  EXPECT_EQ(parse_status(with_options(discover, {53, 1, 9, 255})), Status::unimplemented());
  EXPECT_EQ(parse_status(with_options(discover, {53, 1, 0, 255})), Status::unimplemented());
  EXPECT_EQ(parse_status(with_options(discover, {53, 2, 1, 1, 255})), Status::invalid_argument());
  // An OFFER sent as a BOOTREQUEST.
  EXPECT_EQ(parse_status(with_options(discover, {53, 1, 2, 255})), Status::invalid_argument());
  EXPECT_EQ(parse_status(with_options(discover, {53, 1, 1, 51, 3, 0, 0, 1, 255})),
            Status::invalid_argument());
  EXPECT_EQ(parse_status(with_options(discover, {53, 1, 1, 3, 6, 1, 2, 3, 4, 5, 6, 255})),
            Status::invalid_argument());
  EXPECT_EQ(parse_status(with_options(discover, {53, 1, 1, 57, 2, 0x01, 0xf4, 255})),
            Status::invalid_argument());  // max message size 500 < 576
  EXPECT_EQ(parse_status(with_options(discover, {53, 1, 1, 12, 0, 255})),
            Status::invalid_argument());
  EXPECT_EQ(parse_status(with_options(discover, {53, 1, 1, 61, 1, 1, 255})),
            Status::invalid_argument());
}

TEST(DhcpRepr, KeepsTheFirstServersInOrder) {
  const ConstByteSpan discover = udp_payload_of(testdata::kDhcpDiscover);
  const auto bytes = with_options(discover, {53, 1, 1, 6, 16, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3,
                                             3,  4, 4, 4, 4,  3, 8, 9, 9, 9, 9, 8, 8, 8, 8, 255});
  const DhcpRepr repr = parse(bytes);
  ASSERT_EQ(repr.dns_servers.size(), 3u);
  EXPECT_EQ(repr.dns_servers[0], Ipv4Address(1, 1, 1, 1));
  EXPECT_EQ(repr.dns_servers[2], Ipv4Address(3, 3, 3, 3));
  EXPECT_EQ(repr.router, Ipv4Address(9, 9, 9, 9));
}

TEST(DhcpRepr, EmitChecksSizes) {
  DhcpRepr repr = parse(udp_payload_of(testdata::kDhcpDiscover));
  std::vector<std::byte> small(299);
  EXPECT_EQ(repr.emit(small).status(), Status::resource_exhausted());
  const std::string too_long(256, 'h');
  repr.host_name = too_long;
  std::vector<std::byte> out(1024);
  EXPECT_EQ(repr.emit(out).status(), Status::invalid_argument());
}

}  // namespace
}  // namespace mote::net::wire
