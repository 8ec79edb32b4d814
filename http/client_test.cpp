// The client on kernel sockets: against mote's own server, against
// Python's http.server and against Node.js's http module on 127.0.0.1.

#include "mote/http/client.hpp"

#include <array>
#include <gtest/gtest.h>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "mote/http/server.hpp"
#include "mote/platform/kernel_sockets.hpp"
#include "mote/testing/process.hpp"

namespace mote::http {
namespace {

using namespace std::chrono_literals;
using platform::KernelTcpConnector;
using platform::KernelTcpListener;
using platform::KernelTcpStream;

struct Fetched {
  std::uint16_t status = 0;
  std::string body;
  std::string content_type;
  bool reusable = false;
};

// One exchange on an open client; the body gathered piece by piece.
async::Task<Result<Fetched>> fetch(Client<KernelTcpStream>& client, ClientRequest request) {
  MOTE_CO_TRY_ASSIGN(const ResponseHead* head, co_await client.send(request));
  Fetched fetched;
  fetched.status = head->status;
  fetched.content_type = std::string(head->headers.get("Content-Type").value_or(""));
  for (;;) {
    MOTE_CO_TRY_ASSIGN(ConstByteSpan piece, co_await client.read_body());
    if (piece.empty()) break;
    fetched.body.append(as_string_view(piece));
  }
  fetched.reusable = client.reusable();
  co_return fetched;
}

// Runs `requests` one after the other on one connection to `port`, with a
// small buffer so bodies come in several pieces.
async::Task<Status> session(KernelTcpConnector& connector, std::uint16_t port,
                            std::vector<ClientRequest> requests, std::vector<Fetched>& results) {
  MOTE_CO_TRY_ASSIGN(KernelTcpStream stream,
                     co_await connector.connect(io::Endpoint{io::Ipv4Address(127, 0, 0, 1), port}));
  std::array<std::byte, 1024> buffer;
  std::array<Header, 24> fields;
  Client<KernelTcpStream> client(stream, buffer, fields);
  for (const ClientRequest& request : requests) {
    MOTE_CO_TRY_ASSIGN(Fetched fetched, co_await fetch(client, request));
    results.push_back(std::move(fetched));
  }
  co_return ok_status();
}

class ClientTest : public ::testing::Test {
 protected:
  // Runs the session while the executor serves whatever else is spawned.
  std::vector<Fetched> run(std::uint16_t port, std::vector<ClientRequest> requests) {
    std::vector<Fetched> results;
    async::TaskStorage<32 * 1024> task;
    EXPECT_TRUE(
        executor
            .spawn(task, session, std::ref(connector), port, std::move(requests), std::ref(results))
            .ok());
    for (int i = 0; i < 500 && task.state() == async::TaskState::running; ++i) {
      static_cast<void>(executor.run_for(20ms));
    }
    task.cancel();
    EXPECT_TRUE(task.exit_status().ok()) << task.exit_status().str();
    return results;
  }

  platform::EpollDriver driver;
  async::Executor executor{driver};
  KernelTcpConnector connector{driver};
};

async::Task<Status> stream_numbers(Request&, ResponseWriter& response) {
  MOTE_CO_TRY(co_await response.start(200, std::nullopt));
  for (int i = 0; i < 500; ++i) MOTE_CO_TRY(co_await response.write(std::to_string(i) + ","));
  co_return co_await response.finish();
}

async::Task<Status> echo_body(Request& request, ResponseWriter& response) {
  co_return co_await response.send(201, request.body, "application/octet-stream");
}

TEST_F(ClientTest, TalksToMotesServerOnOneConnection) {
  Router router;
  ASSERT_TRUE(router.add("GET", "/numbers", stream_numbers).ok());
  ASSERT_TRUE(router.add("POST", "/echo", echo_body).ok());
  const std::uint16_t port = testing::unused_port(SOCK_STREAM);
  Result<KernelTcpListener> listener =
      KernelTcpListener::listen(driver, io::Endpoint{io::Ipv4Address(127, 0, 0, 1), port});
  ASSERT_TRUE(listener.ok());
  Server<KernelTcpListener> server(*listener, router);
  ASSERT_TRUE(server.start(executor).ok());

  std::string payload(3000, 'p');
  const Header extra[] = {{"Accept", "*/*"}};
  const std::vector<Fetched> results =
      run(port, {{.method = "GET", .target = "/numbers", .host = "localhost"},
                 {.method = "POST",
                  .target = "/echo",
                  .host = "localhost",
                  .headers = extra,
                  .body = bytes_of(payload)},
                 {.method = "HEAD", .target = "/numbers", .host = "localhost"},
                 {.method = "GET", .target = "/missing", .host = "localhost"}});
  ASSERT_EQ(results.size(), 4u);
  std::string numbers;
  for (int i = 0; i < 500; ++i) numbers += std::to_string(i) + ",";
  EXPECT_EQ(results[0].status, 200);
  EXPECT_EQ(results[0].body, numbers);  // chunked, through a 1 KiB buffer
  EXPECT_TRUE(results[0].reusable);
  EXPECT_EQ(results[1].status, 201);
  EXPECT_EQ(results[1].body, payload);
  EXPECT_EQ(results[2].status, 200);
  EXPECT_TRUE(results[2].body.empty());
  EXPECT_EQ(results[3].status, 404);
}

TEST_F(ClientTest, TalksToPythonAndNode) {
  MOTE_SKIP_UNLESS_PROGRAM("node");
  testing::TempDir dir;
  dir.write("reading.json", R"({"temperature": 21.5})");
  const std::uint16_t python_port = testing::unused_port(SOCK_STREAM);
  testing::ChildProcess python({"/usr/bin/python3", "-m", "http.server",
                                std::to_string(python_port), "--bind", "127.0.0.1", "--directory",
                                dir.path()});
  ASSERT_TRUE(testing::wait_for_tcp_listener(python_port, 10s)) << python.describe();
  std::vector<Fetched> results =
      run(python_port, {{.method = "GET", .target = "/reading.json", .host = "127.0.0.1"}});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, 200);
  EXPECT_EQ(results[0].content_type, "application/json");
  EXPECT_EQ(results[0].body, R"({"temperature": 21.5})");
  EXPECT_FALSE(results[0].reusable);  // http.server speaks HTTP/1.0

  const std::uint16_t node_port = testing::unused_port(SOCK_STREAM);
  testing::ChildProcess node(
      {"node", "-e",
       "require('http').createServer((q, r) => { if (q.method === 'POST') { let n = 0; "
       "q.on('data', d => n += d.length); q.on('end', () => r.end('got ' + n)); } "
       "else { r.write('part one, '); setTimeout(() => r.end('part two'), 20); } })"
       ".listen(" +
           std::to_string(node_port) + ", '127.0.0.1')"});
  ASSERT_TRUE(testing::wait_for_tcp_listener(node_port, 10s)) << node.describe();
  std::string upload(10000, 'u');
  results = run(node_port,
                {{.method = "GET", .target = "/", .host = "127.0.0.1"},
                 {.method = "POST", .target = "/", .host = "127.0.0.1", .body = bytes_of(upload)}});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].body, "part one, part two");  // chunked, in two writes
  EXPECT_TRUE(results[0].reusable);
  EXPECT_EQ(results[1].body, "got 10000");
}

TEST(WriteRequestHeadTest, AddsHostAndContentLength) {
  std::array<std::byte, 256> buffer;
  const Header extra[] = {{"Accept", "application/json"}};
  EXPECT_EQ(as_string_view(*write_request_head(
                buffer, {.method = "POST", .target = "/api", .host = "h:80", .headers = extra})),
            "POST /api HTTP/1.1\r\nHost: h:80\r\nAccept: application/json\r\n"
            "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(as_string_view(*write_request_head(buffer, {.target = "/x?y", .host = "h"})),
            "GET /x?y HTTP/1.1\r\nHost: h\r\n\r\n");
  const Header bad[] = {{"X", "a\r\nInjected: 1"}};
  EXPECT_EQ(write_request_head(buffer, {.host = "h", .headers = bad}).status(),
            Status::invalid_argument());
  EXPECT_EQ(write_request_head(buffer, {.target = "/a b", .host = "h"}).status(),
            Status::invalid_argument());
}

}  // namespace
}  // namespace mote::http
