// The client's protocol logic against a scripted broker over an in-memory
// stream, on the SimDriver's virtual clock.

#include "mote/mqtt/client.hpp"

#include <array>
#include <chrono>
#include <gtest/gtest.h>
#include <optional>
#include <string>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/platform/sim_driver.hpp"
#include "test_support/memory_stream.hpp"

namespace mote::mqtt {
namespace {

using namespace std::chrono_literals;
using async::Task;
using test_support::MemoryConnector;
using test_support::MemoryStream;
using Bytes = std::vector<std::byte>;

// Inside coroutines (gtest's ASSERT_* would `return`).
#define CO_ASSERT(condition)                     \
  do {                                           \
    if (!(condition)) {                          \
      ADD_FAILURE() << "failed: " << #condition; \
      co_return;                                 \
    }                                            \
  } while (0)

constexpr ClientLimits kTestLimits{.max_inflight = 4,
                                   .max_incoming_qos2 = 2,
                                   .max_pending_requests = 2,
                                   .inbound_topic_aliases = 3,
                                   .alias_topic_size = 32,
                                   .outbound_topic_aliases = 2,
                                   .auth_properties_size = 96};
using TestClient = Client<MemoryConnector, kTestLimits>;

struct RecordingHandler final : MessageHandler {
  void on_message(const Message& m) override {
    messages.push_back(std::string(m.topic) + "=" + std::string(as_string_view(m.payload)) + " q" +
                       std::to_string(static_cast<int>(m.qos)) + (m.retain ? " r" : ""));
  }
  void on_connected(const ServerSettings& server) override {
    ++connections;
    last = server;
  }
  std::vector<std::string> messages;
  int connections = 0;
  ServerSettings last;
};

Packet decoded(const Result<Bytes>& bytes, ProtocolVersion version = ProtocolVersion::v5) {
  EXPECT_TRUE(bytes.ok());
  if (!bytes.ok()) return Pingreq{};
  const DecodeResult<Packet> packet = decode_packet(*bytes, version);
  EXPECT_TRUE(packet.ok()) << packet.error().detail;
  return packet.ok() ? *packet : Packet(Pingreq{});
}

// A packet the client sent, decoded (a Pingreq, and a test failure, when it
// could not be read or decoded), with the bytes its views point into.
struct Received {
  Received(Result<Bytes> read, ProtocolVersion version)
      : bytes(std::move(read)), packet(decoded(bytes, version)) {}
  // Moving moves the vector's buffer, so the views stay valid; a copy's would not.
  Received(Received&&) noexcept = default;
  Received(const Received&) = delete;
  Received& operator=(const Received&) = delete;

  Result<Bytes> bytes;
  Packet packet;
};

// The broker's side of one connection: packets in and out through the codec.
class ScriptedBroker {
 public:
  ScriptedBroker(MemoryStream stream, ProtocolVersion version)
      : stream_(std::move(stream)), version_(version) {}

  // The next whole packet (a copy: decode it and keep the bytes alive).
  Task<Result<Bytes>> next() {
    for (;;) {
      const DecodeResult<Frame> frame = frame_packet(buffer_);
      if (!frame.ok()) co_return Status::data_loss();
      if (frame->size != 0) {
        Bytes packet(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(frame->size));
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(frame->size));
        co_return packet;
      }
      std::array<std::byte, 512> chunk{};
      Result<std::size_t> n = co_await stream_.read(chunk);
      if (!n.ok()) co_return n.status();
      if (*n == 0) co_return Status::aborted();
      buffer_.insert(buffer_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(*n));
    }
  }

  Task<Status> send(Packet packet) {
    Bytes out(encoded_size(packet, version_).value());
    static_cast<void>(encode_packet(packet, version_, out).value());
    co_return co_await stream_.write(out);
  }

  Task<Status> send_raw(Bytes bytes) { co_return co_await stream_.write(bytes); }

  // The next packet, decoded with the bytes it points into.
  Task<Received> receive() { co_return Received(co_await next(), version_); }

  // Reads CONNECT, answers CONNACK.
  Task<Result<Bytes>> handshake(Connack connack) {
    Result<Bytes> connect = co_await next();
    if (!connect.ok()) co_return connect.status();
    MOTE_CO_TRY(co_await send(connack));
    co_return connect;
  }

  ProtocolVersion version() const { return version_; }
  MemoryStream& stream() { return stream_; }

 private:
  MemoryStream stream_;
  ProtocolVersion version_;
  Bytes buffer_;
};

// The broker's side of the client's next connection (MQTT 5), its CONNECT
// answered with a plain successful CONNACK.
Task<ScriptedBroker> accept_connected(MemoryConnector& connector) {
  ScriptedBroker broker(co_await connector.accept(), ProtocolVersion::v5);
  static_cast<void>(co_await broker.handshake(Connack{}));
  co_return broker;
}

template <typename P>
const P* as(const Packet& packet) {
  return std::get_if<P>(&packet);
}
template <typename P>
const P* as(const Received& received) {
  return as<P>(received.packet);
}

Properties build(std::array<std::byte, 64>& storage,
                 std::initializer_list<std::pair<PropertyId, std::uint32_t>> integers) {
  PropertyBuilder builder(storage);
  for (const auto& [id, value] : integers) builder.add_integer(id, value);
  return builder.properties().value();
}

Task<Status> run_client(TestClient& client) { co_return co_await client.run(); }

Task<void> publish_one(TestClient& client, OutgoingMessage message,
                       std::optional<Result<ReasonCode>>& out) {
  out = co_await client.publish(message);
}

OutgoingMessage message(std::string_view topic, ConstByteSpan payload, QoS qos = QoS::at_most_once,
                        bool retain = false, std::uint16_t alias = 0) {
  OutgoingMessage m;
  m.topic = topic;
  m.payload = payload;
  m.qos = qos;
  m.retain = retain;
  m.topic_alias = alias;
  return m;
}

class MqttClientTest : public ::testing::Test {
 public:
  MqttClientTest() {
    options.client_id = "dev-1";
    options.keep_alive = 30;
  }
  ~MqttClientTest() override {
    client_task.cancel();
    broker_task.cancel();
    for (auto& storage : publisher_tasks) storage.cancel();
  }

  TestClient& make_client() {
    client.emplace(connector, io::Endpoint::parse("192.0.2.1:1883").value(),
                   ClientBuffers{receive, send, inflight}, options, handler);
    return *client;
  }

  void start(Task<void> (*script)(MqttClientTest&)) {
    make_client();
    ASSERT_TRUE(executor.spawn(client_task, run_client, std::ref(*client)).ok());
    ASSERT_TRUE(executor.spawn(broker_task, script, std::ref(*this)).ok());
  }

  void publish_later(std::size_t index, OutgoingMessage message) {
    ASSERT_TRUE(executor
                    .spawn(publisher_tasks[index], publish_one, std::ref(*client), message,
                           std::ref(results[index]))
                    .ok());
  }

  platform::SimDriver driver;
  async::Executor executor{driver};
  MemoryConnector connector;
  std::array<std::byte, 512> receive{};
  std::array<std::byte, 512> send{};
  std::array<std::byte, 1024> inflight{};
  RecordingHandler handler;
  ClientOptions options;
  std::optional<TestClient> client;
  std::array<std::optional<Result<ReasonCode>>, 4> results;
  std::vector<std::string> notes;
  bool script_done = false;

  async::TaskStorage<24 * 1024> client_task;
  async::TaskStorage<24 * 1024> broker_task;
  std::array<async::TaskStorage<4096>, 4> publisher_tasks;
};

// --- Connect ---------------------------------------------------------------------

Task<void> connect_script(MqttClientTest& t) {
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  std::array<std::byte, 64> storage{};
  Connack connack;
  connack.properties = build(storage, {{PropertyId::receive_maximum, 7},
                                       {PropertyId::maximum_qos, 1},
                                       {PropertyId::server_keep_alive, 20},
                                       {PropertyId::topic_alias_maximum, 5}});
  const Result<Bytes> connect_bytes = co_await broker.handshake(connack);
  const Packet packet = decoded(connect_bytes);
  const Connect* connect = as<Connect>(packet);
  CO_ASSERT(connect != nullptr);
  EXPECT_EQ(connect->client_id, "dev-1");
  EXPECT_EQ(connect->keep_alive, 30);
  EXPECT_TRUE(connect->clean_start);
  EXPECT_EQ(connect->properties.integer(PropertyId::receive_maximum), 2u);
  EXPECT_EQ(connect->properties.integer(PropertyId::maximum_packet_size), 512u);
  EXPECT_EQ(connect->properties.integer(PropertyId::topic_alias_maximum), 3u);
  EXPECT_EQ(connect->properties.integer(PropertyId::session_expiry_interval), 600u);
  EXPECT_EQ(connect->properties.string(PropertyId::user_property), "site");
  t.script_done = true;
  static_cast<void>(co_await broker.next());  // until the client goes
}

TEST_F(MqttClientTest, ConnectsAndTakesTheServersSettings) {
  std::array<std::byte, 48> props{};
  PropertyBuilder builder(props);
  builder.add_user_property("site", "north");
  builder.add_integer(PropertyId::receive_maximum, 1000);  // the client's own value stands
  options.connect_properties = builder.properties().value();
  options.session_expiry_interval = 600;
  start(connect_script);
  EXPECT_EQ(executor.run_for(1s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_TRUE(client->connected());
  EXPECT_EQ(handler.connections, 1);
  EXPECT_EQ(client->server().receive_maximum, 7);
  EXPECT_EQ(client->server().maximum_qos, QoS::at_least_once);
  EXPECT_EQ(client->server().keep_alive, 20);
  // QoS 2 is above the server's Maximum QoS.
  publish_later(0, message("t", bytes_of("x"), QoS::exactly_once));
  EXPECT_EQ(executor.run_for(1s), Status::deadline_exceeded());
  ASSERT_TRUE(results[0].has_value());
  EXPECT_EQ(results[0]->status(), Status::failed_precondition());
}

// --- Publishing ----------------------------------------------------------------------

Task<void> qos_script(MqttClientTest& t) {
  ScriptedBroker broker = co_await accept_connected(t.connector);
  // QoS 1 -> PUBACK with "no matching subscribers".
  const Received p1 = co_await broker.receive();
  const Publish* publish1 = as<Publish>(p1);
  CO_ASSERT(publish1 != nullptr);
  EXPECT_EQ(publish1->qos, QoS::at_least_once);
  EXPECT_EQ(publish1->topic, "a/1");
  EXPECT_FALSE(publish1->dup);
  static_cast<void>(
      co_await broker.send(Puback{publish1->packet_id, ReasonCode::no_matching_subscribers, {}}));
  // QoS 2 -> PUBREC, PUBREL, PUBCOMP.
  const Received p2 = co_await broker.receive();
  const Publish* publish2 = as<Publish>(p2);
  CO_ASSERT(publish2 != nullptr);
  EXPECT_EQ(publish2->qos, QoS::exactly_once);
  EXPECT_TRUE(publish2->retain);
  static_cast<void>(co_await broker.send(Pubrec{publish2->packet_id, ReasonCode::success, {}}));
  const Received p3 = co_await broker.receive();
  const Pubrel* rel = as<Pubrel>(p3);
  CO_ASSERT(rel != nullptr);
  EXPECT_EQ(rel->packet_id, publish2->packet_id);
  // A repeated PUBREC is answered with the same PUBREL (success).
  static_cast<void>(co_await broker.send(Pubrec{publish2->packet_id, ReasonCode::success, {}}));
  const Received p3b = co_await broker.receive();
  CO_ASSERT(as<Pubrel>(p3b) != nullptr);
  EXPECT_EQ(as<Pubrel>(p3b)->reason, ReasonCode::success);
  static_cast<void>(co_await broker.send(Pubcomp{rel->packet_id, ReasonCode::success, {}}));
  // QoS 0.
  const Received p4 = co_await broker.receive();
  const Publish* publish4 = as<Publish>(p4);
  CO_ASSERT(publish4 != nullptr);
  EXPECT_EQ(publish4->qos, QoS::at_most_once);
  EXPECT_EQ(as_string_view(publish4->payload), "zero");
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

TEST_F(MqttClientTest, PublishesQos1AndQos2WithTheirAcknowledgements) {
  start(qos_script);
  EXPECT_EQ(executor.run_for(1s), Status::deadline_exceeded());
  publish_later(0, message("a/1", bytes_of("one"), QoS::at_least_once));
  EXPECT_EQ(executor.run_for(1s), Status::deadline_exceeded());
  ASSERT_TRUE(results[0].has_value());
  EXPECT_EQ(results[0]->value_or(ReasonCode::unspecified_error),
            ReasonCode::no_matching_subscribers);
  publish_later(1, message("a/2", bytes_of("two"), QoS::exactly_once, true));
  EXPECT_EQ(executor.run_for(1s), Status::deadline_exceeded());
  ASSERT_TRUE(results[1].has_value());
  EXPECT_EQ(results[1]->value_or(ReasonCode::unspecified_error), ReasonCode::success);
  EXPECT_EQ(client->inflight(), 0u);
  publish_later(2, message("a/0", bytes_of("zero")));
  EXPECT_EQ(executor.run_for(1s), Status::deadline_exceeded());
  ASSERT_TRUE(results[2].has_value());
  EXPECT_TRUE(results[2]->ok());
  EXPECT_TRUE(script_done);
}

Task<void> receive_maximum_script(MqttClientTest& t) {
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  std::array<std::byte, 64> storage{};
  Connack connack;
  connack.properties = build(storage, {{PropertyId::receive_maximum, 2}});
  static_cast<void>(co_await broker.handshake(connack));
  // Four publishes are waiting; only two may be unacknowledged.
  std::vector<std::uint16_t> ids;
  for (int i = 0; i < 2; ++i) {
    const Received p = co_await broker.receive();
    CO_ASSERT(as<Publish>(p) != nullptr);
    ids.push_back(as<Publish>(p)->packet_id);
    t.notes.push_back(std::string(as<Publish>(p)->topic));
  }
  // Nothing more comes until an acknowledgement.
  t.notes.push_back("acking");
  static_cast<void>(co_await broker.send(Puback{ids[0], ReasonCode::success, {}}));
  const Received p3 = co_await broker.receive();
  CO_ASSERT(as<Publish>(p3) != nullptr);
  t.notes.push_back(std::string(as<Publish>(p3)->topic));
  static_cast<void>(co_await broker.send(Puback{ids[1], ReasonCode::success, {}}));
  static_cast<void>(
      co_await broker.send(Puback{as<Publish>(p3)->packet_id, ReasonCode::success, {}}));
  const Received p4 = co_await broker.receive();
  CO_ASSERT(as<Publish>(p4) != nullptr);
  t.notes.push_back(std::string(as<Publish>(p4)->topic));
  static_cast<void>(
      co_await broker.send(Puback{as<Publish>(p4)->packet_id, ReasonCode::success, {}}));
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

TEST_F(MqttClientTest, KeepsToTheServersReceiveMaximumInOrder) {
  start(receive_maximum_script);
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  for (std::size_t i = 0; i < 4; ++i) {
    static const char* const kTopics[] = {"m/0", "m/1", "m/2", "m/3"};
    publish_later(i, message(kTopics[i], bytes_of("x"), QoS::at_least_once));
  }
  EXPECT_EQ(executor.run_for(1s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_EQ(notes, (std::vector<std::string>{"m/0", "m/1", "acking", "m/2", "m/3"}));
  for (const auto& result : results) {
    ASSERT_TRUE(result.has_value());
    EXPECT_TRUE(result->ok());
  }
}

// The broker takes a QoS 1 and a QoS 2 message (PUBREC sent), drops the
// connection, and on the next one says the session is present: the client
// sends the PUBLISH again with DUP and the same identifier, and the PUBREL.
Task<void> resend_script(MqttClientTest& t) {
  std::uint16_t qos1_id = 0;
  std::uint16_t qos2_id = 0;
  {
    ScriptedBroker broker = co_await accept_connected(t.connector);
    for (int i = 0; i < 2; ++i) {
      const Received p = co_await broker.receive();
      const Publish* publish = as<Publish>(p);
      CO_ASSERT(publish != nullptr);
      if (publish->qos == QoS::at_least_once) qos1_id = publish->packet_id;
      if (publish->qos == QoS::exactly_once) qos2_id = publish->packet_id;
    }
    static_cast<void>(co_await broker.send(Pubrec{qos2_id, ReasonCode::success, {}}));
    const Result<Bytes> rel = co_await broker.next();
    CO_ASSERT(as<Pubrel>(decoded(rel)) != nullptr);
    broker.stream().close();  // lost, unacknowledged
  }
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  const Result<Bytes> connect_bytes =
      co_await broker.handshake(Connack{true, ReasonCode::success, {}});
  const Packet connect = decoded(connect_bytes);
  CO_ASSERT(as<Connect>(connect) != nullptr);
  EXPECT_FALSE(as<Connect>(connect)->clean_start);
  t.notes.push_back("reconnected");
  bool saw_dup = false;
  bool saw_rel = false;
  for (int i = 0; i < 2; ++i) {
    const Received p = co_await broker.receive();
    if (const Publish* publish = as<Publish>(p)) {
      EXPECT_TRUE(publish->dup);
      EXPECT_EQ(publish->packet_id, qos1_id);
      EXPECT_EQ(as_string_view(publish->payload), "one");
      saw_dup = true;
      static_cast<void>(co_await broker.send(Puback{qos1_id, ReasonCode::success, {}}));
    } else if (const Pubrel* rel = as<Pubrel>(p)) {
      EXPECT_EQ(rel->packet_id, qos2_id);
      saw_rel = true;
      static_cast<void>(co_await broker.send(Pubcomp{qos2_id, ReasonCode::success, {}}));
    }
  }
  EXPECT_TRUE(saw_dup && saw_rel);
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

TEST_F(MqttClientTest, ResendsUnacknowledgedMessagesWithDupAfterReconnecting) {
  options.session_expiry_interval = 3600;
  start(resend_script);
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  publish_later(0, message("r/1", bytes_of("one"), QoS::at_least_once));
  publish_later(1, message("r/2", bytes_of("two"), QoS::exactly_once));
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  EXPECT_TRUE(notes.empty());  // waiting out the reconnect delay (1 s)
  EXPECT_FALSE(results[0].has_value());
  EXPECT_EQ(executor.run_for(2s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  ASSERT_TRUE(results[0].has_value() && results[1].has_value());
  EXPECT_TRUE(results[0]->ok());
  EXPECT_TRUE(results[1]->ok());
  EXPECT_EQ(handler.connections, 2);
}

Task<void> session_lost_script(MqttClientTest& t) {
  {
    ScriptedBroker broker = co_await accept_connected(t.connector);
    static_cast<void>(co_await broker.next());
    broker.stream().close();
  }
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  static_cast<void>(co_await broker.handshake(Connack{false, ReasonCode::success, {}}));
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

TEST_F(MqttClientTest, ReportsMessagesLostWithTheSession) {
  options.session_expiry_interval = 3600;
  start(session_lost_script);
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  publish_later(0, message("r/1", bytes_of("one"), QoS::at_least_once));
  EXPECT_EQ(executor.run_for(3s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  ASSERT_TRUE(results[0].has_value());
  EXPECT_EQ(results[0]->status(), Status::aborted());
  EXPECT_EQ(client->inflight(), 0u);
}

// --- Receiving ----------------------------------------------------------------------

Task<void> receive_script(MqttClientTest& t) {
  ScriptedBroker broker = co_await accept_connected(t.connector);
  const ConstByteSpan payload = bytes_of("hi");
  // QoS 1: delivered, PUBACK.
  static_cast<void>(
      co_await broker.send(Publish{false, QoS::at_least_once, false, "in/1", 10, {}, payload}));
  const Received pa = co_await broker.receive();
  CO_ASSERT(as<Puback>(pa) != nullptr);
  EXPECT_EQ(as<Puback>(pa)->packet_id, 10);
  // QoS 2, then the same again with DUP before PUBREL: one delivery, two PUBRECs.
  static_cast<void>(
      co_await broker.send(Publish{false, QoS::exactly_once, true, "in/2", 11, {}, payload}));
  const Result<Bytes> rec1 = co_await broker.next();
  CO_ASSERT(as<Pubrec>(decoded(rec1)) != nullptr);
  static_cast<void>(
      co_await broker.send(Publish{true, QoS::exactly_once, true, "in/2", 11, {}, payload}));
  const Result<Bytes> rec2 = co_await broker.next();
  CO_ASSERT(as<Pubrec>(decoded(rec2)) != nullptr);
  static_cast<void>(co_await broker.send(Pubrel{11, ReasonCode::success, {}}));
  const Received pc = co_await broker.receive();
  CO_ASSERT(as<Pubcomp>(pc) != nullptr);
  EXPECT_EQ(as<Pubcomp>(pc)->reason, ReasonCode::success);
  // A PUBREL for an identifier the client does not hold.
  static_cast<void>(co_await broker.send(Pubrel{99, ReasonCode::success, {}}));
  const Received pc2 = co_await broker.receive();
  CO_ASSERT(as<Pubcomp>(pc2) != nullptr);
  EXPECT_EQ(as<Pubcomp>(pc2)->reason, ReasonCode::packet_identifier_not_found);
  // After PUBCOMP the identifier is free: the same id is a new message.
  static_cast<void>(
      co_await broker.send(Publish{false, QoS::exactly_once, false, "in/3", 11, {}, payload}));
  static_cast<void>(co_await broker.next());
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

TEST_F(MqttClientTest, DeliversQos2ExactlyOnce) {
  start(receive_script);
  EXPECT_EQ(executor.run_for(1s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_EQ(handler.messages,
            (std::vector<std::string>{"in/1=hi q1", "in/2=hi q2 r", "in/3=hi q2"}));
}

Task<void> alias_script(MqttClientTest& t) {
  ScriptedBroker broker = co_await accept_connected(t.connector);
  std::array<std::byte, 64> storage{};
  const Properties alias2 = build(storage, {{PropertyId::topic_alias, 2}});
  static_cast<void>(co_await broker.send(
      Publish{false, QoS::at_most_once, false, "long/topic/name", 0, alias2, bytes_of("1")}));
  static_cast<void>(
      co_await broker.send(Publish{false, QoS::at_most_once, false, "", 0, alias2, bytes_of("2")}));
  static_cast<void>(co_await broker.send(
      Publish{false, QoS::at_most_once, false, "other", 0, alias2, bytes_of("3")}));
  static_cast<void>(
      co_await broker.send(Publish{false, QoS::at_most_once, false, "", 0, alias2, bytes_of("4")}));
  // Alias 4 is above the maximum the client announced (3): DISCONNECT 0x94.
  std::array<std::byte, 64> storage4{};
  const Properties alias4 = build(storage4, {{PropertyId::topic_alias, 4}});
  static_cast<void>(co_await broker.send(
      Publish{false, QoS::at_most_once, false, "x", 0, alias4, bytes_of("5")}));
  const Received p = co_await broker.receive();
  CO_ASSERT(as<Disconnect>(p) != nullptr);
  EXPECT_EQ(as<Disconnect>(p)->reason, ReasonCode::topic_alias_invalid);
  t.script_done = true;
}

TEST_F(MqttClientTest, HonoursInboundTopicAliases) {
  start(alias_script);
  EXPECT_EQ(executor.run_for(500ms), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_EQ(handler.messages,
            (std::vector<std::string>{"long/topic/name=1 q0", "long/topic/name=2 q0", "other=3 q0",
                                      "other=4 q0"}));
}

Task<void> undefined_alias_script(MqttClientTest& t) {
  ScriptedBroker broker = co_await accept_connected(t.connector);
  std::array<std::byte, 64> storage{};
  const Properties alias1 = build(storage, {{PropertyId::topic_alias, 1}});
  static_cast<void>(
      co_await broker.send(Publish{false, QoS::at_most_once, false, "", 0, alias1, bytes_of("1")}));
  const Received p = co_await broker.receive();
  CO_ASSERT(as<Disconnect>(p) != nullptr);
  EXPECT_EQ(as<Disconnect>(p)->reason, ReasonCode::protocol_error);
  // A malformed packet: DISCONNECT with Malformed Packet on the next connection.
  ScriptedBroker second = co_await accept_connected(t.connector);
  // (Built outside the co_await: GCC 12 cannot put an initializer list's
  // array in a coroutine frame.)
  Bytes malformed = {std::byte{0x40}, std::byte{0x01}, std::byte{0x00}};
  static_cast<void>(co_await second.send_raw(std::move(malformed)));
  const Received p2 = co_await second.receive();
  CO_ASSERT(as<Disconnect>(p2) != nullptr);
  EXPECT_EQ(as<Disconnect>(p2)->reason, ReasonCode::malformed_packet);
  t.script_done = true;
}

TEST_F(MqttClientTest, DisconnectsWithTheReasonForBadPackets) {
  start(undefined_alias_script);
  EXPECT_EQ(executor.run_for(3s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_TRUE(handler.messages.empty());
}

// --- Keep-alive ----------------------------------------------------------------------

Task<void> keep_alive_script(MqttClientTest& t) {
  ScriptedBroker broker = co_await accept_connected(t.connector);
  const async::Instant connected = async::now();
  const Result<Bytes> ping = co_await broker.next();
  CO_ASSERT(as<Pingreq>(decoded(ping)) != nullptr);
  EXPECT_EQ(async::now() - connected, std::chrono::seconds(30));
  static_cast<void>(co_await broker.send(Pingresp{}));
  const Result<Bytes> ping2 = co_await broker.next();
  CO_ASSERT(as<Pingreq>(decoded(ping2)) != nullptr);
  EXPECT_EQ(async::now() - connected, std::chrono::seconds(60));
  // No answer this time: the client gives up after ping_timeout.
  const async::Instant asked = async::now();
  const Result<Bytes> end = co_await broker.next();
  EXPECT_FALSE(end.ok());
  EXPECT_EQ(async::now() - asked, std::chrono::seconds(10));
  t.script_done = true;
}

TEST_F(MqttClientTest, PingsWhenIdleAndGivesUpWithoutAnAnswer) {
  start(keep_alive_script);
  EXPECT_EQ(executor.run_for(75s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_EQ(connector.attempts(), 2);  // reconnected after the timeout + 1 s
}

// --- Subscriptions -------------------------------------------------------------------

Task<void> subscribe_script(MqttClientTest& t) {
  ScriptedBroker broker = co_await accept_connected(t.connector);
  const Received p = co_await broker.receive();
  const Subscribe* subscribe = as<Subscribe>(p);
  CO_ASSERT(subscribe != nullptr);
  EXPECT_EQ(subscribe->properties.integer(PropertyId::subscription_identifier), 9u);
  CO_ASSERT(subscribe->subscriptions.size() == 2);
  auto it = subscribe->subscriptions.begin();
  EXPECT_EQ(it->filter, "s/+");
  EXPECT_TRUE(it->options.no_local);
  EXPECT_TRUE(it->options.retain_as_published);
  EXPECT_EQ(it->options.retain_handling, RetainHandling::do_not_send);
  EXPECT_EQ(it->options.max_qos, QoS::exactly_once);
  const std::array<ReasonCode, 2> codes = {ReasonCode::granted_qos_1, ReasonCode::not_authorized};
  static_cast<void>(co_await broker.send(Suback{subscribe->packet_id, {}, codes}));
  const Received p2 = co_await broker.receive();
  const Unsubscribe* unsubscribe = as<Unsubscribe>(p2);
  CO_ASSERT(unsubscribe != nullptr);
  EXPECT_EQ(unsubscribe->subscriptions.begin()->filter, "s/+");
  const std::array<ReasonCode, 1> unsub_codes = {ReasonCode::no_subscription_existed};
  static_cast<void>(co_await broker.send(Unsuback{unsubscribe->packet_id, {}, unsub_codes}));
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

Task<void> subscriber(TestClient& client, std::vector<std::string>& notes) {
  co_await client.wait_connected();
  const std::array<Subscription, 2> subscriptions = {
      Subscription{"s/+", {QoS::exactly_once, true, true, RetainHandling::do_not_send}},
      Subscription{"admin/#", {QoS::at_most_once, false, false, {}}}};
  std::array<ReasonCode, 2> granted{};
  std::array<std::byte, 64> storage{};
  const Properties properties = build(storage, {{PropertyId::subscription_identifier, 9}});
  const Status status = co_await client.subscribe(subscriptions, granted, properties);
  notes.push_back(std::string("subscribe ") + status.str() + " " + to_string(granted[0]) + ", " +
                  to_string(granted[1]));
  const std::array<std::string_view, 1> filters = {"s/+"};
  std::array<ReasonCode, 1> results{};
  const Status unsubscribed = co_await client.unsubscribe(filters, results);
  notes.push_back(std::string("unsubscribe ") + unsubscribed.str() + " " + to_string(results[0]));
}

TEST_F(MqttClientTest, SubscribesWithOptionsAndUnsubscribes) {
  start(subscribe_script);
  ASSERT_TRUE(
      executor.spawn(publisher_tasks[0], subscriber, std::ref(*client), std::ref(notes)).ok());
  EXPECT_EQ(executor.run_for(1s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_EQ(notes, (std::vector<std::string>{"subscribe ok Granted QoS 1, Not authorized",
                                             "unsubscribe ok No subscription existed"}));
}

// --- Refusals and backoff ------------------------------------------------------------

Task<void> refusing_script(MqttClientTest& t) {
  for (int i = 0; i < 3; ++i) {
    ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
    static_cast<void>(co_await broker.handshake(Connack{false, ReasonCode::server_busy, {}}));
    t.notes.push_back(std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(async::now().time_since_epoch()).count()));
  }
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  static_cast<void>(
      co_await broker.handshake(Connack{false, ReasonCode::bad_user_name_or_password, {}}));
  t.script_done = true;
}

TEST_F(MqttClientTest, RetriesTransientRefusalsWithBackoffAndStopsOnBadCredentials) {
  start(refusing_script);
  EXPECT_EQ(executor.run_for(60s), ok_status());
  EXPECT_TRUE(script_done);
  // Attempts at 0 s, then 1, 2 and 4 s apart.
  EXPECT_EQ(notes, (std::vector<std::string>{"0", "1", "3"}));
  EXPECT_EQ(client_task.exit_status(), Status::unauthenticated());
  EXPECT_EQ(client->last_refusal(), ReasonCode::bad_user_name_or_password);
}

Task<void> v311_script(MqttClientTest& t) {
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v311);
  const Result<Bytes> connect_bytes = co_await broker.handshake(Connack{});
  const Packet connect = decoded(connect_bytes, ProtocolVersion::v311);
  CO_ASSERT(as<Connect>(connect) != nullptr);
  EXPECT_EQ(as<Connect>(connect)->version, ProtocolVersion::v311);
  EXPECT_TRUE(as<Connect>(connect)->properties.empty());
  CO_ASSERT(as<Connect>(connect)->will.has_value());
  EXPECT_EQ(as<Connect>(connect)->will->topic, "dev/1/status");
  const Received p = co_await broker.receive();
  CO_ASSERT(as<Publish>(p) != nullptr);
  static_cast<void>(
      co_await broker.send(Puback{as<Publish>(p)->packet_id, ReasonCode::success, {}}));
  // The client's DISCONNECT, then it shuts its side.
  const Result<Bytes> bye = co_await broker.next();
  CO_ASSERT(as<Disconnect>(decoded(bye, ProtocolVersion::v311)) != nullptr);
  const Result<Bytes> end = co_await broker.next();
  EXPECT_FALSE(end.ok());
  t.script_done = true;
}

Task<void> publish_then_disconnect(TestClient& client, std::vector<std::string>& notes) {
  co_await client.wait_connected();
  const Result<ReasonCode> acked =
      co_await client.publish(message("v/1", bytes_of("x"), QoS::at_least_once));
  notes.push_back(acked.ok() ? to_string(*acked) : acked.status().str());
  notes.push_back(co_await client.disconnect() == ok_status() ? "disconnected"
                                                              : "disconnect failed");
}

TEST_F(MqttClientTest, SpeaksMqtt311AndDisconnectsCleanly) {
  options.version = ProtocolVersion::v311;
  options.will = Will{"dev/1/status", bytes_of("offline"), QoS::at_least_once, true, {}};
  start(v311_script);
  ASSERT_TRUE(
      executor
          .spawn(publisher_tasks[0], publish_then_disconnect, std::ref(*client), std::ref(notes))
          .ok());
  EXPECT_EQ(executor.run_for(10s), ok_status());
  EXPECT_TRUE(script_done);
  EXPECT_EQ(notes, (std::vector<std::string>{"Success", "disconnected"}));
  EXPECT_EQ(client_task.exit_status(), ok_status());
}

Task<void> outbound_alias_script(MqttClientTest& t) {
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  std::array<std::byte, 64> storage{};
  Connack connack;
  connack.properties =
      build(storage, {{PropertyId::topic_alias_maximum, 1}, {PropertyId::maximum_packet_size, 64}});
  static_cast<void>(co_await broker.handshake(connack));
  for (const char* expected : {"alias/topic", ""}) {
    const Received p = co_await broker.receive();
    CO_ASSERT(as<Publish>(p) != nullptr);
    EXPECT_EQ(as<Publish>(p)->topic, expected);
    EXPECT_EQ(as<Publish>(p)->properties.integer(PropertyId::topic_alias), 1u);
  }
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

TEST_F(MqttClientTest, UsesOutboundAliasesAndTheServersPacketLimit) {
  start(outbound_alias_script);
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  for (std::size_t i = 0; i < 2; ++i) {
    publish_later(i, message("alias/topic", bytes_of("p"), QoS::at_most_once, false, 1));
    EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  }
  // Alias 2 is above the server's Topic Alias Maximum.
  publish_later(2, message("alias/topic", bytes_of("p"), QoS::at_most_once, false, 2));
  // Larger than the server's Maximum Packet Size (64).
  static const std::array<std::byte, 100> kBig{};
  publish_later(3, message("big", kBig));
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_TRUE(results[0]->ok());
  EXPECT_TRUE(results[1]->ok());
  EXPECT_EQ(results[2]->status(), Status::failed_precondition());
  EXPECT_EQ(results[3]->status(), Status::resource_exhausted());
}

}  // namespace
}  // namespace mote::mqtt

namespace mote::mqtt {
namespace {

// A publish made while the client cannot connect waits in its slot and goes
// out (without DUP: never sent before) once a connection is accepted.
Task<void> late_server_script(MqttClientTest& t) {
  ScriptedBroker broker = co_await accept_connected(t.connector);
  const Received p = co_await broker.receive();
  CO_ASSERT(as<Publish>(p) != nullptr);
  EXPECT_FALSE(as<Publish>(p)->dup);
  EXPECT_EQ(as<Publish>(p)->topic, "queued");
  static_cast<void>(
      co_await broker.send(Puback{as<Publish>(p)->packet_id, ReasonCode::success, {}}));
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

TEST_F(MqttClientTest, QueuesPublishesUntilConnected) {
  connector.set_refuse(true);
  start(late_server_script);
  publish_later(0, message("queued", bytes_of("q"), QoS::at_least_once));
  publish_later(1, message("now", bytes_of("q")));
  EXPECT_EQ(executor.run_for(2500ms), Status::deadline_exceeded());
  EXPECT_EQ(connector.attempts(), 2);  // at 0 s and 1 s; the next at 3 s
  EXPECT_EQ(client->inflight(), 1u);
  ASSERT_TRUE(results[1].has_value());
  EXPECT_EQ(results[1]->status(), Status::unavailable());  // QoS 0 is not queued
  connector.set_refuse(false);
  EXPECT_EQ(executor.run_for(2s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  ASSERT_TRUE(results[0].has_value());
  EXPECT_TRUE(results[0]->ok());
  EXPECT_EQ(client->inflight(), 0u);
}

// A publisher cancelled while its message is in flight: the message still
// completes and its slot is freed for others.
Task<void> abandoned_script(MqttClientTest& t) {
  ScriptedBroker broker = co_await accept_connected(t.connector);
  const Received p = co_await broker.receive();
  CO_ASSERT(as<Publish>(p) != nullptr);
  co_await async::sleep_for(1s);  // meanwhile the publisher is cancelled
  static_cast<void>(
      co_await broker.send(Puback{as<Publish>(p)->packet_id, ReasonCode::success, {}}));
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

TEST_F(MqttClientTest, FreesTheSlotOfACancelledPublisherOnCompletion) {
  start(abandoned_script);
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  publish_later(0, message("a", bytes_of("x"), QoS::at_least_once));
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  EXPECT_EQ(client->inflight(), 1u);
  publisher_tasks[0].cancel();
  EXPECT_EQ(client->inflight(), 1u);  // still in flight
  EXPECT_EQ(executor.run_for(2s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_EQ(client->inflight(), 0u);
  EXPECT_FALSE(results[0].has_value());
}

}  // namespace
}  // namespace mote::mqtt

namespace mote::mqtt {
namespace {

Task<void> limited_server_script(MqttClientTest& t) {
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  std::array<std::byte, 64> storage{};
  Connack connack;
  connack.properties = build(storage, {{PropertyId::wildcard_subscription_available, 0},
                                       {PropertyId::subscription_identifier_available, 0},
                                       {PropertyId::shared_subscription_available, 0}});
  static_cast<void>(co_await broker.handshake(connack));
  const Received p = co_await broker.receive();
  const Subscribe* subscribe = as<Subscribe>(p);
  CO_ASSERT(subscribe != nullptr);
  EXPECT_EQ(subscribe->subscriptions.begin()->filter, "plain/topic");
  const std::array<ReasonCode, 1> codes = {ReasonCode::success};
  static_cast<void>(co_await broker.send(Suback{subscribe->packet_id, {}, codes}));
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

Task<void> limited_subscriber(TestClient& client, std::vector<std::string>& notes) {
  co_await client.wait_connected();
  std::array<ReasonCode, 1> granted{};
  for (std::string_view filter : {"wild/+", "$share/g/t", "plain/topic"}) {
    const std::array<Subscription, 1> subscriptions = {Subscription{filter, {}}};
    notes.push_back((co_await client.subscribe(subscriptions, granted)).str());
  }
  std::array<std::byte, 64> storage{};
  const Properties id = build(storage, {{PropertyId::subscription_identifier, 1}});
  const std::array<Subscription, 1> plain = {Subscription{"plain/topic", {}}};
  notes.push_back((co_await client.subscribe(plain, granted, id)).str());
}

TEST_F(MqttClientTest, RefusesSubscriptionsTheServerDoesNotSupport) {
  start(limited_server_script);
  ASSERT_TRUE(
      executor.spawn(publisher_tasks[0], limited_subscriber, std::ref(*client), std::ref(notes))
          .ok());
  EXPECT_EQ(executor.run_for(1s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_EQ(notes, (std::vector<std::string>{"failed_precondition", "failed_precondition", "ok",
                                             "failed_precondition"}));
}

}  // namespace
}  // namespace mote::mqtt

namespace mote::mqtt {
namespace {

// A packet larger than the receive buffer (the Maximum Packet Size the
// client announced): DISCONNECT with Packet too large, before the body.
Task<void> oversized_script(MqttClientTest& t) {
  ScriptedBroker broker = co_await accept_connected(t.connector);
  // A PUBLISH header announcing 1000 bytes, and only 4 of them.
  Bytes header = {std::byte{0x30}, std::byte{0xe8}, std::byte{0x07}, std::byte{0},
                  std::byte{1},    std::byte{'t'},  std::byte{0}};
  static_cast<void>(co_await broker.send_raw(std::move(header)));
  const Received p = co_await broker.receive();
  CO_ASSERT(as<Disconnect>(p) != nullptr);
  EXPECT_EQ(as<Disconnect>(p)->reason, ReasonCode::packet_too_large);
  t.script_done = true;
}

TEST_F(MqttClientTest, RefusesPacketsLargerThanItsBuffer) {
  start(oversized_script);
  EXPECT_EQ(executor.run_for(500ms), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_TRUE(handler.messages.empty());
}

}  // namespace
}  // namespace mote::mqtt

namespace mote::mqtt {
namespace {

// MQTT 5: an empty client id gets one from the server, used to resume.
Task<void> assigned_id_script(MqttClientTest& t) {
  {
    ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
    std::array<std::byte, 64> storage{};
    PropertyBuilder builder(storage);
    builder.add_string(PropertyId::assigned_client_identifier, "auto-7f3a");
    Connack connack;
    connack.properties = builder.properties().value();
    const Result<Bytes> first = co_await broker.handshake(connack);
    const Packet p = decoded(first);
    CO_ASSERT(as<Connect>(p) != nullptr);
    EXPECT_EQ(as<Connect>(p)->client_id, "");
    broker.stream().close();
  }
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  const Result<Bytes> second = co_await broker.handshake(Connack{true, ReasonCode::success, {}});
  const Packet p = decoded(second);
  CO_ASSERT(as<Connect>(p) != nullptr);
  EXPECT_EQ(as<Connect>(p)->client_id, "auto-7f3a");
  EXPECT_FALSE(as<Connect>(p)->clean_start);
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

TEST_F(MqttClientTest, ResumesWithTheAssignedClientIdentifier) {
  options.client_id = "";
  options.session_expiry_interval = 60;
  start(assigned_id_script);
  EXPECT_EQ(executor.run_for(3s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_EQ(client->client_id(), "auto-7f3a");
}

}  // namespace
}  // namespace mote::mqtt

namespace mote::mqtt {
namespace {

// The server stops reading: a publish's write waits on a full pipe holding
// the write mutex. The keep-alive's PINGREQ cannot get out either, gives up
// after the ping timeout and ends the connection, which fails the stuck
// write; then the client reconnects.
Task<void> stalled_reader_script(MqttClientTest& t) {
  ScriptedBroker broker = co_await accept_connected(t.connector);
  broker.stream().link()->to_server.capacity = 64;  // and nobody reads it any more
  ScriptedBroker second(co_await t.connector.accept(), ProtocolVersion::v5);
  t.notes.push_back(std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(async::now().time_since_epoch()).count()));
  static_cast<void>(co_await second.handshake(Connack{}));
  t.script_done = true;
  static_cast<void>(co_await second.next());
}

TEST_F(MqttClientTest, KeepAliveEndsAConnectionWhosePeerStoppedReading) {
  start(stalled_reader_script);
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  static const std::array<std::byte, 200> kBig{};
  publish_later(0, message("big", kBig));
  EXPECT_EQ(executor.run_for(60s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  // PINGREQ due at 30 s, given up at 40 s, reconnected 1 s later.
  EXPECT_EQ(notes, (std::vector<std::string>{"41"}));
  ASSERT_TRUE(results[0].has_value());
  EXPECT_FALSE(results[0]->ok());
  EXPECT_EQ(handler.connections, 2);
}

// --- Enhanced authentication (§4.12) ---------------------------------------------------

// A two-step method: "hello" in CONNECT, "answer:<challenge>" to each
// challenge, and the server's final data must be "welcome".
struct EchoAuthenticator final : Authenticator {
  [[nodiscard]] std::string_view method() const override { return "ECHO"; }
  Result<ConstByteSpan> start() override {
    ++starts;
    return bytes_of("hello");
  }
  Result<ConstByteSpan> challenge(BinaryData server_data) override {
    answer = "answer:" + std::string(as_string_view(server_data));
    return bytes_of(answer);
  }
  Status finish(BinaryData server_data) override {
    finals.push_back(std::string(as_string_view(server_data)));
    return as_string_view(server_data) == "welcome" ? ok_status() : Status::unauthenticated();
  }
  int starts = 0;
  std::string answer;
  std::vector<std::string> finals;
};

Properties auth_props(std::array<std::byte, 64>& storage, std::string_view method,
                      std::string_view data) {
  PropertyBuilder builder(storage);
  builder.add_string(PropertyId::authentication_method, method);
  if (!data.empty()) builder.add_binary(PropertyId::authentication_data, bytes_of(data));
  return builder.properties().value();
}

std::string auth_data_of(const Properties& properties) {
  const auto data = properties.find(PropertyId::authentication_data);
  return data ? std::string(as_string_view(data->binary)) : std::string();
}

// CONNECT(hello) -> AUTH 0x18(c1) -> AUTH 0x18(answer:c1) -> CONNACK(welcome);
// then a re-authentication: AUTH 0x19(hello) -> AUTH 0x18(c2) ->
// AUTH 0x18(answer:c2) -> AUTH 0x00(welcome).
Task<void> enhanced_auth_script(MqttClientTest& t) {
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  std::array<std::byte, 64> storage{};
  const Received connect = co_await broker.receive();
  CO_ASSERT(as<Connect>(connect) != nullptr);
  EXPECT_EQ(as<Connect>(connect)->properties.string(PropertyId::authentication_method), "ECHO");
  EXPECT_EQ(auth_data_of(as<Connect>(connect)->properties), "hello");
  static_cast<void>(co_await broker.send(
      Auth{ReasonCode::continue_authentication, auth_props(storage, "ECHO", "c1")}));
  const Received answer = co_await broker.receive();
  CO_ASSERT(as<Auth>(answer) != nullptr);
  EXPECT_EQ(as<Auth>(answer)->reason, ReasonCode::continue_authentication);
  EXPECT_EQ(auth_data_of(as<Auth>(answer)->properties), "answer:c1");
  static_cast<void>(co_await broker.send(
      Connack{false, ReasonCode::success, auth_props(storage, "ECHO", "welcome")}));
  // Re-authentication, started by the test through reauthenticate().
  const Received again = co_await broker.receive();
  CO_ASSERT(as<Auth>(again) != nullptr);
  EXPECT_EQ(as<Auth>(again)->reason, ReasonCode::re_authenticate);
  EXPECT_EQ(auth_data_of(as<Auth>(again)->properties), "hello");
  static_cast<void>(co_await broker.send(
      Auth{ReasonCode::continue_authentication, auth_props(storage, "ECHO", "c2")}));
  const Received answer2 = co_await broker.receive();
  CO_ASSERT(as<Auth>(answer2) != nullptr);
  EXPECT_EQ(auth_data_of(as<Auth>(answer2)->properties), "answer:c2");
  static_cast<void>(
      co_await broker.send(Auth{ReasonCode::success, auth_props(storage, "ECHO", "welcome")}));
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

Task<void> reauthenticate_one(TestClient& client, std::optional<Status>& out) {
  out = co_await client.reauthenticate();
}

TEST_F(MqttClientTest, AuthenticatesWithAnExchangeAndReauthenticates) {
  EchoAuthenticator authenticator;
  options.authenticator = &authenticator;
  start(enhanced_auth_script);
  EXPECT_EQ(executor.run_for(1s), Status::deadline_exceeded());
  EXPECT_TRUE(client->connected());
  EXPECT_EQ(authenticator.finals, (std::vector<std::string>{"welcome"}));
  std::optional<Status> reauthenticated;
  ASSERT_TRUE(executor
                  .spawn(publisher_tasks[0], reauthenticate_one, std::ref(*client),
                         std::ref(reauthenticated))
                  .ok());
  EXPECT_EQ(executor.run_for(1s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_EQ(reauthenticated, ok_status());
  EXPECT_EQ(authenticator.starts, 2);
  EXPECT_EQ(authenticator.finals, (std::vector<std::string>{"welcome", "welcome"}));
  EXPECT_TRUE(client->connected());
  EXPECT_EQ(handler.connections, 1);
}

// A server that does not know the method; then one that accepts without
// proving itself (its final data is wrong).
Task<void> bad_method_script(MqttClientTest& t) {
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  static_cast<void>(
      co_await broker.handshake(Connack{false, ReasonCode::bad_authentication_method, {}}));
  t.script_done = true;
}

TEST_F(MqttClientTest, StopsOnBadAuthenticationMethod) {
  EchoAuthenticator authenticator;
  options.authenticator = &authenticator;
  start(bad_method_script);
  EXPECT_EQ(executor.run_for(10s), ok_status());
  EXPECT_TRUE(script_done);
  EXPECT_EQ(client_task.exit_status(), Status::invalid_argument());
  EXPECT_EQ(client->last_refusal(), ReasonCode::bad_authentication_method);
}

Task<void> unproven_server_script(MqttClientTest& t) {
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  std::array<std::byte, 64> storage{};
  static_cast<void>(co_await broker.handshake(
      Connack{false, ReasonCode::success, auth_props(storage, "ECHO", "trust me")}));
  const Received p = co_await broker.receive();
  CO_ASSERT(as<Disconnect>(p) != nullptr);
  t.script_done = true;
}

TEST_F(MqttClientTest, DisconnectsFromAServerThatDoesNotProveItselfAndStops) {
  EchoAuthenticator authenticator;
  options.authenticator = &authenticator;
  start(unproven_server_script);
  EXPECT_EQ(executor.run_for(10s), ok_status());
  EXPECT_TRUE(script_done);
  EXPECT_EQ(client_task.exit_status(), Status::unauthenticated());
  EXPECT_EQ(handler.connections, 0);
}

Task<void> unasked_auth_script(MqttClientTest& t) {
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  std::array<std::byte, 64> storage{};
  static_cast<void>(co_await broker.handshake(Connack{}));
  static_cast<void>(co_await broker.send(
      Auth{ReasonCode::continue_authentication, auth_props(storage, "ECHO", "c1")}));
  const Received p = co_await broker.receive();
  CO_ASSERT(as<Disconnect>(p) != nullptr);
  EXPECT_EQ(as<Disconnect>(p)->reason, ReasonCode::protocol_error);
  t.script_done = true;
}

TEST_F(MqttClientTest, AnAuthNobodyAskedForIsAProtocolError) {
  start(unasked_auth_script);
  EXPECT_EQ(executor.run_for(1s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
}

// --- Re-subscription -------------------------------------------------------------------

// Connection 1: SUBSCRIBE a/#, b, c (c refused), UNSUBSCRIBE b. Connection 2
// (no session): the client subscribes to a/# again by itself. Connection 3
// (session present): it does not.
Task<void> resubscribe_script(MqttClientTest& t) {
  {
    ScriptedBroker broker = co_await accept_connected(t.connector);
    const Received p = co_await broker.receive();
    CO_ASSERT(as<Subscribe>(p) != nullptr);
    const std::array<ReasonCode, 3> codes = {ReasonCode::granted_qos_2, ReasonCode::granted_qos_1,
                                             ReasonCode::not_authorized};
    static_cast<void>(co_await broker.send(Suback{as<Subscribe>(p)->packet_id, {}, codes}));
    const Received p2 = co_await broker.receive();
    CO_ASSERT(as<Unsubscribe>(p2) != nullptr);
    const std::array<ReasonCode, 1> unsub_codes = {ReasonCode::success};
    static_cast<void>(
        co_await broker.send(Unsuback{as<Unsubscribe>(p2)->packet_id, {}, unsub_codes}));
  }
  {
    ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
    static_cast<void>(co_await broker.handshake(Connack{false, ReasonCode::success, {}}));
    const Received p = co_await broker.receive();
    const Subscribe* again = as<Subscribe>(p);
    CO_ASSERT(again != nullptr);
    CO_ASSERT(again->subscriptions.size() == 1);
    EXPECT_EQ(again->subscriptions.begin()->filter, "a/#");
    EXPECT_EQ(again->subscriptions.begin()->options.max_qos, QoS::exactly_once);
    EXPECT_TRUE(again->subscriptions.begin()->options.no_local);
    EXPECT_EQ(again->properties.integer(PropertyId::subscription_identifier), 5u);
    const std::array<ReasonCode, 1> codes = {ReasonCode::granted_qos_2};
    static_cast<void>(co_await broker.send(Suback{again->packet_id, {}, codes}));
    // Nothing else: b was unsubscribed, c refused.
    const Result<Bytes> more = co_await async::with_timeout(5s, broker.next());
    EXPECT_EQ(more.status(), Status::deadline_exceeded());
    t.notes.push_back("resubscribed");
  }
  {
    ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
    static_cast<void>(co_await broker.handshake(Connack{true, ReasonCode::success, {}}));
    const Result<Bytes> more = co_await async::with_timeout(5s, broker.next());
    EXPECT_EQ(more.status(), Status::deadline_exceeded());
    t.script_done = true;
    static_cast<void>(co_await broker.next());
  }
}

Task<void> subscribe_three(TestClient& client, std::vector<std::string>& notes) {
  co_await client.wait_connected();
  const std::array<Subscription, 3> subscriptions = {
      Subscription{"a/#", {QoS::exactly_once, true, false, {}}},
      Subscription{"b", {QoS::at_least_once, false, false, {}}},
      Subscription{"c", {QoS::at_least_once, false, false, {}}}};
  std::array<ReasonCode, 3> granted{};
  std::array<std::byte, 64> storage{};
  const Properties properties = build(storage, {{PropertyId::subscription_identifier, 5}});
  const Status status = co_await client.subscribe(subscriptions, granted, properties);
  const std::array<std::string_view, 1> filters = {"b"};
  const Status unsubscribed = co_await client.unsubscribe(filters);
  notes.push_back(std::string(status.str()) + " " + unsubscribed.str());
}

TEST_F(MqttClientTest, ResubscribesWhenTheServerHasNoSession) {
  options.session_expiry_interval = 600;
  start(resubscribe_script);
  ASSERT_TRUE(
      executor.spawn(publisher_tasks[0], subscribe_three, std::ref(*client), std::ref(notes)).ok());
  EXPECT_EQ(executor.run_for(30s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  EXPECT_EQ(notes, (std::vector<std::string>{"ok ok", "resubscribed"}));
  EXPECT_EQ(handler.connections, 3);
}

TEST_F(MqttClientTest, ResubscriptionCanBeTurnedOff) {
  options.session_expiry_interval = 600;
  options.resubscribe = false;
  start(+[](MqttClientTest& t) -> Task<void> {
    {
      ScriptedBroker broker = co_await accept_connected(t.connector);
      const Received p = co_await broker.receive();
      CO_ASSERT(as<Subscribe>(p) != nullptr);
      const std::array<ReasonCode, 3> codes = {ReasonCode::granted_qos_2, ReasonCode::granted_qos_1,
                                               ReasonCode::granted_qos_1};
      static_cast<void>(co_await broker.send(Suback{as<Subscribe>(p)->packet_id, {}, codes}));
      static_cast<void>(co_await broker.next());  // UNSUBSCRIBE b: left unanswered
    }
    ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
    static_cast<void>(co_await broker.handshake(Connack{false, ReasonCode::success, {}}));
    const Result<Bytes> more = co_await async::with_timeout(5s, broker.next());
    EXPECT_EQ(more.status(), Status::deadline_exceeded());
    t.script_done = true;
    static_cast<void>(co_await broker.next());
  });
  ASSERT_TRUE(
      executor.spawn(publisher_tasks[0], subscribe_three, std::ref(*client), std::ref(notes)).ok());
  EXPECT_EQ(executor.run_for(30s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
}

// --- Outbound aliases for QoS 1/2 --------------------------------------------------------

// Connection 1: a QoS 1 publish sends topic + alias, a QoS 2 one the alias
// alone; the connection drops before PUBREC. Connection 2 (session
// resumed): the resent QoS 2 PUBLISH carries its topic again (aliases start
// over), and a later QoS 1 publish the alias alone. Connection 3 allows no
// aliases: the topic goes without one.
Task<void> qos_alias_script(MqttClientTest& t) {
  std::array<std::byte, 64> storage{};
  Connack connack;
  connack.properties = build(storage, {{PropertyId::topic_alias_maximum, 2}});
  {
    ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
    static_cast<void>(co_await broker.handshake(connack));
    const Received p1 = co_await broker.receive();
    CO_ASSERT(as<Publish>(p1) != nullptr);
    EXPECT_EQ(as<Publish>(p1)->topic, "long/topic");
    EXPECT_EQ(as<Publish>(p1)->properties.integer(PropertyId::topic_alias), 1u);
    static_cast<void>(co_await broker.send(Puback{as<Publish>(p1)->packet_id, {}, {}}));
    const Received p2 = co_await broker.receive();
    CO_ASSERT(as<Publish>(p2) != nullptr);
    EXPECT_EQ(as<Publish>(p2)->qos, QoS::exactly_once);
    EXPECT_EQ(as<Publish>(p2)->topic, "");
    EXPECT_EQ(as<Publish>(p2)->properties.integer(PropertyId::topic_alias), 1u);
    t.notes.push_back("dropped");
    broker.stream().close();
  }
  {
    ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
    connack.session_present = true;
    static_cast<void>(co_await broker.handshake(connack));
    const Received p = co_await broker.receive();
    CO_ASSERT(as<Publish>(p) != nullptr);
    EXPECT_TRUE(as<Publish>(p)->dup);
    EXPECT_EQ(as<Publish>(p)->topic, "long/topic");
    EXPECT_EQ(as<Publish>(p)->properties.integer(PropertyId::topic_alias), 1u);
    EXPECT_EQ(as_string_view(as<Publish>(p)->payload), "two");
    const std::uint16_t id = as<Publish>(p)->packet_id;
    static_cast<void>(co_await broker.send(Pubrec{id, {}, {}}));
    const Result<Bytes> rel = co_await broker.next();
    CO_ASSERT(as<Pubrel>(decoded(rel)) != nullptr);
    static_cast<void>(co_await broker.send(Pubcomp{id, {}, {}}));
    t.notes.push_back("resent");
    const Received p3 = co_await broker.receive();
    CO_ASSERT(as<Publish>(p3) != nullptr);
    EXPECT_EQ(as<Publish>(p3)->topic, "");
    EXPECT_EQ(as<Publish>(p3)->properties.integer(PropertyId::topic_alias), 1u);
    static_cast<void>(co_await broker.send(Puback{as<Publish>(p3)->packet_id, {}, {}}));
    broker.stream().close();
  }
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  static_cast<void>(co_await broker.handshake(Connack{true, ReasonCode::success, {}}));
  const Received p4 = co_await broker.receive();
  CO_ASSERT(as<Publish>(p4) != nullptr);
  EXPECT_EQ(as<Publish>(p4)->topic, "long/topic");
  EXPECT_FALSE(as<Publish>(p4)->properties.integer(PropertyId::topic_alias).has_value());
  static_cast<void>(co_await broker.send(Puback{as<Publish>(p4)->packet_id, {}, {}}));
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

TEST_F(MqttClientTest, AliasesQos1And2AndSendsTheTopicAgainOnANewConnection) {
  options.session_expiry_interval = 600;
  start(qos_alias_script);
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  publish_later(0, message("long/topic", bytes_of("one"), QoS::at_least_once, false, 1));
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  publish_later(1, message("long/topic", bytes_of("two"), QoS::exactly_once, false, 1));
  EXPECT_EQ(executor.run_for(3s), Status::deadline_exceeded());
  EXPECT_EQ(notes, (std::vector<std::string>{"dropped", "resent"}));
  publish_later(2, message("long/topic", bytes_of("three"), QoS::at_least_once, false, 1));
  EXPECT_EQ(executor.run_for(3s), Status::deadline_exceeded());
  publish_later(3, message("long/topic", bytes_of("four"), QoS::at_least_once, false, 1));
  EXPECT_EQ(executor.run_for(3s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  for (std::size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(results[i].has_value() && results[i]->ok()) << i;
    EXPECT_EQ(**results[i], ReasonCode::success) << i;
  }
  // An alias beyond ClientLimits, or with other properties: refused.
  std::array<std::byte, 64> storage{};
  OutgoingMessage with_properties = message("t", bytes_of("x"), QoS::at_least_once, false, 1);
  with_properties.properties = build(storage, {{PropertyId::message_expiry_interval, 5}});
  results[0].reset();
  publish_later(0, with_properties);
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  EXPECT_EQ(results[0]->status(), Status::failed_precondition());
}

// --- Message expiry of queued messages ----------------------------------------------------

OutgoingMessage expiring(std::string_view topic, QoS qos, std::uint32_t seconds,
                         std::array<std::byte, 64>& storage) {
  OutgoingMessage m = message(topic, bytes_of(topic), qos);
  PropertyBuilder builder(storage);
  builder.add_user_property("k", "v").add_integer(PropertyId::message_expiry_interval, seconds);
  m.properties = builder.properties().value();
  return m;
}

// Receive Maximum 1: B waits behind A for 10 s and goes out with 10 s less.
Task<void> expiry_countdown_script(MqttClientTest& t) {
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  std::array<std::byte, 64> storage{};
  Connack connack;
  connack.properties = build(storage, {{PropertyId::receive_maximum, 1}});
  static_cast<void>(co_await broker.handshake(connack));
  const Received a = co_await broker.receive();
  CO_ASSERT(as<Publish>(a) != nullptr);
  EXPECT_EQ(as<Publish>(a)->topic, "a");
  EXPECT_EQ(as<Publish>(a)->properties.integer(PropertyId::message_expiry_interval), 100u);
  co_await async::sleep_for(10s);
  static_cast<void>(co_await broker.send(Puback{as<Publish>(a)->packet_id, {}, {}}));
  const Received b = co_await broker.receive();
  CO_ASSERT(as<Publish>(b) != nullptr);
  EXPECT_EQ(as<Publish>(b)->topic, "b");
  EXPECT_EQ(as<Publish>(b)->properties.integer(PropertyId::message_expiry_interval), 20u);
  EXPECT_EQ(as<Publish>(b)->properties.string(PropertyId::user_property), "k");
  static_cast<void>(co_await broker.send(Puback{as<Publish>(b)->packet_id, {}, {}}));
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

TEST_F(MqttClientTest, CountsDownTheExpiryOfQueuedMessages) {
  start(expiry_countdown_script);
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  std::array<std::byte, 64> storage_a{};
  std::array<std::byte, 64> storage_b{};
  publish_later(0, expiring("a", QoS::at_least_once, 100, storage_a));
  publish_later(1, expiring("b", QoS::at_least_once, 30, storage_b));
  EXPECT_EQ(executor.run_for(20s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  ASSERT_TRUE(results[0].has_value() && results[0]->ok());
  ASSERT_TRUE(results[1].has_value() && results[1]->ok());
  EXPECT_EQ(**results[0], ReasonCode::success);
  EXPECT_EQ(**results[1], ReasonCode::success);
}

// C (QoS 1) and D (QoS 2) sent, E (QoS 1) waiting; the connection drops and
// the server is away for 10 s, past their 5 s. On the resumed session C and
// E are dropped; D, a QoS 2 message the server may hold, is sent again
// with 1 s left and completes.
Task<void> expiry_drop_script(MqttClientTest& t) {
  std::array<std::byte, 64> storage{};
  Connack connack;
  connack.properties = build(storage, {{PropertyId::receive_maximum, 2}});
  std::uint16_t d_id = 0;
  {
    ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
    static_cast<void>(co_await broker.handshake(connack));
    for (const char* topic : {"c", "d"}) {
      const Received p = co_await broker.receive();
      CO_ASSERT(as<Publish>(p) != nullptr);
      EXPECT_EQ(as<Publish>(p)->topic, topic);
      EXPECT_EQ(as<Publish>(p)->properties.integer(PropertyId::message_expiry_interval), 5u);
      if (as<Publish>(p)->qos == QoS::exactly_once) d_id = as<Publish>(p)->packet_id;
    }
    t.notes.push_back("dropped");
    broker.stream().close();
  }
  ScriptedBroker broker(co_await t.connector.accept(), ProtocolVersion::v5);
  connack.session_present = true;
  static_cast<void>(co_await broker.handshake(connack));
  const Received p = co_await broker.receive();
  CO_ASSERT(as<Publish>(p) != nullptr);
  EXPECT_EQ(as<Publish>(p)->topic, "d");
  EXPECT_EQ(as<Publish>(p)->packet_id, d_id);
  EXPECT_TRUE(as<Publish>(p)->dup);
  EXPECT_EQ(as<Publish>(p)->properties.integer(PropertyId::message_expiry_interval), 1u);
  static_cast<void>(co_await broker.send(Pubrec{d_id, {}, {}}));
  const Result<Bytes> rel = co_await broker.next();
  CO_ASSERT(as<Pubrel>(decoded(rel)) != nullptr);
  static_cast<void>(co_await broker.send(Pubcomp{d_id, {}, {}}));
  // Nothing else comes: C and E expired.
  const Result<Bytes> more = co_await async::with_timeout(5s, broker.next());
  EXPECT_EQ(more.status(), Status::deadline_exceeded());
  t.script_done = true;
  static_cast<void>(co_await broker.next());
}

TEST_F(MqttClientTest, DropsExpiredQueuedMessages) {
  options.session_expiry_interval = 600;
  options.reconnect_delay_min = 1s;
  start(expiry_drop_script);
  EXPECT_EQ(executor.run_for(100ms), Status::deadline_exceeded());
  std::array<std::array<std::byte, 64>, 3> storage{};
  publish_later(0, expiring("c", QoS::at_least_once, 5, storage[0]));
  publish_later(1, expiring("d", QoS::exactly_once, 5, storage[1]));
  publish_later(2, expiring("e", QoS::at_least_once, 5, storage[2]));
  connector.set_refuse(true);
  EXPECT_EQ(executor.run_for(10s), Status::deadline_exceeded());
  EXPECT_EQ(notes, (std::vector<std::string>{"dropped"}));
  connector.set_refuse(false);
  EXPECT_EQ(executor.run_for(80s), Status::deadline_exceeded());
  EXPECT_TRUE(script_done);
  ASSERT_TRUE(results[0].has_value() && results[1].has_value() && results[2].has_value());
  EXPECT_EQ(results[0]->status(), Status::deadline_exceeded());
  ASSERT_TRUE(results[1]->ok());
  EXPECT_EQ(**results[1], ReasonCode::success);
  EXPECT_EQ(results[2]->status(), Status::deadline_exceeded());
}

TEST(MessageExpiryOffset, FindsTheValueAmongOtherProperties) {
  std::array<std::byte, 64> storage{};
  PropertyBuilder builder(storage);
  builder.add_integer(PropertyId::payload_format_indicator, 1)
      .add_string(PropertyId::content_type, "text/plain")
      .add_user_property("a", "bc")
      .add_integer(PropertyId::subscription_identifier, 300)
      .add_integer(PropertyId::message_expiry_interval, 0x01020304);
  const ConstByteSpan bytes = builder.properties().value().bytes();
  const std::optional<std::size_t> offset = message_expiry_offset(bytes);
  ASSERT_TRUE(offset.has_value());
  EXPECT_EQ(bytes[*offset], std::byte{1});
  EXPECT_EQ(bytes[*offset + 3], std::byte{4});
  EXPECT_FALSE(message_expiry_offset(bytes.first(*offset - 1)).has_value());
}

}  // namespace
}  // namespace mote::mqtt
