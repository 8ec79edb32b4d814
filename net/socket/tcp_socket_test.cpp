// TCP through the io concepts on mote's stack: two interfaces on an
// in-memory cable, each run by its Stack task on the simulator's clock;
// an echo server (listener with a backlog) and clients (connector) written
// against io::Listener / io::Connector / io::Stream only.

#include "mote/net/socket/tcp_socket.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <vector>

#include "../testdata/byte_pattern.hpp"
#include "../testdata/two_stacks.hpp"
#include "mote/async/async.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/phy/cable.hpp"
#include "mote/net/phy/fault_injector.hpp"
#include "mote/net/stack.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::net {
namespace {

using namespace std::chrono_literals;
using async::Task;
using io::Endpoint;
using io::Ipv4Address;

using test_support::kServerIp;
using test_support::TwoStacks;

std::vector<std::byte> pattern(std::size_t n, std::uint32_t seed = 7) {
  return test_support::byte_pattern(n, seed);
}

// Protocol code: written against the concepts only.
template <io::Stream Stream>
Task<Status> echo_until_end(Stream stream) {
  std::array<std::byte, 1000> buffer{};
  for (;;) {
    MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream.read(buffer));
    if (n == 0) break;
    MOTE_CO_TRY(co_await stream.write(ConstByteSpan(buffer).first(n)));
  }
  MOTE_CO_TRY(stream.shutdown_write());
  stream.close();
  co_return ok_status();
}

template <io::Listener Listener>
Task<Status> serve(Listener& listener, int connections) {
  for (int i = 0; i < connections; ++i) {
    MOTE_CO_TRY_ASSIGN(auto stream, co_await listener.accept());
    MOTE_CO_TRY(co_await echo_until_end(std::move(stream)));
  }
  co_return ok_status();
}

template <io::Connector Connector>
Task<Status> send_and_read_back(Connector& connector, Endpoint server,
                                const std::vector<std::byte>& data, std::vector<std::byte>& back) {
  MOTE_CO_TRY_ASSIGN(auto stream, co_await connector.connect(server));
  MOTE_CO_TRY(co_await stream.write(data));
  MOTE_CO_TRY(stream.shutdown_write());
  std::array<std::byte, 777> buffer{};
  for (;;) {
    MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream.read(buffer));
    if (n == 0) break;
    back.insert(back.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }
  stream.close();
  co_return ok_status();
}

// The simulator's clock and a clean cable; start_stacks() runs the two
// stacks on it (a test of a faulty link runs them on its own).
class TcpSocketTest : public ::testing::Test {
 protected:
  using CableStacks = TwoStacks<Cable::End, Cable::End>;

  CableStacks& start_stacks() {
    stacks_.emplace(cable.end_a(), cable.end_b());
    stacks_->start(executor);
    return *stacks_;
  }

  // One socket each side: a listener on the server's port 7 with a backlog
  // of one, a connector on the client's with a pool of one.
  struct OneConnection {
    explicit OneConnection(CableStacks& stacks)
        : listener(stacks.server_iface, backlog), connector(stacks.client_iface, pool) {
      EXPECT_TRUE(listener.listen(7).ok());
    }
    StaticTcpSocket<1024, 1024> server_socket;
    std::array<TcpSocket*, 1> backlog{&server_socket};
    TcpListener listener;
    StaticTcpSocket<1024, 1024> client_socket;
    std::array<TcpSocket*, 1> pool{&client_socket};
    TcpConnector connector;
  };

  // An upload of `size` bytes through a FaultInjector with `faults` on the
  // server's end of the cable; its counters and the server interface's.
  struct FaultyUpload {
    FaultStats faults;
    InterfaceStats server;
  };
  FaultyUpload upload_through(const FaultConfig& faults, std::size_t size);

  platform::SimDriver driver;
  async::Executor executor{driver};
  StaticCable<65536> cable;

 private:
  std::optional<CableStacks> stacks_;
};

TEST_F(TcpSocketTest, EchoThroughTheConcepts) {
  CableStacks& stacks = start_stacks();

  StaticTcpSocket<4096, 4096> backlog_a;
  StaticTcpSocket<4096, 4096> backlog_b;
  std::array<TcpSocket*, 2> backlog{&backlog_a, &backlog_b};
  TcpListener listener(stacks.server_iface, backlog);
  ASSERT_TRUE(listener.listen(7).ok());
  StaticTcpSocket<8192, 2048> client_socket;
  std::array<TcpSocket*, 1> pool{&client_socket};
  TcpConnector connector(stacks.client_iface, pool);

  // Less than the buffers hold on the way: the client reads only once it
  // has written everything.
  const auto data = pattern(12000, 1);
  std::vector<std::byte> back;
  async::TaskStorage<4096> server_task;
  async::TaskStorage<4096> client_task;
  ASSERT_TRUE(executor.spawn(server_task, serve<TcpListener>, std::ref(listener), 1).ok());
  ASSERT_TRUE(executor
                  .spawn(client_task, send_and_read_back<TcpConnector>, std::ref(connector),
                         Endpoint{kServerIp, 7}, std::cref(data), std::ref(back))
                  .ok());
  static_cast<void>(executor.run_for(30s));
  EXPECT_EQ(client_task.state(), async::TaskState::finished);
  EXPECT_EQ(client_task.exit_status(), ok_status());
  EXPECT_EQ(server_task.exit_status(), ok_status());
  EXPECT_EQ(back.size(), data.size());
  EXPECT_TRUE(back == data);
}

// Reads everything until the peer's FIN and compares it with `expected`.
template <io::Listener Listener>
Task<Status> receive_all(Listener& listener, std::vector<std::byte>& got) {
  MOTE_CO_TRY_ASSIGN(auto stream, co_await listener.accept());
  std::array<std::byte, 1460> buffer{};
  for (;;) {
    MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream.read(buffer));
    if (n == 0) break;
    got.insert(got.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
  }
  stream.close();
  co_return ok_status();
}

template <io::Connector Connector>
Task<Status> upload(Connector& connector, Endpoint server, const std::vector<std::byte>& data) {
  MOTE_CO_TRY_ASSIGN(auto stream, co_await connector.connect(server));
  MOTE_CO_TRY(co_await stream.write(data));
  MOTE_CO_TRY(stream.shutdown_write());
  std::array<std::byte, 16> buffer{};
  MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream.read(buffer));  // the server's FIN
  stream.close();
  co_return n == 0 ? ok_status() : Status::internal();
}

template <typename ServerLink, typename ClientLink>
void run_upload(TwoStacks<ServerLink, ClientLink>& stacks, async::Executor& executor,
                std::size_t size, async::Duration limit) {
  StaticTcpSocket<16384, 4096> server_socket;
  std::array<TcpSocket*, 1> backlog{&server_socket};
  TcpListener listener(stacks.server_iface, backlog);
  ASSERT_TRUE(listener.listen(5001).ok());
  StaticTcpSocket<4096, 16384> client_socket;
  std::array<TcpSocket*, 1> pool{&client_socket};
  TcpConnector connector(stacks.client_iface, pool);
  const auto data = pattern(size, 3);
  std::vector<std::byte> got;
  async::TaskStorage<4096> server_task;
  async::TaskStorage<4096> client_task;
  ASSERT_TRUE(
      executor.spawn(server_task, receive_all<TcpListener>, std::ref(listener), std::ref(got))
          .ok());
  ASSERT_TRUE(executor
                  .spawn(client_task, upload<TcpConnector>, std::ref(connector),
                         Endpoint{kServerIp, 5001}, std::cref(data))
                  .ok());
  static_cast<void>(executor.run_for(limit));
  EXPECT_EQ(server_task.state(), async::TaskState::finished);
  EXPECT_EQ(server_task.exit_status(), ok_status());
  EXPECT_EQ(client_task.state(), async::TaskState::finished);
  EXPECT_EQ(client_task.exit_status(), ok_status());
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
  server_task.cancel();
  client_task.cancel();
}

TEST_F(TcpSocketTest, BulkUploadIsByteExact) {
  CableStacks& stacks = start_stacks();
  run_upload(stacks, executor, 2 * 1024 * 1024, 60s);
}

TcpSocketTest::FaultyUpload TcpSocketTest::upload_through(const FaultConfig& faults,
                                                          std::size_t size) {
  std::array<std::byte, 65536> held{};
  FaultInjector lossy(cable.end_a(), faults, held);
  TwoStacks stacks(lossy, cable.end_b());
  stacks.start(executor);
  run_upload(stacks, executor, size, 600s);
  return {lossy.stats(), stacks.server_iface.stats()};
}

TEST_F(TcpSocketTest, BulkUploadThroughLossDelayAndReordering) {
  FaultConfig faults;
  faults.seed = 5;
  faults.drop_percent = 5;
  faults.reorder_percent = 5;
  faults.duplicate_percent = 2;
  faults.delay = 5ms;
  EXPECT_GT(upload_through(faults, 300 * 1024).faults.dropped, 10u);
}

TEST_F(TcpSocketTest, BulkUploadThroughCorruptionDeliversOnlyGoodBytes) {
  // In-order data is checksummed while it is copied into the receive ring
  // (Interface::process_tcp): a damaged segment must leave nothing behind.
  FaultConfig faults;
  faults.seed = 11;
  faults.corrupt_percent = 5;
  const FaultyUpload run = upload_through(faults, 300 * 1024);
  EXPECT_GT(run.faults.corrupted, 10u);
  EXPECT_GT(run.server.rx_checksum_errors, 5u);
}

Task<Status> connect_only(TcpConnector& connector, Endpoint to, Status& result) {
  Result<TcpStream> stream = co_await connector.connect(to);
  result = stream.status();
  co_return ok_status();
}

TEST_F(TcpSocketTest, ConnectErrors) {
  CableStacks& stacks = start_stacks();
  StaticTcpSocket<1024, 1024> socket;
  std::array<TcpSocket*, 1> pool{&socket};
  TcpConnector connector(stacks.client_iface, pool);
  async::TaskStorage<2048> task;

  // The server's stack does not use TCP yet: it answers the SYN with an
  // ICMP protocol unreachable (RFC 1122 §3.2.2.1), which ends the connect
  // at once (RFC 1122 §4.2.3.9), before the SYN's 1 s timeout.
  Status no_tcp = ok_status();
  ASSERT_TRUE(
      executor
          .spawn(task, connect_only, std::ref(connector), Endpoint{kServerIp, 9}, std::ref(no_tcp))
          .ok());
  static_cast<void>(executor.run_for(500ms));
  EXPECT_EQ(task.state(), async::TaskState::finished);
  EXPECT_EQ(no_tcp, Status::unavailable());
  EXPECT_EQ(stacks.server_iface.stats().icmp_errors_sent, 1u);
  EXPECT_EQ(stacks.client_iface.stats().tcp_icmp_errors, 1u);

  // Nothing listens: the server's stack answers RST -> refused.
  stacks.server_iface.enable_tcp();
  Status refused = ok_status();
  ASSERT_TRUE(
      executor
          .spawn(task, connect_only, std::ref(connector), Endpoint{kServerIp, 9}, std::ref(refused))
          .ok());
  static_cast<void>(executor.run_for(2s));
  EXPECT_EQ(refused, Status::unavailable());
  EXPECT_EQ(stacks.server_iface.stats().tcp_resets_sent, 1u);

  // Off the subnet with no gateway: no route.
  Status no_route = ok_status();
  ASSERT_TRUE(executor
                  .spawn(task, connect_only, std::ref(connector),
                         Endpoint{Ipv4Address(8, 8, 8, 8), 80}, std::ref(no_route))
                  .ok());
  static_cast<void>(executor.run_for(1s));
  EXPECT_EQ(no_route, Status::not_found());

  // On the subnet, but nobody there: the SYNs go unanswered -> timeout.
  Status timed_out = ok_status();
  ASSERT_TRUE(executor
                  .spawn(task, connect_only, std::ref(connector),
                         Endpoint{Ipv4Address(192, 168, 1, 77), 80}, std::ref(timed_out))
                  .ok());
  static_cast<void>(executor.run_for(200s));
  EXPECT_EQ(timed_out, Status::deadline_exceeded());
}

Task<Status> accept_then_abort(TcpListener& listener) {
  MOTE_CO_TRY_ASSIGN(TcpStream stream, co_await listener.accept());
  std::array<std::byte, 4> buffer{};
  MOTE_CO_TRY(co_await stream.read(buffer));
  stream.close();  // unread data: a reset
  co_return ok_status();
}

Task<Status> write_then_read(TcpConnector& connector, Status& result) {
  MOTE_CO_TRY_ASSIGN(TcpStream stream, co_await connector.connect(Endpoint{kServerIp, 7}));
  MOTE_CO_TRY(co_await stream.write(bytes_of("12345678")));
  std::array<std::byte, 4> buffer{};
  result = (co_await stream.read(buffer)).status();
  co_return ok_status();
}

TEST_F(TcpSocketTest, ResetReachesTheReader) {
  OneConnection sockets(start_stacks());
  async::TaskStorage<2048> server_task;
  async::TaskStorage<2048> client_task;
  Status result = ok_status();
  ASSERT_TRUE(executor.spawn(server_task, accept_then_abort, std::ref(sockets.listener)).ok());
  ASSERT_TRUE(
      executor.spawn(client_task, write_then_read, std::ref(sockets.connector), std::ref(result))
          .ok());
  static_cast<void>(executor.run_for(2s));
  EXPECT_EQ(result, Status::aborted());
}

TEST_F(TcpSocketTest, ManyConnectionsThroughASmallBacklog) {
  CableStacks& stacks = start_stacks();
  StaticTcpSocket<2048, 2048> backlog_a;
  StaticTcpSocket<2048, 2048> backlog_b;
  std::array<TcpSocket*, 2> backlog{&backlog_a, &backlog_b};
  TcpListener listener(stacks.server_iface, backlog);
  ASSERT_TRUE(listener.listen(7).ok());
  // Two client sockets, used again and again: each leaves TIME-WAIT early
  // when the pool needs it.
  StaticTcpSocket<2048, 2048> client_a;
  StaticTcpSocket<2048, 2048> client_b;
  std::array<TcpSocket*, 2> pool{&client_a, &client_b};
  TcpConnector connector(stacks.client_iface, pool);
  constexpr int kConnections = 6;
  async::TaskStorage<4096> server_task;
  ASSERT_TRUE(
      executor.spawn(server_task, serve<TcpListener>, std::ref(listener), kConnections).ok());
  std::array<std::vector<std::byte>, kConnections> data;
  std::array<std::vector<std::byte>, kConnections> back;
  for (int i = 0; i < kConnections; ++i) {
    data[i] = pattern(1500, 10 + i);
    async::TaskStorage<4096> client_task;
    ASSERT_TRUE(executor
                    .spawn(client_task, send_and_read_back<TcpConnector>, std::ref(connector),
                           Endpoint{kServerIp, 7}, std::cref(data[i]), std::ref(back[i]))
                    .ok());
    static_cast<void>(executor.run_for(2s));
    EXPECT_EQ(client_task.exit_status(), ok_status()) << i;
    EXPECT_TRUE(back[i] == data[i]) << i;
    client_task.cancel();
  }
  EXPECT_EQ(server_task.exit_status(), ok_status());
}

// Accepts `count` connections and holds them open (never closes its side).
Task<Status> accept_and_hold(TcpListener& listener, int count, std::vector<TcpStream>& held) {
  for (int i = 0; i < count; ++i) {
    MOTE_CO_TRY_ASSIGN(TcpStream stream, co_await listener.accept());
    held.push_back(std::move(stream));
  }
  co_return ok_status();
}

Task<Status> connect_and_close_twice(TcpConnector& connector, int& connected) {
  for (int i = 0; i < 2; ++i) {
    MOTE_CO_TRY_ASSIGN(TcpStream stream, co_await connector.connect(Endpoint{kServerIp, 7}));
    ++connected;
    stream.close();  // FIN; the server never answers with its own
    co_await async::sleep_for(100ms);
  }
  co_return ok_status();
}

TEST_F(TcpSocketTest, APeerThatNeverClosesDoesNotHoldThePool) {
  CableStacks& stacks = start_stacks();
  StaticTcpSocket<1024, 1024> backlog_a;
  StaticTcpSocket<1024, 1024> backlog_b;
  std::array<TcpSocket*, 2> backlog{&backlog_a, &backlog_b};
  TcpListener listener(stacks.server_iface, backlog);
  ASSERT_TRUE(listener.listen(7).ok());
  StaticTcpSocket<1024, 1024> client_socket;
  std::array<TcpSocket*, 1> pool{&client_socket};
  TcpConnector connector(stacks.client_iface, pool);
  std::vector<TcpStream> held;
  int connected = 0;
  async::TaskStorage<4096> server_task;
  async::TaskStorage<4096> client_task;
  ASSERT_TRUE(
      executor.spawn(server_task, accept_and_hold, std::ref(listener), 2, std::ref(held)).ok());
  ASSERT_TRUE(
      executor.spawn(client_task, connect_and_close_twice, std::ref(connector), std::ref(connected))
          .ok());
  static_cast<void>(executor.run_for(2s));
  EXPECT_EQ(connected, 2);
  EXPECT_EQ(client_task.exit_status(), ok_status());
  EXPECT_EQ(held.size(), 2u);
  held.clear();
  server_task.cancel();
}

Task<Status> connect_and_half_close(TcpConnector& connector, std::optional<TcpStream>& out) {
  MOTE_CO_TRY_ASSIGN(TcpStream stream, co_await connector.connect(Endpoint{kServerIp, 7}));
  MOTE_CO_TRY(stream.shutdown_write());
  out.emplace(std::move(stream));
  co_return ok_status();
}

// As Linux: a stream the application half-closed and still holds waits in
// FIN-WAIT-2 for the peer however long it is silent; once closed, the
// FIN-WAIT-2 timeout (60 s) gives the socket back.
TEST_F(TcpSocketTest, AHeldHalfClosedStreamOutlivesTheFinWait2Timeout) {
  OneConnection sockets(start_stacks());
  const TcpSocket& client_socket = sockets.client_socket;
  std::vector<TcpStream> held;
  std::optional<TcpStream> stream;
  async::TaskStorage<4096> server_task;
  async::TaskStorage<4096> client_task;
  ASSERT_TRUE(
      executor.spawn(server_task, accept_and_hold, std::ref(sockets.listener), 1, std::ref(held))
          .ok());
  ASSERT_TRUE(
      executor
          .spawn(client_task, connect_and_half_close, std::ref(sockets.connector), std::ref(stream))
          .ok());
  static_cast<void>(executor.run_for(120s));
  ASSERT_EQ(client_task.exit_status(), ok_status());
  ASSERT_TRUE(stream.has_value());
  EXPECT_EQ(client_socket.tcb().state(), TcpState::fin_wait_2);
  std::array<std::byte, 16> buffer{};
  EXPECT_EQ(stream->try_read(buffer).status(), Status::unavailable());  // open, no data yet

  stream->close();
  static_cast<void>(executor.run_for(59s));
  EXPECT_EQ(client_socket.tcb().state(), TcpState::fin_wait_2);
  static_cast<void>(executor.run_for(2s));
  EXPECT_EQ(client_socket.tcb().state(), TcpState::closed);
  EXPECT_TRUE(client_socket.is_free());
  held.clear();
  server_task.cancel();
}

}  // namespace
}  // namespace mote::net
