// Interop on loopback with real peers: libcoap's coap-client-notls against
// mote's server, mote's client against coap-server-notls, and node-coap
// (tools/peers) both ways. Every wait is bounded; peers listen on 127.0.0.1.

#include <gtest/gtest.h>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/coap/client.hpp"
#include "mote/coap/server.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"
#include "mote/testing/process.hpp"

namespace mote::coap {
namespace {

using namespace std::chrono_literals;
using async::Task;
using mote::testing::ChildOptions;
using mote::testing::ChildProcess;
using mote::testing::TempDir;
using mote::testing::unused_port;
using platform::KernelUdpSocket;

using KernelServer = Server<KernelUdpSocket, 8192>;
using KernelClient = Client<KernelUdpSocket>;

io::Endpoint loopback(std::uint16_t port) { return {io::Ipv4Address(127, 0, 0, 1), port}; }
std::string text(ConstByteSpan bytes) { return std::string(as_string_view(bytes)); }

std::string pattern(std::size_t size) {
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(static_cast<char>('a' + (i * 7 + i / 26) % 26));
    if (i % 64 == 63) out.back() = '\n';
  }
  return out;
}

struct TextResource final : Resource {
  TextResource(std::string_view path, std::string body, LinkAttributes attributes = {})
      : Resource(path, attributes), body(std::move(body)) {}
  void handle(const ServerRequest& request, ResponseBuilder& response) override {
    if (request.message.code() == codes::kGet) {
      response.set_content_format(ContentFormat::text_plain);
      response.write(body);
    } else {
      body = text(request.payload);
      response.set_code(codes::kChanged);
    }
  }
  std::string body;
};

// Takes requests now and answers them 300 ms later (§5.2.2).
struct SlowResource final : Resource {
  SlowResource() : Resource("slow") {}
  void handle(const ServerRequest& request, ResponseBuilder& response) override {
    waiting = DeferredResponse::from(request);
    response.defer();
  }
  std::optional<DeferredResponse> waiting;
};

ChildOptions node_options() {
  ChildOptions options;
  options.extra_env.push_back("NODE_PATH=" MOTE_PEERS_DIR "/node_modules");
  return options;
}

// mote's server on a loopback port, with a peer run against it.
struct ServerFixture {
  platform::EpollDriver driver;
  async::Executor executor{driver};
  std::uint16_t port = unused_port(SOCK_DGRAM);
  KernelUdpSocket socket = KernelUdpSocket::bind(driver, loopback(port)).value();
  KernelServer server{socket, 0x5eed};
  TextResource hello{"hello", "hello from mote"};
  TextResource store{"store", ""};
  TextResource big{"big", pattern(3000)};
  TextResource clock{"clock", "tick 0", {.resource_type = "clock", .observable = true}};
  TextResource temp{"sensors/temp",
                    "21.5",
                    {.resource_type = "temperature-c", .interface = "sensor", .content_format = 0}};
  SlowResource slow;
  async::TaskStorage<64 * 1024> server_task, watcher_task, ticker_task;

  ServerFixture() {
    for (Resource* r :
         std::initializer_list<Resource*>{&hello, &store, &big, &clock, &temp, &slow}) {
      server.add(*r);
    }
  }
  std::string url(std::string_view path) const {
    return "coap://127.0.0.1:" + std::to_string(port) + "/" + std::string(path);
  }

  static Task<Status> serve(KernelServer& server) { return server.run(); }
  static Task<void> watch(ChildProcess& child, KernelServer& server,
                          async::TaskStorageBase& ticker) {
    for (int i = 0; i < 600 && child.running(); ++i) co_await async::sleep_for(20ms);
    server.stop();
    if (ticker.state() == async::TaskState::running) ticker.cancel();
  }
  static Task<void> answer_later(KernelServer& server, SlowResource& slow) {
    for (int i = 0; i < 200 && !slow.waiting; ++i) co_await async::sleep_for(20ms);
    co_await async::sleep_for(300ms);
    if (slow.waiting) {
      static_cast<void>(server.respond_later(*slow.waiting, codes::kContent, 0,
                                             bytes_of(std::string_view("worth the wait"))));
    }
  }
  static Task<void> tick(KernelServer& server, TextResource& clock) {
    for (int i = 1; i <= 40; ++i) {
      co_await async::sleep_for(250ms);
      clock.body = "tick " + std::to_string(i);
      server.notify(clock);
    }
  }

  // Serves until `child` exits (at most 12 s); the child's exit code.
  std::optional<int> serve_while(ChildProcess& child, bool ticking = false) {
    EXPECT_TRUE(child.started());
    EXPECT_TRUE(executor.spawn(server_task, serve, std::ref(server)).ok());
    EXPECT_TRUE(executor
                    .spawn(watcher_task, watch, std::ref(child), std::ref(server),
                           std::ref(static_cast<async::TaskStorageBase&>(ticker_task)))
                    .ok());
    if (ticking) {
      EXPECT_TRUE(executor.spawn(ticker_task, tick, std::ref(server), std::ref(clock)).ok());
    }
    static_cast<void>(executor.run_for(13s));
    if (ticker_task.state() == async::TaskState::running) ticker_task.cancel();
    static_cast<void>(executor.run_for(1s));
    EXPECT_TRUE(server_task.exit_status().ok()) << server_task.exit_status().str();
    return child.wait_for_exit(2000ms);
  }
};

TEST(CoapInterop, LibcoapClientGetsFromMoteServer) {
  MOTE_SKIP_UNLESS_PROGRAM("coap-client-notls");
  ServerFixture f;
  ChildProcess child({"coap-client-notls", "-m", "get", "-B", "5", f.url("hello")});
  EXPECT_EQ(f.serve_while(child), 0) << child.describe();
  EXPECT_EQ(child.stdout_text(), "hello from mote\n") << child.describe();
}

TEST(CoapInterop, LibcoapClientPutsToMoteServer) {
  MOTE_SKIP_UNLESS_PROGRAM("coap-client-notls");
  ServerFixture f;
  ChildProcess child(
      {"coap-client-notls", "-m", "put", "-e", "stored text", "-B", "5", f.url("store")});
  EXPECT_EQ(f.serve_while(child), 0) << child.describe();
  EXPECT_EQ(f.store.body, "stored text");
}

TEST(CoapInterop, LibcoapClientDiscoversMoteResources) {
  MOTE_SKIP_UNLESS_PROGRAM("coap-client-notls");
  ServerFixture f;
  ChildProcess child({"coap-client-notls", "-m", "get", "-B", "5", f.url(".well-known/core")});
  EXPECT_EQ(f.serve_while(child), 0) << child.describe();
  const std::string out = child.stdout_text();
  EXPECT_NE(out.find("</clock>;rt=\"clock\";obs"), std::string::npos) << out;
  EXPECT_NE(out.find("</sensors/temp>;rt=\"temperature-c\";if=\"sensor\";ct=0"), std::string::npos)
      << out;
}

TEST(CoapInterop, LibcoapClientObservesMoteResource) {
  MOTE_SKIP_UNLESS_PROGRAM("coap-client-notls");
  ServerFixture f;
  ChildProcess child({"coap-client-notls", "-m", "get", "-s", "2", "-B", "4", f.url("clock")});
  EXPECT_EQ(f.serve_while(child, true), 0) << child.describe();
  // The registration's response, then a notification every 250 ms for 2 s.
  const std::string out = child.stdout_text();
  int ticks = 0;
  for (std::size_t at = out.find("tick "); at != std::string::npos;
       at = out.find("tick ", at + 1)) {
    ++ticks;
  }
  EXPECT_GE(ticks, 4) << out;
  // Lines arrive in order of the tick number.
  int last = -1;
  for (std::size_t at = out.find("tick "); at != std::string::npos;
       at = out.find("tick ", at + 1)) {
    const int n = std::stoi(out.substr(at + 5));
    EXPECT_GT(n, last);
    last = n;
  }
}

TEST(CoapInterop, LibcoapClientTakesASeparateResponse) {
  MOTE_SKIP_UNLESS_PROGRAM("coap-client-notls");
  ServerFixture f;
  ChildProcess child({"coap-client-notls", "-m", "get", "-B", "5", f.url("slow")});
  async::TaskStorage<16 * 1024> answerer;
  ASSERT_TRUE(
      f.executor.spawn(answerer, ServerFixture::answer_later, std::ref(f.server), std::ref(f.slow))
          .ok());
  EXPECT_EQ(f.serve_while(child), 0) << child.describe();
  EXPECT_EQ(child.stdout_text(), "worth the wait\n") << child.describe();
}

TEST(CoapInterop, LibcoapClientFetchesABlockwiseResponse) {
  MOTE_SKIP_UNLESS_PROGRAM("coap-client-notls");
  ServerFixture f;
  ChildProcess child({"coap-client-notls", "-m", "get", "-b", "64", "-B", "5", f.url("big")});
  EXPECT_EQ(f.serve_while(child), 0) << child.describe();
  EXPECT_EQ(child.stdout_text(), pattern(3000) + "\n") << child.describe();
}

TEST(CoapInterop, LibcoapClientPutsABlockwiseBody) {
  MOTE_SKIP_UNLESS_PROGRAM("coap-client-notls");
  ServerFixture f;
  TempDir dir;
  const std::string file = dir.write("body.txt", pattern(2000));
  ChildProcess child(
      {"coap-client-notls", "-m", "put", "-b", "128", "-f", file, "-B", "5", f.url("store")});
  EXPECT_EQ(f.serve_while(child), 0) << child.describe();
  EXPECT_EQ(f.store.body, pattern(2000));
}

TEST(CoapInterop, NodeCoapClientGetsFromMoteServer) {
  MOTE_SKIP_UNLESS_PROGRAM("node");
  ServerFixture f;
  ChildProcess child({"node", MOTE_COAP_TESTDATA "/node_peer.js", "get", f.url("hello")},
                     node_options());
  EXPECT_EQ(f.serve_while(child), 0) << child.describe();
  EXPECT_EQ(child.stdout_text(), "2.05 hello from mote\n") << child.describe();
}

TEST(CoapInterop, NodeCoapClientObservesMoteResource) {
  MOTE_SKIP_UNLESS_PROGRAM("node");
  ServerFixture f;
  ChildProcess child({"node", MOTE_COAP_TESTDATA "/node_peer.js", "observe", f.url("clock"), "4"},
                     node_options());
  EXPECT_EQ(f.serve_while(child, true), 0) << child.describe();
  const std::string out = child.stdout_text();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 4) << out;
  EXPECT_EQ(out.rfind("tick ", 0), 0u) << out;
}

// mote's client against a peer's server.
struct ClientFixture {
  platform::EpollDriver driver;
  async::Executor executor{driver};
  KernelUdpSocket socket = KernelUdpSocket::bind(driver, loopback(0)).value();
  KernelClient client{socket, 0xc11e47, options()};
  std::uint16_t port = unused_port(SOCK_DGRAM);
  async::TaskStorage<64 * 1024> loop_task, test_task;

  // Short timeouts: the first requests may go out before the peer listens.
  static KernelClient::Options options() {
    KernelClient::Options o;
    o.transmission.ack_timeout = 200ms;
    o.request_timeout = 8s;
    return o;
  }
  static Task<Status> loop(KernelClient& client) { return client.run(); }

  using Body = Task<Status> (*)(ClientFixture&);
  static Task<Status> body_then_stop(Body body, ClientFixture& f) {
    const Status status = co_await body(f);
    f.client.stop();
    co_return status;
  }
  Status run(Body body) {
    EXPECT_TRUE(executor.spawn(loop_task, loop, std::ref(client)).ok());
    EXPECT_TRUE(executor.spawn(test_task, body_then_stop, body, std::ref(*this)).ok());
    static_cast<void>(executor.run_for(15s));
    if (test_task.state() == async::TaskState::running) test_task.cancel();
    client.stop();
    static_cast<void>(executor.run_for(1s));
    EXPECT_TRUE(loop_task.exit_status().ok()) << loop_task.exit_status().str();
    return test_task.exit_status();
  }
};

TEST(CoapInterop, MoteClientGetsFromLibcoapServerPlainAndBlockwise) {
  MOTE_SKIP_UNLESS_PROGRAM("coap-server-notls");
  ClientFixture f;
  ChildProcess server({"coap-server-notls", "-A", "127.0.0.1", "-p", std::to_string(f.port)});
  static std::string plain, blockwise;
  static Code code;
  const Status status = f.run(+[](ClientFixture& f) -> Task<Status> {
    std::byte message[kMaxMessageSize], body[4096];
    Result<Response> r = co_await f.client.get(loopback(f.port), "", message, body);
    MOTE_CO_TRY(r.status());
    plain = text(r->payload);
    code = r->code;
    Request request;
    request.block_size = 16;
    Result<Response> b = co_await f.client.request(loopback(f.port), request, message, body);
    MOTE_CO_TRY(b.status());
    if (!b->message.has(OptionNumber::block2)) co_return Status::internal();
    blockwise = text(b->payload);
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str() << server.describe();
  EXPECT_EQ(code, codes::kContent);
  EXPECT_NE(plain.find("This is a test server made with libcoap"), std::string::npos) << plain;
  EXPECT_EQ(blockwise, plain);
}

TEST(CoapInterop, MoteClientPutsABlockwiseBodyToLibcoapServer) {
  MOTE_SKIP_UNLESS_PROGRAM("coap-server-notls");
  ClientFixture f;
  ChildProcess server({"coap-server-notls", "-A", "127.0.0.1", "-p", std::to_string(f.port)});
  static Code put_code;
  static std::string read_back;
  const Status status = f.run(+[](ClientFixture& f) -> Task<Status> {
    std::byte message[kMaxMessageSize], body[4096];
    static const std::string data = pattern(1500);
    Request put;
    put.method = codes::kPut;
    put.path = "example_data";
    put.payload = bytes_of(std::string_view(data));
    put.content_format = 0;
    put.block_size = 256;  // six Block1 blocks
    Result<Response> r = co_await f.client.request(loopback(f.port), put, message);
    MOTE_CO_TRY(r.status());
    put_code = r->code;
    Request get;
    get.path = "example_data";
    get.block_size = 256;
    Result<Response> g = co_await f.client.request(loopback(f.port), get, message, body);
    MOTE_CO_TRY(g.status());
    read_back = text(g->payload);
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str() << server.describe();
  EXPECT_TRUE(put_code == codes::kChanged || put_code == codes::kCreated) << int(put_code.value());
  EXPECT_EQ(read_back, pattern(1500));
}

TEST(CoapInterop, MoteClientObservesLibcoapServer) {
  MOTE_SKIP_UNLESS_PROGRAM("coap-server-notls");
  ClientFixture f;
  ChildProcess server({"coap-server-notls", "-A", "127.0.0.1", "-p", std::to_string(f.port)});
  static std::vector<std::uint32_t> sequences;
  static bool active = false;
  const Status status = f.run(+[](ClientFixture& f) -> Task<Status> {
    std::byte message[kMaxMessageSize], notification[kMaxMessageSize], out[kMaxMessageSize];
    Observation observation(notification);
    Result<Response> first =
        co_await f.client.observe(loopback(f.port), "time", observation, message);
    MOTE_CO_TRY(first.status());
    active = observation.active();
    sequences.push_back(observation.sequence());
    for (int i = 0; i < 2; ++i) {
      Result<Response> n = co_await f.client.next(observation, out, 4s);  // /time ticks each second
      MOTE_CO_TRY(n.status());
      sequences.push_back(*n->message.find_uint(OptionNumber::observe));
    }
    co_return co_await f.client.cancel(observation, message);
  });
  EXPECT_TRUE(status.ok()) << status.str() << server.describe();
  EXPECT_TRUE(active);
  ASSERT_EQ(sequences.size(), 3u);
  EXPECT_LT(sequences[0], sequences[1]);
  EXPECT_LT(sequences[1], sequences[2]);
}

TEST(CoapInterop, MoteClientGetsFromNodeCoapServer) {
  MOTE_SKIP_UNLESS_PROGRAM("node");
  ClientFixture f;
  ChildProcess server({"node", MOTE_COAP_TESTDATA "/node_peer.js", "serve", std::to_string(f.port)},
                      node_options());
  ASSERT_TRUE(server.wait_for_output("listening", 5000ms)) << server.describe();
  static std::string got;
  const Status status = f.run(+[](ClientFixture& f) -> Task<Status> {
    std::byte message[kMaxMessageSize];
    Result<Response> r = co_await f.client.get(loopback(f.port), "hello", message);
    MOTE_CO_TRY(r.status());
    got = text(r->payload);
    co_return r->code == codes::kContent ? ok_status() : Status::internal();
  });
  EXPECT_TRUE(status.ok()) << status.str() << server.describe();
  EXPECT_EQ(got, "hello from node-coap");
}

}  // namespace
}  // namespace mote::coap
