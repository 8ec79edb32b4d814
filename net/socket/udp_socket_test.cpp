// UDP sockets on mote's stack over a loopback link, driven by the Stack task
// on the simulator's virtual clock.

#include "mote/net/socket/udp_socket.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <string_view>

#include "mote/async/async.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/phy/loopback.hpp"
#include "mote/net/stack.hpp"
#include "mote/net/wire/icmpv4.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using async::Task;
using io::Endpoint;
using io::Ipv4Address;

constexpr Ipv4Address kLocalhost(127, 0, 0, 1);

Task<void> run_stack(Stack<Loopback>& stack) { return stack.run(); }

// Written against the concept only: it runs on any stack's sockets.
template <io::DatagramSocket Socket>
Task<Status> ping_pong(Socket& client, Socket& server, Endpoint server_endpoint,
                       std::string_view message, std::string& echoed) {
  std::array<std::byte, 256> buffer{};
  MOTE_CO_TRY(co_await client.send_to(bytes_of(message), server_endpoint));
  MOTE_CO_TRY_ASSIGN(io::Datagram request, co_await server.receive_from(buffer));
  MOTE_CO_TRY(co_await server.send_to(ConstByteSpan(buffer).first(request.size), request.from));
  MOTE_CO_TRY_ASSIGN(io::Datagram reply, co_await client.receive_from(buffer));
  echoed = std::string(as_string_view(ConstByteSpan(buffer).first(reply.size)));
  co_return ok_status();
}

class UdpSocketTest : public ::testing::Test {
 protected:
  UdpSocketTest() {
    EXPECT_TRUE(iface_.set_ipv4_address(kLocalhost, 8).ok());
    EXPECT_TRUE(executor_.spawn(stack_task_, run_stack, std::ref(stack_)).ok());
    EXPECT_TRUE(client_.bind(iface_, 0).ok());
    EXPECT_TRUE(server_.bind(iface_, 7).ok());
  }
  ~UdpSocketTest() override {
    stack_task_.cancel();
    app_task_.cancel();
  }

  platform::SimDriver driver_;
  async::Executor executor_{driver_};
  StaticLoopback<8192> link_;
  StaticInterface<> iface_{link_.capabilities(), {}};
  Stack<Loopback> stack_{iface_, link_};
  async::TaskStorage<2048> stack_task_;
  async::TaskStorage<4096> app_task_;
  StaticUdpSocket<512, 512> client_;
  StaticUdpSocket<512, 512> server_;
};

TEST_F(UdpSocketTest, EchoesThroughTheStackWithGenericCode) {
  std::string echoed;
  ASSERT_TRUE(executor_
                  .spawn(app_task_, ping_pong<UdpSocket>, std::ref(client_), std::ref(server_),
                         Endpoint{kLocalhost, 7}, std::string_view("hello, mote"), std::ref(echoed))
                  .ok());
  executor_.run_until_stalled();
  EXPECT_EQ(app_task_.state(), async::TaskState::finished);
  EXPECT_TRUE(app_task_.exit_status().ok()) << app_task_.exit_status().str();
  EXPECT_EQ(echoed, "hello, mote");
  EXPECT_EQ(client_.local_endpoint()->address, io::IpAddress(kLocalhost));
  EXPECT_GE(client_.local_endpoint()->port, 49152);
  EXPECT_EQ(iface_.stats().udp_delivered, 2u);
}

Task<void> receive_one(UdpSocket& socket, std::optional<Result<io::Datagram>>& out,
                       ByteSpan buffer) {
  out = co_await socket.receive_from(buffer);
}

TEST_F(UdpSocketTest, ReceiveWaitsForADatagramAndTruncates) {
  std::optional<Result<io::Datagram>> got;
  std::array<std::byte, 4> small{};
  ASSERT_TRUE(
      executor_.spawn(app_task_, receive_one, std::ref(server_), std::ref(got), ByteSpan(small))
          .ok());
  executor_.run_until_stalled();
  EXPECT_FALSE(got.has_value());
  driver_.advance(1s);
  ASSERT_TRUE(client_.try_send_to(bytes_of("0123456789"), Endpoint{kLocalhost, 7}).ok());
  executor_.run_until_stalled();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok());
  EXPECT_EQ((*got)->size, 4u);
  EXPECT_TRUE((*got)->truncated);
  EXPECT_EQ((*got)->from, (Endpoint{kLocalhost, client_.port()}));
  EXPECT_EQ(as_string_view(small), "0123");
}

Task<Status> receive_with_timeout(UdpSocket& socket, ByteSpan buffer) {
  Result<io::Datagram> got = co_await async::with_timeout(100ms, socket.receive_from(buffer));
  co_return got.status();
}

TEST_F(UdpSocketTest, ACancelledReceiveTakesNothing) {
  std::array<std::byte, 64> buffer{};
  ASSERT_TRUE(
      executor_.spawn(app_task_, receive_with_timeout, std::ref(server_), ByteSpan(buffer)).ok());
  EXPECT_EQ(executor_.run_for(1s), Status::deadline_exceeded());  // the stack never ends
  EXPECT_EQ(app_task_.exit_status(), Status::deadline_exceeded());
  // The datagram sent after the cancellation is still there for the next receive.
  ASSERT_TRUE(client_.try_send_to(bytes_of("late"), Endpoint{kLocalhost, 7}).ok());
  executor_.run_until_stalled();
  Result<io::Datagram> got = server_.try_receive_from(buffer);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size, 4u);
}

Task<Status> send_many(UdpSocket& socket, Endpoint to, int count) {
  std::array<std::byte, 200> payload{};
  for (int i = 0; i < count; ++i) MOTE_CO_TRY(co_await socket.send_to(payload, to));
  co_return ok_status();
}

TEST_F(UdpSocketTest, SendWaitsForRoomInTheSendQueue) {
  // 512 bytes of send queue hold two 208-byte records: the third send_to
  // waits until the stack has taken one. The receiver's queue (512 bytes)
  // overflows, so some are dropped: UDP does not push back on the sender.
  ASSERT_TRUE(
      executor_.spawn(app_task_, send_many, std::ref(client_), Endpoint{kLocalhost, 7}, 10).ok());
  executor_.run_until_stalled();
  EXPECT_EQ(app_task_.state(), async::TaskState::finished);
  EXPECT_TRUE(app_task_.exit_status().ok());
  EXPECT_EQ(server_.rx_queued() + server_.rx_dropped(), 10u);
  EXPECT_EQ(server_.rx_queued(), 2u);
}

TEST_F(UdpSocketTest, CloseEndsAWaitingReceive) {
  std::optional<Result<io::Datagram>> got;
  std::array<std::byte, 4> buffer{};
  ASSERT_TRUE(
      executor_.spawn(app_task_, receive_one, std::ref(server_), std::ref(got), ByteSpan(buffer))
          .ok());
  executor_.run_until_stalled();
  server_.close();
  executor_.run_until_stalled();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status(), Status::failed_precondition());
  EXPECT_EQ(server_.local_endpoint().status(), Status::failed_precondition());
  // The port is free again; datagrams to it now draw a port unreachable.
  ASSERT_TRUE(client_.try_send_to(bytes_of("x"), Endpoint{kLocalhost, 7}).ok());
  executor_.run_until_stalled();
  EXPECT_EQ(iface_.stats().icmp_errors_sent, 1u);
}

TEST_F(UdpSocketTest, PingOverLoopbackGetsAnEchoReply) {
  // An echo request built by hand, sent through the loopback device: the
  // interface answers, and the reply comes back to the interface itself.
  std::array<std::byte, 64> packet{};
  wire::Icmpv4Repr echo;
  echo.identifier = 1;
  echo.sequence = 2;
  const auto data = bytes_from_literal("abcd");
  echo.data = data;
  ASSERT_TRUE(echo.emit(ByteSpan(packet).subspan(20)).ok());
  ASSERT_TRUE((wire::Ipv4Repr{kLocalhost, kLocalhost, wire::IpProtocol::icmp, echo.buffer_len()}
                   .emit(packet)
                   .ok()));
  ASSERT_TRUE(link_.transmit({}, ConstByteSpan(packet).first(20 + echo.buffer_len())).ok());
  iface_.request_poll();
  iface_.poll(driver_.now(), link_);
  EXPECT_EQ(iface_.stats().echo_replies_sent, 1u);
}

}  // namespace
}  // namespace mote::net
