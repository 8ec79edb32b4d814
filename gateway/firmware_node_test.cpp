// The firmware sensor node against the real gateway: `mote gateway` on
// loopback ports, the sensor_node_net image (firmware/sensor_node_net, built by the
// cortex-m3 preset) in QEMU's mps2-an385 with its LAN9118 on QEMU's user
// networking (slirp: DHCP from QEMU, the host's loopback at 10.0.2.2). The
// node gets a lease, reads its DS18B20 and sends each reading to the
// gateway — published at QoS 1 to its MQTT port over mote's TCP, or POSTed
// to its CoAP port — which the test passes on the semihosting command line
// (-append "--mqtt 10.0.2.2:PORT" / "--coap ..."). The readings must show up
// in the REST API and the store, and the node online, then offline (by its
// last word on a clean stop, by its will when QEMU is killed).
//
// The image: $MOTE_SENSOR_NODE_NET_IMAGE, else MOTE_SENSOR_NODE_NET_IMAGE_DEFAULT
// (build/cortex-m3/firmware/sensor_node_net/sensor_node_net.elf). The cortex-m3 build
// registers this test with its own image (firmware/sensor_node_net/CMakeLists.txt).
// Skipped, saying why, without qemu-system-arm, curl or the image. Every
// wait is bounded; nothing leaves loopback (slirp has no hostfwd here and
// the node only talks to 10.0.2.2, which slirp maps to 127.0.0.1).

#include "mote/gateway/firmware_node.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>

#include "mote/async/async.hpp"
#include "mote/coap/server.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/linux/qemu_link.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/net/stack.hpp"
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
using system_test::history_points;
using system_test::Ports;
using system_test::readings_in;
using testing::ChildProcess;

constexpr const char* kDevice = "qemu-node";

std::vector<std::string> gateway_args(const std::string& data_dir, const Ports& ports) {
  return {MOTE_BINARY,   "gateway",
          "--data-dir",  data_dir,
          "--mqtt-port", std::to_string(ports.mqtt),
          "--http-port", std::to_string(ports.http),
          "--coap-port", std::to_string(ports.coap)};
}

// QEMU as `mote demo` runs it; `append` is the node's command line.
std::vector<std::string> qemu_args(const std::string& image, const std::string& append) {
  return firmware_node_qemu_argv("qemu-system-arm", image, append);
}

class FirmwareNodeTest : public ::testing::Test {
 public:
  using Transport = FirmwareNodeOptions::Transport;

  // --count 0: run until killed.
  static std::string append(const Ports& ports, Transport transport, std::uint32_t count) {
    return firmware_node_command_line(
        {.transport = transport,
         .port = transport == Transport::mqtt ? ports.mqtt : ports.coap,
         .device = kDevice,
         .interval = 200ms,
         .count = count});
  }

 protected:
  void SetUp() override {
    MOTE_SKIP_UNLESS_PROGRAM("qemu-system-arm");
    MOTE_SKIP_UNLESS_PROGRAM("curl");
    image_ = system_test::sensor_node_net_image(MOTE_SENSOR_NODE_NET_IMAGE_DEFAULT);
    if (!std::filesystem::exists(image_)) {
      GTEST_SKIP() << "no firmware image at " << image_
                   << " (cmake --workflow --preset cortex-m3 builds it; MOTE_SENSOR_NODE_NET_IMAGE "
                      "names another)";
    }
  }

  testing::TempDir dir_;
  std::string image_;
};

// The simulated DS18B20 reads 20 °C + n/16 °C at reading n (main.cpp), and
// the driver reports 1/16 °C steps in m°C, rounded toward zero.
double expected_celsius(int n) { return static_cast<double>((320 + n) * 125 / 2) / 1000.0; }

// After a node with --count N exited: the device is in the REST API with
// exactly its N readings, in order, and went online, then offline.
void expect_readings_stored(const Ports& ports, const ChildProcess& gateway, int readings) {
  json device;
  ASSERT_TRUE(eventually([&] {
    device = device_of(get_json(ports.http, "/api/devices"), kDevice);
    return device.is_object() && !device["metrics"].empty();
  })) << gateway.describe();
  // The node said "online" first and "offline" when it stopped.
  EXPECT_TRUE(eventually([&] {
    return !device_of(get_json(ports.http, "/api/devices"), kDevice).value("online", true);
  })) << gateway.describe();
  EXPECT_NE((gateway.stdout_text() + gateway.stderr_text()).find("qemu-node is online"),
            std::string::npos)
      << gateway.describe();
  const json& metric = device["metrics"][0];
  EXPECT_EQ(metric["name"], "temperature");
  EXPECT_EQ(metric["unit"], "°C");

  // Every reading stored once, with the values the sensor measured.
  json points;
  ASSERT_TRUE(eventually([&] {
    points = history_points(ports.http, kDevice, "temperature");
    return readings_in(points) >= static_cast<std::size_t>(readings);
  })) << points.dump();
  EXPECT_EQ(readings_in(points), static_cast<std::size_t>(readings)) << points.dump();
  ASSERT_EQ(points.size(), static_cast<std::size_t>(readings)) << points.dump();  // raw points
  for (int n = 0; n < readings; ++n) {
    EXPECT_DOUBLE_EQ(points[n][3].get<double>(), expected_celsius(n)) << points.dump();
  }
  EXPECT_DOUBLE_EQ(
      device_of(get_json(ports.http, "/api/devices"), kDevice)["metrics"][0]["last_value"]
          .get<double>(),
      expected_celsius(readings - 1));
}

// A gateway, then a node with --count `readings` over `transport`: DHCP,
// the readings 200 ms apart, each acknowledged by the gateway; the image
// exits 0 after the last and everything it took is stored. Returns the
// node's log.
std::string run_node_to_its_count(const std::string& data_dir, const std::string& image,
                                  FirmwareNodeTest::Transport transport, int readings) {
  const Ports ports;
  ChildProcess gateway(gateway_args(data_dir, ports));
  EXPECT_TRUE(gateway.started() && testing::wait_for_tcp_listener(ports.http, 10s))
      << gateway.describe();
  ChildProcess node(qemu_args(image, FirmwareNodeTest::append(ports, transport, readings)));
  EXPECT_TRUE(node.started());
  EXPECT_EQ(node.wait_for_exit(60s), 0) << node.describe();
  const std::string log = node.stderr_text();
  EXPECT_NE(log.find("lease 10.0.2.15/24"), std::string::npos) << node.describe();
  const std::string server = transport == FirmwareNodeTest::Transport::mqtt
                                 ? "mqtt://10.0.2.2:" + std::to_string(ports.mqtt)
                                 : "coap://10.0.2.2:" + std::to_string(ports.coap);
  EXPECT_NE(log.find("publishing to " + server + "/mote/qemu-node/temperature"), std::string::npos)
      << node.describe();
  EXPECT_NE(log.find("readings taken " + std::to_string(readings) + ", failed 0"),
            std::string::npos)
      << node.describe();
  EXPECT_NE(log.find("sensor_node_net: PASS"), std::string::npos) << node.describe();
  expect_readings_stored(ports, gateway, readings);
  EXPECT_EQ(gateway.stop(), 0) << gateway.describe();
  return log;
}

TEST_F(FirmwareNodeTest, ReadingsReachTheGatewayOverCoap) {
  run_node_to_its_count(dir_.path(), image_, Transport::coap, 5);
}

// The same over MQTT: mote's MQTT client on mote's TCP on the LAN9118,
// through slirp to the gateway's broker. "online" (retained, QoS 1) after
// CONNACK, each reading at QoS 1 once its PUBACK came, "offline", then
// DISCONNECT and a clean TCP close: one connection, no reconnects.
TEST_F(FirmwareNodeTest, ReadingsReachTheGatewayOverMqtt) {
  const std::string log = run_node_to_its_count(dir_.path(), image_, Transport::mqtt, 5);
  EXPECT_NE(log.find("mqtt connections 1\n"), std::string::npos) << log;
  EXPECT_EQ(log.find("reconnecting"), std::string::npos) << log;
}

// A node that vanishes: QEMU killed while the node is connected. Its TCP
// connection (slirp's host socket) closes with the process, and the broker
// publishes the will: the device goes offline at once, not after the
// gateway's silence timeout (set to 10 minutes here so only the will can
// do it).
TEST_F(FirmwareNodeTest, GoesOfflineByItsWillWhenQemuIsKilled) {
  const Ports ports;
  std::vector<std::string> args = gateway_args(dir_.path(), ports);
  args.insert(args.end(), {"--silent-after", "600"});
  ChildProcess gateway(args);
  ASSERT_TRUE(gateway.started() && testing::wait_for_tcp_listener(ports.http, 10s))
      << gateway.describe();

  ChildProcess node(qemu_args(image_, append(ports, Transport::mqtt, 0)));
  ASSERT_TRUE(node.started());
  ASSERT_TRUE(node.wait_for_output("reading 3: ", 60s, true)) << node.describe();
  ASSERT_TRUE(eventually([&] {
    return device_of(get_json(ports.http, "/api/devices"), kDevice).value("online", false);
  })) << gateway.describe();

  node.signal(SIGKILL);
  ASSERT_TRUE(node.wait_for_exit(10s).has_value()) << node.describe();
  EXPECT_TRUE(eventually([&] {
    return !device_of(get_json(ports.http, "/api/devices"), kDevice).value("online", true);
  })) << gateway.describe();
  EXPECT_NE((gateway.stdout_text() + gateway.stderr_text()).find("qemu-node is offline"),
            std::string::npos)
      << gateway.describe();
  // Every reading the broker acknowledged reaches the store (batched).
  EXPECT_TRUE(eventually([&] { return history_count(ports.http, kDevice, "temperature") >= 3; }))
      << gateway.describe();
  EXPECT_EQ(gateway.stop(), 0) << gateway.describe();
}

// The status topic's retained message, read by mosquitto_sub ("" when
// there is none within 2 s).
std::string retained_status(const Ports& ports) {
  ChildProcess sub({"mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(ports.mqtt), "-t",
                    std::string("mote/") + kDevice + "/status", "-C", "1", "-W", "2"});
  static_cast<void>(sub.wait_for_exit(10s));
  std::string text = sub.stdout_text();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// Another client connects with the node's client id: the broker ends the
// node's session (Session taken over) and publishes its will, so the
// retained status says "offline". The node reconnects and, before its next
// reading, says "online" again — only it can make the retained status
// "online" once more.
TEST_F(FirmwareNodeTest, SaysOnlineAgainAfterItsSessionIsTakenOver) {
  MOTE_SKIP_UNLESS_PROGRAM("mosquitto_pub");
  MOTE_SKIP_UNLESS_PROGRAM("mosquitto_sub");
  const Ports ports;
  ChildProcess gateway(gateway_args(dir_.path(), ports));
  ASSERT_TRUE(gateway.started() && testing::wait_for_tcp_listener(ports.http, 10s))
      << gateway.describe();
  ChildProcess node(qemu_args(image_, append(ports, Transport::mqtt, 0)));
  ASSERT_TRUE(node.started());
  ASSERT_TRUE(node.wait_for_output("reading 2: ", 60s, true)) << node.describe();
  EXPECT_EQ(retained_status(ports), "online");

  ChildProcess intruder({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(ports.mqtt), "-V",
                         "5", "-i", std::string("mote-node-") + kDevice, "-t", "elsewhere/x", "-m",
                         "1"});
  ASSERT_EQ(intruder.wait_for_exit(10s), 0) << intruder.describe();
  ASSERT_TRUE(node.wait_for_output("Session taken over", 10s, true)) << node.describe();
  // The will went out: the gateway saw "offline".
  EXPECT_TRUE(eventually([&] {
    return (gateway.stdout_text() + gateway.stderr_text()).find("qemu-node is offline") !=
           std::string::npos;
  })) << gateway.describe();
  EXPECT_TRUE(eventually([&] { return retained_status(ports) == "online"; })) << node.describe();
  EXPECT_TRUE(node.running()) << node.describe();
  EXPECT_TRUE(device_of(get_json(ports.http, "/api/devices"), kDevice).value("online", false));

  node.signal(SIGKILL);
  ASSERT_TRUE(node.wait_for_exit(10s).has_value());
  EXPECT_TRUE(eventually([&] { return retained_status(ports) == "offline"; }));
  EXPECT_EQ(gateway.stop(), 0) << gateway.describe();
}

// The node starts while nothing listens on the gateway's port and keeps
// trying; `waiting` in its log says it is, and it goes on for `linger`.
// Then the gateway starts and the
// node's readings (none taken before) get through and are stored. Returns
// the node's log.
std::string run_node_before_gateway(const std::string& data_dir, const std::string& image,
                                    FirmwareNodeTest::Transport transport,
                                    const std::string& waiting, std::chrono::milliseconds linger) {
  const Ports ports;
  constexpr int kReadings = 3;
  ChildProcess node(qemu_args(image, FirmwareNodeTest::append(ports, transport, kReadings)));
  EXPECT_TRUE(node.started());
  EXPECT_TRUE(node.wait_for_output(waiting, 30s, true)) << node.describe();
  std::this_thread::sleep_for(linger);
  EXPECT_TRUE(node.running()) << node.describe();
  EXPECT_EQ(node.stderr_text().find("taken"), std::string::npos) << node.describe();

  ChildProcess gateway(gateway_args(data_dir, ports));
  EXPECT_TRUE(gateway.started() && testing::wait_for_tcp_listener(ports.http, 10s))
      << gateway.describe();
  EXPECT_EQ(node.wait_for_exit(90s), 0) << node.describe();
  expect_readings_stored(ports, gateway, kReadings);
  EXPECT_EQ(gateway.stop(), 0) << gateway.describe();
  return node.stderr_text();
}

// MQTT: slirp refuses the node's connections (RST) and the client
// reconnects with backoff (500 ms doubling, at most 5 s) until the broker
// answers; "online" and the first reading, queued meanwhile, go out then.
TEST_F(FirmwareNodeTest, ConnectsOnceTheGatewayIsUpOverMqtt) {
  const std::string log =
      run_node_before_gateway(dir_.path(), image_, Transport::mqtt, "reconnecting in 1000 ms", 0ms);
  EXPECT_NE(log.find("mqtt connections 1\n"), std::string::npos) << log;
}

// CoAP: the first requests go unanswered (CoAP retransmits them with
// exponential back-off), and once the gateway is up the readings get through.
TEST_F(FirmwareNodeTest, KeepsTryingWhileTheGatewayIsAwayOverCoap) {
  // The first request goes out right after "publishing to"; it stays
  // unanswered for a while.
  run_node_before_gateway(dir_.path(), image_, Transport::coap, "publishing to", 1500ms);
}

// A command line the node cannot follow ends it at once with status 2 and
// says why, before it touches the network.
TEST_F(FirmwareNodeTest, RefusesABadCommandLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--mqtt 10.0.2.2:1883 --coap 10.0.2.2:5683", "give one of them"},
      {"--mqtt 10.0.2.2", "bad value for --mqtt"},
      {"--coap 10.0.2.2:0", "bad value for --coap"},
      {"--gateway 10.0.2.2:5683", "unknown option --gateway"},
      {"--device bad/name", "bad value for --device"},
  };
  for (const auto& [line, complaint] : cases) {
    ChildProcess node(qemu_args(image_, line));
    ASSERT_TRUE(node.started());
    EXPECT_EQ(node.wait_for_exit(30s), 2) << line << "\n" << node.describe();
    EXPECT_NE(node.stderr_text().find(complaint), std::string::npos) << node.describe();
    EXPECT_EQ(node.stderr_text().find("LAN9118"), std::string::npos) << node.describe();
  }
}

// Driver level, without slirp: the LAN9118 on `-netdev dgram` (one UDP
// datagram on 127.0.0.1 per Ethernet frame) facing mote's own stack on the
// host (QemuDgramLink) with a CoAP server. The node has a fixed address
// (--address) and the MAC given to QEMU: ARP both ways, then confirmable
// POSTs and their ACKs, every frame through the driver's FIFOs.
class IngestRecorder final : public coap::Resource {
 public:
  IngestRecorder() : coap::Resource("") {}
  void handle(const coap::ServerRequest& request, coap::ResponseBuilder& response) override {
    char path[256];
    const Result<std::size_t> size = request.message.uri_path(path);
    requests.push_back(std::string(path, size.value_or(0)) + " " +
                       std::string(as_string_view(request.payload)));
    response.set_code(coap::codes::kChanged);
  }
  std::vector<std::string> requests;
};

async::Task<void> run_host_stack(net::Stack<net::QemuDgramLink>& stack) { return stack.run(); }
async::Task<Status> run_server(coap::Server<net::UdpSocket>& server) {
  co_return co_await server.run();
}

TEST_F(FirmwareNodeTest, TalksToMoteStackOverDgramLink) {
  const std::uint16_t qemu_port = testing::unused_port(SOCK_DGRAM);
  const std::uint16_t host_port = testing::unused_port(SOCK_DGRAM);
  const io::Ipv4Address localhost(127, 0, 0, 1);
  platform::EpollDriver driver;
  async::Executor executor(driver);
  Result<net::QemuDgramLink> link = net::QemuDgramLink::open(
      driver, io::Endpoint{localhost, host_port}, io::Endpoint{localhost, qemu_port});
  ASSERT_TRUE(link.ok()) << link.status().str();
  net::InterfaceConfig config;
  config.hardware_address = net::wire::MacAddress(0x02, 0x6d, 0x6f, 0x74, 0x65, 0x01);
  net::StaticInterface<> iface(link->capabilities(), config);
  ASSERT_TRUE(iface.set_ipv4_address(io::Ipv4Address(10, 9, 0, 1), 24).ok());
  net::Stack<net::QemuDgramLink> stack(iface, *link);
  net::StaticUdpSocket<8192, 8192> socket;
  ASSERT_TRUE(socket.bind(iface, 5683).ok());
  coap::Server<net::UdpSocket> server(socket, 1234);
  IngestRecorder recorder;
  server.set_fallback(recorder);
  async::TaskStorage<2048> stack_task;
  async::TaskStorage<16384> server_task;
  ASSERT_TRUE(executor.spawn(stack_task, run_host_stack, std::ref(stack)).ok());
  ASSERT_TRUE(executor.spawn(server_task, run_server, std::ref(server)).ok());

  constexpr int kReadings = 4;
  const std::string netdev =
      "dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=" + std::to_string(qemu_port) +
      ",remote.type=inet,remote.host=127.0.0.1,remote.port=" + std::to_string(host_port);
  ChildProcess node({"qemu-system-arm", "-M", "mps2-an385", "-nographic", "-monitor", "none",
                     "-semihosting-config", "enable=on,target=native", "-netdev", netdev, "-net",
                     "nic,netdev=n0,model=lan9118,macaddr=02:6d:6f:74:65:02", "-kernel", image_,
                     "-append",
                     "--address 10.9.0.2/24 --coap 10.9.0.1:5683 --device dgram-node "
                     "--interval-ms 100 --count " +
                         std::to_string(kReadings)});
  ASSERT_TRUE(node.started());
  // Once the node talks, a frame longer than Ethernet allows (QEMU passes
  // up to 2047 bytes): the driver must drop it and go on.
  std::vector<std::byte> oversized(1600, std::byte{0x5a});
  const std::array<std::uint8_t, 14> header = {0x02, 0x6d, 0x6f, 0x74, 0x65, 0x02, 0x02,
                                               0x6d, 0x6f, 0x74, 0x65, 0x01, 0x08, 0x00};
  for (std::size_t i = 0; i < header.size(); ++i) oversized[i] = std::byte{header[i]};
  bool sent_oversized = false;
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (node.running() && std::chrono::steady_clock::now() < give_up) {
    static_cast<void>(executor.run_for(20ms));
    if (!sent_oversized && !recorder.requests.empty()) {
      sent_oversized = link->transmit({}, oversized).ok();
    }
  }
  static_cast<void>(executor.run_for(50ms));
  server.stop();
  server_task.cancel();
  stack_task.cancel();
  ASSERT_EQ(node.wait_for_exit(1s), 0) << node.describe();
  // The driver read the MAC address QEMU gave the chip.
  EXPECT_NE(node.stderr_text().find("MAC 02:6d:6f:74:65:02"), std::string::npos) << node.describe();
  EXPECT_TRUE(sent_oversized);
  // Frames arrived through the receive interrupt (without it the stack
  // would only find them when a timer woke it), none with errors, and the
  // oversized one was counted and dropped.
  const std::string log = node.stderr_text();
  const std::size_t interrupts_at = log.find("interrupts ");
  ASSERT_NE(interrupts_at, std::string::npos) << node.describe();
  EXPECT_GT(std::atoi(log.c_str() + interrupts_at + 11), kReadings) << node.describe();
  EXPECT_NE(log.find("errors rx 0 tx 0, too long 1"), std::string::npos) << node.describe();
  // "online" first, then the readings in order (20 °C + n/16 °C), then
  // "offline".
  ASSERT_EQ(recorder.requests.size(), static_cast<std::size_t>(kReadings + 2)) << node.describe();
  EXPECT_EQ(recorder.requests[0], "mote/dgram-node/status online");
  EXPECT_EQ(recorder.requests[kReadings + 1], "mote/dgram-node/status offline");
  for (int n = 0; n < kReadings; ++n) {
    char value[16];
    std::snprintf(value, sizeof value, "%.3f", expected_celsius(n));
    EXPECT_EQ(recorder.requests[n + 1],
              std::string("mote/dgram-node/temperature {\"value\":") + value + ",\"unit\":\"°C\"}");
  }
}

}  // namespace
}  // namespace mote::gateway
