// The whole gateway as users run it: the built `mote gateway` on loopback
// ports with a temporary data directory, fed by real peers (mosquitto_pub,
// coap-client-notls, `mote sensor` nodes), read through its HTTP API, its
// Prometheus /metrics, CoAP GET and the live WebSocket feed (a
// python3-websockets client); MQTT over WebSocket at /mqtt (MQTT.js, paho).
// Every wait is bounded.

#include <cmath>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>

#include "mote/testing/process.hpp"
#include "system_test_support.hpp"

namespace mote::gateway {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using system_test::device_of;
using system_test::eventually;
using system_test::get_json;
using system_test::history_count;
using system_test::http_get;
using system_test::HttpAnswer;
using system_test::Ports;
using testing::ChildProcess;

constexpr const char* kPython = "/usr/bin/python3";

// A live-feed client: prints every text message it receives, one a line,
// until none comes for `seconds` or the server closes ("closed <code>").
constexpr const char* kLiveClient = R"(
import asyncio, sys, websockets
async def main(url, seconds):
    async with websockets.connect(url) as ws:
        print("open", flush=True)
        try:
            while True:
                print(await asyncio.wait_for(ws.recv(), seconds), flush=True)
        except asyncio.TimeoutError:
            pass
        except websockets.ConnectionClosed as closed:
            print("closed", closed.rcvd.code if closed.rcvd else "without a close frame",
                  flush=True)
asyncio.run(main(sys.argv[1], float(sys.argv[2])))
)";

// A live-feed client that stops reading: a raw socket with a small receive
// buffer does the opening handshake, prints "open", waits until the file
// argv[2] exists, then reads every frame and prints how many text messages
// came and the close code ("close 1008") or "eof".
constexpr const char* kStalledClient = R"(
import base64, os, socket, struct, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n" % key).encode())
head = b""
while not head.endswith(b"\r\n\r\n"):
    head += s.recv(1)
print("open", head.split(b"\r\n")[0].decode(), flush=True)
deadline = time.time() + 60
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.05)
def exact(n):
    data = b""
    while len(data) < n:
        more = s.recv(n - len(data))
        if not more:
            raise EOFError
        data += more
    return data
texts = 0
try:
    while True:
        b0, b1 = exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", exact(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", exact(8))[0]
        payload = exact(n)
        if b0 & 0x0F == 8:
            print("texts", texts, "close", struct.unpack(">H", payload[:2])[0], flush=True)
            break
        texts += 1
except EOFError:
    print("texts", texts, "eof", flush=True)
)";

std::vector<std::string> gateway_args(const std::string& data_dir, const Ports& ports,
                                      int silent_after_s, const std::string& config) {
  std::vector<std::string> args{MOTE_BINARY,      "gateway",
                                "--data-dir",     data_dir,
                                "--mqtt-port",    std::to_string(ports.mqtt),
                                "--http-port",    std::to_string(ports.http),
                                "--coap-port",    std::to_string(ports.coap),
                                "--silent-after", std::to_string(silent_after_s)};
  if (!config.empty()) {
    args.emplace_back("-c");
    args.push_back(config);
  }
  return args;
}

class Gateway {
 public:
  Gateway(const std::string& data_dir, const Ports& ports, int silent_after_s = 60,
          const std::string& config = {})
      : process_(gateway_args(data_dir, ports, silent_after_s, config)) {}
  bool ready(const Ports& ports) {
    return process_.started() && testing::wait_for_tcp_listener(ports.http, 10s) &&
           testing::wait_for_tcp_listener(ports.mqtt, 10s);
  }
  ChildProcess& process() { return process_; }

 private:
  ChildProcess process_;
};

int run(std::vector<std::string> argv, const testing::ChildOptions& options = {}) {
  ChildProcess process(std::move(argv), options);
  return process.wait_for_exit(10s).value_or(-1);
}

int publish(const Ports& ports, const std::string& topic, const std::string& payload,
            bool retain = false) {
  std::vector<std::string> argv{
      "mosquitto_pub", "-p", std::to_string(ports.mqtt), "-q", "1", "-t", topic, "-m", payload};
  if (retain) argv.emplace_back("-r");
  return run(argv);
}

class GatewaySystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MOTE_SKIP_UNLESS_PROGRAM("mosquitto_pub");
    MOTE_SKIP_UNLESS_PROGRAM("curl");
  }
  testing::TempDir dir;
  Ports ports;
};

TEST_F(GatewaySystemTest, ReadingsFromMqttAndCoapReachTheApiTheFeedAndMetrics) {
  MOTE_SKIP_UNLESS_PROGRAM("coap-client-notls");
  if (!testing::find_program(kPython)) GTEST_SKIP() << "no /usr/bin/python3";
  Gateway gateway(dir.file("data"), ports, 60);
  ASSERT_TRUE(gateway.ready(ports)) << gateway.process().describe();

  const std::string script = dir.write("live.py", kLiveClient);
  ChildProcess live(
      {kPython, script, "ws://127.0.0.1:" + std::to_string(ports.http) + "/api/live", "3"});
  ASSERT_TRUE(live.wait_for_output("open", 10s)) << live.describe();

  ASSERT_EQ(publish(ports, "mote/kitchen/temperature", "21.5"), 0);
  ASSERT_EQ(publish(ports, "mote/kitchen/humidity",
                    R"({"value": 40.25, "unit": "%", "time_ms": 1795219200000})"),
            0);
  // Bad input is dropped (and logged), the gateway goes on. A topic outside
  // <prefix>/+/+ is no reading at all (only a subscriber would see it).
  ASSERT_EQ(publish(ports, "mote/kitchen/temperature", "warm"), 0);
  ASSERT_EQ(publish(ports, "mote/kitchen/too/deep", "1"), 0);
  const std::string coap = "coap://127.0.0.1:" + std::to_string(ports.coap);
  ChildProcess post(
      {"coap-client-notls", "-m", "post", "-e", "18.75", coap + "/mote/porch/temperature"});
  EXPECT_EQ(post.wait_for_exit(10s), 0) << post.describe();
  ChildProcess bad_post(
      {"coap-client-notls", "-m", "post", "-e", "{\"value\": \"x\"}", coap + "/mote/porch/t"});
  EXPECT_EQ(bad_post.wait_for_exit(10s), 0) << bad_post.describe();
  EXPECT_NE(bad_post.stderr_text().find("4.00 a reading is"), std::string::npos)
      << bad_post.describe();

  json devices;
  ASSERT_TRUE(eventually([&] {
    devices = get_json(ports.http, "/api/devices");
    return device_of(devices, "kitchen").value("metrics", json::array()).size() == 2 &&
           device_of(devices, "porch").value("metrics", json::array()).size() == 1;
  })) << devices.dump()
      << gateway.process().describe();
  const json kitchen = device_of(devices, "kitchen");
  EXPECT_TRUE(kitchen["online"].get<bool>());
  EXPECT_EQ(kitchen["metrics"][0]["name"], "humidity");
  EXPECT_EQ(kitchen["metrics"][0]["unit"], "%");
  EXPECT_EQ(kitchen["metrics"][0]["last_time_ms"], 1795219200000);
  EXPECT_EQ(kitchen["metrics"][0]["last_value"], 40.25);
  EXPECT_EQ(kitchen["metrics"][1]["last_value"], 21.5);
  EXPECT_EQ(device_of(devices, "porch")["metrics"][0]["last_value"], 18.75);
  EXPECT_EQ(history_count(ports.http, "kitchen", "humidity"), 1u);
  EXPECT_EQ(history_count(ports.http, "porch", "temperature"), 1u);
  EXPECT_EQ(http_get(ports.http, "/api/devices/cellar").status, 404);
  EXPECT_EQ(http_get(ports.http, "/api/devices/kitchen/metrics/nope/history").status, 404);
  EXPECT_EQ(http_get(ports.http, "/api/devices/kitchen/metrics/humidity/history?from=x").status,
            400);
  EXPECT_EQ(get_json(ports.http, "/api/devices/kitchen")["name"], "kitchen");
  // The dashboard is served.
  EXPECT_NE(http_get(ports.http, "/").body.find("<html"), std::string::npos);

  // CoAP: the latest reading, and the resources in /.well-known/core.
  ChildProcess get({"coap-client-notls", "-m", "get", coap + "/mote/kitchen/humidity"});
  EXPECT_EQ(get.wait_for_exit(10s), 0);
  const json latest = json::parse(get.stdout_text(), nullptr, false);
  EXPECT_EQ(latest.value("value", 0.0), 40.25) << get.describe();
  ChildProcess core({"coap-client-notls", "-m", "get", coap + "/.well-known/core"});
  EXPECT_EQ(core.wait_for_exit(10s), 0);
  EXPECT_NE(core.stdout_text().find("</mote/porch/temperature>"), std::string::npos)
      << core.describe();

  // The live feed saw the samples as they came.
  ASSERT_EQ(live.wait_for_exit(15s), 0) << live.describe();
  std::istringstream lines(live.stdout_text());
  std::size_t samples = 0;
  for (std::string line; std::getline(lines, line);) {
    const json message = json::parse(line, nullptr, false);
    if (message.is_object() && message.value("type", "") == "sample") {
      ++samples;
      EXPECT_TRUE(message.contains("device") && message.contains("metric") &&
                  message.contains("time_ms") && message.contains("value"))
          << line;
    }
  }
  EXPECT_EQ(samples, 3u) << live.stdout_text();

  // A node's will says offline: an alert.
  ASSERT_EQ(publish(ports, "mote/kitchen/status", "offline", true), 0);
  json alerts;
  ASSERT_TRUE(eventually([&] {
    alerts = get_json(ports.http, "/api/alerts");
    return alerts.is_object() && alerts["alerts"].size() == 1;
  })) << alerts.dump();
  EXPECT_EQ(alerts["alerts"][0]["device"], "kitchen");
  EXPECT_EQ(alerts["alerts"][0]["kind"], "silent");
  EXPECT_FALSE(device_of(get_json(ports.http, "/api/devices"), "kitchen")["online"].get<bool>());

  // /metrics: every sample line is `name{labels} value` with a number.
  const HttpAnswer metrics = http_get(ports.http, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  std::istringstream metric_lines(metrics.body);
  std::size_t sample_lines = 0;
  for (std::string line; std::getline(metric_lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    ++sample_lines;
    const std::size_t space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    char* end = nullptr;
    const double value = std::strtod(line.c_str() + space + 1, &end);
    EXPECT_TRUE(*end == '\0' && std::isfinite(value)) << line;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string::npos) << line;
  }
  EXPECT_GE(sample_lines, 10u);
  EXPECT_NE(metrics.body.find("mote_device_online{device=\"kitchen\"} 0\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("mote_device_online{device=\"porch\"} 1\n"), std::string::npos);
  EXPECT_NE(
      metrics.body.find("mote_reading{device=\"kitchen\",metric=\"humidity\",unit=\"%\"} 40.25\n"),
      std::string::npos);
  EXPECT_NE(metrics.body.find("mote_samples_stored_total 3\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("mote_bad_messages_total 2\n"), std::string::npos) << metrics.body;

  EXPECT_EQ(gateway.process().stop(5s), 0) << gateway.process().describe();
}

// A browser that stops reading must not hold the gateway up: its queue
// overflows and it is closed with 1008, while ingest and the API go on.
TEST_F(GatewaySystemTest, ALiveClientThatStopsReadingIsClosedWith1008) {
  if (!testing::find_program(kPython)) GTEST_SKIP() << "no /usr/bin/python3";
  Gateway gateway(dir.file("data"), ports, 60);
  ASSERT_TRUE(gateway.ready(ports)) << gateway.process().describe();
  const std::string go = dir.file("go");
  ChildProcess stalled(
      {kPython, dir.write("stalled.py", kStalledClient), std::to_string(ports.http), go});
  ASSERT_TRUE(stalled.wait_for_output("open HTTP/1.1 101", 10s)) << stalled.describe();

  // Far more than the client's socket buffers and its queue hold.
  constexpr std::size_t kReadings = 30000;
  std::string lines;
  for (std::size_t i = 0; i < kReadings; ++i) lines += std::to_string(i % 100) + ".5\n";
  testing::ChildOptions from_file;
  from_file.stdin_path = dir.write("readings.txt", lines);
  ASSERT_EQ(run({"mosquitto_pub", "-p", std::to_string(ports.mqtt), "-t", "mote/flood/level", "-l"},
                from_file),
            0);
  ASSERT_TRUE(gateway.process().wait_for_output("closing it (1008)", 30s, true))
      << gateway.process().describe();
  // The gateway went on: every reading taken (those without time_ms that
  // arrive in the same millisecond are one sample in the store), the API
  // answers.
  EXPECT_TRUE(eventually([&] {
    return http_get(ports.http, "/metrics")
               .body.find("\nmote_samples_received_total " + std::to_string(kReadings) + "\n") !=
           std::string::npos;
  })) << http_get(ports.http, "/metrics").body;
  EXPECT_EQ(http_get(ports.http, "/api/devices/flood").status, 200);

  // Once it reads again, it gets what was in flight and then the close.
  dir.write("go", "");
  ASSERT_EQ(stalled.wait_for_exit(30s), 0) << stalled.describe();
  EXPECT_NE(stalled.stdout_text().find(" close 1008"), std::string::npos) << stalled.stdout_text();
  EXPECT_TRUE(eventually([&] {
    return http_get(ports.http, "/metrics").body.find("\nmote_live_clients 0\n") !=
           std::string::npos;
  }));
  EXPECT_EQ(gateway.process().stop(5s), 0) << gateway.process().describe();
}

// CoAP Observe (RFC 7641) of a metric's resource: every new reading,
// whether it came over MQTT or CoAP, is a notification.
TEST_F(GatewaySystemTest, CoapObserversGetEveryNewReading) {
  MOTE_SKIP_UNLESS_PROGRAM("coap-client-notls");
  Gateway gateway(dir.file("data"), ports, 60);
  ASSERT_TRUE(gateway.ready(ports)) << gateway.process().describe();
  const std::string resource =
      "coap://127.0.0.1:" + std::to_string(ports.coap) + "/mote/pond/temperature";
  ChildProcess first({"coap-client-notls", "-m", "post", "-e", "11.5", resource});
  ASSERT_EQ(first.wait_for_exit(10s), 0) << first.describe();
  ChildProcess observer({"coap-client-notls", "-m", "get", "-s", "5", resource});
  ASSERT_TRUE(observer.wait_for_output("11.5", 10s)) << observer.describe();
  ASSERT_EQ(publish(ports, "mote/pond/temperature", "12.25"), 0);
  EXPECT_TRUE(observer.wait_for_output("12.25", 10s)) << observer.describe();
  ChildProcess second({"coap-client-notls", "-m", "put", "-e", "13.75", resource});
  ASSERT_EQ(second.wait_for_exit(10s), 0) << second.describe();
  EXPECT_TRUE(observer.wait_for_output("13.75", 10s)) << observer.describe();
  observer.stop();
  EXPECT_EQ(gateway.process().stop(5s), 0);
}

// A config file sets what the flags leave alone: here the topic prefix and
// a threshold rule; its ports are overridden by the flags.
TEST_F(GatewaySystemTest, TheConfigFileSetsThePrefixAndThresholds) {
  const std::string config = dir.write("gateway.toml",
                                       "[mqtt]\nport = 1\ntopic_prefix = \"farm\"\n"
                                       "[[alerts.threshold]]\ndevice = \"*\"\n"
                                       "metric = \"temperature\"\nabove = 30.0\n");
  Gateway gateway(dir.file("data"), ports, 60, config);
  ASSERT_TRUE(gateway.ready(ports)) << gateway.process().describe();
  ASSERT_EQ(publish(ports, "mote/barn/temperature", "35"), 0);  // not the prefix: ignored
  ASSERT_EQ(publish(ports, "farm/barn/temperature", "35"), 0);
  json alerts;
  ASSERT_TRUE(eventually([&] {
    alerts = get_json(ports.http, "/api/alerts");
    return alerts.is_object() && alerts["alerts"].size() == 1;
  })) << gateway.process().describe();
  EXPECT_EQ(alerts["alerts"][0]["kind"], "threshold");
  EXPECT_EQ(alerts["alerts"][0]["device"], "barn");
  EXPECT_EQ(get_json(ports.http, "/api/devices")["devices"].size(), 1u);
  ASSERT_EQ(publish(ports, "farm/barn/temperature", "20"), 0);
  EXPECT_TRUE(eventually([&] { return get_json(ports.http, "/api/alerts")["alerts"].empty(); }));
  EXPECT_EQ(gateway.process().stop(5s), 0);

  // A config with a typo is a usage error naming the line.
  const std::string typo = dir.write("typo.toml", "[mqtt]\nprot = 1883\n");
  ChildProcess refused({MOTE_BINARY, "gateway", "-c", typo, "--data-dir", dir.file("other")});
  EXPECT_EQ(refused.wait_for_exit(10s), 2);
  EXPECT_NE(refused.stderr_text().find("typo.toml:2"), std::string::npos) << refused.describe();
}

// MQTT over WebSocket at /mqtt on the HTTP port: MQTT.js (both versions)
// and paho's edge-case script (refusals, deflate, faults, WebSocket <-> TCP);
// a reading published over WebSocket reaches the API. Turned off, /mqtt is
// no upgrade (the router's 404).
TEST_F(GatewaySystemTest, MqttOverWebSocketAtSlashMqtt) {
  if (!testing::find_program(kPython)) GTEST_SKIP() << "no /usr/bin/python3";
  Gateway gateway(dir.file("data"), ports, 60);
  ASSERT_TRUE(gateway.ready(ports)) << gateway.process().describe();
  const std::string testdata = MOTE_BROKER_TESTDATA;
  const std::string peers = std::string(MOTE_SOURCE_DIR) + "/tools/peers";
  if (testing::find_program("node") && std::ifstream(peers + "/node_modules/mqtt/package.json")) {
    for (const char* version : {"4", "5"}) {
      testing::ChildOptions options;
      options.stdin_path = testdata + "/mqttjs_check.mjs";
      options.working_directory = peers;
      ChildProcess mqttjs({"node", "--input-type=module", "-",
                           "ws://127.0.0.1:" + std::to_string(ports.http) + "/mqtt", version},
                          options);
      EXPECT_EQ(mqttjs.wait_for_exit(20s), 0) << mqttjs.describe();
      EXPECT_EQ(mqttjs.stdout_text(), "OK\n") << "MQTT.js protocol " << version;
    }
  }
  ChildProcess edges({kPython, testdata + "/ws_check.py", std::to_string(ports.http), "/mqtt",
                      std::to_string(ports.mqtt)});
  EXPECT_EQ(edges.wait_for_exit(30s), 0) << edges.describe() << gateway.process().describe();
  EXPECT_EQ(edges.stdout_text(), "OK\n");

  const std::string publisher = dir.write("publish.py", R"(
import sys, paho.mqtt.client as mqtt
c = mqtt.Client(client_id="browser", transport="websockets")
c.connect("127.0.0.1", int(sys.argv[1]))
c.loop_start()
c.publish("mote/browser/temperature", b"22.5", qos=1).wait_for_publish(5)
c.disconnect()
c.loop_stop()
)");
  EXPECT_EQ(run({kPython, publisher, std::to_string(ports.http)}), 0);
  EXPECT_TRUE(eventually([&] {
    return device_of(get_json(ports.http, "/api/devices"), "browser")
               .value("metrics", json::array())
               .size() == 1;
  })) << gateway.process().describe();
  EXPECT_EQ(gateway.process().stop(5s), 0);

  Ports other;
  std::vector<std::string> args = gateway_args(dir.file("data2"), other, 60, {});
  args.emplace_back("--no-mqtt-websocket");
  ChildProcess without(args);
  ASSERT_TRUE(without.started() && testing::wait_for_tcp_listener(other.http, 10s))
      << without.describe();
  ChildProcess upgrade(
      {"curl", "-s", "-o", "/dev/null", "--max-time", "5", "-w", "%{http_code}", "-H",
       "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13", "-H",
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "-H", "Sec-WebSocket-Protocol: mqtt",
       "http://127.0.0.1:" + std::to_string(other.http) + "/mqtt"});
  EXPECT_EQ(upgrade.wait_for_exit(10s).value_or(-1), 0) << upgrade.describe();
  EXPECT_EQ(upgrade.stdout_text(), "404") << upgrade.describe();
  EXPECT_EQ(without.stdout_text().find("MQTT/WS"), std::string::npos) << without.describe();
  EXPECT_EQ(without.stop(5s), 0);
}

TEST_F(GatewaySystemTest, LiveClientsAreToldWhenTheGatewayStops) {
  if (!testing::find_program(kPython)) GTEST_SKIP() << "no /usr/bin/python3";
  Gateway gateway(dir.file("data"), ports, 60);
  ASSERT_TRUE(gateway.ready(ports)) << gateway.process().describe();
  ChildProcess live({kPython, dir.write("live.py", kLiveClient),
                     "ws://127.0.0.1:" + std::to_string(ports.http) + "/api/live", "30"});
  ASSERT_TRUE(live.wait_for_output("open", 10s)) << live.describe();
  gateway.process().signal(SIGTERM);
  EXPECT_EQ(gateway.process().wait_for_exit(10s), 0) << gateway.process().describe();
  EXPECT_EQ(live.wait_for_exit(10s), 0) << live.describe();
  EXPECT_NE(live.stdout_text().find("closed 1001"), std::string::npos) << live.describe();
}

TEST_F(GatewaySystemTest, SilenceMarksADeviceOffline) {
  Gateway gateway(dir.file("data"), ports, 1);
  ASSERT_TRUE(gateway.ready(ports)) << gateway.process().describe();
  ASSERT_EQ(publish(ports, "mote/shed/temperature", "5"), 0);
  ASSERT_TRUE(eventually([&] {
    const json alerts = get_json(ports.http, "/api/alerts");
    return alerts.is_object() && alerts["alerts"].size() == 1 &&
           alerts["alerts"][0]["id"] == "shed/silent";
  })) << gateway.process().describe();
  // The next reading clears it.
  ASSERT_EQ(publish(ports, "mote/shed/temperature", "6"), 0);
  EXPECT_TRUE(eventually([&] {
    const json device = get_json(ports.http, "/api/devices/shed");
    return device.is_object() && device["online"].get<bool>();
  }));
  EXPECT_EQ(gateway.process().stop(5s), 0);
}

// Every reading the gateway acknowledged (an MQTT QoS 1 PUBACK, a CoAP
// 2.04) is there after a restart, whether the gateway stopped cleanly
// (SIGTERM) or was killed (SIGKILL) the moment the last acknowledgement
// arrived: readings are acknowledged only once they are in the store.
void restart_keeps_readings(const testing::TempDir& dir, const Ports& ports, int stop_signal) {
  MOTE_SKIP_UNLESS_PROGRAM("coap-client-notls");
  constexpr std::size_t kReadings = 50;
  constexpr std::size_t kCoapReadings = 3;
  std::string lines;
  for (std::size_t i = 0; i < kReadings; ++i) {
    lines += R"({"value": )" + std::to_string(i) + R"(, "time_ms": )" +
             std::to_string(1795219200000 + i * 1000) + "}\n";
  }
  const std::string input = dir.write("readings.txt", lines);
  const std::string coap = "coap://127.0.0.1:" + std::to_string(ports.coap);
  {
    Gateway gateway(dir.file("data"), ports);
    ASSERT_TRUE(gateway.ready(ports)) << gateway.process().describe();
    testing::ChildOptions from_file;
    from_file.stdin_path = input;
    // mosquitto_pub -q 1 exits once every PUBLISH is acknowledged.
    ASSERT_EQ(run({"mosquitto_pub", "-p", std::to_string(ports.mqtt), "-q", "1", "-t",
                   "mote/vault/temperature", "-l"},
                  from_file),
              0);
    for (std::size_t i = 0; i < kCoapReadings; ++i) {
      ChildProcess post({"coap-client-notls", "-m", "post", "-e",
                         R"({"value": )" + std::to_string(i) + R"(, "time_ms": )" +
                             std::to_string(1795219200000 + i * 1000) + "}",
                         coap + "/mote/vault/humidity"});
      ASSERT_EQ(post.wait_for_exit(10s), 0) << post.describe();
      ASSERT_EQ(post.stderr_text().find("5.00"), std::string::npos) << post.describe();
    }
    gateway.process().signal(stop_signal);
    const std::optional<int> exit = gateway.process().wait_for_exit(10s);
    if (stop_signal == SIGTERM) {
      EXPECT_EQ(exit, 0) << gateway.process().describe();
      EXPECT_TRUE(gateway.process().wait_for_output("stopped", 1s)) << gateway.process().describe();
    } else {
      EXPECT_TRUE(exit.has_value());
    }
  }
  Gateway again(dir.file("data"), ports);
  ASSERT_TRUE(again.ready(ports)) << again.process().describe();
  EXPECT_EQ(history_count(ports.http, "vault", "temperature"), kReadings);
  EXPECT_EQ(history_count(ports.http, "vault", "humidity"), kCoapReadings);
  const json vault = get_json(ports.http, "/api/devices/vault");
  EXPECT_FALSE(vault.value("online", true)) << vault.dump();  // known, offline until heard from
  EXPECT_EQ(vault["metrics"][1]["last_value"], static_cast<double>(kReadings - 1)) << vault.dump();
  EXPECT_EQ(again.process().stop(5s), 0);
}

TEST_F(GatewaySystemTest, RestartAfterSigtermKeepsEveryReading) {
  restart_keeps_readings(dir, ports, SIGTERM);
}

TEST_F(GatewaySystemTest, RestartAfterKill9KeepsEveryAcknowledgedReading) {
  restart_keeps_readings(dir, ports, SIGKILL);
}

TEST_F(GatewaySystemTest, SensorNodesGoOnlineAndOfflineWhenKilled) {
  Gateway gateway(dir.file("data"), ports, 30);
  ASSERT_TRUE(gateway.ready(ports)) << gateway.process().describe();
  const std::string mqtt = "127.0.0.1:" + std::to_string(ports.mqtt);
  ChildProcess north({MOTE_BINARY, "sensor", "--name", "north", "--simulate", "--interval", "200ms",
                      "--mqtt", mqtt});
  ChildProcess south({MOTE_BINARY, "sensor", "--name", "south", "--simulate", "--interval", "200ms",
                      "--mqtt", mqtt});
  const auto online = [&](const std::string& name) {
    const json device = device_of(get_json(ports.http, "/api/devices"), name);
    return device.is_object() && device["online"].get<bool>() &&
           !device.value("metrics", json::array()).empty();
  };
  ASSERT_TRUE(eventually([&] { return online("north") && online("south"); }))
      << gateway.process().describe() << north.describe() << south.describe();
  // kill -9: no clean goodbye; the broker publishes the node's will.
  south.signal(SIGKILL);
  ASSERT_TRUE(eventually([&] { return !online("south"); })) << gateway.process().describe();
  EXPECT_TRUE(online("north"));
  const json alerts = get_json(ports.http, "/api/alerts");
  ASSERT_EQ(alerts["alerts"].size(), 1u) << alerts.dump();
  EXPECT_EQ(alerts["alerts"][0]["device"], "south");
  north.stop();
  EXPECT_EQ(gateway.process().stop(5s), 0);
}

}  // namespace
}  // namespace mote::gateway
