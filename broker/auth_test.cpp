#include "mote/broker/auth.hpp"

#include <gtest/gtest.h>

#include "mote/broker/config.hpp"
#include "mote/testing/process.hpp"

namespace mote::broker {
namespace {

std::vector<std::uint8_t> bytes(std::string_view text) { return {text.begin(), text.end()}; }

// Lines computed independently (Python's hashlib) for salt "0123456789ab".
constexpr const char* kPasswords =
    "# users\n"
    "bob:$6$MDEyMzQ1Njc4OWFi$Kgl3AxuVCetFEGDDZOAh44c3ssh9wvPft10MPC9Tjr1rwsIDmYUEICH/"
    "zUOFhM8vCQKmMb8nXrQTl7q2T8alUw==\n"
    "\n"
    "alice:$7$101$MDEyMzQ1Njc4OWFi$EO/lLlkeUgIiBaS8G8UK0ZMP1u508TA7Tl+"
    "AdJ1cEsmlbGyEPAERErpfq84j1kepISs0UzmcdL4ucgZ2uodxfQ==\r\n";

TEST(Base64, DecodesRfc4648Vectors) {
  EXPECT_EQ(decode_base64(""), std::vector<std::uint8_t>{});
  EXPECT_EQ(decode_base64("Zg=="), bytes("f"));
  EXPECT_EQ(decode_base64("Zm8="), bytes("fo"));
  EXPECT_EQ(decode_base64("Zm9v"), bytes("foo"));
  EXPECT_EQ(decode_base64("Zm9vYmFy"), bytes("foobar"));
  for (const char* bad : {"Zg=", "Z===", "Zm9v=", "Zg==Zg==", "Zm9*", "=Zg=", "Zm=v"}) {
    EXPECT_FALSE(decode_base64(bad).has_value()) << bad;
  }
}

TEST(PasswordFile, ChecksSha512AndPbkdf2Hashes) {
  const Result<PasswordFile> file = PasswordFile::parse(kPasswords);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->size(), 2u);
  EXPECT_TRUE(file->check("bob", bytes("hunter2")));
  EXPECT_FALSE(file->check("bob", bytes("hunter3")));
  EXPECT_TRUE(file->check("alice", bytes("secret")));
  EXPECT_FALSE(file->check("alice", bytes("")));
  EXPECT_FALSE(file->check("carol", bytes("secret")));
}

TEST(PasswordFile, RefusesMalformedLines) {
  for (const char* bad :
       {"nocolon\n", ":$6$YQ==$YQ==\n", "u:plain\n", "u:$7$0$YQ==$YQ==\n", "u:$7$x$YQ==$YQ==\n",
        "u:$6$YQ==$YQ==\n" /* hash not 64 bytes */, "u:$7$101$!!$YQ==\n"}) {
    EXPECT_EQ(PasswordFile::parse(bad).status().code(), StatusCode::invalid_argument) << bad;
  }
}

// A file written by mosquitto_passwd itself.
TEST(PasswordFile, ReadsMosquittoPasswdOutput) {
  MOTE_SKIP_UNLESS_PROGRAM("mosquitto_passwd");
  testing::TempDir dir;
  const std::string path = dir.file("passwd");
  {
    testing::ChildProcess make({"mosquitto_passwd", "-c", "-b", path, "dave", "pa ss"});
    ASSERT_EQ(make.wait_for_exit(std::chrono::seconds(10)), 0) << make.describe();
  }
  const Result<PasswordFile> file = PasswordFile::load(path);
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->check("dave", bytes("pa ss")));
  EXPECT_FALSE(file->check("dave", bytes("pass")));
  EXPECT_EQ(PasswordFile::load(dir.file("missing")).status().code(), StatusCode::not_found);
}

TEST(AclFile, FollowsMosquittoRules) {
  const Result<AclFile> acl = AclFile::parse(
      "# anonymous clients\n"
      "topic read public/#\n"
      "user alice\n"
      "topic readwrite home/#\n"
      "topic deny home/secret\n"
      "topic write   alerts/with space\n"
      "user bob\n"
      "topic home/kitchen\n"
      "pattern write devices/%c/out\n"
      "pattern read users/%u/#\n");
  ASSERT_TRUE(acl.ok());
  EXPECT_EQ(acl->size(), 7u);
  // Anonymous: only the rules before the first user, and %c patterns.
  EXPECT_TRUE(acl->allows("c1", "", "public/x", Access::read));
  EXPECT_FALSE(acl->allows("c1", "", "public/x", Access::write));
  EXPECT_FALSE(acl->allows("c1", "", "home/a", Access::read));
  EXPECT_TRUE(acl->allows("c1", "", "devices/c1/out", Access::write));
  EXPECT_FALSE(acl->allows("c1", "", "devices/c2/out", Access::write));
  EXPECT_FALSE(acl->allows("c1", "", "users//x", Access::read));  // %u needs a user
  // alice.
  EXPECT_TRUE(acl->allows("c", "alice", "home/a/b", Access::write));
  EXPECT_FALSE(acl->allows("c", "alice", "home/secret", Access::read));  // deny wins
  EXPECT_TRUE(acl->allows("c", "alice", "alerts/with space", Access::write));
  EXPECT_FALSE(acl->allows("c", "alice", "public/x", Access::read));  // anonymous rule
  EXPECT_TRUE(acl->allows("c", "alice", "users/alice/inbox", Access::read));
  EXPECT_FALSE(acl->allows("c", "alice", "users/bob/inbox", Access::read));
  // bob: readwrite by default.
  EXPECT_TRUE(acl->allows("c", "bob", "home/kitchen", Access::write));
  EXPECT_FALSE(acl->allows("c", "bob", "home/hall", Access::read));
  // Ids with wildcards do not widen patterns.
  EXPECT_FALSE(acl->allows("#", "", "devices/x/out", Access::write));
}

TEST(AclFile, RefusesMalformedLines) {
  for (const char* bad :
       {"topic\n", "user\n", "bogus a/b\n", "topic read a/#/b\n", "pattern read\n"}) {
    EXPECT_EQ(AclFile::parse(bad).status().code(), StatusCode::invalid_argument) << bad;
  }
}

TEST(Config, ListensOnLoopbackUnlessTold) {
  BrokerConfig defaults;
  EXPECT_EQ(defaults.listen.address, io::IpAddress(io::Ipv4Address(127, 0, 0, 1)));
  EXPECT_EQ(defaults.listen.port, 1883);
  BrokerConfig every_interface;
  ASSERT_TRUE(parse_config("listener 1884\n", every_interface).ok());
  EXPECT_EQ(every_interface.listen.address, io::IpAddress(io::Ipv4Address(0, 0, 0, 0)));
  EXPECT_EQ(every_interface.listen.port, 1884);
  BrokerConfig port_only;
  ASSERT_TRUE(parse_config("port 1885\n", port_only).ok());
  EXPECT_EQ(port_only.listen.address, io::IpAddress(io::Ipv4Address(127, 0, 0, 1)));
}

TEST(Config, ReadsMosquittoStyleLines) {
  BrokerConfig config;
  ASSERT_TRUE(parse_config("# broker\n"
                           "listener 1884 127.0.0.1\n"
                           "allow_anonymous false\n"
                           "password_file /etc/p\n"
                           "acl_file /etc/a\n"
                           "persistence true\n"
                           "persistence_location /var/lib/mote/\n"
                           "max_connections -1\n"
                           "message_size_limit 1000\n"
                           "max_queued_messages 50\n"
                           "max_keepalive 120\n"
                           "sys_interval 0\n"
                           "log_type all\n",
                           config)
                  .ok());
  EXPECT_EQ(config.listen.port, 1884);
  EXPECT_EQ(config.listen.address, io::IpAddress(io::Ipv4Address(127, 0, 0, 1)));
  EXPECT_FALSE(config.allow_anonymous);
  EXPECT_EQ(config.password_file, "/etc/p");
  EXPECT_EQ(config.acl_file, "/etc/a");
  EXPECT_EQ(config.data_directory, "/var/lib/mote");
  EXPECT_EQ(config.limits.max_connections, 0u);
  EXPECT_GT(config.limits.max_packet_size, 1000u);
  EXPECT_LT(config.limits.max_packet_size, 100'000u);
  EXPECT_EQ(config.limits.max_queued_messages, 50u);
  EXPECT_EQ(config.limits.max_keep_alive_s, 120);
  EXPECT_EQ(config.sys_interval.count(), 0);
}

// mosquitto's `protocol` applies to the listener above it (or to the
// default listener of `port`/`bind_address` when none is above).
TEST(Config, ListenersWithProtocols) {
  BrokerConfig both;
  ASSERT_TRUE(parse_config("listener 1884 127.0.0.1\n"
                           "protocol mqtt\n"
                           "listener 9001\n"
                           "protocol websockets\n"
                           "listener 9002 127.0.0.1\n"
                           "protocol websockets\n",
                           both)
                  .ok());
  EXPECT_TRUE(both.listen_mqtt);
  EXPECT_EQ(both.listen.port, 1884);
  ASSERT_EQ(both.websocket_listeners.size(), 2u);
  EXPECT_EQ(both.websocket_listeners[0].port, 9001);
  EXPECT_EQ(both.websocket_listeners[0].address, io::IpAddress(io::Ipv4Address(0, 0, 0, 0)));
  EXPECT_EQ(both.websocket_listeners[1].port, 9002);
  EXPECT_EQ(both.websocket_listeners[1].address, io::IpAddress(io::Ipv4Address(127, 0, 0, 1)));

  BrokerConfig websocket_only;
  ASSERT_TRUE(parse_config("listener 9001\nprotocol websockets\n", websocket_only).ok());
  EXPECT_FALSE(websocket_only.listen_mqtt);
  ASSERT_EQ(websocket_only.websocket_listeners.size(), 1u);

  BrokerConfig default_and_websocket;  // `port` keeps the default listener
  ASSERT_TRUE(
      parse_config("port 1885\nlistener 9001\nprotocol websockets\n", default_and_websocket).ok());
  EXPECT_TRUE(default_and_websocket.listen_mqtt);
  EXPECT_EQ(default_and_websocket.listen.port, 1885);
  EXPECT_EQ(default_and_websocket.websocket_listeners.size(), 1u);

  BrokerConfig default_is_websocket;
  ASSERT_TRUE(parse_config("port 9001\nprotocol websockets\n", default_is_websocket).ok());
  EXPECT_FALSE(default_is_websocket.listen_mqtt);
  ASSERT_EQ(default_is_websocket.websocket_listeners.size(), 1u);
  EXPECT_EQ(default_is_websocket.websocket_listeners[0].port, 9001);

  BrokerConfig defaults;
  ASSERT_TRUE(parse_config("", defaults).ok());
  EXPECT_TRUE(defaults.listen_mqtt);
  EXPECT_TRUE(defaults.websocket_listeners.empty());
}

TEST(Config, RefusesWhatItDoesNotUnderstand) {
  for (const char* bad : {"listener x\n", "listener 70000\n", "listener 1883 localhost\n",
                          "allow_anonymous yes\n", "max_connections -2\n", "frobnicate 1\n",
                          "port\n", "listener 1\nprotocol http\n", "listener 1\nlistener 2\n"}) {
    BrokerConfig config;
    EXPECT_EQ(parse_config(bad, config).code(), StatusCode::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace mote::broker
