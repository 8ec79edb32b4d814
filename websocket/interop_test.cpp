// Interop with real peers on loopback: python3-websockets 10.4 (client and
// server) and Node's `ws` (client), with permessage-deflate on and off.
#include <chrono>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "mote/async/event.hpp"
#include "mote/async/executor.hpp"
#include "mote/async/timeout.hpp"
#include "mote/http/server.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"
#include "mote/testing/process.hpp"
#include "mote/websocket/connection.hpp"
#include "mote/websocket/deflate.hpp"
#include "mote/websocket/system_random.hpp"

namespace mote::websocket {
namespace {

using namespace std::chrono_literals;
using async::Task;
using platform::KernelTcpListener;
using platform::KernelTcpStream;

constexpr const char* kPython = "/usr/bin/python3";
const std::string kTestdata = MOTE_WEBSOCKET_TESTDATA;

io::Endpoint loopback(std::uint16_t port = 0) {
  return io::Endpoint{io::Ipv4Address(127, 0, 0, 1), port};
}

// What mote's echo server saw of its one connection.
struct ServerLog {
  std::size_t messages = 0;
  std::uint16_t peer_close_code = 0;
  std::string peer_close_reason;
  std::string extensions;  // the negotiated permessage-deflate parameters, if any
  const char* failure = nullptr;
  Status status = Status::unknown();  // of the upgrade handler (http::Server test)
};

// Buffers of one connection (heap here; firmware would make them static).
struct Buffers {
  std::vector<std::byte> head = std::vector<std::byte>(4096);
  std::vector<std::byte> read = std::vector<std::byte>(16 * 1024);
  std::vector<std::byte> write = std::vector<std::byte>(16 * 1024);
  std::vector<std::byte> message = std::vector<std::byte>(4 << 20);
};

// Echoes every message of an accepted connection (text over 1000 bytes in
// 1000-byte fragments) until the close handshake. "please close" makes the
// server close with 4002 "as asked".
template <typename Ws>
Task<Status> echo_messages(Ws& ws, ByteSpan buffer, ServerLog& log) {
  if constexpr (std::is_same_v<std::remove_cvref_t<decltype(ws.extension())>, PerMessageDeflate>) {
    if (ws.extension().active()) {
      const DeflateParameters& p = ws.extension().parameters();
      log.extensions = "server_bits=" + std::to_string(p.server_max_window_bits) +
                       " client_bits=" + std::to_string(p.client_max_window_bits);
    }
  }
  for (;;) {
    Result<Message> message = co_await ws.receive(buffer);
    log.failure = ws.failure();
    if (!message.ok()) co_return message.status();
    if (message->type == MessageType::close) break;
    ++log.messages;
    const ConstByteSpan data = ConstByteSpan(buffer).first(message->size);
    if (message->type == MessageType::text && as_string_view(data) == "please close") {
      MOTE_CO_TRY(co_await ws.close(4002, "as asked"));
      continue;
    }
    const std::size_t fragment = message->type == MessageType::text ? 1000 : 0;
    MOTE_CO_TRY(co_await ws.send(message->type, data, fragment));
  }
  log.peer_close_code = ws.peer_close_code();
  log.peer_close_reason = std::string(ws.peer_close_reason());
  co_return ok_status();
}

// Accepts one connection, reads its upgrade request, upgrades and echoes.
template <typename Extension>
Task<Status> serve_echo(KernelTcpListener& listener, ServerLog& log, Extension extension) {
  MOTE_CO_TRY_ASSIGN(KernelTcpStream stream, co_await listener.accept());
  auto buffers = std::make_unique<Buffers>();
  std::array<http::Header, 32> fields{};
  http::RequestParser parser(fields);
  MOTE_CO_TRY_ASSIGN(RequestHeadRead head,
                     co_await read_request_head(stream, buffers->head, parser));
  Connection<KernelTcpStream, Extension> ws(
      std::move(stream), Role::server, {buffers->read, buffers->write}, {}, std::move(extension));
  const std::string_view protocols[] = {"mote"};
  MOTE_CO_TRY(co_await ws.accept(
      parser.head(), protocols,
      ConstByteSpan(buffers->head).subspan(head.head_size, head.received - head.head_size)));
  co_return co_await echo_messages(ws, buffers->message, log);
}

// Runs mote's echo server for one connection from `client_argv` (with the
// URL appended at "{url}").
template <typename Extension>
void run_server_against(std::vector<std::string> client_argv, Extension extension, ServerLog& log,
                        testing::ChildProcess*& child_out,
                        std::unique_ptr<testing::ChildProcess>& child) {
  platform::EpollDriver driver;
  async::Executor executor(driver);
  Result<KernelTcpListener> listener = KernelTcpListener::listen(driver, loopback());
  ASSERT_TRUE(listener.ok());
  const std::string url =
      "ws://127.0.0.1:" + std::to_string(listener->local_endpoint()->port) + "/";
  for (std::string& arg : client_argv) {
    if (arg == "{url}") arg = url;
  }
  child = std::make_unique<testing::ChildProcess>(client_argv);
  child_out = child.get();
  ASSERT_TRUE(child->started());
  auto task = std::make_unique<async::TaskStorage<64 * 1024>>();
  auto bounded = [](KernelTcpListener& l, ServerLog& s, Extension e) -> Task<Status> {
    co_return co_await async::with_timeout(10s, serve_echo(l, s, std::move(e)));
  };
  ASSERT_TRUE(
      executor.spawn(*task, bounded, std::ref(*listener), std::ref(log), std::move(extension))
          .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(task->exit_status(), ok_status())
      << task->exit_status().str() << " " << (log.failure ? log.failure : "") << "\n"
      << child->describe();
  EXPECT_EQ(child->wait_for_exit(10s), 0) << child->describe();
}

class PythonClientTest : public ::testing::TestWithParam<bool> {};

TEST_P(PythonClientTest, EchoesEverythingAndSeesTheClientsCloseCode) {
  if (!testing::find_program(kPython)) GTEST_SKIP() << "no /usr/bin/python3";
  const bool deflate = GetParam();
  ServerLog log;
  testing::ChildProcess* child = nullptr;
  std::unique_ptr<testing::ChildProcess> owner;
  const std::vector<std::string> argv = {kPython, kTestdata + "/python_peer.py", "client", "{url}",
                                         deflate ? "deflate" : "none"};
  if (deflate) {
    run_server_against(argv, PerMessageDeflate(DeflateOptions{}), log, child, owner);
    EXPECT_EQ(log.extensions, "server_bits=15 client_bits=15");
  } else {
    run_server_against(argv, NoExtension{}, log, child, owner);
    EXPECT_EQ(log.extensions, "");
  }
  ASSERT_NE(child, nullptr);
  EXPECT_NE(child->stdout_text().find("ok\n"), std::string::npos) << child->describe();
  EXPECT_NE(child->stdout_text().find("subprotocol: mote"), std::string::npos);
  EXPECT_EQ(child->stdout_text().find("extensions: None") == std::string::npos, deflate)
      << child->describe();
  EXPECT_EQ(log.messages, 7u);
  EXPECT_EQ(log.peer_close_code, 4001);
  EXPECT_EQ(log.peer_close_reason, "done");
}

TEST(PythonClientDeflateTest, EveryNegotiationParameterOverTheWire) {
  if (!testing::find_program(kPython)) GTEST_SKIP() << "no /usr/bin/python3";
  // The client asks for both no_context_takeover flags and 10-bit windows.
  ServerLog log;
  testing::ChildProcess* child = nullptr;
  std::unique_ptr<testing::ChildProcess> owner;
  const std::vector<std::string> argv = {kPython, kTestdata + "/python_peer.py", "client", "{url}",
                                         "deflate-limited"};
  run_server_against(argv, PerMessageDeflate(DeflateOptions{}), log, child, owner);
  ASSERT_NE(child, nullptr);
  EXPECT_NE(child->stdout_text().find(
                "extensions: permessage-deflate; server_no_context_takeover; "
                "client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=10"),
            std::string::npos)
      << child->describe();
  EXPECT_NE(child->stdout_text().find("ok\n"), std::string::npos) << child->describe();
  EXPECT_EQ(log.extensions, "server_bits=10 client_bits=10");
  EXPECT_EQ(log.messages, 7u);
}

TEST_P(PythonClientTest, ServerClosesWithItsCode) {
  if (!testing::find_program(kPython)) GTEST_SKIP() << "no /usr/bin/python3";
  ServerLog log;
  testing::ChildProcess* child = nullptr;
  std::unique_ptr<testing::ChildProcess> owner;
  const std::vector<std::string> argv = {kPython, kTestdata + "/python_peer.py", "client-closed",
                                         "{url}", GetParam() ? "deflate" : "none"};
  run_server_against(argv, PerMessageDeflate(DeflateOptions{}), log, child, owner);
  ASSERT_NE(child, nullptr);
  EXPECT_NE(child->stdout_text().find("closed 4002 as asked"), std::string::npos)
      << child->describe();
  EXPECT_EQ(log.peer_close_code, 4002);  // python echoes the code (§5.5.1)
}

INSTANTIATE_TEST_SUITE_P(Compression, PythonClientTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Deflate" : "Plain"; });

class NodeClientTest : public ::testing::TestWithParam<bool> {};

TEST_P(NodeClientTest, EchoesAndPings) {
  MOTE_SKIP_UNLESS_PROGRAM("node");
  ServerLog log;
  testing::ChildProcess* child = nullptr;
  std::unique_ptr<testing::ChildProcess> owner;
  const std::vector<std::string> argv = {"node", kTestdata + "/ws_peer.mjs", "{url}",
                                         GetParam() ? "deflate" : "none"};
  run_server_against(argv, PerMessageDeflate(DeflateOptions{}), log, child, owner);
  ASSERT_NE(child, nullptr);
  EXPECT_NE(child->stdout_text().find("ok\n"), std::string::npos) << child->describe();
  EXPECT_EQ(log.messages, 3u);
  EXPECT_EQ(log.peer_close_code, 4001);
  EXPECT_EQ(log.extensions.empty(), !GetParam());
}

INSTANTIATE_TEST_SUITE_P(Compression, NodeClientTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Deflate" : "Plain"; });

// --- Behind mote's HTTP server ----------------------------------------------------

// http::Server's upgrade handler: the connection borrows the server's stream.
Task<void> upgrade_and_echo(http::Request& request, KernelTcpStream& stream, ConstByteSpan received,
                            ServerLog& log, async::Event& done) {
  auto buffers = std::make_unique<Buffers>();
  Connection<BorrowedStream<KernelTcpStream>, PerMessageDeflate> ws(
      BorrowedStream<KernelTcpStream>(stream), Role::server, {buffers->read, buffers->write}, {},
      PerMessageDeflate());
  const std::string_view protocols[] = {"mote"};
  log.status = co_await ws.accept(*request.head, protocols, received);
  if (log.status.ok()) log.status = co_await echo_messages(ws, buffers->message, log);
  done.set();
}

Task<void> stop_when_done(http::Server<KernelTcpListener>& server, async::Event& done) {
  co_await done.wait();
  server.stop();
}

TEST(HttpServerUpgradeTest, PythonClientThroughMoteHttpServer) {
  if (!testing::find_program(kPython)) GTEST_SKIP() << "no /usr/bin/python3";
  platform::EpollDriver driver;
  async::Executor executor(driver);
  Result<KernelTcpListener> listener = KernelTcpListener::listen(driver, loopback());
  ASSERT_TRUE(listener.ok());
  http::Router router;
  http::Server<KernelTcpListener> server(*listener, router);
  ServerLog log;
  async::Event done;
  ASSERT_TRUE(server
                  .on_upgrade("/ws",
                              [&log, &done](http::Request& request, KernelTcpStream& stream,
                                            ConstByteSpan received) {
                                return upgrade_and_echo(request, stream, received, log, done);
                              })
                  .ok());
  ASSERT_TRUE(server.start(executor).ok());
  async::TaskStorage<1024> stopper;
  ASSERT_TRUE(executor.spawn(stopper, stop_when_done, std::ref(server), std::ref(done)).ok());
  const std::string url =
      "ws://127.0.0.1:" + std::to_string(listener->local_endpoint()->port) + "/ws";
  testing::ChildProcess client({kPython, kTestdata + "/python_peer.py", "client", url, "deflate"});
  ASSERT_TRUE(client.started());
  EXPECT_EQ(executor.run_for(std::chrono::seconds(20)), ok_status()) << client.describe();
  EXPECT_EQ(client.wait_for_exit(10s), 0) << client.describe();
  EXPECT_EQ(log.status, ok_status()) << (log.failure ? log.failure : "");
  EXPECT_NE(client.stdout_text().find("ok\n"), std::string::npos) << client.describe();
  EXPECT_EQ(log.extensions, "server_bits=15 client_bits=15");
  EXPECT_EQ(log.messages, 7u);
  EXPECT_EQ(log.peer_close_code, 4001);
}

// --- mote's client against python's server ---------------------------------------

struct ClientLog {
  std::uint32_t pongs = 0;
  std::uint16_t peer_close_code = 0;
  bool compressed = false;
  std::string parameters;  // the agreed permessage-deflate parameters
  const char* failure = nullptr;
};

std::vector<std::byte> pattern(std::size_t size) {
  std::vector<std::byte> data(size);
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<std::byte>((i * 31) ^ (i >> 8));
  return data;
}

template <typename Extension>
Task<Status> client_session(platform::KernelTcpConnector& connector, std::uint16_t port,
                            ClientLog& log, Extension extension) {
  MOTE_CO_TRY_ASSIGN(KernelTcpStream stream, co_await connector.connect(loopback(port)));
  auto buffers = std::make_unique<Buffers>();
  Connection<KernelTcpStream, Extension> ws(std::move(stream), Role::client,
                                            {buffers->read, buffers->write}, system_random(),
                                            std::move(extension));
  const std::string host = "127.0.0.1:" + std::to_string(port);
  Status connected =
      co_await ws.connect({.host = host, .target = "/echo", .subprotocols = {}, .origin = {}});
  log.failure = ws.failure();
  MOTE_CO_TRY(connected);
  log.compressed = ws.extension().active();
  if (log.compressed) {
    const DeflateParameters& p = ws.extension().parameters();
    log.parameters = std::to_string(p.server_no_context_takeover) +
                     std::to_string(p.client_no_context_takeover) +
                     " server_bits=" + std::to_string(p.server_max_window_bits) +
                     " client_bits=" + std::to_string(p.client_max_window_bits);
  }
  auto expect_echo = [&](MessageType type, ConstByteSpan data,
                         std::size_t fragment) -> Task<Status> {
    MOTE_CO_TRY(co_await ws.send(type, data, fragment));
    Result<Message> echo = co_await ws.receive(buffers->message);
    log.failure = ws.failure();
    MOTE_CO_TRY(echo.status());
    const ConstByteSpan got = ConstByteSpan(buffers->message).first(echo->size);
    if (echo->type != type || !std::equal(got.begin(), got.end(), data.begin(), data.end())) {
      co_return Status::data_loss();
    }
    co_return ok_status();
  };
  MOTE_CO_TRY(co_await expect_echo(MessageType::text, bytes_of("Hello, python"), 0));
  const std::vector<std::byte> big = pattern(300 * 1000);
  MOTE_CO_TRY(co_await expect_echo(MessageType::binary, big, 16 * 1024));
  MOTE_CO_TRY(co_await expect_echo(MessageType::text, bytes_of("fragmented \xe2\x9c\x93"), 3));
  MOTE_CO_TRY(co_await expect_echo(MessageType::binary, {}, 0));
  // python pings us; receive() answers, python then says "ponged".
  MOTE_CO_TRY(co_await ws.send_text("ping-me"));
  MOTE_CO_TRY_ASSIGN(Message ponged, co_await ws.receive(buffers->message));
  if (as_string_view(ConstByteSpan(buffers->message).first(ponged.size)) != "ponged") {
    co_return Status::data_loss();
  }
  // Our ping: python's pong comes before the echo of what we send next.
  MOTE_CO_TRY(co_await ws.ping(bytes_of("from-mote")));
  MOTE_CO_TRY(co_await expect_echo(MessageType::text, bytes_of("after ping"), 0));
  log.pongs = ws.pongs_received();
  MOTE_CO_TRY(co_await ws.close(4003, "bye"));
  for (;;) {
    MOTE_CO_TRY_ASSIGN(Message m, co_await ws.receive(buffers->message));
    if (m.type == MessageType::close) break;
  }
  log.peer_close_code = ws.peer_close_code();
  co_return ok_status();
}

// Runs client_session against python's echo server and checks the session's end.
void run_client_against_python(bool deflate, DeflateOptions options, ClientLog& log) {
  const std::uint16_t port = testing::unused_port(SOCK_STREAM);
  testing::ChildProcess server({kPython, kTestdata + "/python_peer.py", "server",
                                std::to_string(port), deflate ? "deflate" : "none"});
  ASSERT_TRUE(server.wait_for_output("listening", 10s)) << server.describe();
  platform::EpollDriver driver;
  async::Executor executor(driver);
  platform::KernelTcpConnector connector(driver);
  auto task = std::make_unique<async::TaskStorage<64 * 1024>>();
  auto bounded = [](platform::KernelTcpConnector& c, std::uint16_t p, ClientLog& l,
                    DeflateOptions o) -> Task<Status> {
    co_return co_await async::with_timeout(10s, client_session(c, p, l, PerMessageDeflate(o)));
  };
  ASSERT_TRUE(
      executor.spawn(*task, bounded, std::ref(connector), port, std::ref(log), options).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(task->exit_status(), ok_status())
      << task->exit_status().str() << " " << (log.failure ? log.failure : "") << "\n"
      << server.describe();
  EXPECT_EQ(log.pongs, 1u);
  EXPECT_EQ(log.peer_close_code, 4003);
  EXPECT_TRUE(server.wait_for_output("closed 4003 bye", 5s)) << server.describe();
}

class PythonServerTest : public ::testing::TestWithParam<bool> {};

TEST_P(PythonServerTest, MoteClientEchoesPingsAndCloses) {
  if (!testing::find_program(kPython)) GTEST_SKIP() << "no /usr/bin/python3";
  ClientLog log;
  run_client_against_python(GetParam(), DeflateOptions{}, log);
  EXPECT_EQ(log.compressed, GetParam());
}

TEST(PythonServerDeflateTest, MoteClientAsksForEveryParameter) {
  if (!testing::find_program(kPython)) GTEST_SKIP() << "no /usr/bin/python3";
  ClientLog log;
  run_client_against_python(true,
                            {.server_no_context_takeover = true,
                             .client_no_context_takeover = true,
                             .server_max_window_bits = 10,
                             .client_max_window_bits = 11},
                            log);
  EXPECT_TRUE(log.compressed);
  EXPECT_EQ(log.parameters.substr(0, 2), "11");  // both no_context_takeover
  EXPECT_NE(log.parameters.find("server_bits=10"), std::string::npos) << log.parameters;
}

INSTANTIATE_TEST_SUITE_P(Compression, PythonServerTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Deflate" : "Plain"; });

}  // namespace
}  // namespace mote::websocket
