#include "mote/platform/kernel_sockets.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <optional>
#include <sys/socket.h>
#include <vector>

#include "mote/async/join.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/timeout.hpp"

namespace mote::platform {
namespace {

using namespace std::chrono_literals;
using async::Executor;
using async::Task;
using async::TaskStorage;
using io::Endpoint;

Endpoint loopback(std::uint16_t port = 0) { return Endpoint{io::Ipv4Address(127, 0, 0, 1), port}; }

std::vector<std::byte> pattern(std::size_t size) {
  std::vector<std::byte> data(size);
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<std::byte>((i * 31) ^ (i >> 8));
  return data;
}

// Echoes everything until the client shuts down its side, then closes.
Task<Status> echo_one(KernelTcpListener& listener) {
  MOTE_CO_TRY_ASSIGN(KernelTcpStream stream, co_await listener.accept());
  std::byte buffer[16 * 1024];
  for (;;) {
    MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream.read(buffer));
    if (n == 0) break;
    MOTE_CO_TRY(co_await stream.write(ConstByteSpan(buffer, n)));
  }
  MOTE_CO_TRY(stream.shutdown_write());
  co_return ok_status();
}

// Writes all, shuts down, reads the echo until the end; concurrently, since
// neither side's buffers hold a megabyte.
Task<Status> send_and_collect(KernelTcpStream& stream, const std::vector<std::byte>& data,
                              std::vector<std::byte>& echoed) {
  auto sender = [](KernelTcpStream& stream, const std::vector<std::byte>& data) -> Task<Status> {
    MOTE_CO_TRY(co_await stream.write(ConstByteSpan(data.data(), data.size())));
    co_return stream.shutdown_write();
  };
  auto receiver = [](KernelTcpStream& stream, std::vector<std::byte>& echoed) -> Task<Status> {
    std::byte buffer[16 * 1024];
    for (;;) {
      MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream.read(buffer));
      if (n == 0) co_return ok_status();
      echoed.insert(echoed.end(), buffer, buffer + n);
    }
  };
  auto [sent, received] = co_await async::join(sender(stream, data), receiver(stream, echoed));
  MOTE_CO_TRY(sent);
  co_return received;
}

Task<Status> client(KernelTcpConnector& connector, Endpoint server,
                    const std::vector<std::byte>& data, std::vector<std::byte>& echoed) {
  MOTE_CO_TRY_ASSIGN(KernelTcpStream stream, co_await connector.connect(server));
  MOTE_CO_TRY_ASSIGN(Endpoint peer, stream.remote_endpoint());
  if (!(peer == server)) co_return Status::internal();
  co_return co_await send_and_collect(stream, data, echoed);
}

TEST(KernelSocketsTest, TcpEchoOfAMegabyteOverLoopback) {
  EpollDriver driver;
  Executor executor(driver);
  Result<KernelTcpListener> listener = KernelTcpListener::listen(driver, loopback());
  ASSERT_TRUE(listener.ok());
  const Endpoint server = listener->local_endpoint().value();
  EXPECT_NE(server.port, 0);
  KernelTcpConnector connector(driver);
  const std::vector<std::byte> data = pattern(1 << 20);
  std::vector<std::byte> echoed;
  TaskStorage<64 * 1024> server_task, client_task;
  ASSERT_TRUE(executor.spawn(server_task, echo_one, std::ref(*listener)).ok());
  ASSERT_TRUE(executor
                  .spawn(client_task, client, std::ref(connector), server, std::cref(data),
                         std::ref(echoed))
                  .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(server_task.exit_status().ok()) << server_task.exit_status().str();
  EXPECT_TRUE(client_task.exit_status().ok()) << client_task.exit_status().str();
  EXPECT_EQ(echoed, data);
}

Task<Status> connect_only(KernelTcpConnector& connector, Endpoint server) {
  co_return (co_await connector.connect(server)).status();
}

TEST(KernelSocketsTest, ConnectToAClosedPortIsRefused) {
  EpollDriver driver;
  Executor executor(driver);
  Endpoint closed;
  {
    Result<KernelTcpListener> listener = KernelTcpListener::listen(driver, loopback());
    ASSERT_TRUE(listener.ok());
    closed = listener->local_endpoint().value();
  }  // closed again: nothing listens on that port now
  KernelTcpConnector connector(driver);
  TaskStorage<4096> task;
  ASSERT_TRUE(executor.spawn(task, connect_only, std::ref(connector), closed).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(task.exit_status(), Status::unavailable());
}

TEST(KernelSocketsTest, ListeningTwiceOnOnePortIsAlreadyExists) {
  EpollDriver driver;
  Result<KernelTcpListener> first = KernelTcpListener::listen(driver, loopback());
  ASSERT_TRUE(first.ok());
  Result<KernelTcpListener> second =
      KernelTcpListener::listen(driver, first->local_endpoint().value());
  EXPECT_EQ(second.status(), Status::already_exists());
}

// Accepts, moves the stream (moving a watched socket re-registers it), then
// ends the connection: gracefully, or with a reset (SO_LINGER 0).
Task<Status> accept_and_end(KernelTcpListener& listener, bool reset) {
  MOTE_CO_TRY_ASSIGN(KernelTcpStream accepted, co_await listener.accept());
  KernelTcpStream stream = std::move(accepted);
  MOTE_CO_TRY(stream.set_no_delay(true));
  co_await async::sleep_for(5ms);
  if (reset) {
    const linger abortive{1, 0};
    ::setsockopt(stream.native_handle(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  }
  stream.close();
  co_return ok_status();
}

Task<Status> read_until_end(KernelTcpConnector& connector, Endpoint server) {
  MOTE_CO_TRY_ASSIGN(KernelTcpStream stream, co_await connector.connect(server));
  std::byte buffer[64];
  for (;;) {
    MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream.read(buffer));
    if (n == 0) co_return Status::out_of_range();  // the orderly end, as a marker
  }
}

void run_end_of_connection(bool reset, Status expected) {
  EpollDriver driver;
  Executor executor(driver);
  Result<KernelTcpListener> listener = KernelTcpListener::listen(driver, loopback());
  ASSERT_TRUE(listener.ok());
  KernelTcpConnector connector(driver);
  TaskStorage<8192> server_task, client_task;
  ASSERT_TRUE(executor.spawn(server_task, accept_and_end, std::ref(*listener), reset).ok());
  ASSERT_TRUE(executor
                  .spawn(client_task, read_until_end, std::ref(connector),
                         listener->local_endpoint().value())
                  .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(server_task.exit_status().ok()) << server_task.exit_status().str();
  EXPECT_EQ(client_task.exit_status(), expected) << client_task.exit_status().str();
}

TEST(KernelSocketsTest, PeerCloseIsAnOrderlyEndOfStream) {
  run_end_of_connection(false, Status::out_of_range());  // read returned 0
}

TEST(KernelSocketsTest, PeerResetIsAborted) { run_end_of_connection(true, Status::aborted()); }

Task<Status> accept_forever(KernelTcpListener& listener) {
  co_return (co_await listener.accept()).status();
}

TEST(KernelSocketsTest, CancelledAcceptLeavesTheListenerUsable) {
  EpollDriver driver;
  Executor executor(driver);
  Result<KernelTcpListener> listener = KernelTcpListener::listen(driver, loopback());
  ASSERT_TRUE(listener.ok());
  TaskStorage<64 * 1024> waiting, server_task, client_task;
  ASSERT_TRUE(executor.spawn(waiting, accept_forever, std::ref(*listener)).ok());
  executor.run_until_stalled();
  waiting.cancel();
  EXPECT_EQ(waiting.exit_status(), Status::cancelled());
  KernelTcpConnector connector(driver);
  const std::vector<std::byte> data = pattern(1000);
  std::vector<std::byte> echoed;
  ASSERT_TRUE(executor.spawn(server_task, echo_one, std::ref(*listener)).ok());
  ASSERT_TRUE(executor
                  .spawn(client_task, client, std::ref(connector),
                         listener->local_endpoint().value(), std::cref(data), std::ref(echoed))
                  .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(echoed, data);
}

// The example in docs/io.md: protocol code written against the concept only.
template <io::Connector C>
Task<Status> exchange(C& connector, io::Endpoint server, ConstByteSpan request, ByteSpan reply,
                      std::size_t& received) {
  MOTE_CO_TRY_ASSIGN(auto stream, co_await connector.connect(server));
  MOTE_CO_TRY(co_await stream.write(request));
  MOTE_CO_TRY(stream.shutdown_write());
  received = 0;
  for (;;) {
    MOTE_CO_TRY_ASSIGN(std::size_t n, co_await stream.read(reply.subspan(received)));
    if (n == 0) co_return ok_status();
    received += n;
  }
}

TEST(KernelSocketsTest, GenericProtocolCodeRunsOnKernelSockets) {
  EpollDriver driver;
  Executor executor(driver);
  Result<KernelTcpListener> listener = KernelTcpListener::listen(driver, loopback());
  ASSERT_TRUE(listener.ok());
  KernelTcpConnector connector(driver);
  const std::vector<std::byte> request = pattern(300);
  std::byte reply[512];
  std::size_t received = 0;
  TaskStorage<64 * 1024> server_task, client_task;
  ASSERT_TRUE(executor.spawn(server_task, echo_one, std::ref(*listener)).ok());
  ASSERT_TRUE(executor
                  .spawn(client_task, exchange<KernelTcpConnector>, std::ref(connector),
                         listener->local_endpoint().value(),
                         ConstByteSpan(request.data(), request.size()), ByteSpan(reply),
                         std::ref(received))
                  .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(client_task.exit_status().ok());
  ASSERT_EQ(received, request.size());
  EXPECT_TRUE(std::equal(request.begin(), request.end(), reply));
}

Task<Status> udp_ping(KernelUdpSocket& a, KernelUdpSocket& b, std::vector<io::Datagram>& seen) {
  MOTE_CO_TRY_ASSIGN(Endpoint to_b, b.local_endpoint());
  MOTE_CO_TRY_ASSIGN(Endpoint from_a, a.local_endpoint());
  const char hello[] = "hello over udp";
  MOTE_CO_TRY(
      co_await a.send_to(ConstByteSpan(reinterpret_cast<const std::byte*>(hello), 14), to_b));
  std::byte buffer[64];
  MOTE_CO_TRY_ASSIGN(io::Datagram got, co_await b.receive_from(buffer));
  seen.push_back(got);
  if (!(got.from == from_a) || got.size != 14) co_return Status::internal();
  // A reply bigger than the receiver's buffer arrives truncated, flagged.
  std::byte big[100] = {};
  MOTE_CO_TRY(co_await b.send_to(ConstByteSpan(big, sizeof big), from_a));
  std::byte small[10];
  MOTE_CO_TRY_ASSIGN(io::Datagram cut, co_await a.receive_from(small));
  seen.push_back(cut);
  co_return ok_status();
}

TEST(KernelSocketsTest, UdpDatagramsBothWaysAndTruncation) {
  EpollDriver driver;
  Executor executor(driver);
  Result<KernelUdpSocket> a = KernelUdpSocket::bind(driver, loopback());
  Result<KernelUdpSocket> b = KernelUdpSocket::bind(driver, loopback());
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<io::Datagram> seen;
  TaskStorage<8192> task;
  ASSERT_TRUE(executor.spawn(task, udp_ping, std::ref(*a), std::ref(*b), std::ref(seen)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(task.exit_status().ok()) << task.exit_status().str();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_FALSE(seen[0].truncated);
  EXPECT_EQ(seen[1].size, 10u);
  EXPECT_TRUE(seen[1].truncated);
}

Task<Status> resolve_into(KernelResolver& resolver, std::string_view host, io::IpAddress& out) {
  MOTE_CO_TRY_ASSIGN(out, co_await resolver.resolve(host));
  co_return ok_status();
}

// Only names the machine answers itself (/etc/hosts), so the test sends no
// query anywhere.
TEST(KernelSocketsTest, ResolverAnswersNumericAndLocalNames) {
  EpollDriver driver;
  Executor executor(driver);
  KernelResolver resolver(executor);
  io::IpAddress numeric, local;
  TaskStorage<8192> a, b;
  ASSERT_TRUE(
      executor.spawn(a, resolve_into, std::ref(resolver), "192.0.2.7", std::ref(numeric)).ok());
  ASSERT_TRUE(executor.run().ok());
  ASSERT_TRUE(
      executor.spawn(b, resolve_into, std::ref(resolver), "localhost", std::ref(local)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(numeric, io::IpAddress(io::Ipv4Address(192, 0, 2, 7)));
  EXPECT_TRUE(b.exit_status().ok());
  EXPECT_TRUE(local.is_loopback());
}

struct CountingListener final : io::ReadinessListener {
  void on_readable() override { ++calls; }
  int calls = 0;
};

Task<Status> accept_into(KernelTcpListener& listener, std::optional<KernelTcpStream>& into) {
  MOTE_CO_TRY_ASSIGN(KernelTcpStream stream, co_await listener.accept());
  into.emplace(std::move(stream));
  co_return ok_status();
}

Task<Status> connect_into(KernelTcpConnector& connector, Endpoint server,
                          std::optional<KernelTcpStream>& into) {
  MOTE_CO_TRY_ASSIGN(KernelTcpStream stream, co_await connector.connect(server));
  into.emplace(std::move(stream));
  co_return ok_status();
}

Task<Status> write_text(KernelTcpStream& stream, const char* text) {
  co_return co_await stream.write(bytes_of(text));
}

TEST(KernelSocketsTest, AReadinessListenerHearsTheNextDataOnceAndCloseForgetsIt) {
  static_assert(io::ReadinessStream<KernelTcpStream>);
  EpollDriver driver;
  Executor executor(driver);
  Result<KernelTcpListener> listener = KernelTcpListener::listen(driver, loopback());
  ASSERT_TRUE(listener.ok());
  KernelTcpConnector connector(driver);
  std::optional<KernelTcpStream> server_side, client_side;
  TaskStorage<8192> server_task, client_task;
  ASSERT_TRUE(
      executor.spawn(server_task, accept_into, std::ref(*listener), std::ref(server_side)).ok());
  ASSERT_TRUE(executor
                  .spawn(client_task, connect_into, std::ref(connector),
                         listener->local_endpoint().value(), std::ref(client_side))
                  .ok());
  ASSERT_TRUE(executor.run().ok());  // both tasks end once connected
  ASSERT_TRUE(server_side && client_side);

  // With no task waiting, the executor does not block: wait in the driver
  // itself, which is where listeners are called (a bound, not a timing).
  const auto pump = [&](async::Duration duration, const int* until_nonzero) {
    const async::Instant end = driver.now() + duration;
    const auto done = [&] { return until_nonzero != nullptr && *until_nonzero != 0; };
    while (driver.now() < end && !done()) {
      executor.run_until_stalled();
      if (!done()) driver.wait_until(end);
    }
  };

  // Nothing sent yet: a read would wait, and nothing is heard.
  EXPECT_FALSE(server_side->read_ready());
  CountingListener heard;
  server_side->notify_readable(heard);
  pump(20ms, nullptr);
  EXPECT_EQ(heard.calls, 0);

  // The first bytes: heard once, without any task waiting.
  ASSERT_TRUE(executor.spawn(client_task, write_text, std::ref(*client_side), "a").ok());
  pump(2s, &heard.calls);  // until heard (2 s: a hang guard)
  EXPECT_EQ(heard.calls, 1);
  EXPECT_TRUE(server_side->read_ready());
  // More bytes: the registration was used up.
  ASSERT_TRUE(executor.spawn(client_task, write_text, std::ref(*client_side), "b").ok());
  pump(50ms, nullptr);
  EXPECT_EQ(heard.calls, 1);

  // Read everything (the queue is empty again), register, close: nothing is heard.
  std::byte buffer[16];
  Result<std::size_t> n = Status::unknown();
  auto read_once = [](KernelTcpStream& stream, ByteSpan into,
                      Result<std::size_t>& result) -> Task<void> {
    result = co_await stream.read(into);
  };
  ASSERT_TRUE(
      executor.spawn(server_task, read_once, std::ref(*server_side), ByteSpan(buffer), std::ref(n))
          .ok());
  ASSERT_TRUE(executor.run().ok());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);  // "ab"
  EXPECT_FALSE(server_side->read_ready());
  server_side->notify_readable(heard);
  server_side->close();
  EXPECT_TRUE(server_side->read_ready());  // a closed stream reads at once (an error)
  ASSERT_TRUE(executor.spawn(client_task, write_text, std::ref(*client_side), "c").ok());
  pump(50ms, nullptr);
  EXPECT_EQ(heard.calls, 1);
}

}  // namespace
}  // namespace mote::platform
