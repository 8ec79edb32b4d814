#include "mote/mqtt/codec.hpp"

#include <cstdint>
#include <gtest/gtest.h>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "mote/mqtt/wire.hpp"
#include "testdata/captures.hpp"

namespace mote::mqtt {
namespace {

using Bytes = std::vector<std::byte>;
constexpr auto v5 = ProtocolVersion::v5;
constexpr auto v311 = ProtocolVersion::v311;

Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

template <std::size_t N>
Bytes bytes(const std::array<std::uint8_t, N>& array) {
  Bytes out;
  for (std::uint8_t v : array) out.push_back(static_cast<std::byte>(v));
  return out;
}

Bytes append(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A packet from a type byte and a body (the Remaining Length is computed).
Bytes packet(int first, const Bytes& body) {
  Bytes out{static_cast<std::byte>(first)};
  std::array<std::byte, 4> length{};
  ByteWriter writer(length);
  EXPECT_TRUE(write_variable_byte_integer(writer, static_cast<std::uint32_t>(body.size())).ok());
  out.insert(out.end(), length.begin(),
             length.begin() + static_cast<std::ptrdiff_t>(writer.size()));
  return append(out, body);
}

Bytes text(std::string_view s) {
  Bytes out = bytes({static_cast<int>(s.size() >> 8), static_cast<int>(s.size() & 0xff)});
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

Bytes encode(const Packet& p, ProtocolVersion version) {
  const Result<std::size_t> size = encoded_size(p, version);
  EXPECT_TRUE(size.ok()) << size.status().str();
  if (!size.ok()) return {};
  Bytes out(*size);
  const Result<std::size_t> written = encode_packet(p, version, out);
  EXPECT_TRUE(written.ok());
  EXPECT_EQ(written.value_or(0), *size);
  return out;
}

ReasonCode rejection(const Bytes& bytes, ProtocolVersion version) {
  const DecodeResult<Packet> result = decode_packet(bytes, version);
  EXPECT_FALSE(result.ok()) << "accepted";
  return result.ok() ? ReasonCode::success : result.error().reason;
}

std::string as_text(ConstByteSpan data) { return std::string(as_string_view(data)); }

// --- Captured packets --------------------------------------------------------------

TEST(MqttCodec, EveryCapturedPacketDecodesAndReencodesToTheSameBytes) {
  for (const auto& captured : testdata::kAllPackets) {
    SCOPED_TRACE(captured.name);
    const ConstByteSpan wire = bytes_of(captured.bytes);
    const auto version = static_cast<ProtocolVersion>(captured.protocol_level);
    const DecodeResult<Frame> frame = frame_packet(wire);
    ASSERT_TRUE(frame.ok());
    ASSERT_EQ(frame->size, wire.size());
    const DecodeResult<Packet> decoded = decode_packet(wire, version);
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
    const Bytes again = encode(*decoded, version);
    EXPECT_EQ(again, Bytes(wire.begin(), wire.end()));
  }
}

TEST(MqttCodec, MosquittoSubV5Connect) {
  const auto p = decode_packet(bytes_of(testdata::kV5SubC2sConnect1), v311);
  ASSERT_TRUE(p.ok());
  const Connect& c = std::get<Connect>(*p);
  EXPECT_EQ(c.version, v5);
  EXPECT_EQ(c.client_id, "mote-sub5");
  EXPECT_EQ(c.keep_alive, 60);
  EXPECT_TRUE(c.clean_start);
  EXPECT_EQ(c.properties.integer(PropertyId::session_expiry_interval), 60u);
  EXPECT_FALSE(c.will.has_value());
}

TEST(MqttCodec, MosquittoSubV311ConnectWithWillAndCredentials) {
  const auto p = decode_packet(bytes_of(testdata::kV311SubC2sConnect1), v5);
  ASSERT_TRUE(p.ok());
  const Connect& c = std::get<Connect>(*p);
  EXPECT_EQ(c.version, v311);
  EXPECT_EQ(c.client_id, "mote-sub311");
  EXPECT_EQ(c.keep_alive, 30);
  ASSERT_TRUE(c.will.has_value());
  EXPECT_EQ(c.will->topic, "plant/status");
  EXPECT_EQ(as_text(c.will->payload), "offline");
  EXPECT_EQ(c.will->qos, QoS::at_least_once);
  EXPECT_TRUE(c.will->retain);
  EXPECT_EQ(c.user_name, "user");
  ASSERT_TRUE(c.password.has_value());
  EXPECT_EQ(as_text(*c.password), "secret");
}

TEST(MqttCodec, MosquittoPublishWithProperties) {
  const auto p = decode_packet(bytes_of(testdata::kV5PubQos1C2sPublish1), v5);
  ASSERT_TRUE(p.ok());
  const Publish& pub = std::get<Publish>(*p);
  EXPECT_EQ(pub.topic, "sensors/hall/temp");
  EXPECT_EQ(pub.qos, QoS::at_least_once);
  EXPECT_NE(pub.packet_id, 0);
  EXPECT_EQ(as_text(pub.payload), "19.0");
  EXPECT_EQ(pub.properties.string(PropertyId::content_type), "text/plain");
  EXPECT_EQ(pub.properties.integer(PropertyId::message_expiry_interval), 300u);
  const auto user = pub.properties.find(PropertyId::user_property);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->string, "unit");
  EXPECT_EQ(user->value, "C");
}

TEST(MqttCodec, BrokerForwardsQos2WithCorrelationData) {
  // The subscriber receives alerts/door at QoS 2 (granted 2).
  bool found = false;
  for (const auto& captured : testdata::kAllPackets) {
    if (std::string_view(captured.name).find("v5_sub_s2c_publish") != 0) continue;
    const auto p = decode_packet(bytes_of(captured.bytes), v5);
    ASSERT_TRUE(p.ok());
    const Publish& pub = std::get<Publish>(*p);
    if (pub.topic != "alerts/door") continue;
    found = true;
    EXPECT_EQ(pub.qos, QoS::exactly_once);
    EXPECT_EQ(pub.properties.string(PropertyId::response_topic), "alerts/ack");
    const auto data = pub.properties.find(PropertyId::correlation_data);
    ASSERT_TRUE(data.has_value());
    EXPECT_EQ(as_text(data->binary), "c0ffee");
  }
  EXPECT_TRUE(found);
}

TEST(MqttCodec, PahoSubscribeOptionsAndIdentifier) {
  const auto p = decode_packet(bytes_of(testdata::kV5PahoC2sSubscribe1), v5);
  ASSERT_TRUE(p.ok());
  const Subscribe& s = std::get<Subscribe>(*p);
  EXPECT_EQ(s.properties.integer(PropertyId::subscription_identifier), 42u);
  ASSERT_EQ(s.subscriptions.size(), 2u);
  auto it = s.subscriptions.begin();
  EXPECT_EQ(it->filter, "rooms/+/light");
  EXPECT_EQ(it->options.max_qos, QoS::at_least_once);
  EXPECT_TRUE(it->options.no_local);
  EXPECT_TRUE(it->options.retain_as_published);
  EXPECT_EQ(it->options.retain_handling, RetainHandling::send_if_new_subscription);
  ++it;
  EXPECT_EQ(it->filter, "$share/grp/rooms/#");
  EXPECT_EQ(it->options.max_qos, QoS::exactly_once);
  EXPECT_FALSE(it->options.no_local);

  const auto ack = decode_packet(bytes_of(testdata::kV5PahoS2cSuback1), v5);
  ASSERT_TRUE(ack.ok());
  const Suback& suback = std::get<Suback>(*ack);
  ASSERT_EQ(suback.reasons.size(), 2u);
  EXPECT_EQ(suback.reasons[0], ReasonCode::granted_qos_1);
  EXPECT_EQ(suback.reasons[1], ReasonCode::granted_qos_2);
  EXPECT_EQ(suback.packet_id, s.packet_id);
}

TEST(MqttCodec, PahoDisconnectWithReasonAndProperties) {
  const auto p = decode_packet(bytes_of(testdata::kV5PahoC2sDisconnect1), v5);
  ASSERT_TRUE(p.ok());
  const Disconnect& d = std::get<Disconnect>(*p);
  EXPECT_EQ(d.reason, ReasonCode::disconnect_with_will_message);
  EXPECT_EQ(d.properties.string(PropertyId::reason_string), "bye");
  EXPECT_EQ(d.properties.integer(PropertyId::session_expiry_interval), 0u);
}

TEST(MqttCodec, ConnackRefusalsFromMosquitto) {
  const auto v5_refusal = decode_packet(bytes_of(testdata::kV5BadAuthMethodS2cConnack1), v5);
  ASSERT_TRUE(v5_refusal.ok());
  EXPECT_EQ(std::get<Connack>(*v5_refusal).reason, ReasonCode::bad_authentication_method);

  // 3.1.1 return code 2 reads as Client Identifier not valid.
  const auto v311_refusal = decode_packet(bytes_of(testdata::kV311EmptyClientIdS2cConnack1), v311);
  ASSERT_TRUE(v311_refusal.ok());
  EXPECT_EQ(std::get<Connack>(*v311_refusal).reason, ReasonCode::client_identifier_not_valid);

  const auto assigned = decode_packet(bytes_of(testdata::kV5EmptyClientIdS2cConnack1), v5);
  ASSERT_TRUE(assigned.ok());
  const auto id =
      std::get<Connack>(*assigned).properties.string(PropertyId::assigned_client_identifier);
  ASSERT_TRUE(id.has_value());
  EXPECT_TRUE(id->starts_with("auto-"));
  EXPECT_EQ(std::get<Connack>(*assigned).properties.integer(PropertyId::topic_alias_maximum), 10u);
}

// --- Round trips of what we build -------------------------------------------------

TEST(MqttCodec, RoundTripsEveryPacketType) {
  std::array<std::byte, 128> storage{};
  PropertyBuilder builder(storage);
  builder.add_user_property("k", "v").add_string(PropertyId::reason_string, "why");
  const Properties reason_props = builder.properties().value();

  std::array<std::byte, 64> publish_storage{};
  PropertyBuilder publish_builder(publish_storage);
  publish_builder.add_integer(PropertyId::topic_alias, 3)
      .add_integer(PropertyId::subscription_identifier, 7)
      .add_integer(PropertyId::subscription_identifier, 300);
  const Properties publish_props = publish_builder.properties().value();

  const std::array<Subscription, 2> subs = {
      Subscription{"a/+/c", {QoS::exactly_once, true, true, RetainHandling::do_not_send}},
      Subscription{"#", {}}};
  const std::array<ReasonCode, 2> unsubscribe_codes = {ReasonCode::no_subscription_existed,
                                                       ReasonCode::success};
  const std::array<ReasonCode, 3> codes = {ReasonCode::granted_qos_2, ReasonCode::success,
                                           ReasonCode::not_authorized};

  Connect connect;
  connect.client_id = "dev-1";
  connect.keep_alive = 15;
  connect.will = Will{"dev/1/status", bytes_of("gone"), QoS::at_least_once, true, {}};
  connect.user_name = "u";
  connect.password = BinaryData(bytes_of("p"));

  const std::vector<Packet> packets = {
      connect,
      Connack{true, ReasonCode::success, {}},
      Publish{false, QoS::at_most_once, true, "x/y", 0, {}, bytes_of("hello")},
      Publish{true, QoS::exactly_once, false, "", 9, publish_props, bytes_of("")},
      Puback{1, ReasonCode::success, {}},
      Puback{2, ReasonCode::no_matching_subscribers, {}},
      Pubrec{3, ReasonCode::quota_exceeded, reason_props},
      Pubrel{4, ReasonCode::packet_identifier_not_found, {}},
      Pubcomp{5, ReasonCode::success, reason_props},
      Subscribe{6, {}, subs},
      Suback{6, reason_props, codes},
      Unsubscribe{7, {}, subs},
      Unsuback{7, {}, unsubscribe_codes},
      Pingreq{},
      Pingresp{},
      Disconnect{ReasonCode::server_shutting_down, reason_props},
      Disconnect{},
      Auth{ReasonCode::continue_authentication, {}},
  };
  for (const Packet& p : packets) {
    SCOPED_TRACE(to_string(type_of(p)));
    const Bytes wire = encode(p, v5);
    const auto decoded = decode_packet(wire, v5);
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
    EXPECT_TRUE(*decoded == p);
  }
}

TEST(MqttCodec, RoundTripsEveryV311PacketType) {
  const std::array<Subscription, 2> subs = {
      Subscription{"a/+/c", {QoS::exactly_once, false, false, {}}},
      Subscription{"$share/not/special", {}}};
  const std::array<ReasonCode, 2> codes = {ReasonCode::granted_qos_2,
                                           ReasonCode::unspecified_error};
  Connect connect;
  connect.version = v311;
  connect.clean_start = false;
  connect.client_id = "dev-311";
  connect.keep_alive = 0xffff;
  connect.will = Will{"w", bytes_of(""), QoS::exactly_once, false, {}};
  connect.user_name = "";
  const std::vector<Packet> packets = {
      connect,
      Connack{false, ReasonCode::bad_user_name_or_password, {}},
      Connack{true, ReasonCode::success, {}},
      Publish{true, QoS::at_least_once, true, "x/y", 0xffff, {}, bytes_of("hello")},
      Puback{1, ReasonCode::success, {}},
      Pubrec{3, ReasonCode::success, {}},
      Pubrel{4, ReasonCode::success, {}},
      Pubcomp{5, ReasonCode::success, {}},
      Subscribe{6, {}, subs},
      Suback{6, {}, codes},
      Unsubscribe{7, {}, subs},
      Unsuback{7, {}, {}},
      Pingreq{},
      Pingresp{},
      Disconnect{},
  };
  for (const Packet& p : packets) {
    SCOPED_TRACE(to_string(type_of(p)));
    const Bytes wire = encode(p, v311);
    const auto decoded = decode_packet(wire, v311);
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
    EXPECT_TRUE(*decoded == p);
  }
}

TEST(MqttCodec, OmitsReasonAndPropertiesWhenTheySayNothing) {
  EXPECT_EQ(encode(Puback{0x1234, ReasonCode::success, {}}, v5), bytes({0x40, 2, 0x12, 0x34}));
  EXPECT_EQ(encode(Puback{0x1234, ReasonCode::no_matching_subscribers, {}}, v5),
            bytes({0x40, 3, 0x12, 0x34, 0x10}));
  EXPECT_EQ(encode(Disconnect{}, v5), bytes({0xe0, 0}));
  EXPECT_EQ(encode(Auth{}, v5), bytes({0xf0, 0}));
  // The long forms decode to the same thing.
  const auto long_form = decode_packet(bytes({0x40, 4, 0x12, 0x34, 0x00, 0x00}), v5);
  ASSERT_TRUE(long_form.ok());
  EXPECT_TRUE(*long_form == Packet(Puback{0x1234, ReasonCode::success, {}}));
}

TEST(MqttCodec, EncodesV311Forms) {
  EXPECT_EQ(encode(Connack{false, ReasonCode::not_authorized, {}}, v311), bytes({0x20, 2, 0, 5}));
  EXPECT_EQ(encode(Unsuback{9, {}, {}}, v311), bytes({0xb0, 2, 0, 9}));
  EXPECT_EQ(encode(Pubrel{9, ReasonCode::success, {}}, v311), bytes({0x62, 2, 0, 9}));
}

TEST(MqttCodec, EncodeRefusesWhatCannotBeSent) {
  std::array<std::byte, 16> storage{};
  PropertyBuilder builder(storage);
  builder.add_user_property("a", "b");
  const Properties props = builder.properties().value();
  const auto refused = [](const Packet& p, ProtocolVersion version) {
    return encoded_size(p, version).status() == Status::invalid_argument();
  };
  EXPECT_TRUE(refused(Publish{false, QoS::at_most_once, false, "a/#", 0, {}, {}}, v5));
  EXPECT_TRUE(refused(Publish{false, QoS::at_least_once, false, "a", 0, {}, {}}, v5));
  EXPECT_TRUE(refused(Publish{true, QoS::at_most_once, false, "a", 0, {}, {}}, v5));
  EXPECT_TRUE(refused(Publish{false, QoS::at_most_once, false, "a", 0, props, {}}, v311));
  EXPECT_TRUE(refused(Publish{false, QoS::at_most_once, false, "", 0, {}, {}}, v5));
  EXPECT_TRUE(refused(Auth{}, v311));
  EXPECT_TRUE(refused(Puback{1, ReasonCode::banned, {}}, v5));
  EXPECT_TRUE(refused(Puback{1, ReasonCode::no_matching_subscribers, {}}, v311));
  EXPECT_TRUE(refused(Connack{false, ReasonCode::banned, {}}, v311));
  EXPECT_TRUE(refused(Subscribe{1, {}, {}}, v5));
  const std::array<Subscription, 1> shared_no_local = {
      Subscription{"$share/g/t", {QoS::at_most_once, true, false, {}}}};
  EXPECT_TRUE(refused(Subscribe{1, {}, shared_no_local}, v5));
  const std::array<Subscription, 1> v5_options = {
      Subscription{"t", {QoS::at_most_once, false, true, {}}}};
  EXPECT_TRUE(refused(Subscribe{1, {}, v5_options}, v311));
  // Properties a packet does not allow.
  std::array<std::byte, 16> alias_storage{};
  PropertyBuilder alias(alias_storage);
  alias.add_integer(PropertyId::topic_alias, 1);
  EXPECT_TRUE(refused(Connack{false, ReasonCode::success, alias.properties().value()}, v5));
  // A string that is not UTF-8.
  Connect bad;
  bad.client_id = "\xc0\x80";
  EXPECT_TRUE(refused(bad, v5));
  // Too small a buffer.
  std::array<std::byte, 3> small{};
  EXPECT_EQ(encode_packet(Puback{1, ReasonCode::success, {}}, v5, small).status(),
            Status::resource_exhausted());
}

// --- Framing and Variable Byte Integers --------------------------------------------

TEST(MqttFraming, ReportsIncompleteAndCompletePackets) {
  const Bytes wire = bytes(testdata::kV5PubQos1C2sPublish1);
  for (std::size_t n = 0; n < wire.size(); ++n) {
    const auto frame = frame_packet(ConstByteSpan(wire).first(n));
    ASSERT_TRUE(frame.ok());
    EXPECT_EQ(frame->size, 0u) << n;
  }
  Bytes two = append(wire, bytes({0xc0, 0x00}));
  const auto frame = frame_packet(two);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->size, wire.size());
  EXPECT_EQ(frame->header_size, 2u);
  const auto second = frame_packet(ConstByteSpan(two).subspan(frame->size));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->size, 2u);
}

TEST(MqttFraming, RefusesTooLargeBeforeTheBodyArrives) {
  // Remaining Length 200 (0xc8 0x01): 203 bytes in all.
  const Bytes header = bytes({0x30, 0xc8, 0x01});
  const auto refused = frame_packet(header, 202);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, ReasonCode::packet_too_large);
  const auto allowed = frame_packet(header, 203);
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->size, 0u);
  EXPECT_EQ(allowed->remaining_length, 200u);
}

TEST(MqttFraming, VariableByteIntegerLimits) {
  struct Case {
    std::uint32_t value;
    Bytes encoding;
  };
  // §1.5.5's table of boundaries.
  const Case cases[] = {{0, bytes({0x00})},
                        {127, bytes({0x7f})},
                        {128, bytes({0x80, 0x01})},
                        {16'383, bytes({0xff, 0x7f})},
                        {16'384, bytes({0x80, 0x80, 0x01})},
                        {2'097'151, bytes({0xff, 0xff, 0x7f})},
                        {2'097'152, bytes({0x80, 0x80, 0x80, 0x01})},
                        {268'435'455, bytes({0xff, 0xff, 0xff, 0x7f})}};
  for (const Case& c : cases) {
    const auto read = read_variable_byte_integer(c.encoding);
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(read->value, c.value);
    EXPECT_EQ(read->size, c.encoding.size());
    EXPECT_EQ(variable_byte_integer_size(c.value), c.encoding.size());
    std::array<std::byte, 4> out{};
    ByteWriter writer(out);
    ASSERT_TRUE(write_variable_byte_integer(writer, c.value).ok());
    EXPECT_EQ(Bytes(writer.written().begin(), writer.written().end()), c.encoding);
  }
  std::array<std::byte, 4> out{};
  ByteWriter writer(out);
  EXPECT_EQ(write_variable_byte_integer(writer, 268'435'456), Status::invalid_argument());

  // Five bytes, and non-minimal forms [MQTT-1.5.5-1].
  for (const Bytes& bad : {bytes({0xff, 0xff, 0xff, 0xff, 0x01}), bytes({0x80, 0x00}),
                           bytes({0xff, 0x80, 0x00}), bytes({0x80, 0x80, 0x80, 0x00})}) {
    const auto read = read_variable_byte_integer(bad);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().reason, ReasonCode::malformed_packet);
    EXPECT_FALSE(frame_packet(append(bytes({0x30}), bad)).ok());
  }
}

// --- Rejections ------------------------------------------------------------------

Bytes v5_connect_body(int flags, const Bytes& properties, const Bytes& payload) {
  Bytes body = append(text("MQTT"), bytes({5, flags, 0, 60}));
  body = append(body, bytes({static_cast<int>(properties.size())}));
  body = append(body, properties);
  return append(body, payload);
}

TEST(MqttRejects, FixedHeaderRules) {
  EXPECT_EQ(rejection(bytes({0x00, 0x00}), v5), ReasonCode::malformed_packet);    // type 0
  EXPECT_EQ(rejection(bytes({0xf0, 0x00}), v311), ReasonCode::malformed_packet);  // AUTH in 3.1.1
  EXPECT_EQ(rejection(bytes({0x41, 0x02, 0, 1}), v5),
            ReasonCode::malformed_packet);  // PUBACK flags
  EXPECT_EQ(rejection(bytes({0x60, 0x02, 0, 1}), v5), ReasonCode::malformed_packet);  // PUBREL 0000
  EXPECT_EQ(rejection(bytes({0x80, 0x06, 0, 1, 0, 0, 1, 0x61}), v311),
            ReasonCode::malformed_packet);  // SUBSCRIBE without 0010
  EXPECT_EQ(rejection(bytes({0xc1, 0x00}), v5), ReasonCode::malformed_packet);  // PINGREQ flags
  EXPECT_EQ(rejection(bytes({0xc0, 0x01, 0x00}), v5),
            ReasonCode::malformed_packet);  // PINGREQ body
  EXPECT_EQ(rejection(bytes({0x36, 0x05, 0, 1, 0x61, 0, 1}), v311),
            ReasonCode::malformed_packet);  // QoS 3
  EXPECT_EQ(rejection(bytes({0x38, 0x04, 0, 1, 0x61, 0x7a}), v311),
            ReasonCode::malformed_packet);  // DUP on QoS 0
  // Remaining Length disagrees with the bytes given.
  EXPECT_EQ(rejection(bytes({0x40, 0x02, 0}), v5), ReasonCode::malformed_packet);
  EXPECT_EQ(rejection(bytes({0x40, 0x02, 0, 1, 0}), v311), ReasonCode::malformed_packet);
  EXPECT_EQ(rejection(bytes({0xe0, 0x01, 0x00}), v311), ReasonCode::malformed_packet);
}

TEST(MqttRejects, ConnectRules) {
  // Not MQTT, or an unknown level: Unsupported Protocol Version.
  EXPECT_EQ(rejection(packet(0x10, append(text("MQIsdp"), bytes({3, 2, 0, 60, 0, 1, 0x61}))), v5),
            ReasonCode::unsupported_protocol_version);
  EXPECT_EQ(rejection(packet(0x10, append(text("MQTT"), bytes({6, 2, 0, 60, 0, 0, 1, 0x61}))), v5),
            ReasonCode::unsupported_protocol_version);
  // Reserved flag [MQTT-3.1.2-3].
  EXPECT_EQ(rejection(packet(0x10, v5_connect_body(0x03, {}, text("a"))), v5),
            ReasonCode::malformed_packet);
  // Will QoS / retain without a will; will QoS 3.
  EXPECT_EQ(rejection(packet(0x10, v5_connect_body(0x0a, {}, text("a"))), v5),
            ReasonCode::malformed_packet);
  EXPECT_EQ(rejection(packet(0x10, v5_connect_body(0x22, {}, text("a"))), v5),
            ReasonCode::malformed_packet);
  EXPECT_EQ(rejection(packet(0x10, v5_connect_body(0x1e, {}, text("a"))), v5),
            ReasonCode::malformed_packet);
  // 3.1.1: a password without a user name.
  EXPECT_EQ(rejection(packet(0x10, append(append(text("MQTT"), bytes({4, 0x42, 0, 60})),
                                          append(text("a"), text("pw")))),
                      v311),
            ReasonCode::malformed_packet);
  // A will topic with a wildcard.
  const Bytes will = append(append(text("a"), bytes({0})), append(text("t/#"), text("x")));
  EXPECT_EQ(rejection(packet(0x10, v5_connect_body(0x06, {}, will)), v5),
            ReasonCode::topic_name_invalid);
  // Truncated payload.
  EXPECT_EQ(rejection(packet(0x10, v5_connect_body(0x02, {}, bytes({0, 5, 0x61}))), v5),
            ReasonCode::malformed_packet);
  // Receive Maximum 0 and Maximum Packet Size 0: Protocol Error.
  EXPECT_EQ(rejection(packet(0x10, v5_connect_body(0x02, bytes({0x21, 0, 0}), text("a"))), v5),
            ReasonCode::protocol_error);
  EXPECT_EQ(
      rejection(packet(0x10, v5_connect_body(0x02, bytes({0x27, 0, 0, 0, 0}), text("a"))), v5),
      ReasonCode::protocol_error);
  // A property CONNECT does not allow (Topic Alias): Malformed.
  EXPECT_EQ(rejection(packet(0x10, v5_connect_body(0x02, bytes({0x23, 0, 1}), text("a"))), v5),
            ReasonCode::malformed_packet);
  // Session Expiry Interval twice: Protocol Error.
  EXPECT_EQ(
      rejection(packet(0x10, v5_connect_body(0x02, bytes({0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2}),
                                             text("a"))),
                v5),
      ReasonCode::protocol_error);
  // User Property twice is fine.
  const Bytes users = bytes({0x26, 0, 1, 0x6b, 0, 1, 0x76, 0x26, 0, 1, 0x6b, 0, 1, 0x77});
  const Bytes wire = packet(0x10, v5_connect_body(0x02, users, text("a")));
  const auto twice = decode_packet(wire, v5);  // views into `wire`
  ASSERT_TRUE(twice.ok());
  int count = 0;
  for (const Property& property : std::get<Connect>(*twice).properties) {
    EXPECT_EQ(property.id, PropertyId::user_property);
    EXPECT_EQ(property.string, "k");
    ++count;
  }
  EXPECT_EQ(count, 2);
}

TEST(MqttRejects, ConnackRules) {
  EXPECT_EQ(rejection(bytes({0x20, 0x03, 0x02, 0x00, 0x00}), v5), ReasonCode::malformed_packet);
  EXPECT_EQ(rejection(bytes({0x20, 0x02, 0x00, 0x06}), v311), ReasonCode::malformed_packet);
  EXPECT_EQ(rejection(bytes({0x20, 0x03, 0x00, 0x10, 0x00}), v5), ReasonCode::protocol_error);
  EXPECT_EQ(rejection(bytes({0x20, 0x03, 0x01, 0x87, 0x00}), v5), ReasonCode::protocol_error);
  EXPECT_EQ(rejection(bytes({0x20, 0x02, 0x00, 0x00}), v5), ReasonCode::malformed_packet);
  // Maximum QoS 2 is not a value CONNACK may carry.
  EXPECT_EQ(rejection(bytes({0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02}), v5),
            ReasonCode::protocol_error);
}

TEST(MqttRejects, PublishRules) {
  // Wildcards in a topic name; an empty topic without an alias; alias 0.
  EXPECT_EQ(rejection(packet(0x30, append(text("a/+"), bytes({0}))), v5),
            ReasonCode::topic_name_invalid);
  EXPECT_EQ(rejection(packet(0x30, append(text("a/#"), {})), v311), ReasonCode::topic_name_invalid);
  EXPECT_EQ(rejection(packet(0x30, append(text(""), bytes({0}))), v5), ReasonCode::protocol_error);
  EXPECT_EQ(rejection(packet(0x30, text("")), v311), ReasonCode::protocol_error);
  EXPECT_EQ(rejection(packet(0x30, append(text(""), bytes({3, 0x23, 0, 0}))), v5),
            ReasonCode::topic_alias_invalid);
  EXPECT_TRUE(decode_packet(packet(0x30, append(text(""), bytes({3, 0x23, 0, 1}))), v5).ok());
  // Packet identifier 0 on QoS 1.
  EXPECT_EQ(rejection(packet(0x32, append(text("a"), bytes({0, 0}))), v311),
            ReasonCode::protocol_error);
  // Ill-formed UTF-8: overlong NUL, a surrogate, U+0000, a lone continuation byte.
  for (std::string_view bad : {std::string_view("\xc0\x80"), std::string_view("\xed\xa0\x80"),
                               std::string_view("a\0b", 3), std::string_view("\x80")}) {
    EXPECT_EQ(rejection(packet(0x30, text(bad)), v311), ReasonCode::malformed_packet);
  }
  // Properties longer than the packet.
  EXPECT_EQ(rejection(packet(0x30, append(text("a"), bytes({5, 0x01, 0}))), v5),
            ReasonCode::malformed_packet);
  // A Subscription Identifier may repeat in PUBLISH, a Payload Format Indicator may not.
  EXPECT_TRUE(
      decode_packet(packet(0x30, append(text("a"), bytes({4, 0x0b, 1, 0x0b, 2}))), v5).ok());
  EXPECT_EQ(rejection(packet(0x30, append(text("a"), bytes({4, 0x01, 1, 0x01, 1}))), v5),
            ReasonCode::protocol_error);
  EXPECT_EQ(rejection(packet(0x30, append(text("a"), bytes({2, 0x01, 2}))), v5),
            ReasonCode::protocol_error);
  // An unknown property; a property identifier written in two bytes.
  EXPECT_EQ(rejection(packet(0x30, append(text("a"), bytes({2, 0x04, 0}))), v5),
            ReasonCode::malformed_packet);
  EXPECT_EQ(rejection(packet(0x30, append(text("a"), bytes({3, 0x81, 0x00, 1}))), v5),
            ReasonCode::malformed_packet);
}

TEST(MqttRejects, AcknowledgementRules) {
  EXPECT_EQ(rejection(bytes({0x40, 0x02, 0, 0}), v5), ReasonCode::protocol_error);  // id 0
  EXPECT_EQ(rejection(bytes({0x40, 0x03, 0, 1, 0x92}), v5), ReasonCode::protocol_error);
  EXPECT_EQ(rejection(bytes({0x62, 0x03, 0, 1, 0x10}), v5), ReasonCode::protocol_error);
  EXPECT_EQ(rejection(bytes({0x40, 0x03, 0, 1, 0x10}), v311), ReasonCode::malformed_packet);
  // A reason string in PUBACK is fine; a Topic Alias is not.
  EXPECT_TRUE(decode_packet(bytes({0x40, 0x08, 0, 1, 0x00, 4, 0x1f, 0, 1, 0x61}), v5).ok());
  EXPECT_EQ(rejection(bytes({0x40, 0x07, 0, 1, 0x00, 3, 0x23, 0, 1}), v5),
            ReasonCode::malformed_packet);
  // SUBACK: no codes; an unknown code; 3.1.1 codes only.
  EXPECT_EQ(rejection(bytes({0x90, 0x03, 0, 1, 0}), v5), ReasonCode::protocol_error);
  EXPECT_EQ(rejection(bytes({0x90, 0x04, 0, 1, 0, 0x03}), v5), ReasonCode::protocol_error);
  EXPECT_EQ(rejection(bytes({0x90, 0x03, 0, 1, 0x87}), v311), ReasonCode::malformed_packet);
  EXPECT_TRUE(decode_packet(bytes({0x90, 0x03, 0, 1, 0x80}), v311).ok());
  // UNSUBACK: 3.1.1 has no payload.
  EXPECT_EQ(rejection(bytes({0xb0, 0x03, 0, 1, 0}), v311), ReasonCode::malformed_packet);
  EXPECT_EQ(rejection(bytes({0xb0, 0x04, 0, 1, 0, 0x01}), v5), ReasonCode::protocol_error);
  // DISCONNECT and AUTH reason codes.
  EXPECT_EQ(rejection(bytes({0xe0, 0x01, 0x01}), v5), ReasonCode::protocol_error);
  EXPECT_EQ(rejection(bytes({0xf0, 0x01, 0x87}), v5), ReasonCode::protocol_error);
  EXPECT_TRUE(decode_packet(bytes({0xf0, 0x01, 0x18}), v5).ok());
}

TEST(MqttRejects, SubscribeRules) {
  const auto subscribe = [](ProtocolVersion version, const Bytes& payload) {
    const Bytes head = version == v5 ? bytes({0, 1, 0}) : bytes({0, 1});
    return packet(0x82, append(head, payload));
  };
  EXPECT_EQ(rejection(subscribe(v5, {}), v5), ReasonCode::protocol_error);  // no filters
  EXPECT_EQ(rejection(subscribe(v311, {}), v311), ReasonCode::protocol_error);
  EXPECT_EQ(rejection(subscribe(v5, append(text("a/#/b"), bytes({0}))), v5),
            ReasonCode::topic_filter_invalid);
  EXPECT_EQ(rejection(subscribe(v5, append(text("a+"), bytes({0}))), v5),
            ReasonCode::topic_filter_invalid);
  EXPECT_EQ(rejection(subscribe(v5, append(text("$share/g+/a"), bytes({0}))), v5),
            ReasonCode::topic_filter_invalid);
  EXPECT_EQ(rejection(subscribe(v5, append(text("$share/g"), bytes({0}))), v5),
            ReasonCode::topic_filter_invalid);
  // In 3.1.1 "$share/g" is an ordinary filter.
  EXPECT_TRUE(decode_packet(subscribe(v311, append(text("$share/g"), bytes({0}))), v311).ok());
  EXPECT_EQ(rejection(subscribe(v5, append(text("a"), bytes({3}))), v5),
            ReasonCode::malformed_packet);  // QoS 3
  EXPECT_EQ(rejection(subscribe(v5, append(text("a"), bytes({0x40}))), v5),
            ReasonCode::malformed_packet);  // reserved bits
  EXPECT_EQ(rejection(subscribe(v311, append(text("a"), bytes({0x04}))), v311),
            ReasonCode::malformed_packet);  // 3.1.1 has no No Local
  EXPECT_EQ(rejection(subscribe(v5, append(text("a"), bytes({0x30}))), v5),
            ReasonCode::protocol_error);  // Retain Handling 3
  EXPECT_EQ(rejection(subscribe(v5, append(text("$share/g/a"), bytes({0x04}))), v5),
            ReasonCode::protocol_error);  // No Local on a shared subscription
  EXPECT_EQ(rejection(subscribe(v5, append(text("a"), {})), v5), ReasonCode::malformed_packet);
  // Subscription Identifier: 0 is a Protocol Error, twice likewise.
  EXPECT_EQ(
      rejection(packet(0x82, append(bytes({0, 1, 2, 0x0b, 0}), append(text("a"), bytes({0})))), v5),
      ReasonCode::protocol_error);
  EXPECT_EQ(rejection(packet(0x82, append(bytes({0, 1, 4, 0x0b, 1, 0x0b, 2}),
                                          append(text("a"), bytes({0})))),
                      v5),
            ReasonCode::protocol_error);
  // UNSUBSCRIBE: at least one filter, each valid.
  EXPECT_EQ(rejection(packet(0xa2, bytes({0, 1, 0})), v5), ReasonCode::protocol_error);
  EXPECT_EQ(rejection(packet(0xa2, append(bytes({0, 1, 0}), text("#/a"))), v5),
            ReasonCode::topic_filter_invalid);
}

}  // namespace
}  // namespace mote::mqtt
