// Interface::poll's receive burst: in-order TCP data that waits at the
// device is taken before the sockets answer, so a burst is acknowledged
// once (stretch ACKs, as Linux's GRO gives); anything else ends the burst,
// so each out-of-order segment still draws its own duplicate ACK (RFC 5681
// §4.2). Two interfaces on IP-medium devices whose queues the test moves
// by hand, with explicit time.

#include <deque>
#include <gtest/gtest.h>
#include <vector>

#include "../testdata/byte_pattern.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/socket/tcp_socket.hpp"
#include "mote/net/wire/wire.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using io::Ipv4Address;
using Bytes = std::vector<std::byte>;

constexpr Ipv4Address kServerIp(10, 0, 0, 1);
constexpr Ipv4Address kClientIp(10, 0, 0, 2);
constexpr std::uint16_t kPort = 5001;
constexpr DeviceCapabilities kLink{Medium::ip, 1500};

// A device whose frames wait in queues the test reads, reorders and drops.
class QueueDevice {
 public:
  [[nodiscard]] DeviceCapabilities capabilities() const { return kLink; }
  Result<std::size_t> receive(Instant, ByteSpan buffer) {
    if (incoming.empty()) return Status::unavailable();
    const Bytes frame = std::move(incoming.front());
    incoming.pop_front();
    std::copy(frame.begin(), frame.end(), buffer.begin());
    return frame.size();
  }
  [[nodiscard]] bool can_transmit() const { return true; }
  Status transmit(Instant, ConstByteSpan frame) {
    sent.emplace_back(frame.begin(), frame.end());
    return ok_status();
  }

  std::deque<Bytes> incoming;
  std::vector<Bytes> sent;
};
static_assert(Device<QueueDevice>);

// The TCP segment of an IP-medium frame.
wire::TcpSegment<> tcp_of(const Bytes& frame) {
  const auto ip = wire::Ipv4Packet<ConstByteSpan>::checked(ConstByteSpan(frame));
  EXPECT_TRUE(ip.ok());
  const auto tcp = wire::TcpSegment<>::checked(ip->payload());
  EXPECT_TRUE(tcp.ok());
  return *tcp;
}

class InterfaceBurstTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.set_ipv4_address(kServerIp, 24).ok());
    ASSERT_TRUE(client_.set_ipv4_address(kClientIp, 24).ok());
    ASSERT_TRUE(listener_.listen(kPort).ok());
    ASSERT_TRUE(client_.connect_tcp(client_socket_, {kServerIp, kPort}, now_).ok());
    for (int round = 0; round < 10 && !server_socket_.tcb().is_synchronized(); ++round) {
      exchange();
    }
    exchange();
    ASSERT_EQ(client_socket_.tcb().state(), TcpState::established);
    ASSERT_EQ(server_socket_.tcb().state(), TcpState::established);
  }

  // One poll of each side, the client's frames handed to the server and
  // the server's back.
  void exchange() {
    client_.poll(now_, client_link_);
    move_frames(client_link_, server_link_);
    server_.poll(now_, server_link_);
    move_frames(server_link_, client_link_);
    now_ += 1ms;
  }
  static void move_frames(QueueDevice& from, QueueDevice& to) {
    for (Bytes& frame : from.sent) to.incoming.push_back(std::move(frame));
    from.sent.clear();
  }

  // The client's data segments for `segments` full segments of data.
  std::vector<Bytes> client_sends(std::size_t segments) {
    const std::size_t mss = client_socket_.tcb().send_mss();
    data_ = test_support::byte_pattern(segments * mss, 3);
    EXPECT_EQ(client_socket_.tcb().send(data_).value_or(0), data_.size());
    client_.poll(now_, client_link_);
    std::vector<Bytes> frames = std::move(client_link_.sent);
    client_link_.sent.clear();
    EXPECT_EQ(frames.size(), segments);
    return frames;
  }

  Instant now_ = Instant{} + 1000s;
  StaticInterface<> server_{kLink, InterfaceConfig{}};
  StaticInterface<> client_{kLink, InterfaceConfig{}};
  QueueDevice server_link_;
  QueueDevice client_link_;
  StaticTcpSocket<65536, 4096> server_socket_;
  std::array<TcpSocket*, 1> backlog_{&server_socket_};
  TcpListener listener_{server_, backlog_};
  StaticTcpSocket<4096, 65536> client_socket_;
  Bytes data_;
};

TEST_F(InterfaceBurstTest, InOrderSegmentsThatWaitTogetherAreAcknowledgedOnce) {
  std::vector<Bytes> frames = client_sends(8);
  const std::uint32_t end = tcp_of(frames.back()).seq_number() +
                            static_cast<std::uint32_t>(tcp_of(frames.back()).payload().size());
  for (Bytes& frame : frames) server_link_.incoming.push_back(std::move(frame));

  server_.poll(now_, server_link_);

  // One ACK for all eight (one per two segments without the burst).
  ASSERT_EQ(server_link_.sent.size(), 1u);
  const wire::TcpSegment<> ack = tcp_of(server_link_.sent[0]);
  EXPECT_TRUE(ack.flags().ack());
  EXPECT_TRUE(ack.payload().empty());
  EXPECT_EQ(ack.ack_number(), end);
  EXPECT_EQ(server_socket_.tcb().receive_queued(), data_.size());

  // The stretch ACK frees the whole send buffer.
  move_frames(server_link_, client_link_);
  client_.poll(now_, client_link_);
  EXPECT_EQ(client_socket_.tcb().send_queued(), 0u);
  Bytes received(data_.size());
  EXPECT_EQ(server_socket_.tcb().receive(received).value_or(0), data_.size());
  EXPECT_EQ(received, data_);
}

TEST_F(InterfaceBurstTest, EachOutOfOrderSegmentDrawsItsOwnDuplicateAck) {
  std::vector<Bytes> frames = client_sends(8);
  const std::uint32_t first = tcp_of(frames[0]).seq_number();
  const std::uint32_t hole = tcp_of(frames[2]).seq_number();
  frames.erase(frames.begin() + 2);  // lost on the way
  for (Bytes& frame : frames) server_link_.incoming.push_back(std::move(frame));

  server_.poll(now_, server_link_);

  // Two in-order segments and the first out-of-order one end the burst
  // with one ACK; each later out-of-order segment then draws its own
  // duplicate ACK at once: five ACKs of the hole, for the sender's fast
  // retransmit.
  ASSERT_EQ(server_link_.sent.size(), 5u);
  for (const Bytes& frame : server_link_.sent) {
    const wire::TcpSegment<> ack = tcp_of(frame);
    EXPECT_TRUE(ack.payload().empty());
    EXPECT_EQ(ack.ack_number(), hole);
  }
  EXPECT_EQ(server_socket_.tcb().receive_queued(), hole - first);

  // The hole sent again fills it; everything arrives in order.
  move_frames(server_link_, client_link_);
  client_.poll(now_, client_link_);
  for (int round = 0; round < 10 && server_socket_.tcb().receive_queued() < data_.size(); ++round) {
    exchange();
  }
  Bytes received(data_.size());
  EXPECT_EQ(server_socket_.tcb().receive(received).value_or(0), data_.size());
  EXPECT_EQ(received, data_);
}

}  // namespace
}  // namespace mote::net
