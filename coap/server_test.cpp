// The server and the client against a scripted peer that writes and reads
// raw datagrams: the rules a well-behaved peer never exercises (bad options,
// pings, malformed messages, No-Response, block numbers past the end,
// separate responses).

#include "mote/coap/server.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/coap/client.hpp"
#include "mote/platform/sim_driver.hpp"
#include "testing/sim_network.hpp"

namespace mote::coap {
namespace {

using namespace std::chrono_literals;
using async::Task;
using testing::SimNetwork;
using testing::SimSocket;
using Bytes = std::vector<std::byte>;

struct Hello final : Resource {
  Hello() : Resource("hello") {}
  void handle(const ServerRequest&, ResponseBuilder& response) override {
    ++calls;
    response.write("hi");
  }
  int calls = 0;
};

struct Big final : Resource {
  Big() : Resource("big") {}
  void handle(const ServerRequest&, ResponseBuilder& response) override {
    response.write(std::string(100, 'b'));
  }
};

Bytes request(Type type, std::uint16_t id,
              const std::vector<std::pair<std::uint16_t, Bytes>>& options,
              Code code = codes::kGet) {
  Bytes out(256);
  const Bytes token = {std::byte{0xab}};
  MessageWriter writer(out, type, code, id, token);
  for (const auto& [number, value] : options) writer.add(number, value);
  out.resize(writer.finish().value());
  return out;
}

Bytes text_value(std::string_view s) {
  const ConstByteSpan b = bytes_of(s);
  return Bytes(b.begin(), b.end());
}

// Sends each datagram to the server and collects what comes back within 1 s.
struct RawExchange {
  platform::SimDriver driver{async::Instant() + 1000s};
  async::Executor executor{driver};
  SimNetwork network;
  SimSocket server_socket{network, 5683};
  SimSocket peer{network, 40000};
  Server<SimSocket, 1024> server{server_socket, 7};
  Hello hello;
  Big big;
  async::TaskStorage<32 * 1024> server_task, peer_task;

  RawExchange() {
    server.add(hello);
    server.add(big);
  }

  static Task<Status> serve(Server<SimSocket, 1024>& server) { return server.run(); }
  static Task<Status> script(RawExchange& x, const std::vector<Bytes>& sends,
                             std::vector<Bytes>& replies) {
    for (const Bytes& datagram : sends) {
      MOTE_CO_TRY(co_await x.peer.send_to(datagram, x.server_socket.endpoint()));
      std::byte buffer[kMaxMessageSize];
      Result<Result<io::Datagram>> got =
          co_await async::with_timeout(1s, x.peer.receive_from(buffer));
      if (got.ok() && got->ok())
        replies.emplace_back(buffer, buffer + (*got)->size);
      else
        replies.emplace_back();
    }
    x.server.stop();
    co_return ok_status();
  }

  std::vector<Bytes> exchange(const std::vector<Bytes>& sends) {
    std::vector<Bytes> replies;
    EXPECT_TRUE(executor.spawn(server_task, serve, std::ref(server)).ok());
    EXPECT_TRUE(
        executor.spawn(peer_task, script, std::ref(*this), std::cref(sends), std::ref(replies))
            .ok());
    EXPECT_TRUE(executor.run_for(1h).ok());
    EXPECT_TRUE(peer_task.exit_status().ok());
    return replies;
  }
};

Message parsed(const Bytes& bytes) { return Message::parse(bytes).value(); }

TEST(CoapServer, UnrecognisedCriticalOptionIs402ForConAndResetForNon) {
  RawExchange x;
  const std::vector<Bytes> replies = x.exchange({
      request(Type::confirmable, 1, {{9, {}}, {11, text_value("hello")}}),
      request(Type::non_confirmable, 2, {{9, {}}, {11, text_value("hello")}}),
      // An unknown elective option is ignored.
      request(Type::confirmable, 3, {{11, text_value("hello")}, {1000, {}}}),
  });
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(parsed(replies[0]).type(), Type::acknowledgement);
  EXPECT_EQ(parsed(replies[0]).code(), codes::kBadOption);
  EXPECT_EQ(parsed(replies[0]).message_id(), 1);
  EXPECT_EQ(parsed(replies[1]).type(), Type::reset);
  EXPECT_EQ(parsed(replies[1]).message_id(), 2);
  EXPECT_EQ(parsed(replies[2]).code(), codes::kContent);
  EXPECT_EQ(x.hello.calls, 1);
}

// Takes paths no resource has; records them.
struct Catchall final : Resource {
  Catchall() : Resource("ignored") {}
  void handle(const ServerRequest& request, ResponseBuilder& response) override {
    char path[64];
    paths.emplace_back(path, request.message.uri_path(path).value());
    response.set_code(codes::kChanged);
  }
  std::vector<std::string> paths;
};

TEST(CoapServer, TheFallbackTakesPathsWithoutAResourceAndIsNotListed) {
  RawExchange x;
  Catchall catchall;
  x.server.set_fallback(catchall);
  const std::vector<Bytes> replies = x.exchange({
      request(Type::confirmable, 1, {{11, text_value("hello")}}),
      request(Type::confirmable, 2, {{11, text_value("a")}, {11, text_value("b")}}, codes::kPost),
      request(Type::confirmable, 3, {{11, text_value(".well-known")}, {11, text_value("core")}}),
      // Observing the fallback is a plain request: it is not observable.
      request(Type::confirmable, 4, {{6, {}}, {11, text_value("x")}}),
  });
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(parsed(replies[0]).code(), codes::kContent);  // the resource, not the fallback
  EXPECT_EQ(parsed(replies[1]).code(), codes::kChanged);
  const Message core = parsed(replies[2]);
  EXPECT_EQ(core.code(), codes::kContent);
  const std::string links(reinterpret_cast<const char*>(core.payload().data()),
                          core.payload().size());
  EXPECT_EQ(links.find("ignored"), std::string::npos) << links;
  EXPECT_NE(links.find("</hello>"), std::string::npos) << links;
  EXPECT_EQ(parsed(replies[3]).code(), codes::kChanged);
  EXPECT_FALSE(parsed(replies[3]).find(OptionNumber::observe).has_value());
  EXPECT_EQ(catchall.paths, (std::vector<std::string>{"a/b", "x"}));
  EXPECT_EQ(x.hello.calls, 1);
}

TEST(CoapServer, ProxyRequestsAre505) {
  RawExchange x;
  const std::vector<Bytes> replies = x.exchange({
      request(Type::confirmable, 1, {{35, text_value("coap://elsewhere/hello")}}),
  });
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(parsed(replies[0]).code(), codes::kProxyingNotSupported);
  EXPECT_EQ(x.hello.calls, 0);
}

TEST(CoapServer, AGetNamingTheCurrentETagIs203Valid) {
  // First learn the ETag, then ask with it and with another.
  Bytes etag;
  {
    RawExchange x;
    const std::vector<Bytes> replies =
        x.exchange({request(Type::confirmable, 1, {{11, text_value("hello")}})});
    ASSERT_EQ(replies.size(), 1u);
    const Message first = parsed(replies[0]);
    EXPECT_EQ(first.code(), codes::kContent);
    ASSERT_TRUE(first.find(OptionNumber::etag).has_value());
    const ConstByteSpan value = first.find(OptionNumber::etag)->value;
    etag.assign(value.begin(), value.end());
    EXPECT_EQ(etag.size(), 4u);
  }
  RawExchange x;
  const Bytes other = {std::byte{1}, std::byte{2}};
  const std::vector<Bytes> replies = x.exchange({
      request(Type::confirmable, 2, {{4, other}, {4, etag}, {11, text_value("hello")}}),
      request(Type::confirmable, 3, {{4, other}, {11, text_value("hello")}}),
  });
  ASSERT_EQ(replies.size(), 2u);
  const Message valid = parsed(replies[0]);
  EXPECT_EQ(valid.code(), codes::kValid);
  EXPECT_TRUE(valid.payload().empty());
  const ConstByteSpan echoed = valid.find(OptionNumber::etag)->value;
  EXPECT_TRUE(std::equal(echoed.begin(), echoed.end(), etag.begin(), etag.end()));
  EXPECT_EQ(parsed(replies[1]).code(), codes::kContent);
  EXPECT_EQ(as_string_view(parsed(replies[1]).payload()), "hi");
}

TEST(CoapServer, PingsAndMalformedConfirmablesGetReset) {
  RawExchange x;
  Bytes ping(4);
  ASSERT_TRUE(encode_empty(Type::confirmable, 0x4242, ping).ok());
  const Bytes malformed = {std::byte{0x40}, std::byte{0x01}, std::byte{0x12}, std::byte{0x34},
                           std::byte{0xff}};  // payload marker with no payload
  const std::vector<Bytes> replies = x.exchange({ping, malformed});
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(parsed(replies[0]).type(), Type::reset);
  EXPECT_EQ(parsed(replies[0]).message_id(), 0x4242);
  EXPECT_EQ(parsed(replies[1]).type(), Type::reset);
  EXPECT_EQ(parsed(replies[1]).message_id(), 0x1234);
}

TEST(CoapServer, NoResponseSuppressesTheNamedClasses) {
  RawExchange x;
  const Bytes suppress_2xx = {std::byte{2}};
  const std::vector<Bytes> replies = x.exchange({
      request(Type::non_confirmable, 1, {{11, text_value("hello")}, {258, suppress_2xx}}),
      request(Type::confirmable, 2, {{11, text_value("hello")}, {258, suppress_2xx}}),
      request(Type::non_confirmable, 3, {{11, text_value("nothing")}, {258, suppress_2xx}}),
  });
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_TRUE(replies[0].empty());  // NON and suppressed: nothing at all
  EXPECT_EQ(parsed(replies[1]).type(), Type::acknowledgement);  // CON still needs its ACK
  EXPECT_TRUE(parsed(replies[1]).code().is_empty());
  EXPECT_EQ(parsed(replies[2]).code(), codes::kNotFound);  // 4.xx was not suppressed
  EXPECT_EQ(x.hello.calls, 2);
}

TEST(CoapServer, Block2NumbersPastTheEndAndTheReservedSzx) {
  RawExchange x;
  const std::vector<Bytes> replies = x.exchange({
      request(Type::confirmable, 1, {{11, text_value("big")}, {23, {std::byte{0x30}}}}),  // 3/0/16
      request(Type::confirmable, 2, {{11, text_value("big")}, {23, {std::byte{0x70}}}}),  // 7/0/16
      request(Type::confirmable, 3, {{11, text_value("big")}, {23, {std::byte{0x07}}}}),  // SZX 7
  });
  ASSERT_EQ(replies.size(), 3u);
  const Message third = parsed(replies[0]);
  EXPECT_EQ(third.code(), codes::kContent);
  EXPECT_EQ(Block::from_value(*third.find_uint(OptionNumber::block2)).value(), (Block{3, true, 0}));
  EXPECT_EQ(third.payload().size(), 16u);
  EXPECT_FALSE(third.has(OptionNumber::size2));             // only with block 0
  EXPECT_EQ(parsed(replies[1]).code(), codes::kBadOption);  // 100 bytes have blocks 0..6
  EXPECT_EQ(parsed(replies[2]).code(), codes::kBadRequest);
}

TEST(CoapServer, Block1OutOfOrderIs408) {
  RawExchange x;
  const Bytes chunk(16, std::byte{'x'});
  auto put = [&](std::uint16_t id, std::uint8_t block) {
    Bytes out(256);
    const Bytes token = {std::byte{1}};
    MessageWriter writer(out, Type::confirmable, codes::kPut, id, token);
    writer.add_string(OptionNumber::uri_path, "hello").add_uint(OptionNumber::block1, block);
    writer.set_payload(chunk);
    out.resize(writer.finish().value());
    return out;
  };
  const std::vector<Bytes> replies = x.exchange({put(1, 0x08), put(2, 0x28), put(3, 0x18)});
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(parsed(replies[0]).code(), codes::kContinue);
  EXPECT_EQ(parsed(replies[1]).code(), codes::kRequestEntityIncomplete);  // block 2 after 0
  EXPECT_EQ(parsed(replies[2]).code(), codes::kContinue);                 // block 1 goes on from 0
  EXPECT_EQ(x.hello.calls, 0);
}

// The client side of a separate response (§5.2.2): an empty ACK first, then
// the response in a CON of its own, which the client acknowledges.
TEST(CoapClient, TakesASeparateResponseAndAcknowledgesIt) {
  platform::SimDriver driver{async::Instant() + 1000s};
  async::Executor executor{driver};
  SimNetwork network;
  SimSocket client_socket{network, 40000};
  SimSocket peer{network, 5683};
  Client<SimSocket> client{client_socket, 3};
  async::TaskStorage<32 * 1024> loop_task, peer_task, test_task;
  static Bytes final_ack;
  static std::string payload;

  auto peer_script = [](SimSocket& peer, SimSocket& client_socket) -> Task<Status> {
    std::byte buffer[kMaxMessageSize];
    MOTE_CO_TRY_ASSIGN(io::Datagram got, co_await peer.receive_from(buffer));
    const Message request = Message::parse(ConstByteSpan(buffer, got.size)).value();
    Bytes ack(4);
    static_cast<void>(encode_empty(Type::acknowledgement, request.message_id(), ack));
    MOTE_CO_TRY(co_await peer.send_to(ack, got.from));
    co_await async::sleep_for(10s);  // the response is slow
    Bytes response(64);
    MessageWriter writer(response, Type::confirmable, codes::kContent, 777, request.token());
    writer.set_payload(bytes_of(std::string_view("later")));
    response.resize(writer.finish().value());
    MOTE_CO_TRY(co_await peer.send_to(response, got.from));
    MOTE_CO_TRY_ASSIGN(io::Datagram reply, co_await peer.receive_from(buffer));
    final_ack.assign(buffer, buffer + reply.size);
    static_cast<void>(client_socket);
    co_return ok_status();
  };
  auto test = [](Client<SimSocket>& client, SimSocket& peer) -> Task<Status> {
    std::byte message[kMaxMessageSize];
    Result<Response> r = co_await client.get(peer.endpoint(), "slow", message);
    client.stop();
    MOTE_CO_TRY(r.status());
    payload = std::string(as_string_view(r->payload));
    co_return ok_status();
  };
  static Task<Status> (*loop)(Client<SimSocket>&) = [](Client<SimSocket>& c) { return c.run(); };
  ASSERT_TRUE(executor.spawn(loop_task, loop, std::ref(client)).ok());
  ASSERT_TRUE(
      executor.spawn(peer_task, +peer_script, std::ref(peer), std::ref(client_socket)).ok());
  ASSERT_TRUE(executor.spawn(test_task, +test, std::ref(client), std::ref(peer)).ok());
  EXPECT_TRUE(executor.run_for(1h).ok());
  EXPECT_TRUE(test_task.exit_status().ok()) << test_task.exit_status().str();
  EXPECT_TRUE(peer_task.exit_status().ok());
  EXPECT_EQ(payload, "later");
  ASSERT_EQ(final_ack.size(), 4u);
  const Message ack = Message::parse(final_ack).value();
  EXPECT_EQ(ack.type(), Type::acknowledgement);
  EXPECT_EQ(ack.message_id(), 777);
  // No retransmission of the request after the empty ACK: only 4 datagrams.
  EXPECT_EQ(network.delivered, 4u);
}

}  // namespace
}  // namespace mote::coap
