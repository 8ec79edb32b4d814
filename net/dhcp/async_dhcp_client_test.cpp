#include "mote/net/dhcp/async_dhcp_client.hpp"

#include <gtest/gtest.h>
#include <vector>

#include "../testdata/fake_datagram_socket.hpp"
#include "../wire/testdata/captures.hpp"
#include "../wire/testdata/layers.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using async::Executor;
using async::Task;
using async::TaskStorage;
using testdata::FakeDatagramSocket;
using wire::DhcpMessageType;
using wire::DhcpRepr;
using Kind = DhcpEvent::Kind;
using Client = AsyncDhcpClient<FakeDatagramSocket>;

constexpr wire::MacAddress kMac(0x02, 0, 0, 0, 0, 0x0c);
constexpr io::Ipv4Address kServer(192, 168, 69, 1);
constexpr io::Endpoint kServerEndpoint{kServer, 67};
constexpr io::Endpoint kBroadcast{io::Ipv4Address::broadcast(), 67};
constexpr std::uint32_t kCapturedXid = 0xba127845;
const Instant kT0 = Instant{} + 10s;

// The captured xid first, then numbers that give no jitter.
class ScriptedRandom final : public RandomSource {
 public:
  std::uint32_t next_u32() override { return calls++ == 0 ? kCapturedXid : 1'000'000; }
  unsigned calls = 0;
};

Task<Status> run_client(Client& client, std::vector<DhcpEvent>& events) {
  co_return co_await client.run([&events](const DhcpEvent& event) { events.push_back(event); });
}

Task<Status> release(Client& client) { co_return co_await client.release(); }

class AsyncDhcpClientTest : public ::testing::Test {
 protected:
  AsyncDhcpClientTest() : driver(kT0), executor(driver), client(transport, kMac, random) {}

  void start() {
    ASSERT_TRUE(executor.spawn(storage, run_client, std::ref(client), std::ref(events)).ok());
    executor.run_until_stalled();
  }
  DhcpRepr sent(std::size_t index) {
    const auto& bytes = transport.sent.at(index).data;
    return DhcpRepr::parse(wire::DhcpPacket<>::checked(ConstByteSpan(bytes)).value()).value();
  }
  void deliver(std::span<const std::uint8_t> frame, io::Endpoint from = kServerEndpoint) {
    transport.deliver(wire::testdata::udp_payload_of(frame), from);
    executor.run_until_stalled();
  }
  void deliver(const DhcpRepr& message) {
    std::vector<std::byte> bytes(message.buffer_len());
    ASSERT_TRUE(message.emit(bytes).ok());
    transport.deliver(bytes, kServerEndpoint);
    executor.run_until_stalled();
  }
  // DISCOVER, dnsmasq's OFFER, REQUEST, dnsmasq's ACK, all at kT0.
  void bind() {
    start();
    deliver(wire::testdata::kDhcpOffer);
    deliver(wire::testdata::kDhcpAck);
    ASSERT_EQ(events.size(), 1u);
    ASSERT_EQ(client.core().state(), DhcpClient::State::bound);
  }
  void stop() {
    transport.close();
    executor.run_until_stalled();
    EXPECT_EQ(storage.exit_status().code(), StatusCode::failed_precondition);
  }

  platform::SimDriver driver;
  Executor executor;
  FakeDatagramSocket transport{io::Endpoint{io::Ipv4Address(), 68}};
  ScriptedRandom random;
  Client client;
  std::vector<DhcpEvent> events;
  TaskStorage<8192> storage;
};

TEST_F(AsyncDhcpClientTest, GetsALeaseFromDnsmasqsMessages) {
  start();
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0].to, kBroadcast);
  EXPECT_EQ(transport.sent[0].at, kT0);
  EXPECT_EQ(sent(0).message_type, DhcpMessageType::discover);
  EXPECT_EQ(sent(0).transaction_id, kCapturedXid);

  driver.advance(1500ms);
  deliver(wire::testdata::kDhcpOffer);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(sent(1).message_type, DhcpMessageType::request);
  EXPECT_EQ(sent(1).requested_ip, io::Ipv4Address(192, 168, 69, 105));
  EXPECT_EQ(transport.sent[1].at, kT0 + 1500ms);

  driver.advance(10ms);
  deliver(wire::testdata::kDhcpAck);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::acquired);
  EXPECT_EQ(events[0].lease.address, io::Ipv4Address(192, 168, 69, 105));
  EXPECT_EQ(events[0].lease.acquired_at, kT0 + 1510ms);
  stop();
}

TEST_F(AsyncDhcpClientTest, RetransmitsOnTheClientsTimers) {
  start();
  EXPECT_EQ(executor.run_until(kT0 + 30s).code(), StatusCode::deadline_exceeded);
  // DISCOVER at 0, 4, 12, 28 s.
  ASSERT_EQ(transport.sent.size(), 4u);
  const Duration expected[] = {0s, 4s, 12s, 28s};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(transport.sent[i].at, kT0 + expected[i]);
    EXPECT_EQ(sent(i).message_type, DhcpMessageType::discover);
  }
  stop();
}

TEST_F(AsyncDhcpClientTest, RenewsAtT1ThroughTheTransport) {
  bind();
  EXPECT_EQ(executor.run_until(kT0 + 6h + 1s).code(), StatusCode::deadline_exceeded);
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_EQ(transport.sent[2].at, kT0 + 6h);
  EXPECT_EQ(transport.sent[2].to, kServerEndpoint);  // RENEWING is unicast
  DhcpRepr ack = wire::DhcpRepr::parse(wire::DhcpPacket<>::checked(
                                           wire::testdata::udp_payload_of(wire::testdata::kDhcpAck))
                                           .value())
                     .value();
  ack.transaction_id = sent(2).transaction_id;
  deliver(ack);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, Kind::renewed);
  stop();
}

TEST_F(AsyncDhcpClientTest, IgnoresWhatIsNotADhcpReply) {
  start();
  deliver(wire::testdata::kDhcpOffer, io::Endpoint{kServer, 68});  // not from a server port
  const std::byte garbage[] = {std::byte{1}, std::byte{2}, std::byte{3}};
  transport.deliver(garbage, kServerEndpoint);
  deliver(wire::testdata::kDhcpDiscover);  // another client's broadcast
  executor.run_until_stalled();
  EXPECT_EQ(client.core().state(), DhcpClient::State::selecting);
  EXPECT_EQ(transport.sent.size(), 1u);
  deliver(wire::testdata::kDhcpOffer);
  EXPECT_EQ(client.core().state(), DhcpClient::State::requesting);
  stop();
}

TEST_F(AsyncDhcpClientTest, DeclineFromTheEventHandlerSideStartsOver) {
  bind();
  driver.advance(1s);
  client.decline();  // the interface's ARP probe found 192.168.69.105 in use
  executor.run_until_stalled();
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_EQ(sent(2).message_type, DhcpMessageType::decline);
  EXPECT_EQ(transport.sent[2].to, kBroadcast);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, Kind::lost);
  // Ten seconds later, DISCOVER.
  EXPECT_EQ(executor.run_until(kT0 + 11s + 1ms).code(), StatusCode::deadline_exceeded);
  ASSERT_EQ(transport.sent.size(), 4u);
  EXPECT_EQ(transport.sent[3].at, kT0 + 11s);
  EXPECT_EQ(sent(3).message_type, DhcpMessageType::discover);
  stop();
}

TEST_F(AsyncDhcpClientTest, ReleaseAfterStopping) {
  bind();
  storage.cancel();
  executor.run_until_stalled();
  EXPECT_EQ(storage.exit_status().code(), StatusCode::cancelled);
  TaskStorage<4096> releasing;
  ASSERT_TRUE(executor.spawn(releasing, release, std::ref(client)).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(releasing.exit_status().ok());
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_EQ(sent(2).message_type, DhcpMessageType::release);
  EXPECT_EQ(transport.sent[2].to, kServerEndpoint);
  EXPECT_EQ(client.core().state(), DhcpClient::State::stopped);
}

}  // namespace
}  // namespace mote::net
