// MQTT 5 enhanced authentication on a Connection, with the client's real
// SCRAM-SHA-1 authenticator on the other side.

#include <array>
#include <gtest/gtest.h>
#include <memory>

#include "mote/broker/connection.hpp"
#include "mote/broker/scram.hpp"
#include "mote/mqtt/scram.hpp"

namespace mote::broker {
namespace {

using mqtt::PropertyId;
using mqtt::ProtocolVersion;
using mqtt::ReasonCode;
using Bytes = std::vector<std::byte>;

void counting_random(ByteSpan out, void* context) {
  auto& counter = *static_cast<std::uint8_t*>(context);
  for (std::byte& b : out) b = static_cast<std::byte>(++counter);
}

constexpr std::array<std::byte, 8> kSalt{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4},
                                         std::byte{5}, std::byte{6}, std::byte{7}, std::byte{8}};

AccessPolicy scram_policy() {
  auto credentials =
      ScramCredentials::parse(scram_sha1_line("alice", "wonderland", kSalt, 4096) + "\n# bob\n" +
                              scram_sha1_line("b=b,c", "builder", kSalt, 1000));
  EXPECT_TRUE(credentials.ok());
  AccessPolicy access;
  access.allow_anonymous = false;
  access.auth_mechanisms.push_back(std::make_shared<ScramSha1Mechanism>(
      std::make_shared<const ScramCredentials>(std::move(*credentials))));
  return access;
}

class AuthClient {
 public:
  explicit AuthClient(const AccessPolicy& access)
      : access_(access), connection_(core_, limits_, access_) {}

  bool send(const mqtt::Packet& packet) {
    Bytes bytes(mqtt::encoded_size(packet, ProtocolVersion::v5).value());
    EXPECT_TRUE(mqtt::encode_packet(packet, ProtocolVersion::v5, bytes).ok());
    return connection_.on_packet(bytes);
  }
  // The broker's output decoded; views valid until the next call.
  std::vector<mqtt::Packet> receive() {
    connection_.take_output(wire_, 1 << 20);
    std::vector<mqtt::Packet> packets;
    ConstByteSpan rest(wire_);
    while (!rest.empty()) {
      const auto frame = mqtt::frame_packet(rest);
      if (!frame.ok() || frame->size == 0) break;
      const auto packet = mqtt::decode_packet(rest.first(frame->size), ProtocolVersion::v5);
      EXPECT_TRUE(packet.ok());
      if (packet.ok()) packets.push_back(*packet);
      rest = rest.subspan(frame->size);
    }
    return packets;
  }
  mqtt::Properties auth_properties(std::string_view method, ConstByteSpan data) {
    mqtt::PropertyBuilder builder(storage_);
    builder.add_string(PropertyId::authentication_method, method);
    if (!data.empty()) builder.add_binary(PropertyId::authentication_data, data);
    return builder.properties().value();
  }
  bool connect(std::string_view method, ConstByteSpan data,
               std::optional<std::string_view> user = {}) {
    mqtt::Connect connect;
    connect.version = ProtocolVersion::v5;
    connect.client_id = "c1";
    connect.user_name = user;
    connect.properties = auth_properties(method, data);
    return send(connect);
  }
  bool auth(ReasonCode reason, ConstByteSpan data) {
    return send(mqtt::Auth{reason, auth_properties(mqtt::kScramSha1, data)});
  }
  // The SCRAM exchange up to the broker's last answer, which is returned.
  std::vector<mqtt::Packet> scram_connect(mqtt::ScramSha1Authenticator& authenticator) {
    EXPECT_TRUE(connect(mqtt::kScramSha1, authenticator.start().value()));
    return continue_scram(authenticator);
  }
  std::vector<mqtt::Packet> continue_scram(mqtt::ScramSha1Authenticator& authenticator) {
    std::vector<mqtt::Packet> out = receive();
    if (out.size() != 1 || !std::holds_alternative<mqtt::Auth>(out[0])) return out;
    const auto& challenge = std::get<mqtt::Auth>(out[0]);
    EXPECT_EQ(challenge.reason, ReasonCode::continue_authentication);
    EXPECT_EQ(challenge.properties.string(PropertyId::authentication_method), mqtt::kScramSha1);
    const auto data = challenge.properties.find(PropertyId::authentication_data);
    EXPECT_TRUE(data.has_value());
    const Result<ConstByteSpan> answer = authenticator.challenge(data->binary);
    EXPECT_TRUE(answer.ok());
    const Bytes copy(answer->begin(), answer->end());
    auth(ReasonCode::continue_authentication, copy);
    return receive();
  }
  Connection& connection() { return connection_; }

 private:
  Core core_{{}};
  Limits limits_;
  AccessPolicy access_;
  Connection connection_;
  Bytes wire_;
  std::array<std::byte, 256> storage_{};
};

mqtt::BinaryData auth_data(const mqtt::Properties& properties) {
  const auto data = properties.find(PropertyId::authentication_data);
  return data ? data->binary : mqtt::BinaryData{};
}

TEST(ScramCredentialsTest, LinesRoundTripAndMalformedLinesAreRefused) {
  const std::string line = scram_sha1_line("alice", "wonderland", kSalt, 4096);
  EXPECT_TRUE(line.starts_with("alice:SCRAM-SHA-1$4096:AQIDBAUGBwg=$")) << line;
  const auto parsed = ScramCredentials::parse(line + "\n\n# comment\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->size(), 1u);
  ASSERT_NE(parsed->find("alice"), nullptr);
  EXPECT_EQ(parsed->find("alice")->iterations, 4096u);
  EXPECT_EQ(parsed->find("bob"), nullptr);
  for (const char* bad :
       {"alice", "alice:SCRAM-SHA-256$4096:AQID$a:b", "alice:SCRAM-SHA-1$0:AQIDBAUGBwg=$AAAA:AAAA",
        "alice:SCRAM-SHA-1$4096:AQIDBAUGBwg=$AAAA:AAAA", "alice:SCRAM-SHA-1$4096:!!$AAAA:AAAA"}) {
    EXPECT_FALSE(ScramCredentials::parse(bad).ok()) << bad;
  }
}

TEST(EnhancedAuthTest, ScramSuccessProvesBothSidesAndNamesTheUser) {
  AuthClient client(scram_policy());
  std::uint8_t counter = 0;
  mqtt::ScramSha1Authenticator authenticator("alice", "wonderland", counting_random, &counter);
  const auto out = client.scram_connect(authenticator);
  ASSERT_EQ(out.size(), 1u);
  const auto& connack = std::get<mqtt::Connack>(out[0]);
  EXPECT_EQ(connack.reason, ReasonCode::success);
  EXPECT_EQ(connack.properties.string(PropertyId::authentication_method), mqtt::kScramSha1);
  EXPECT_TRUE(authenticator.finish(auth_data(connack.properties)).ok());
  EXPECT_TRUE(client.connection().connected());
}

TEST(EnhancedAuthTest, EscapedUserNamesWork) {
  AuthClient client(scram_policy());
  std::uint8_t counter = 7;
  mqtt::ScramSha1Authenticator authenticator("b=b,c", "builder", counting_random, &counter);
  const auto out = client.scram_connect(authenticator);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<mqtt::Connack>(out[0]).reason, ReasonCode::success);
}

TEST(EnhancedAuthTest, WrongPasswordAndUnknownUserAreBadUserNameOrPassword) {
  for (const char* user : {"alice", "mallory"}) {
    AuthClient client(scram_policy());
    std::uint8_t counter = 0;
    mqtt::ScramSha1Authenticator authenticator(user, "guess", counting_random, &counter);
    const auto out = client.scram_connect(authenticator);
    ASSERT_EQ(out.size(), 1u) << user;
    EXPECT_EQ(std::get<mqtt::Connack>(out[0]).reason, ReasonCode::bad_user_name_or_password);
    EXPECT_TRUE(client.connection().closing());
    EXPECT_FALSE(client.connection().connected());
  }
}

TEST(EnhancedAuthTest, UnknownMethodIsBadAuthenticationMethod) {
  AuthClient client(scram_policy());
  EXPECT_FALSE(client.connect("SCRAM-SHA-512", bytes_of("n,,n=alice,r=abc")));
  const auto out = client.receive();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<mqtt::Connack>(out[0]).reason, ReasonCode::bad_authentication_method);
}

TEST(EnhancedAuthTest, AUserNameMustBeTheProvenUser) {
  AuthClient client(scram_policy());
  std::uint8_t counter = 0;
  mqtt::ScramSha1Authenticator authenticator("alice", "wonderland", counting_random, &counter);
  EXPECT_TRUE(client.connect(mqtt::kScramSha1, authenticator.start().value(), "bob"));
  const auto out = client.continue_scram(authenticator);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<mqtt::Connack>(out[0]).reason, ReasonCode::bad_user_name_or_password);
}

TEST(EnhancedAuthTest, ReauthenticationSucceedsAndAFailedOneDisconnects) {
  AuthClient client(scram_policy());
  std::uint8_t counter = 0;
  mqtt::ScramSha1Authenticator authenticator("alice", "wonderland", counting_random, &counter);
  ASSERT_EQ(std::get<mqtt::Connack>(client.scram_connect(authenticator).at(0)).reason,
            ReasonCode::success);
  // §4.12.1: AUTH 0x19, AUTH 0x18 both ways, AUTH 0x00.
  ASSERT_TRUE(client.auth(ReasonCode::re_authenticate, authenticator.start().value()));
  auto out = client.continue_scram(authenticator);
  ASSERT_EQ(out.size(), 1u);
  const auto& done = std::get<mqtt::Auth>(out[0]);
  EXPECT_EQ(done.reason, ReasonCode::success);
  EXPECT_TRUE(authenticator.finish(auth_data(done.properties)).ok());
  EXPECT_TRUE(client.connection().connected());
  EXPECT_FALSE(client.connection().closing());

  mqtt::ScramSha1Authenticator wrong("alice", "guess", counting_random, &counter);
  ASSERT_TRUE(client.auth(ReasonCode::re_authenticate, wrong.start().value()));
  out = client.continue_scram(wrong);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<mqtt::Disconnect>(out[0]).reason, ReasonCode::not_authorized);
  EXPECT_TRUE(client.connection().closing());
}

TEST(EnhancedAuthTest, AuthFromAClientWithoutAMethodIsAProtocolError) {
  AccessPolicy open;
  AuthClient anonymous(open);
  mqtt::Connect connect;
  connect.version = ProtocolVersion::v5;
  connect.client_id = "plain";
  ASSERT_TRUE(anonymous.send(connect));
  ASSERT_EQ(std::get<mqtt::Connack>(anonymous.receive().at(0)).reason, ReasonCode::success);
  EXPECT_FALSE(anonymous.auth(ReasonCode::re_authenticate, bytes_of("n,,n=alice,r=abc")));
  const auto out = anonymous.receive();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<mqtt::Disconnect>(out[0]).reason, ReasonCode::protocol_error);
}

TEST(EnhancedAuthTest, OtherPacketsBeforeConnackAndOutOfTurnAuthAreProtocolErrors) {
  {
    AuthClient client(scram_policy());
    std::uint8_t counter = 0;
    mqtt::ScramSha1Authenticator authenticator("alice", "wonderland", counting_random, &counter);
    ASSERT_TRUE(client.connect(mqtt::kScramSha1, authenticator.start().value()));
    ASSERT_EQ(client.receive().size(), 1u);  // the server-first AUTH
    EXPECT_FALSE(client.send(mqtt::Pingreq{}));
    const auto out = client.receive();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(std::get<mqtt::Connack>(out[0]).reason, ReasonCode::protocol_error);
  }
  {
    AuthClient client(scram_policy());
    std::uint8_t counter = 0;
    mqtt::ScramSha1Authenticator authenticator("alice", "wonderland", counting_random, &counter);
    ASSERT_TRUE(client.connect(mqtt::kScramSha1, authenticator.start().value()));
    ASSERT_EQ(client.receive().size(), 1u);
    // Re-authenticate before CONNACK: out of turn.
    EXPECT_FALSE(client.auth(ReasonCode::re_authenticate, bytes_of("n,,n=alice,r=x")));
    EXPECT_EQ(std::get<mqtt::Connack>(client.receive().at(0)).reason, ReasonCode::protocol_error);
  }
  {
    // A garbled client-final message fails like a wrong proof.
    AuthClient client(scram_policy());
    std::uint8_t counter = 0;
    mqtt::ScramSha1Authenticator authenticator("alice", "wonderland", counting_random, &counter);
    ASSERT_TRUE(client.connect(mqtt::kScramSha1, authenticator.start().value()));
    ASSERT_EQ(client.receive().size(), 1u);
    EXPECT_FALSE(
        client.auth(ReasonCode::continue_authentication, bytes_of("c=biws,r=nope,p=AAAA")));
    EXPECT_EQ(std::get<mqtt::Connack>(client.receive().at(0)).reason,
              ReasonCode::bad_user_name_or_password);
  }
}

}  // namespace
}  // namespace mote::broker
