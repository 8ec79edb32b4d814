// The firmware sensor node against the real gateway: `mote gateway` on
// loopback ports, the coap_node image (firmware/coap_node, built by the
// cortex-m3 preset) in QEMU's mps2-an385 with its LAN9118 on QEMU's user
// networking (slirp: DHCP from QEMU, the host's loopback at 10.0.2.2). The
// node gets a lease, reads its DS18B20 and POSTs each reading to the
// gateway's CoAP port, which the test passes on the semihosting command line
// (-append). The readings must show up in the REST API and the store.
//
// The image: $MOTE_COAP_NODE_IMAGE, else MOTE_COAP_NODE_IMAGE_DEFAULT
// (build/cortex-m3/firmware/coap_node/coap_node.elf). The cortex-m3 build
// registers this test with its own image (firmware/coap_node/CMakeLists.txt).
// Skipped, saying why, without qemu-system-arm, curl or the image. Every
// wait is bounded; nothing leaves loopback (slirp has no hostfwd here and
// the node only talks to 10.0.2.2, which slirp maps to 127.0.0.1).

#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>

#include "mote/testing/process.hpp"

namespace mote::gateway {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::ChildProcess;

constexpr const char* kDevice = "qemu-node";

std::string image_path() {
  if (const char* path = std::getenv("MOTE_COAP_NODE_IMAGE"); path != nullptr && *path != '\0') {
    return path;
  }
  return MOTE_COAP_NODE_IMAGE_DEFAULT;
}

struct Ports {
  std::uint16_t mqtt = testing::unused_port(SOCK_STREAM);
  std::uint16_t http = testing::unused_port(SOCK_STREAM);
  std::uint16_t coap = testing::unused_port(SOCK_DGRAM);
};

std::vector<std::string> gateway_args(const std::string& data_dir, const Ports& ports) {
  return {MOTE_BINARY,   "gateway",
          "--data-dir",  data_dir,
          "--mqtt-port", std::to_string(ports.mqtt),
          "--http-port", std::to_string(ports.http),
          "--coap-port", std::to_string(ports.coap)};
}

// The QEMU command line `mote demo` and this test use: the image's
// semihosting command line carries the gateway's address.
std::vector<std::string> qemu_args(const std::string& image, const std::string& append) {
  return {"qemu-system-arm",
          "-M",
          "mps2-an385",
          "-nographic",
          "-monitor",
          "none",
          "-semihosting-config",
          "enable=on,target=native",
          "-nic",
          "user,model=lan9118",
          "-kernel",
          image,
          "-append",
          append};
}

json get_json(std::uint16_t port, const std::string& path) {
  ChildProcess curl({"curl", "-s", "-S", "--max-time", "5", "-w", "\n%{http_code}",
                     "http://127.0.0.1:" + std::to_string(port) + path});
  if (curl.wait_for_exit(10s) != 0) return json();
  const std::string out = curl.stdout_text();
  const std::size_t newline = out.rfind('\n');
  if (newline == std::string::npos || out.substr(newline + 1) != "200") return json();
  return json::parse(out.substr(0, newline), nullptr, false);
}

json device_of(const json& devices, const std::string& name) {
  if (!devices.is_object() || !devices.contains("devices")) return json();
  for (const json& device : devices["devices"]) {
    if (device.value("name", "") == name) return device;
  }
  return json();
}

// The stored readings of one metric over the last 10 minutes: [time_ms,
// min, max, mean, count] points, one per reading (raw resolution).
json history(const Ports& ports, const std::string& device, const std::string& metric) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const json answer = get_json(ports.http, "/api/devices/" + device + "/metrics/" + metric +
                                               "/history?from=" + std::to_string(now_ms - 600'000) +
                                               "&points=100000");
  if (!answer.is_object() || !answer.contains("points")) return json::array();
  return answer["points"];
}

std::size_t count_of(const json& points) {
  std::size_t count = 0;
  for (const json& point : points) count += point[4].get<std::size_t>();
  return count;
}

template <typename Check>
bool eventually(Check check, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!check()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

class FirmwareNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MOTE_SKIP_UNLESS_PROGRAM("qemu-system-arm");
    MOTE_SKIP_UNLESS_PROGRAM("curl");
    image_ = image_path();
    if (!std::filesystem::exists(image_)) {
      GTEST_SKIP() << "no firmware image at " << image_
                   << " (cmake --workflow --preset cortex-m3 builds it; MOTE_COAP_NODE_IMAGE "
                      "names another)";
    }
  }

  std::string append(const Ports& ports, int count) const {
    return "--gateway 10.0.2.2:" + std::to_string(ports.coap) + " --device " + kDevice +
           " --interval-ms 200 --count " + std::to_string(count);
  }

  testing::TempDir dir_;
  std::string image_;
};

// The simulated DS18B20 reads 20 °C + n/16 °C at reading n (main.cpp), and
// the driver reports 1/16 °C steps in m°C, rounded toward zero.
double expected_celsius(int n) { return static_cast<double>((320 + n) * 125 / 2) / 1000.0; }

TEST_F(FirmwareNodeTest, ReadingsReachTheGatewayOverCoap) {
  const Ports ports;
  ChildProcess gateway(gateway_args(dir_.path(), ports));
  ASSERT_TRUE(gateway.started() && testing::wait_for_tcp_listener(ports.http, 10s))
      << gateway.describe();

  constexpr int kReadings = 5;
  ChildProcess node(qemu_args(image_, append(ports, kReadings)));
  ASSERT_TRUE(node.started());
  // DHCP, then five readings 200 ms apart, each acknowledged by the
  // gateway; the image exits 0 after the last.
  ASSERT_EQ(node.wait_for_exit(60s), 0) << node.describe();
  EXPECT_NE(node.stderr_text().find("lease 10.0.2.15/24"), std::string::npos) << node.describe();
  EXPECT_NE(node.stderr_text().find("coap_node: PASS"), std::string::npos) << node.describe();

  json device;
  ASSERT_TRUE(eventually([&] {
    device = device_of(get_json(ports.http, "/api/devices"), kDevice);
    return device.is_object() && !device["metrics"].empty();
  })) << gateway.describe();
  EXPECT_TRUE(device["online"].get<bool>());  // the node said "online" first
  const json& metric = device["metrics"][0];
  EXPECT_EQ(metric["name"], "temperature");
  EXPECT_EQ(metric["unit"], "°C");

  // Every reading stored once, with the values the sensor measured.
  json points;
  ASSERT_TRUE(eventually([&] {
    points = history(ports, kDevice, "temperature");
    return count_of(points) >= kReadings;
  })) << points.dump();
  EXPECT_EQ(count_of(points), static_cast<std::size_t>(kReadings)) << points.dump();
  ASSERT_EQ(points.size(), static_cast<std::size_t>(kReadings)) << points.dump();  // raw points
  for (int n = 0; n < kReadings; ++n) {
    EXPECT_DOUBLE_EQ(points[n][3].get<double>(), expected_celsius(n)) << points.dump();
  }
  EXPECT_DOUBLE_EQ(
      device_of(get_json(ports.http, "/api/devices"), kDevice)["metrics"][0]["last_value"]
          .get<double>(),
      expected_celsius(kReadings - 1));
  EXPECT_EQ(gateway.stop(), 0) << gateway.describe();
}

// The node starts while nothing listens on the gateway's port: its first
// requests go unanswered (CoAP retransmits them with exponential back-off),
// and once the gateway is up the readings get through.
TEST_F(FirmwareNodeTest, KeepsTryingWhileTheGatewayIsAway) {
  const Ports ports;
  constexpr int kReadings = 3;
  ChildProcess node(qemu_args(image_, append(ports, kReadings)));
  ASSERT_TRUE(node.started());
  ASSERT_TRUE(node.wait_for_output("publishing to", 30s, true)) << node.describe();
  // The first request is on its way; let it go unanswered for a while.
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(node.running()) << node.describe();
  EXPECT_EQ(node.stderr_text().find("taken"), std::string::npos) << node.describe();

  ChildProcess gateway(gateway_args(dir_.path(), ports));
  ASSERT_TRUE(gateway.started() && testing::wait_for_tcp_listener(ports.http, 10s))
      << gateway.describe();
  ASSERT_EQ(node.wait_for_exit(90s), 0) << node.describe();
  ASSERT_TRUE(eventually([&] {
    return count_of(history(ports, kDevice, "temperature")) >= kReadings;
  })) << gateway.describe();
  EXPECT_EQ(gateway.stop(), 0) << gateway.describe();
}

}  // namespace
}  // namespace mote::gateway
