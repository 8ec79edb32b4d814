#include "mote/broker/connection.hpp"

#include <array>
#include <gtest/gtest.h>

#include "mote/testing/process.hpp"

namespace mote::broker {
namespace {

using mqtt::PropertyId;
using mqtt::ProtocolVersion;
using mqtt::ReasonCode;

std::vector<std::byte> encode(const mqtt::Packet& packet, ProtocolVersion version) {
  std::vector<std::byte> out(mqtt::encoded_size(packet, version).value());
  EXPECT_TRUE(mqtt::encode_packet(packet, version, out).ok());
  return out;
}

// A client's side of one Connection: packets in, packets out (decoded).
class Client {
 public:
  Client(Core& core, ProtocolVersion version, const Limits& limits = {},
         const AccessPolicy& access = {})
      : limits_(limits), access_(access), version_(version), connection_(core, limits_, access_) {}

  bool send(const mqtt::Packet& packet) {
    const std::vector<std::byte> bytes = encode(packet, version_);
    return connection_.on_packet(bytes);
  }
  // Everything the broker would write now, decoded. Owns the bytes.
  std::vector<mqtt::Packet> receive() {
    connection_.take_output(wire_, 1 << 20);
    std::vector<mqtt::Packet> packets;
    ConstByteSpan rest(wire_);
    while (!rest.empty()) {
      const auto frame = mqtt::frame_packet(rest);
      EXPECT_TRUE(frame.ok() && frame->size != 0);
      if (!frame.ok() || frame->size == 0) break;
      const auto packet = mqtt::decode_packet(rest.first(frame->size), version_);
      EXPECT_TRUE(packet.ok()) << packet.error().detail;
      if (packet.ok()) packets.push_back(*packet);
      rest = rest.subspan(frame->size);
    }
    return packets;
  }
  bool connect(std::string_view id, bool clean = true, std::uint32_t expiry = 0,
               std::uint16_t keep_alive = 0) {
    mqtt::Connect connect;
    connect.version = version_;
    connect.client_id = id;
    connect.clean_start = clean;
    connect.keep_alive = keep_alive;
    if (version_ == ProtocolVersion::v5 && expiry != 0) {
      mqtt::PropertyBuilder builder(property_storage_);
      builder.add_integer(PropertyId::session_expiry_interval, expiry);
      connect.properties = builder.properties().value();
    }
    return send(connect);
  }
  Connection& connection() { return connection_; }

 private:
  Limits limits_;
  AccessPolicy access_;
  ProtocolVersion version_;
  Connection connection_;
  std::vector<std::byte> wire_;
  std::array<std::byte, 64> property_storage_{};
};

template <typename T>
const T& as(const mqtt::Packet& packet) {
  EXPECT_TRUE(std::holds_alternative<T>(packet)) << mqtt::to_string(mqtt::type_of(packet));
  static const T empty{};
  return std::holds_alternative<T>(packet) ? std::get<T>(packet) : empty;
}

mqtt::Subscription subscription(std::string_view filter, mqtt::QoS qos) {
  mqtt::Subscription s;
  s.filter = filter;
  s.options.max_qos = qos;
  return s;
}

TEST(Connection, ConnectAssignsAnIdAndTellsLimits) {
  Core core({});
  Client client(core, ProtocolVersion::v5);
  ASSERT_TRUE(client.connect(""));
  const auto packets = client.receive();
  ASSERT_EQ(packets.size(), 1u);
  const auto& connack = as<mqtt::Connack>(packets[0]);
  EXPECT_EQ(connack.reason, ReasonCode::success);
  EXPECT_FALSE(connack.session_present);
  const auto assigned = connack.properties.string(PropertyId::assigned_client_identifier);
  ASSERT_TRUE(assigned.has_value());
  EXPECT_EQ(*assigned, client.connection().client_id());
  EXPECT_TRUE(connack.properties.integer(PropertyId::topic_alias_maximum).has_value());
}

TEST(Connection, Mqtt311EmptyIdNeedsCleanSession) {
  Core core({});
  Client client(core, ProtocolVersion::v311);
  EXPECT_FALSE(client.connect("", false));
  const auto packets = client.receive();
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(as<mqtt::Connack>(packets[0]).reason, ReasonCode::client_identifier_not_valid);
  EXPECT_TRUE(client.connection().closing());
}

TEST(Connection, FirstPacketMustBeConnect) {
  Core core({});
  Client client(core, ProtocolVersion::v5);
  EXPECT_FALSE(client.send(mqtt::Pingreq{}));
  EXPECT_TRUE(client.connection().closing());
  EXPECT_TRUE(client.receive().empty());
}

TEST(Connection, RefusesBadPasswordsAndAnonymousWhenAsked) {
  Core core({});
  AccessPolicy access;
  access.allow_anonymous = false;
  access.check_password = [](std::string_view user, std::optional<ConstByteSpan>) {
    return user == "good";
  };
  Client anonymous(core, ProtocolVersion::v311, {}, access);
  anonymous.connect("a");
  EXPECT_EQ(as<mqtt::Connack>(anonymous.receive().at(0)).reason, ReasonCode::not_authorized);
  Client bad(core, ProtocolVersion::v5, {}, access);
  mqtt::Connect connect;
  connect.client_id = "b";
  connect.user_name = "bad";
  EXPECT_FALSE(bad.send(connect));
  EXPECT_EQ(as<mqtt::Connack>(bad.receive().at(0)).reason, ReasonCode::bad_user_name_or_password);
  Client good(core, ProtocolVersion::v5, {}, access);
  connect.user_name = "good";
  EXPECT_TRUE(good.send(connect));
  EXPECT_EQ(as<mqtt::Connack>(good.receive().at(0)).reason, ReasonCode::success);
}

TEST(Connection, MaxConnectionsRefusesTheNextClient) {
  Core core({});
  Limits limits;
  limits.max_connections = 1;
  Client first(core, ProtocolVersion::v5, limits);
  Client second(core, ProtocolVersion::v311, limits);
  EXPECT_TRUE(first.connect("one"));
  EXPECT_FALSE(second.connect("two"));
  EXPECT_EQ(as<mqtt::Connack>(second.receive().at(0)).reason, ReasonCode::server_unavailable);
}

TEST(Connection, PublishSubscribeAndAcknowledgements) {
  Core core({});
  Client sub(core, ProtocolVersion::v5);
  Client pub(core, ProtocolVersion::v311);
  sub.connect("sub");
  pub.connect("pub");
  sub.receive();
  pub.receive();
  const std::array subs = {subscription("t/+", mqtt::QoS::exactly_once)};
  sub.send(mqtt::Subscribe{7, {}, mqtt::SubscriptionList(subs)});
  auto packets = sub.receive();
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(as<mqtt::Suback>(packets[0]).packet_id, 7);
  EXPECT_EQ(as<mqtt::Suback>(packets[0]).reasons[0], ReasonCode::granted_qos_2);

  const std::string payload = "hello";
  pub.send(mqtt::Publish{false, mqtt::QoS::exactly_once, false, "t/a", 9, {}, bytes_of(payload)});
  packets = pub.receive();
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(as<mqtt::Pubrec>(packets[0]).packet_id, 9);
  // A resent PUBLISH with the same id is not routed twice.
  pub.send(mqtt::Publish{true, mqtt::QoS::exactly_once, false, "t/a", 9, {}, bytes_of(payload)});
  EXPECT_EQ(pub.receive().size(), 1u);
  pub.send(mqtt::Pubrel{9, ReasonCode::success, {}});
  EXPECT_EQ(as<mqtt::Pubcomp>(pub.receive().at(0)).packet_id, 9);

  packets = sub.receive();
  ASSERT_EQ(packets.size(), 1u);
  const auto& publish = as<mqtt::Publish>(packets[0]);
  EXPECT_EQ(publish.topic, "t/a");
  EXPECT_EQ(publish.qos, mqtt::QoS::exactly_once);
  sub.send(mqtt::Pubrec{publish.packet_id, ReasonCode::success, {}});
  EXPECT_EQ(as<mqtt::Pubrel>(sub.receive().at(0)).packet_id, publish.packet_id);
  sub.send(mqtt::Pubcomp{publish.packet_id, ReasonCode::success, {}});
  EXPECT_EQ(core.find_session("sub")->in_flight_count(), 0u);

  // MQTT 5 PUBACK says when nobody listened.
  sub.send(
      mqtt::Publish{false, mqtt::QoS::at_least_once, false, "nobody", 3, {}, bytes_of(payload)});
  EXPECT_EQ(as<mqtt::Puback>(sub.receive().at(0)).reason, ReasonCode::no_matching_subscribers);
}

TEST(Connection, ExpiryAndSubscriptionIdentifiersReachTheSubscriber) {
  std::int64_t now = 1'000'000;
  CoreOptions options;
  options.clock = [&now] { return now; };
  Core core(std::move(options));
  Client sub(core, ProtocolVersion::v5);
  sub.connect("sub");
  std::array<std::byte, 8> id_storage{};
  mqtt::PropertyBuilder ids(id_storage);
  ids.add_integer(PropertyId::subscription_identifier, 42);
  const std::array subs = {subscription("e", mqtt::QoS::at_least_once)};
  sub.send(mqtt::Subscribe{1, ids.properties().value(), mqtt::SubscriptionList(subs)});
  sub.receive();
  Client pub(core, ProtocolVersion::v5);
  pub.connect("pub");
  std::array<std::byte, 8> expiry_storage{};
  mqtt::PropertyBuilder expiry(expiry_storage);
  expiry.add_integer(PropertyId::message_expiry_interval, 100);
  const std::string payload = "soon stale";
  // The subscriber is not reading; 30 s pass before it does.
  pub.send(mqtt::Publish{false, mqtt::QoS::at_least_once, false, "e", 5,
                         expiry.properties().value(), bytes_of(payload)});
  now += 30'000;
  auto packets = sub.receive();
  ASSERT_EQ(packets.size(), 1u);
  const auto& publish = as<mqtt::Publish>(packets[0]);
  EXPECT_EQ(publish.properties.integer(PropertyId::message_expiry_interval), 70u);
  EXPECT_EQ(publish.properties.integer(PropertyId::subscription_identifier), 42u);
  // One that expires before it is sent is dropped.
  pub.send(mqtt::Publish{false, mqtt::QoS::at_least_once, false, "e", 6,
                         expiry.properties().value(), bytes_of(payload)});
  now += 101'000;
  EXPECT_TRUE(sub.receive().empty());
}

TEST(Connection, TopicAliases) {
  Core core({});
  Client client(core, ProtocolVersion::v5);
  client.connect("c");
  const std::array subs = {subscription("alias/#", mqtt::QoS::at_most_once)};
  client.send(mqtt::Subscribe{1, {}, mqtt::SubscriptionList(subs)});
  client.receive();
  std::array<std::byte, 8> storage{};
  mqtt::PropertyBuilder builder(storage);
  builder.add_integer(PropertyId::topic_alias, 3);
  const mqtt::Properties alias = builder.properties().value();
  const std::string payload = "x";
  EXPECT_TRUE(client.send(mqtt::Publish{false, mqtt::QoS::at_most_once, false, "alias/a", 0, alias,
                                        bytes_of(payload)}));
  EXPECT_TRUE(client.send(
      mqtt::Publish{false, mqtt::QoS::at_most_once, false, "", 0, alias, bytes_of(payload)}));
  const auto packets = client.receive();
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(as<mqtt::Publish>(packets[1]).topic, "alias/a");
  // An alias never set is a protocol error.
  std::array<std::byte, 8> other{};
  mqtt::PropertyBuilder unknown(other);
  unknown.add_integer(PropertyId::topic_alias, 4);
  EXPECT_FALSE(client.send(mqtt::Publish{false, mqtt::QoS::at_most_once, false, "", 0,
                                         unknown.properties().value(), bytes_of(payload)}));
  EXPECT_EQ(as<mqtt::Disconnect>(client.receive().at(0)).reason, ReasonCode::protocol_error);
}

TEST(Connection, TakeoverDisconnectsTheOldConnection) {
  Core core({});
  Client first(core, ProtocolVersion::v5);
  Client second(core, ProtocolVersion::v5);
  first.connect("same", false, 100);
  first.receive();
  second.connect("same", false, 100);
  EXPECT_TRUE(as<mqtt::Connack>(second.receive().at(0)).session_present);
  EXPECT_TRUE(first.connection().closing());
  EXPECT_EQ(as<mqtt::Disconnect>(first.receive().at(0)).reason, ReasonCode::session_taken_over);
  first.connection().finish();  // changes nothing for the new owner
  EXPECT_TRUE(core.find_session("same")->online);
}

TEST(Connection, KeepAliveIsOneAndAHalfTimes) {
  Core core({});
  Client client(core, ProtocolVersion::v5);
  EXPECT_EQ(client.connection().read_timeout(), Limits{}.connect_timeout);
  client.connect("k", true, 0, 10);
  client.receive();
  EXPECT_EQ(client.connection().read_timeout(), std::chrono::milliseconds(15'000));
  client.connection().on_read_end(true);
  EXPECT_EQ(as<mqtt::Disconnect>(client.receive().at(0)).reason, ReasonCode::keep_alive_timeout);
}

TEST(Connection, DisconnectRulesForWillsAndExpiry) {
  Core core({});
  Client watcher(core, ProtocolVersion::v311);
  watcher.connect("w");
  const std::array subs = {subscription("will", mqtt::QoS::at_most_once)};
  watcher.send(mqtt::Subscribe{1, {}, mqtt::SubscriptionList(subs)});
  watcher.receive();
  const std::string payload = "bye";
  for (const ReasonCode reason : {ReasonCode::success, ReasonCode::disconnect_with_will_message}) {
    Client client(core, ProtocolVersion::v5);
    mqtt::Connect connect;
    connect.client_id = "dying";
    connect.will = mqtt::Will{"will", bytes_of(payload), mqtt::QoS::at_most_once, false, {}};
    client.send(connect);
    EXPECT_FALSE(client.send(mqtt::Disconnect{reason, {}}));
    client.connection().finish();
    EXPECT_EQ(watcher.receive().size(), reason == ReasonCode::success ? 0u : 1u);
  }
  // Setting an expiry at DISCONNECT after connecting with 0 is a protocol error.
  Client client(core, ProtocolVersion::v5);
  client.connect("zero");
  client.receive();
  std::array<std::byte, 8> storage{};
  mqtt::PropertyBuilder builder(storage);
  builder.add_integer(PropertyId::session_expiry_interval, 60);
  EXPECT_FALSE(client.send(mqtt::Disconnect{ReasonCode::success, builder.properties().value()}));
  EXPECT_EQ(as<mqtt::Disconnect>(client.receive().at(0)).reason, ReasonCode::protocol_error);
}

TEST(Connection, AcknowledgementsWaitForTheStoreInOrder) {
  testing::TempDir dir;
  auto store = BrokerStore::open(dir.file("b.db"));
  ASSERT_TRUE(store.ok());
  CoreOptions options;
  options.store = store->get();
  Core core(std::move(options));
  Client keeper(core, ProtocolVersion::v5);
  keeper.connect("keeper", false, 600);
  const std::array subs = {subscription("stored", mqtt::QoS::at_least_once)};
  keeper.send(mqtt::Subscribe{1, {}, mqtt::SubscriptionList(subs)});
  keeper.receive();
  ASSERT_TRUE(core.commit().ok());

  Client pub(core, ProtocolVersion::v311);
  pub.connect("pub");
  pub.receive();
  const std::string payload = "p";
  pub.send(
      mqtt::Publish{false, mqtt::QoS::at_least_once, false, "stored", 1, {}, bytes_of(payload)});
  pub.send(
      mqtt::Publish{false, mqtt::QoS::at_least_once, false, "unstored", 2, {}, bytes_of(payload)});
  EXPECT_TRUE(pub.receive().empty());  // both held: the second queues behind the first
  ASSERT_TRUE(core.commit().ok());
  const auto packets = pub.receive();
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(as<mqtt::Puback>(packets[0]).packet_id, 1);
  EXPECT_EQ(as<mqtt::Puback>(packets[1]).packet_id, 2);
}

TEST(Connection, MessagesTooLargeForTheClientAreDroppedAsDelivered) {
  Core core({});
  Client small(core, ProtocolVersion::v5);
  mqtt::Connect connect;
  connect.client_id = "small";
  std::array<std::byte, 8> storage{};
  mqtt::PropertyBuilder builder(storage);
  builder.add_integer(PropertyId::maximum_packet_size, 64);
  connect.properties = builder.properties().value();
  small.send(connect);
  const std::array subs = {subscription("big", mqtt::QoS::at_least_once)};
  small.send(mqtt::Subscribe{1, {}, mqtt::SubscriptionList(subs)});
  small.receive();
  const std::string big(200, 'x');
  const std::string little = "ok";
  Client pub(core, ProtocolVersion::v311);
  pub.connect("p");
  pub.send(mqtt::Publish{false, mqtt::QoS::at_least_once, false, "big", 1, {}, bytes_of(big)});
  pub.send(mqtt::Publish{false, mqtt::QoS::at_least_once, false, "big", 2, {}, bytes_of(little)});
  const auto packets = small.receive();
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(as<mqtt::Publish>(packets[0]).payload.size(), 2u);
  EXPECT_EQ(core.find_session("small")->in_flight_count(), 1u);  // only the small one waits
}

}  // namespace
}  // namespace mote::broker
