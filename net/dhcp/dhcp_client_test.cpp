#include "mote/net/dhcp/dhcp_client.hpp"

#include <deque>
#include <gtest/gtest.h>
#include <vector>

#include "../wire/testdata/captures.hpp"
#include "../wire/testdata/layers.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using wire::DhcpMessageType;
using wire::DhcpRepr;
using State = DhcpClient::State;
using Kind = DhcpEvent::Kind;

constexpr wire::MacAddress kMac(0x02, 0, 0, 0, 0, 0x0c);
constexpr io::Ipv4Address kLeased(192, 168, 69, 105);
constexpr io::Ipv4Address kServer(192, 168, 69, 1);
constexpr io::Ipv4Address kBroadcast = io::Ipv4Address::broadcast();
// The transaction ids dhclient used in the captures.
constexpr std::uint32_t kCapturedXid = 0xba127845;
constexpr std::uint32_t kCapturedRebootXid = 0x48a7ed6f;
// next_u32() % 2'000'001 == 1'000'000: no jitter.
constexpr std::uint32_t kNoJitter = 1'000'000;

// Scripted numbers, then kNoJitter forever.
class ScriptedRandom final : public RandomSource {
 public:
  std::uint32_t next_u32() override {
    if (values.empty()) return kNoJitter;
    const std::uint32_t value = values.front();
    values.pop_front();
    return value;
  }
  std::deque<std::uint32_t> values;
};

const Instant kT0 = Instant{} + 1000s;

DhcpRepr captured(std::span<const std::uint8_t> frame) {
  const auto packet = wire::DhcpPacket<>::checked(wire::testdata::udp_payload_of(frame)).value();
  return DhcpRepr::parse(packet).value();
}

// The message as the server sees it: emitted and parsed back.
DhcpRepr on_the_wire(const DhcpRepr& message, std::vector<std::byte>& storage) {
  storage.assign(message.buffer_len(), std::byte{0});
  EXPECT_EQ(message.emit(storage).value(), storage.size());
  return DhcpRepr::parse(wire::DhcpPacket<>::checked(ConstByteSpan(storage)).value()).value();
}

class DhcpClientTest : public ::testing::Test {
 protected:
  DhcpClientTest() : client(kMac, random) {}

  DhcpTransmit expect_send(Instant now) {
    std::optional<DhcpTransmit> sent = client.poll(now);
    EXPECT_TRUE(sent.has_value());
    if (!sent) return {};
    std::vector<std::byte> storage;
    EXPECT_EQ(on_the_wire(sent->message, storage), sent->message);
    return *sent;
  }
  void expect_quiet(Instant now) { EXPECT_FALSE(client.poll(now).has_value()); }

  // Start -> DISCOVER -> dnsmasq's OFFER -> REQUEST, at kT0 + 10ms.
  void request_captured_offer() {
    random.values.push_back(kCapturedXid);
    client.start(kT0);
    expect_send(kT0);
    ASSERT_TRUE(client.handle(captured(wire::testdata::kDhcpOffer), kT0 + 10ms).ok());
    expect_send(kT0 + 10ms);
    ASSERT_EQ(client.state(), State::requesting);
  }
  // ... -> dnsmasq's ACK at kT0 + 20ms.
  void bind_with_captures() {
    request_captured_offer();
    ASSERT_TRUE(client.handle(captured(wire::testdata::kDhcpAck), kT0 + 20ms).ok());
    ASSERT_EQ(client.state(), State::bound);
    ASSERT_EQ(client.take_event()->kind, Kind::acquired);
  }
  // When the captured lease (12 h, T1 6 h, T2 10.5 h) acquired at kT0 + 20ms ends.
  static Instant at(Duration since_ack) { return kT0 + 20ms + since_ack; }

  ScriptedRandom random;
  DhcpClient client;
};

TEST_F(DhcpClientTest, StoppedUntilStarted) {
  EXPECT_EQ(client.state(), State::stopped);
  EXPECT_EQ(client.poll_at(), async::kNever);
  expect_quiet(kT0);
  EXPECT_EQ(client.handle(captured(wire::testdata::kDhcpOffer), kT0).code(), StatusCode::not_found);
}

TEST_F(DhcpClientTest, LeaseFromDnsmasqCaptures) {
  random.values = {kCapturedXid};
  client.start(kT0);
  EXPECT_EQ(client.poll_at(), kT0);

  const DhcpTransmit discover = expect_send(kT0);
  EXPECT_EQ(client.state(), State::selecting);
  EXPECT_EQ(discover.message.message_type, DhcpMessageType::discover);
  EXPECT_EQ(discover.message.transaction_id, kCapturedXid);
  EXPECT_EQ(discover.message.client_hardware_address, kMac);
  EXPECT_TRUE(discover.message.broadcast);
  EXPECT_EQ(discover.message.secs, 0);
  EXPECT_EQ(discover.source, io::Ipv4Address());
  EXPECT_EQ(discover.destination, kBroadcast);
  EXPECT_FALSE(discover.message.server_identifier.has_value());
  const std::uint8_t requested[] = {1, 3, 6, 51, 58, 59};
  EXPECT_TRUE(
      wire::same_bytes(discover.message.parameter_request_list, bytes_of(std::span(requested))));
  expect_quiet(kT0);

  // dnsmasq's OFFER two seconds later; the REQUEST goes out at once.
  ASSERT_TRUE(client.handle(captured(wire::testdata::kDhcpOffer), kT0 + 2s).ok());
  EXPECT_EQ(client.state(), State::requesting);
  EXPECT_EQ(client.poll_at(), kT0 + 2s);
  const DhcpTransmit request = expect_send(kT0 + 2s);
  EXPECT_EQ(request.message.message_type, DhcpMessageType::request);
  EXPECT_EQ(request.message.transaction_id, kCapturedXid);  // RFC 2131 §4.4.1: the OFFER's xid
  EXPECT_EQ(request.message.secs, 2);
  EXPECT_EQ(request.message.server_identifier, kServer);
  EXPECT_EQ(request.message.requested_ip, kLeased);
  EXPECT_EQ(request.message.client_ip, io::Ipv4Address());
  EXPECT_EQ(request.destination, kBroadcast);
  // The same fields dhclient's REQUEST carried to dnsmasq.
  const DhcpRepr dhclients = captured(wire::testdata::kDhcpRequest);
  EXPECT_EQ(request.message.server_identifier, dhclients.server_identifier);
  EXPECT_EQ(request.message.requested_ip, dhclients.requested_ip);
  EXPECT_EQ(client.take_event(), std::nullopt);

  ASSERT_TRUE(client.handle(captured(wire::testdata::kDhcpAck), kT0 + 3s).ok());
  EXPECT_EQ(client.state(), State::bound);
  const std::optional<DhcpEvent> event = client.take_event();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind, Kind::acquired);
  const DhcpLease& lease = event->lease;
  EXPECT_EQ(lease.address, kLeased);
  EXPECT_EQ(lease.prefix_len, 24);
  EXPECT_EQ(lease.router, kServer);
  ASSERT_EQ(lease.dns_servers.size(), 1u);
  EXPECT_EQ(lease.dns_servers[0], kServer);
  EXPECT_EQ(lease.server, kServer);
  EXPECT_EQ(lease.lease_time, Duration(12h));
  EXPECT_EQ(lease.renewal_time, Duration(6h));
  EXPECT_EQ(lease.rebinding_time, Duration(10h + 30min));
  EXPECT_EQ(lease.acquired_at, kT0 + 3s);
  EXPECT_EQ(client.lease(), lease);
  EXPECT_EQ(client.take_event(), std::nullopt);
  // Nothing until T1.
  EXPECT_EQ(client.poll_at(), kT0 + 3s + 6h);
  expect_quiet(kT0 + 3s + 6h - 1us);
}

TEST_F(DhcpClientTest, DiscoverBacksOffFourEightSixteenUpToSixtyFourSeconds) {
  client.start(kT0);
  Instant now = kT0;
  expect_send(now);
  const std::uint32_t xid = client.transaction_id();
  for (Duration delay : {4s, 8s, 16s, 32s, 64s, 64s, 64s}) {
    EXPECT_EQ(client.poll_at(), now + delay);
    expect_quiet(now + delay - 1us);
    now += delay;
    const DhcpTransmit again = expect_send(now);
    EXPECT_EQ(again.message.message_type, DhcpMessageType::discover);
    EXPECT_EQ(again.message.transaction_id, xid);  // a retransmission, not a new exchange
    EXPECT_EQ(again.message.secs,
              std::chrono::duration_cast<std::chrono::seconds>(now - kT0).count());
  }
}

TEST_F(DhcpClientTest, RetransmissionJitterIsPlusMinusOneSecond) {
  random.values = {7, 0, 2'000'000, 2'000'001 + 250'000};
  client.start(kT0);
  expect_send(kT0);  // xid 7; jitter from 0: -1 s
  EXPECT_EQ(client.poll_at(), kT0 + 3s);
  expect_send(kT0 + 3s);  // jitter from 2'000'000: +1 s
  EXPECT_EQ(client.poll_at(), kT0 + 3s + 9s);
  expect_send(kT0 + 12s);  // 250'000 µs: -0.75 s
  EXPECT_EQ(client.poll_at(), kT0 + 12s + 16s - 750ms);
}

TEST_F(DhcpClientTest, RequestRetransmitsThenStartsOverWithANewTransaction) {
  random.values = {kCapturedXid};
  client.start(kT0);
  expect_send(kT0);
  ASSERT_TRUE(client.handle(captured(wire::testdata::kDhcpOffer), kT0).ok());
  Instant now = kT0;
  for (Duration delay : {0s, 4s, 8s, 16s}) {
    now += delay;
    EXPECT_EQ(client.poll_at(), now);
    const DhcpTransmit request = expect_send(now);
    EXPECT_EQ(request.message.message_type, DhcpMessageType::request);
    EXPECT_EQ(request.message.transaction_id, kCapturedXid);
  }
  // The fourth REQUEST went unanswered for 32 s: back to DISCOVER.
  now += 32s;
  random.values = {0x1234};
  const DhcpTransmit discover = expect_send(now);
  EXPECT_EQ(client.state(), State::selecting);
  EXPECT_EQ(discover.message.message_type, DhcpMessageType::discover);
  EXPECT_EQ(discover.message.transaction_id, 0x1234u);
  EXPECT_EQ(discover.message.secs, 0);
  // The old transaction's ACK is no longer accepted.
  EXPECT_EQ(client.handle(captured(wire::testdata::kDhcpAck), now).code(), StatusCode::not_found);
}

TEST_F(DhcpClientTest, RenewsAtT1UnicastAndRetransmitsAtHalfTheTimeToT2) {
  bind_with_captures();
  random.values = {0xabcd};
  expect_quiet(at(6h) - 1us);
  const DhcpTransmit renew = expect_send(at(6h));
  EXPECT_EQ(client.state(), State::renewing);
  EXPECT_EQ(renew.message.message_type, DhcpMessageType::request);
  EXPECT_EQ(renew.message.transaction_id, 0xabcdu);
  EXPECT_EQ(renew.message.client_ip, kLeased);
  EXPECT_FALSE(renew.message.server_identifier.has_value());  // RFC 2131 Table 5: MUST NOT
  EXPECT_FALSE(renew.message.requested_ip.has_value());
  EXPECT_FALSE(renew.message.broadcast);
  EXPECT_EQ(renew.source, kLeased);
  EXPECT_EQ(renew.destination, kServer);
  EXPECT_EQ(client.take_event(), std::nullopt);  // the lease holds meanwhile

  // T2 is 4.5 h away: retry after half of it, 2 h 15 min, then 1 h 7.5 min ...
  EXPECT_EQ(client.poll_at(), at(6h + 135min));
  expect_send(at(6h + 135min));
  EXPECT_EQ(client.poll_at(), at(6h + 135min + 67min + 30s));

  // ... and the server answers the retransmission.
  DhcpRepr ack = captured(wire::testdata::kDhcpAck);
  ack.transaction_id = 0xabcd;
  ASSERT_TRUE(client.handle(ack, at(7h)).ok());
  EXPECT_EQ(client.state(), State::bound);
  const std::optional<DhcpEvent> renewed = client.take_event();
  ASSERT_TRUE(renewed.has_value());
  EXPECT_EQ(renewed->kind, Kind::renewed);
  EXPECT_EQ(renewed->lease.acquired_at, at(7h));
  EXPECT_EQ(client.poll_at(), at(7h + 6h));
}

TEST_F(DhcpClientTest, RenewingRetransmitsNoSoonerThanSixtySeconds) {
  DhcpRepr ack = captured(wire::testdata::kDhcpAck);
  request_captured_offer();
  ack.lease_time = 1000;
  ack.renewal_time = 900;
  ack.rebinding_time = 950;
  ASSERT_TRUE(client.handle(ack, kT0).ok());
  expect_send(kT0 + 900s);
  // Half of the 50 s to T2 is 25 s: RFC 2131 §4.4.5 says 60 s at least, so
  // the next thing is T2 itself.
  EXPECT_EQ(client.poll_at(), kT0 + 950s);
  expect_quiet(kT0 + 949s);
  const DhcpTransmit rebind = expect_send(kT0 + 950s);
  EXPECT_EQ(client.state(), State::rebinding);
  EXPECT_EQ(rebind.destination, kBroadcast);
  // 50 s of lease left: again the 60 s minimum, so expiry comes first.
  EXPECT_EQ(client.poll_at(), kT0 + 1000s);
}

TEST_F(DhcpClientTest, RebindsAtT2BroadcastThenLosesTheLeaseAtExpiry) {
  bind_with_captures();
  random.values = {0x5555};
  expect_send(at(6h));  // RENEWING, unanswered
  int renewals = 1;
  for (; client.poll_at() < at(10h + 30min); ++renewals) expect_send(client.poll_at());
  EXPECT_EQ(renewals, 10);  // waits of 2 h 15 min, 67.5 min, ... then 60 s
  const DhcpTransmit rebind = expect_send(at(10h + 30min));
  EXPECT_EQ(client.state(), State::rebinding);
  EXPECT_NE(rebind.message.transaction_id, 0x5555u);  // a new exchange
  EXPECT_EQ(rebind.message.client_ip, kLeased);
  EXPECT_EQ(rebind.source, kLeased);
  EXPECT_EQ(rebind.destination, kBroadcast);
  EXPECT_FALSE(rebind.message.server_identifier.has_value());
  // 1.5 h of lease left: retry after 45 min, then after half of what is
  // left each time ...
  EXPECT_EQ(client.poll_at(), at(10h + 30min + 45min));
  for (Duration when : {Duration(11h + 15min), Duration(11h + 37min + 30s),
                        Duration(11h + 48min + 45s), Duration(11h + 54min + 22500ms),
                        Duration(11h + 57min + 11250ms), Duration(11h + 58min + 35625ms)}) {
    EXPECT_EQ(client.poll_at(), at(when));
    expect_send(at(when));
  }
  // ... but no sooner than 60 s.
  EXPECT_EQ(client.poll_at(), at(11h + 59min + 35625ms));
  expect_send(at(11h + 59min + 35625ms));
  EXPECT_EQ(client.take_event(), std::nullopt);

  // Expiry comes before the next retry: the lease is lost and DISCOVER goes
  // out at once.
  EXPECT_EQ(client.poll_at(), at(12h));
  random.values = {0x7777};
  const DhcpTransmit discover = expect_send(at(12h));
  EXPECT_EQ(discover.message.message_type, DhcpMessageType::discover);
  EXPECT_EQ(discover.message.transaction_id, 0x7777u);
  EXPECT_EQ(discover.source, io::Ipv4Address());
  EXPECT_EQ(client.state(), State::selecting);
  EXPECT_FALSE(client.lease().has_value());
  const std::optional<DhcpEvent> lost = client.take_event();
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(lost->kind, Kind::lost);
  EXPECT_EQ(lost->lease.address, kLeased);
}

TEST_F(DhcpClientTest, AckWhileRebindingFromAnotherServerMovesTheLease) {
  bind_with_captures();
  expect_send(at(6h));
  expect_send(at(6h + 135min));
  random.values = {0x99};
  expect_send(at(10h + 30min));
  DhcpRepr ack = captured(wire::testdata::kDhcpAck);
  ack.transaction_id = 0x99;
  ack.server_identifier = io::Ipv4Address(192, 168, 69, 2);
  ASSERT_TRUE(client.handle(ack, at(11h)).ok());
  const std::optional<DhcpEvent> event = client.take_event();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind, Kind::acquired);  // a parameter changed: reconfigure
  EXPECT_EQ(event->lease.server, io::Ipv4Address(192, 168, 69, 2));
  // Renewals now go to the new server.
  EXPECT_EQ(expect_send(at(11h + 6h)).destination, io::Ipv4Address(192, 168, 69, 2));
}

TEST_F(DhcpClientTest, NakWhileRequestingStartsOver) {
  random.values = {kCapturedXid};
  client.start(kT0);
  expect_send(kT0);
  ASSERT_TRUE(client.handle(captured(wire::testdata::kDhcpOffer), kT0 + 1s).ok());
  expect_send(kT0 + 1s);
  DhcpRepr nak = captured(wire::testdata::kDhcpNak);
  nak.transaction_id = kCapturedXid;
  random.values = {0x4242};
  ASSERT_TRUE(client.handle(nak, kT0 + 2s).ok());
  EXPECT_EQ(client.state(), State::selecting);
  EXPECT_EQ(client.take_event(), std::nullopt);  // there was no lease to lose
  const DhcpTransmit discover = expect_send(kT0 + 2s);
  EXPECT_EQ(discover.message.message_type, DhcpMessageType::discover);
  EXPECT_EQ(discover.message.transaction_id, 0x4242u);
}

TEST_F(DhcpClientTest, NakWhileRenewingLosesTheLease) {
  bind_with_captures();
  random.values = {0x31};
  expect_send(at(6h));
  DhcpRepr nak = captured(wire::testdata::kDhcpNak);
  nak.transaction_id = 0x31;
  ASSERT_TRUE(client.handle(nak, at(6h + 1s)).ok());
  EXPECT_EQ(client.state(), State::selecting);
  const std::optional<DhcpEvent> lost = client.take_event();
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(lost->kind, Kind::lost);
  EXPECT_EQ(expect_send(at(6h + 1s)).message.message_type, DhcpMessageType::discover);
}

TEST_F(DhcpClientTest, InitRebootRequestIsNakedByDnsmasq) {
  // dhclient remembered 192.168.99.5 from another network; dnsmasq said no.
  random.values = {kCapturedRebootXid};
  client.start(kT0, io::Ipv4Address(192, 168, 99, 5));
  EXPECT_EQ(client.state(), State::init_reboot);
  const DhcpTransmit request = expect_send(kT0);
  EXPECT_EQ(client.state(), State::rebooting);
  EXPECT_EQ(request.message.message_type, DhcpMessageType::request);
  EXPECT_EQ(request.message.requested_ip, io::Ipv4Address(192, 168, 99, 5));
  EXPECT_FALSE(
      request.message.server_identifier.has_value());  // RFC 2131 §4.3.2: none in INIT-REBOOT
  EXPECT_EQ(request.message.client_ip, io::Ipv4Address());
  EXPECT_EQ(request.destination, kBroadcast);
  const DhcpRepr dhclients = captured(wire::testdata::kDhcpRequestInitReboot);
  EXPECT_EQ(request.message.requested_ip, dhclients.requested_ip);
  EXPECT_EQ(request.message.transaction_id, dhclients.transaction_id);

  const DhcpRepr nak = captured(wire::testdata::kDhcpNak);
  EXPECT_EQ(nak.message, "wrong network");
  ASSERT_TRUE(client.handle(nak, kT0 + 1s).ok());
  EXPECT_EQ(client.state(), State::selecting);
  EXPECT_EQ(expect_send(kT0 + 1s).message.message_type, DhcpMessageType::discover);
}

TEST_F(DhcpClientTest, InitRebootAckedKeepsTheRememberedAddress) {
  random.values = {0x600d};
  client.start(kT0, kLeased);
  expect_send(kT0);
  DhcpRepr ack = captured(wire::testdata::kDhcpAck);
  ack.transaction_id = 0x600d;
  ASSERT_TRUE(client.handle(ack, kT0 + 1s).ok());
  EXPECT_EQ(client.state(), State::bound);
  EXPECT_EQ(client.take_event()->lease.address, kLeased);
}

TEST_F(DhcpClientTest, InitRebootGivesUpAfterTwoRequests) {
  client.start(kT0, kLeased);
  expect_send(kT0);
  expect_send(kT0 + 4s);
  EXPECT_EQ(client.state(), State::rebooting);
  EXPECT_EQ(client.poll_at(), kT0 + 12s);
  EXPECT_EQ(expect_send(kT0 + 12s).message.message_type, DhcpMessageType::discover);
  EXPECT_EQ(client.state(), State::selecting);
}

TEST_F(DhcpClientTest, IgnoresWhatIsNotForItOrNotExpected) {
  random.values = {kCapturedXid};
  client.start(kT0);
  expect_send(kT0);
  DhcpRepr offer = captured(wire::testdata::kDhcpOffer);

  DhcpRepr other_xid = offer;
  other_xid.transaction_id ^= 1;
  EXPECT_EQ(client.handle(other_xid, kT0).code(), StatusCode::not_found);
  DhcpRepr other_mac = offer;
  other_mac.client_hardware_address = wire::MacAddress(0x02, 0, 0, 0, 0, 0x0d);
  EXPECT_EQ(client.handle(other_mac, kT0).code(), StatusCode::not_found);
  // Another client's DISCOVER seen on the broadcast domain.
  EXPECT_EQ(client.handle(captured(wire::testdata::kDhcpDiscover), kT0).code(),
            StatusCode::not_found);
  // An ACK before any REQUEST.
  EXPECT_EQ(client.handle(captured(wire::testdata::kDhcpAck), kT0).code(),
            StatusCode::failed_precondition);
  // Offers that cannot be used.
  DhcpRepr no_server = offer;
  no_server.server_identifier.reset();
  EXPECT_EQ(client.handle(no_server, kT0).code(), StatusCode::invalid_argument);
  DhcpRepr zero_address = offer;
  zero_address.your_ip = {};
  EXPECT_EQ(client.handle(zero_address, kT0).code(), StatusCode::invalid_argument);
  DhcpRepr broadcast_address = offer;
  broadcast_address.your_ip = kBroadcast;
  EXPECT_EQ(client.handle(broadcast_address, kT0).code(), StatusCode::invalid_argument);
  EXPECT_EQ(client.state(), State::selecting);

  ASSERT_TRUE(client.handle(offer, kT0).ok());
  // A second OFFER (another server) while requesting.
  EXPECT_EQ(client.handle(offer, kT0).code(), StatusCode::failed_precondition);
  expect_send(kT0);
  // ACK or NAK from a server that was not selected.
  DhcpRepr foreign_ack = captured(wire::testdata::kDhcpAck);
  foreign_ack.server_identifier = io::Ipv4Address(10, 0, 0, 1);
  EXPECT_EQ(client.handle(foreign_ack, kT0).code(), StatusCode::failed_precondition);
  DhcpRepr foreign_nak = captured(wire::testdata::kDhcpNak);
  foreign_nak.transaction_id = kCapturedXid;
  foreign_nak.server_identifier = io::Ipv4Address(10, 0, 0, 1);
  EXPECT_EQ(client.handle(foreign_nak, kT0).code(), StatusCode::failed_precondition);
  // An ACK without a lease time.
  DhcpRepr no_lease = captured(wire::testdata::kDhcpAck);
  no_lease.lease_time.reset();
  EXPECT_EQ(client.handle(no_lease, kT0).code(), StatusCode::invalid_argument);
  EXPECT_EQ(client.state(), State::requesting);
  EXPECT_EQ(client.take_event(), std::nullopt);

  ASSERT_TRUE(client.handle(captured(wire::testdata::kDhcpAck), kT0).ok());
  // The same ACK again (a retransmitted REQUEST answered twice).
  EXPECT_EQ(client.handle(captured(wire::testdata::kDhcpAck), kT0).code(),
            StatusCode::failed_precondition);
}

TEST_F(DhcpClientTest, LeaseParametersFromTheAck) {
  request_captured_offer();
  DhcpRepr ack = captured(wire::testdata::kDhcpAck);
  ack.subnet_mask = io::Ipv4Address(255, 255, 240, 0);
  ack.renewal_time = 100;
  ack.rebinding_time = 400;
  ack.lease_time = 1000;
  ack.router.reset();
  ASSERT_TRUE(client.handle(ack, kT0).ok());
  DhcpLease lease = client.take_event()->lease;
  EXPECT_EQ(lease.prefix_len, 20);
  EXPECT_EQ(lease.router, std::nullopt);
  EXPECT_EQ(lease.renewal_time, Duration(100s));
  EXPECT_EQ(lease.rebinding_time, Duration(400s));

  // No mask, or one with holes: the classful prefix (RFC 1122 §3.3.1.1).
  client.start(kT0);
  expect_send(kT0);
  DhcpRepr offer = captured(wire::testdata::kDhcpOffer);
  offer.transaction_id = client.transaction_id();
  offer.your_ip = io::Ipv4Address(10, 1, 2, 3);
  ASSERT_TRUE(client.handle(offer, kT0).ok());
  expect_send(kT0);
  ack.transaction_id = client.transaction_id();
  ack.your_ip = io::Ipv4Address(10, 1, 2, 3);
  ack.subnet_mask = io::Ipv4Address(255, 0, 255, 0);
  ack.renewal_time = 100;
  ack.rebinding_time = 2000;  // beyond the lease: RFC 2131's defaults for both
  ASSERT_TRUE(client.handle(ack, kT0).ok());
  lease = client.take_event()->lease;
  EXPECT_EQ(lease.prefix_len, 8);
  EXPECT_EQ(lease.renewal_time, Duration(500s));
  EXPECT_EQ(lease.rebinding_time, Duration(875s));
}

TEST_F(DhcpClientTest, InfiniteLeaseIsNeverRenewed) {
  request_captured_offer();
  DhcpRepr ack = captured(wire::testdata::kDhcpAck);
  ack.lease_time = 0xffffffff;
  ASSERT_TRUE(client.handle(ack, kT0).ok());
  EXPECT_EQ(client.take_event()->lease.lease_time, DhcpLease::kInfinite);
  EXPECT_EQ(client.poll_at(), async::kNever);
  expect_quiet(kT0 + 24h * 365 * 100);
  EXPECT_EQ(client.state(), State::bound);
}

TEST_F(DhcpClientTest, DeclineBroadcastsAndWaitsTenSeconds) {
  bind_with_captures();
  const Result<DhcpTransmit> decline = client.decline(at(1s));
  ASSERT_TRUE(decline.ok());
  EXPECT_EQ(decline->message.message_type, DhcpMessageType::decline);
  EXPECT_EQ(decline->message.requested_ip, kLeased);
  EXPECT_EQ(decline->message.server_identifier, kServer);
  EXPECT_EQ(decline->message.client_ip, io::Ipv4Address());
  EXPECT_EQ(decline->source, io::Ipv4Address());
  EXPECT_EQ(decline->destination, kBroadcast);
  std::vector<std::byte> storage;
  EXPECT_EQ(on_the_wire(decline->message, storage), decline->message);
  EXPECT_EQ(client.take_event()->kind, Kind::lost);
  EXPECT_EQ(client.state(), State::declined);
  EXPECT_EQ(client.poll_at(), at(11s));
  expect_quiet(at(11s) - 1us);
  EXPECT_EQ(expect_send(at(11s)).message.message_type, DhcpMessageType::discover);
  // Without a lease there is nothing to decline.
  EXPECT_EQ(client.decline(at(12s)).status().code(), StatusCode::failed_precondition);
}

TEST_F(DhcpClientTest, ReleaseUnicastsAndStops) {
  bind_with_captures();
  const Result<DhcpTransmit> release = client.release();
  ASSERT_TRUE(release.ok());
  EXPECT_EQ(release->message.message_type, DhcpMessageType::release);
  EXPECT_EQ(release->message.client_ip, kLeased);
  EXPECT_EQ(release->message.server_identifier, kServer);
  EXPECT_EQ(release->message.secs, 0);
  EXPECT_EQ(release->source, kLeased);
  EXPECT_EQ(release->destination, kServer);
  // The same fields dhclient's RELEASE carried.
  const DhcpRepr dhclients = captured(wire::testdata::kDhcpRelease);
  EXPECT_EQ(release->message.client_ip, dhclients.client_ip);
  EXPECT_EQ(release->message.server_identifier, dhclients.server_identifier);
  EXPECT_EQ(client.take_event()->kind, Kind::lost);
  EXPECT_EQ(client.state(), State::stopped);
  EXPECT_EQ(client.poll_at(), async::kNever);
  expect_quiet(at(24h));
  EXPECT_EQ(client.release().status().code(), StatusCode::failed_precondition);
}

TEST_F(DhcpClientTest, StartDelayIsRandomUpToTheConfiguredMaximum) {
  DhcpClientConfig config;
  config.max_start_delay = 10s;
  config.host_name = "mote-node";
  DhcpClient delayed(kMac, random, config);
  random.values = {3'000'000};
  delayed.start(kT0);
  EXPECT_EQ(delayed.state(), State::init);
  EXPECT_EQ(delayed.poll_at(), kT0 + 3s);
  EXPECT_FALSE(delayed.poll(kT0 + 3s - 1us).has_value());
  const std::optional<DhcpTransmit> discover = delayed.poll(kT0 + 3s);
  ASSERT_TRUE(discover.has_value());
  EXPECT_EQ(discover->message.host_name, "mote-node");
}

}  // namespace
}  // namespace mote::net
