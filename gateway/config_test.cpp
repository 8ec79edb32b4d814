#include "mote/gateway/config.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace mote::gateway {
namespace {

using namespace std::chrono_literals;

GatewayConfig parse_ok(const std::string& text) {
  std::string error;
  Result<GatewayConfig> config = parse_gateway_config(text, "test.toml", error);
  EXPECT_TRUE(config.ok()) << error;
  EXPECT_EQ(error, "");
  return config.ok() ? std::move(config).value() : GatewayConfig{};
}

std::string parse_error(const std::string& text) {
  std::string error;
  EXPECT_FALSE(parse_gateway_config(text, "test.toml", error).ok()) << text;
  return error;
}

TEST(GatewayConfig, EmptyFileGivesDefaults) {
  const GatewayConfig config = parse_ok("");
  EXPECT_EQ(config.mqtt.bind, "127.0.0.1");
  EXPECT_EQ(config.mqtt.port, 1883);
  EXPECT_EQ(config.http.port, 8080);
  EXPECT_EQ(config.coap.port, 5683);
  EXPECT_EQ(config.topic_prefix, "mote");
  EXPECT_TRUE(config.mqtt_websocket);
  EXPECT_EQ(config.raw_retention, 24h * 7);
  EXPECT_EQ(config.devices.silent_after, 60s);
  EXPECT_TRUE(config.devices.thresholds.empty());
}

// The commented sample installed with the program states the defaults: it
// must parse, and to exactly what an empty file gives.
TEST(GatewayConfig, SampleFileStatesTheDefaults) {
  std::ifstream file(MOTE_GATEWAY_SAMPLE_CONFIG);
  ASSERT_TRUE(file) << MOTE_GATEWAY_SAMPLE_CONFIG;
  std::stringstream text;
  text << file.rdbuf();
  const GatewayConfig sample = parse_ok(text.str());
  const GatewayConfig defaults = parse_ok("");
  EXPECT_EQ(sample.data_dir, defaults.data_dir);
  EXPECT_EQ(sample.log_level, defaults.log_level);
  EXPECT_EQ(sample.mqtt.bind, defaults.mqtt.bind);
  EXPECT_EQ(sample.mqtt.port, defaults.mqtt.port);
  EXPECT_EQ(sample.topic_prefix, defaults.topic_prefix);
  EXPECT_EQ(sample.mqtt_websocket, defaults.mqtt_websocket);
  EXPECT_EQ(sample.http.bind, defaults.http.bind);
  EXPECT_EQ(sample.http.port, defaults.http.port);
  EXPECT_EQ(sample.dashboard_dir, defaults.dashboard_dir);
  EXPECT_EQ(sample.coap.bind, defaults.coap.bind);
  EXPECT_EQ(sample.coap.port, defaults.coap.port);
  EXPECT_EQ(sample.store_path, defaults.store_path);
  EXPECT_EQ(sample.raw_retention, defaults.raw_retention);
  EXPECT_EQ(sample.minute_retention, defaults.minute_retention);
  EXPECT_EQ(sample.hour_retention, defaults.hour_retention);
  EXPECT_EQ(sample.devices.silent_after, defaults.devices.silent_after);
}

TEST(GatewayConfig, ReadsEverySection) {
  const GatewayConfig config = parse_ok(R"(
data_dir = "/var/lib/mote"
log_level = "debug"
[mqtt]
bind = "0.0.0.0"
port = 11883
topic_prefix = "site/a"
websocket = false
[http]
port = 18080
dashboard = "/opt/dash"
[coap]
port = 15683
[store]
path = "/tmp/t.db"
raw_retention_days = 2
minute_retention_days = 30
hour_retention_days = 365
[devices]
silent_after_s = 15
[[alerts.threshold]]
metric = "temperature"
above = 30
[[alerts.threshold]]
device = "boiler"
metric = "pressure"
below = 1.5
)");
  EXPECT_EQ(config.data_dir, "/var/lib/mote");
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_EQ(config.mqtt.bind, "0.0.0.0");
  EXPECT_EQ(config.mqtt.port, 11883);
  EXPECT_EQ(config.topic_prefix, "site/a");
  EXPECT_FALSE(config.mqtt_websocket);
  EXPECT_EQ(config.http.bind, "127.0.0.1");
  EXPECT_EQ(config.http.port, 18080);
  EXPECT_EQ(config.dashboard_dir, "/opt/dash");
  EXPECT_EQ(config.coap.port, 15683);
  EXPECT_EQ(config.store_path, "/tmp/t.db");
  EXPECT_EQ(config.raw_retention, 48h);
  EXPECT_EQ(config.minute_retention, 24h * 30);
  EXPECT_EQ(config.hour_retention, 24h * 365);
  EXPECT_EQ(config.devices.silent_after, 15s);
  ASSERT_EQ(config.devices.thresholds.size(), 2u);
  EXPECT_EQ(config.devices.thresholds[0].device, "*");
  EXPECT_EQ(config.devices.thresholds[0].above, 30.0);  // an integer is a number too
  EXPECT_FALSE(config.devices.thresholds[0].below.has_value());
  EXPECT_EQ(config.devices.thresholds[1].device, "boiler");
  EXPECT_EQ(config.devices.thresholds[1].below, 1.5);
}

TEST(GatewayConfig, ErrorsSayWhereAndWhat) {
  EXPECT_EQ(parse_error("[mqtt]\nprot = 1883\n"), "test.toml:2:8: unknown key 'mqtt.prot'");
  EXPECT_EQ(parse_error("colour = 1\n"), "test.toml:1:10: unknown key 'colour'");
  EXPECT_EQ(parse_error("[mqtt]\nport = \"1883\"\n"),
            "test.toml:2:8: 'mqtt.port' must be an integer");
  EXPECT_EQ(parse_error("[http]\nport = 70000\n"),
            "test.toml:2:8: 'http.port' must be between 1 and 65535");
  EXPECT_EQ(parse_error("[mqtt]\nwebsocket = \"yes\"\n"),
            "test.toml:2:13: 'mqtt.websocket' must be true or false");
  EXPECT_EQ(parse_error("log_level = \"loud\"\n"),
            "test.toml:1:13: 'log_level' must be error, warn, info or debug");
  EXPECT_EQ(parse_error("[[alerts.threshold]]\nmetric = \"t\"\n"),
            "test.toml:1:1: a threshold needs 'metric' and 'above' or 'below'");
  EXPECT_NE(parse_error("[mqtt\n").find("test.toml:1:"), std::string::npos);
  EXPECT_NE(parse_error("[devices]\nsilent_after_s = 0\n").find("between 1 and"),
            std::string::npos);
}

TEST(GatewayConfig, MissingFileIsNotFound) {
  std::string error;
  EXPECT_EQ(load_gateway_config("/nonexistent/mote.toml", error).status().code(),
            StatusCode::not_found);
  EXPECT_EQ(error, "/nonexistent/mote.toml: cannot read the file");
}

}  // namespace
}  // namespace mote::gateway
