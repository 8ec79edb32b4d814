// The client against the server over an in-memory network with a virtual
// clock: piggybacked and NON exchanges, loss and retransmission, duplicate
// suppression, give-up timing, discovery, Observe, and block-wise transfers
// both ways.

#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/coap/client.hpp"
#include "mote/coap/server.hpp"
#include "mote/platform/sim_driver.hpp"
#include "testing/sim_network.hpp"

namespace mote::coap {
namespace {

using namespace std::chrono_literals;
using async::Task;
using testing::SimNetwork;
using testing::SimSocket;

using TestClient = Client<SimSocket>;
using TestServer = Server<SimSocket, 8192>;

std::string text(ConstByteSpan bytes) { return std::string(as_string_view(bytes)); }

// Answers GET with its text, PUT/POST by storing the body; counts calls.
struct TextResource final : Resource {
  TextResource(std::string_view path, std::string body, LinkAttributes attributes = {})
      : Resource(path, attributes), body(std::move(body)) {}
  void handle(const ServerRequest& request, ResponseBuilder& response) override {
    ++calls;
    if (request.message.code() == codes::kGet) {
      response.set_content_format(ContentFormat::text_plain);
      response.write(body);
    } else if (request.message.code() == codes::kPut || request.message.code() == codes::kPost) {
      body = text(request.payload);
      response.set_code(codes::kChanged);
    } else {
      response.set_code(codes::kMethodNotAllowed);
    }
  }
  std::string body;
  int calls = 0;
};

struct Harness {
  platform::SimDriver driver{async::Instant() + 1000s};
  async::Executor executor{driver};
  SimNetwork network;
  SimSocket server_socket{network, 5683};
  SimSocket client_socket{network, 40000};
  TestServer server{server_socket, 11};
  TestClient client{client_socket, 22};
  async::TaskStorage<32 * 1024> server_task, client_task, test_task;

  static Task<Status> serve(TestServer& server) { return server.run(); }
  static Task<Status> loop(TestClient& client) { return client.run(); }

  // Runs `body` (a Task<Status> factory taking the harness) to the end.
  template <typename Body>
  Status run(Body body) {
    EXPECT_TRUE(executor.spawn(server_task, serve, std::ref(server)).ok());
    EXPECT_TRUE(executor.spawn(client_task, loop, std::ref(client)).ok());
    EXPECT_TRUE(executor.spawn(test_task, body, std::ref(*this)).ok());
    EXPECT_TRUE(executor.run_for(1h).ok());
    EXPECT_TRUE(server_task.exit_status().ok()) << server_task.exit_status().str();
    EXPECT_TRUE(client_task.exit_status().ok()) << client_task.exit_status().str();
    return test_task.exit_status();
  }
  io::Endpoint server_endpoint() const { return server_socket.endpoint(); }
  void stop() {
    client.stop();
    server.stop();
  }
};

struct Buffers {
  std::byte message[kMaxMessageSize];
  std::byte body[8192];
};

TEST(CoapClientServer, GetIsAnsweredInThePiggybackedAck) {
  Harness h;
  TextResource hello("hello", "hello world");
  h.server.add(hello);
  static std::string got;
  static Code code;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    Result<Response> response = co_await h.client.get(h.server_endpoint(), "/hello", b.message);
    h.stop();
    MOTE_CO_TRY(response.status());
    got = text(response->payload);
    code = response->code;
    if (response->message.type() != Type::acknowledgement) co_return Status::internal();
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  EXPECT_EQ(got, "hello world");
  EXPECT_EQ(code, codes::kContent);
  EXPECT_EQ(h.network.delivered, 2u);  // one CON, one ACK
}

TEST(CoapClientServer, ConcurrentRequestsGoOutOneAtATimeAndAllComplete) {
  Harness h;
  TextResource a("a", "alpha"), b("b", "beta"), c("c", "gamma");
  h.server.add(a);
  h.server.add(b);
  h.server.add(c);
  static std::string got;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    struct Fetch {
      static Task<Result<std::string>> one(Harness& h, std::string_view path) {
        std::byte message[kMaxMessageSize];
        Result<Response> r = co_await h.client.get(h.server_endpoint(), path, message);
        MOTE_CO_TRY(r.status());
        co_return text(r->payload);
      }
    };
    auto [x, y, z] =
        co_await async::join(Fetch::one(h, "a"), Fetch::one(h, "b"), Fetch::one(h, "c"));
    h.stop();
    MOTE_CO_TRY(x.status());
    MOTE_CO_TRY(y.status());
    MOTE_CO_TRY(z.status());
    got = *x + "," + *y + "," + *z;
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  EXPECT_EQ(got, "alpha,beta,gamma");
  EXPECT_EQ(h.network.delivered, 6u);  // no retransmission: NSTART queued them
}

TEST(CoapClientServer, UnknownPathsAndMethods) {
  Harness h;
  TextResource hello("a/b", "x");
  h.server.add(hello);
  static Code missing, deleted;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    Result<Response> r1 = co_await h.client.get(h.server_endpoint(), "a", b.message);
    Request del;
    del.method = codes::kDelete;
    del.path = "a/b";
    Result<Response> r2 = co_await h.client.request(h.server_endpoint(), del, b.message);
    h.stop();
    MOTE_CO_TRY(r1.status());
    MOTE_CO_TRY(r2.status());
    missing = r1->code;
    deleted = r2->code;
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  EXPECT_EQ(missing, codes::kNotFound);
  EXPECT_EQ(deleted, codes::kMethodNotAllowed);
}

TEST(CoapClientServer, PostWithQueryAndContentFormat) {
  struct Echo final : Resource {
    Echo() : Resource("echo") {}
    void handle(const ServerRequest& request, ResponseBuilder& response) override {
      std::string seen = std::to_string(request.message.code().value()) + ":";
      for (const Option& option : request.message.options()) {
        if (option.number == static_cast<std::uint16_t>(OptionNumber::uri_query)) {
          seen += std::string(option.as_string()) + ";";
        }
      }
      seen += std::to_string(request.message.find_uint(OptionNumber::content_format).value_or(999));
      seen += ":" + text(request.payload);
      response.set_code(codes::kCreated);
      response.write(seen);
    }
  } echo;
  Harness h;
  h.server.add(echo);
  static std::string got;
  static Code code;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    Request post;
    post.method = codes::kPost;
    post.path = "echo";
    post.query = "a=1&b=two";
    post.payload = bytes_of(std::string_view("{}"));
    post.content_format = static_cast<std::uint16_t>(ContentFormat::json);
    Result<Response> r = co_await h.client.request(h.server_endpoint(), post, b.message);
    h.stop();
    MOTE_CO_TRY(r.status());
    got = text(r->payload);
    code = r->code;
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  EXPECT_EQ(code, codes::kCreated);
  EXPECT_EQ(got, "2:a=1;b=two;50:{}");
}

TEST(CoapClientServer, NonRequestGetsANonResponse) {
  Harness h;
  TextResource hello("hello", "hi");
  h.server.add(hello);
  static Type type;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    Request request;
    request.path = "hello";
    request.confirmable = false;
    Result<Response> r = co_await h.client.request(h.server_endpoint(), request, b.message);
    h.stop();
    MOTE_CO_TRY(r.status());
    type = r->message.type();
    co_return text(r->payload) == "hi" ? ok_status() : Status::internal();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  EXPECT_EQ(type, Type::non_confirmable);
}

TEST(CoapClientServer, LostRequestsAreRetransmittedAndALostAckIsAnsweredFromTheCache) {
  Harness h;
  TextResource counter("c", "value");
  h.server.add(counter);
  int requests_seen = 0, replies_seen = 0;
  h.network.drop = [&](const io::Endpoint& from, const io::Endpoint&, ConstByteSpan) {
    if (from.port == 40000) return ++requests_seen <= 2;  // the first two requests
    return ++replies_seen == 1;                           // the first reply
  };
  static async::Duration elapsed;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    const async::Instant start = async::now();
    Request put;
    put.method = codes::kPut;
    put.path = "c";
    put.payload = bytes_of(std::string_view("new"));
    Result<Response> r = co_await h.client.request(h.server_endpoint(), put, b.message);
    elapsed = async::now() - start;
    h.stop();
    MOTE_CO_TRY(r.status());
    co_return r->code == codes::kChanged ? ok_status() : Status::internal();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  // Sent at 0, ~2-3 s, ~6-9 s (reaches the server; reply lost), ~14-21 s
  // (a duplicate: the cached reply comes back).
  EXPECT_GE(elapsed, 14s);
  EXPECT_LE(elapsed, 21s);
  EXPECT_EQ(counter.calls, 1);  // the duplicate did not run the handler again
  EXPECT_EQ(counter.body, "new");
}

TEST(CoapClientServer, GivesUpAfterMaxRetransmit) {
  Harness h;
  h.network.drop = [](const io::Endpoint&, const io::Endpoint&, ConstByteSpan) { return true; };
  static Status result;
  static async::Duration elapsed;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    const async::Instant start = async::now();
    result = (co_await h.client.get(h.server_endpoint(), "x", b.message)).status();
    elapsed = async::now() - start;
    h.stop();
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(result, Status::deadline_exceeded());
  // (2 + 4 + 8 + 16 + 32) s times the random factor in [1, 1.5].
  EXPECT_GE(elapsed, 62s);
  EXPECT_LE(elapsed, 93s);
  EXPECT_EQ(h.network.dropped, 5u);
}

TEST(CoapClientServer, WellKnownCoreListsResourcesWithAttributes) {
  Harness h;
  TextResource temp("sensors/temp", "21",
                    {.resource_type = "temperature-c", .content_format = 0, .observable = true});
  TextResource led("led", "off", {.interface = "core.a"});
  h.server.add(temp);
  h.server.add(led);
  static std::string links;
  static std::optional<std::uint32_t> format;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    Result<Response> r = co_await h.client.get(h.server_endpoint(), ".well-known/core", b.message);
    h.stop();
    MOTE_CO_TRY(r.status());
    links = text(r->payload);
    format = r->message.find_uint(OptionNumber::content_format);
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(links, "</sensors/temp>;rt=\"temperature-c\";ct=0;obs,</led>;if=\"core.a\"");
  EXPECT_EQ(format, 40u);
}

std::string pattern(std::size_t size) {
  std::string out;
  for (std::size_t i = 0; i < size; ++i)
    out.push_back(static_cast<char>('a' + (i * 7 + i / 26) % 26));
  return out;
}

TEST(CoapClientServer, LargeResponsesComeInBlock2Blocks) {
  Harness h;
  TextResource big("big", pattern(3000));
  h.server.add(big);
  static std::string whole, small_blocks;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    Result<Response> r = co_await h.client.get(h.server_endpoint(), "big", b.message, b.body);
    MOTE_CO_TRY(r.status());
    whole = text(r->payload);
    Request request;
    request.path = "big";
    request.block_size = 64;  // early negotiation: 47 blocks
    Result<Response> r2 =
        co_await h.client.request(h.server_endpoint(), request, b.message, b.body);
    h.stop();
    MOTE_CO_TRY(r2.status());
    small_blocks = text(r2->payload);
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  EXPECT_EQ(whole, pattern(3000));
  EXPECT_EQ(small_blocks, pattern(3000));
  EXPECT_EQ(big.calls, 3 + 47);  // the handler renders the body for every block
}

// Its body changes after the first render: a Block2 transfer under way sees
// another ETag on its second block.
struct ChangingResource final : Resource {
  ChangingResource() : Resource("changing") {}
  void handle(const ServerRequest&, ResponseBuilder& response) override {
    response.write(++renders == 1 ? pattern(3000) : pattern(2900));
  }
  int renders = 0;
};

TEST(CoapClientServer, ABlock2TransferRestartsWhenTheETagChanges) {
  Harness h;
  ChangingResource changing;
  h.server.add(changing);
  static std::string got;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    Result<Response> r = co_await h.client.get(h.server_endpoint(), "changing", b.message, b.body);
    h.stop();
    MOTE_CO_TRY(r.status());
    got = text(r->payload);
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  EXPECT_EQ(got, pattern(2900));   // never a mix of the two
  EXPECT_EQ(changing.renders, 5);  // block 0, block 1 (new ETag), then blocks 0-2 again
}

TEST(CoapClientServer, ABodyTooLargeForTheClientsBufferIsResourceExhausted) {
  Harness h;
  TextResource big("big", pattern(3000));
  h.server.add(big);
  static Status result;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    result = (co_await h.client.get(h.server_endpoint(), "big", b.message, ByteSpan(b.body, 2000)))
                 .status();
    h.stop();
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(result, Status::resource_exhausted());
}

TEST(CoapClientServer, LargeRequestBodiesGoOutInBlock1Blocks) {
  Harness h;
  TextResource sink("sink", "");
  h.server.add(sink);
  static Code code;
  static std::string body;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    body = pattern(2500);
    Request put;
    put.method = codes::kPut;
    put.path = "sink";
    put.payload = bytes_of(std::string_view(body));
    put.block_size = 256;
    Result<Response> r = co_await h.client.request(h.server_endpoint(), put, b.message);
    h.stop();
    MOTE_CO_TRY(r.status());
    code = r->code;
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  EXPECT_EQ(code, codes::kChanged);
  EXPECT_EQ(sink.body, pattern(2500));
  EXPECT_EQ(sink.calls, 1);
}

TEST(CoapClientServer, Block1BeyondTheServersBufferIs413WithSize1) {
  Harness h;
  TextResource sink("sink", "");
  h.server.add(sink);
  static Code code;
  static std::optional<std::uint32_t> size1;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    static const std::string body = pattern(9000);
    Request put;
    put.method = codes::kPut;
    put.path = "sink";
    put.payload = bytes_of(std::string_view(body));
    Result<Response> r = co_await h.client.request(h.server_endpoint(), put, b.message);
    h.stop();
    MOTE_CO_TRY(r.status());
    code = r->code;
    size1 = r->message.find_uint(OptionNumber::size1);
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  EXPECT_EQ(code, codes::kRequestEntityTooLarge);
  EXPECT_EQ(size1, 8192u);
  EXPECT_EQ(sink.calls, 0);
}

struct Ticker {
  static Task<void> run(TestServer& server, TextResource& resource, int count) {
    for (int i = 1; i <= count; ++i) {
      co_await async::sleep_for(1s);
      resource.body = "tick " + std::to_string(i);
      server.notify(resource);
    }
  }
};

TEST(CoapClientServer, ObserveDeliversNotificationsInOrderUntilCancelled) {
  Harness h;
  TextResource clock("clock", "tick 0", {.observable = true});
  h.server.add(clock);
  static std::vector<std::string> seen;
  static std::vector<std::uint32_t> sequences;
  static std::size_t observers_while_on, observers_after;
  seen.clear();
  sequences.clear();
  async::TaskStorage<8192> ticker;
  ASSERT_TRUE(h.executor.spawn(ticker, Ticker::run, std::ref(h.server), std::ref(clock), 10).ok());
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    std::byte notification_buffer[kMaxMessageSize];
    Observation observation(notification_buffer);
    Result<Response> first =
        co_await h.client.observe(h.server_endpoint(), "clock", observation, b.message);
    MOTE_CO_TRY(first.status());
    if (!observation.active()) co_return Status::internal();
    seen.push_back(text(first->payload));
    sequences.push_back(observation.sequence());
    observers_while_on = h.server.observer_count();
    for (int i = 0; i < 4; ++i) {
      Result<Response> n = co_await h.client.next(observation, b.message, 5s);
      MOTE_CO_TRY(n.status());
      seen.push_back(text(n->payload));
      sequences.push_back(*n->message.find_uint(OptionNumber::observe));
    }
    MOTE_CO_TRY(co_await h.client.cancel(observation, b.message));
    observers_after = h.server.observer_count();
    h.stop();
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  EXPECT_EQ(seen, (std::vector<std::string>{"tick 0", "tick 1", "tick 2", "tick 3", "tick 4"}));
  for (std::size_t i = 1; i < sequences.size(); ++i) EXPECT_GT(sequences[i], sequences[i - 1]);
  EXPECT_EQ(observers_while_on, 1u);
  EXPECT_EQ(observers_after, 0u);
}

TEST(CoapClientServer, LargeNotificationsHaveTheirRestFetchedBlockwise) {
  Harness h;
  TextResource big("big", pattern(2500), {.observable = true});
  h.server.add(big);
  static std::vector<std::string> seen;
  seen.clear();
  struct Changer {
    static Task<void> run(TestServer& server, TextResource& big) {
      co_await async::sleep_for(1s);
      big.body = pattern(2600);
      server.notify(big);
    }
  };
  async::TaskStorage<8192> changer;
  ASSERT_TRUE(h.executor.spawn(changer, Changer::run, std::ref(h.server), std::ref(big)).ok());
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    std::byte notification_buffer[kMaxMessageSize];
    Observation observation(notification_buffer);
    Result<Response> first =
        co_await h.client.observe(h.server_endpoint(), "big", observation, b.message, b.body);
    MOTE_CO_TRY(first.status());
    if (!observation.active()) co_return Status::internal();
    seen.push_back(text(first->payload));
    Result<Response> n = co_await h.client.next(observation, b.message, 5s, b.body);
    MOTE_CO_TRY(n.status());
    seen.push_back(text(n->payload));
    MOTE_CO_TRY(co_await h.client.cancel(observation, b.message));
    h.stop();
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], pattern(2500));
  EXPECT_EQ(seen[1], pattern(2600));
}

TEST(CoapClientServer, AClientThatForgotTheObservationResetsTheNextNotification) {
  Harness h;
  TextResource clock("clock", "tick 0", {.observable = true});
  h.server.add(clock);
  static std::size_t before, after;
  async::TaskStorage<8192> ticker;
  ASSERT_TRUE(h.executor.spawn(ticker, Ticker::run, std::ref(h.server), std::ref(clock), 3).ok());
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    {
      std::byte notification_buffer[kMaxMessageSize];
      Observation observation(notification_buffer);
      MOTE_CO_TRY((co_await h.client.observe(h.server_endpoint(), "clock", observation, b.message))
                      .status());
      before = h.server.observer_count();
    }  // gone without cancel(): the client no longer knows the token
    co_await async::sleep_for(5s);
    after = h.server.observer_count();
    h.stop();
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  EXPECT_EQ(before, 1u);
  EXPECT_EQ(after, 0u);  // RFC 7641 §3.6: the RST removed it
}

TEST(CoapClientServer, ObservingAPlainResourceIsAnOrdinaryGet) {
  Harness h;
  TextResource plain("plain", "p");
  h.server.add(plain);
  static bool active = true;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    std::byte notification_buffer[kMaxMessageSize];
    Observation observation(notification_buffer);
    Result<Response> first =
        co_await h.client.observe(h.server_endpoint(), "plain", observation, b.message);
    active = observation.active();
    h.stop();
    MOTE_CO_TRY(first.status());
    co_return first->message.has(OptionNumber::observe) ? Status::internal() : ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  EXPECT_FALSE(active);
}

// A resource that never changes, fresh for 10 s.
struct SteadyResource final : Resource {
  SteadyResource() : Resource("steady", {.observable = true}) {}
  void handle(const ServerRequest&, ResponseBuilder& response) override {
    ++renders;
    response.set_max_age(10);
    response.write("same");
  }
  int renders = 0;
};

TEST(CoapClientServer, ObserversAreRefreshedBeforeMaxAgeRunsOut) {
  Harness h;
  SteadyResource steady;
  h.server.add(steady);
  static std::vector<async::Duration> arrivals;
  static std::vector<bool> fresh;
  arrivals.clear();
  fresh.clear();
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    std::byte notification_buffer[kMaxMessageSize];
    Observation observation(notification_buffer);
    const async::Instant start = async::now();
    MOTE_CO_TRY((co_await h.client.observe(h.server_endpoint(), "steady", observation, b.message))
                    .status());
    for (int i = 0; i < 3; ++i) {
      MOTE_CO_TRY((co_await h.client.next(observation, b.message, 30s)).status());
      arrivals.push_back(async::now() - start);
      fresh.push_back(observation.fresh_until() > async::now() + 8s);
    }
    MOTE_CO_TRY(co_await h.client.cancel(observation, b.message));
    h.stop();
    co_return ok_status();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  // RFC 7641 §4.3.1: 1 s before each 10 s Max-Age runs out.
  EXPECT_EQ(arrivals, (std::vector<async::Duration>{9s, 18s, 27s}));
  EXPECT_EQ(fresh, (std::vector<bool>{true, true, true}));
  EXPECT_EQ(steady.renders, 5);  // registration, three refreshes, the deregistering GET
}

TEST(CoapClientServer, AClientWhoseNotificationsAreLostRegistersAgainWhenStale) {
  Harness h;
  SteadyResource steady;
  h.server.add(steady);
  // Every NON from the server is lost: only piggybacked responses get through.
  h.network.drop = [](const io::Endpoint& from, const io::Endpoint&, ConstByteSpan bytes) {
    return from.port == 5683 && ((std::to_integer<int>(bytes[0]) >> 4) & 3) == 1;
  };
  static async::Duration arrival;
  static std::size_t observers;
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    std::byte notification_buffer[kMaxMessageSize];
    Observation observation(notification_buffer);
    const async::Instant start = async::now();
    MOTE_CO_TRY((co_await h.client.observe(h.server_endpoint(), "steady", observation, b.message))
                    .status());
    Result<Response> refreshed = co_await h.client.next(observation, b.message, 30s);
    arrival = async::now() - start;
    observers = h.server.observer_count();
    h.stop();
    MOTE_CO_TRY(refreshed.status());
    co_return as_string_view(refreshed->payload) == "same" ? ok_status() : Status::internal();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  // Max-Age 10 s, plus the 2 s grace: then the GET with Observe: 0 again.
  EXPECT_EQ(arrival, 12s);
  EXPECT_EQ(observers, 1u);  // the same endpoint and token: replaced, not added
}

// Takes requests now and answers them later (§5.2.2).
struct SlowResource final : Resource {
  SlowResource() : Resource("slow") {}
  void handle(const ServerRequest& request, ResponseBuilder& response) override {
    ++calls;
    waiting = DeferredResponse::from(request);
    response.defer();
  }
  std::optional<DeferredResponse> waiting;
  int calls = 0;
};

TEST(CoapClientServer, ADeferredHandlerAnswersWithASeparateResponse) {
  Harness h;
  SlowResource slow;
  h.server.add(slow);
  static std::string got;
  static async::Duration elapsed;
  struct Answerer {
    static Task<Status> run(TestServer& server, SlowResource& slow) {
      while (!slow.waiting) co_await async::sleep_for(100ms);
      co_await async::sleep_for(20s);  // long past the client's first retransmission
      co_return server.respond_later(*slow.waiting, codes::kContent, 0,
                                     bytes_of(std::string_view("done at last")));
    }
  };
  async::TaskStorage<16 * 1024> answerer;
  ASSERT_TRUE(h.executor.spawn(answerer, Answerer::run, std::ref(h.server), std::ref(slow)).ok());
  const Status status = h.run([](Harness& h) -> Task<Status> {
    Buffers b;
    const async::Instant start = async::now();
    Result<Response> r = co_await h.client.get(h.server_endpoint(), "slow", b.message);
    elapsed = async::now() - start;
    h.stop();
    MOTE_CO_TRY(r.status());
    got = text(r->payload);
    co_return r->message.type() == Type::confirmable ? ok_status() : Status::internal();
  });
  EXPECT_TRUE(status.ok()) << status.str();
  EXPECT_TRUE(answerer.exit_status().ok()) << answerer.exit_status().str();
  EXPECT_EQ(got, "done at last");
  EXPECT_GE(elapsed, 20s);
  EXPECT_EQ(slow.calls, 1);  // the empty ACK ended the request's retransmission
  // CON request, empty ACK, CON response, its ACK.
  EXPECT_EQ(h.network.delivered, 4u);
}

}  // namespace
}  // namespace mote::coap
