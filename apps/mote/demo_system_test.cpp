// `mote demo`, the whole system, as a user runs it (on loopback ports that
// were free, with a temporary data directory): every node's readings reach
// the store and the REST API, a node killed with -9 is shown offline while
// the rest go on, SIGTERM stops the nodes and then the gateway with a clean
// exit, and what was stored is there when a gateway starts again on the same
// directory. Also: a port in use is named, and the firmware node's hook
// (QEMU's command line, and the reasons it is skipped).

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <netinet/in.h>
#include <regex>
#include <signal.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "mote/testing/process.hpp"
#include "system_test_support.hpp"

namespace mote::cli {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
namespace system_test = gateway::system_test;

using system_test::Ports;

std::vector<std::string> demo_args(const std::string& data_dir, const Ports& ports,
                                   std::vector<std::string> extra) {
  std::vector<std::string> args{MOTE_BINARY,   "demo",
                                "--data-dir",  data_dir,
                                "--mqtt-port", std::to_string(ports.mqtt),
                                "--http-port", std::to_string(ports.http),
                                "--coap-port", std::to_string(ports.coap),
                                "--interval",  "500ms"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// "  node kitchen   pid 1234 ..." lines of the demo's output.
std::map<std::string, pid_t> node_pids(const std::string& out) {
  static const std::regex kLine(R"(\n  node (\w+) +pid (\d+) )");
  std::map<std::string, pid_t> pids;
  for (std::sregex_iterator it(out.begin(), out.end(), kLine), end; it != end; ++it) {
    pids[(*it)[1]] = static_cast<pid_t>(std::stol((*it)[2]));
  }
  return pids;
}

bool online(std::uint16_t port, const std::string& device) {
  const nlohmann::json found = system_test::find_device(port, device);
  return found.is_object() && found.value("online", false);
}

TEST(SystemDemo, EveryNodeArrivesAKilledNodeGoesOfflineAndSigtermStopsCleanly) {
  MOTE_SKIP_UNLESS_PROGRAM("curl");
  testing::TempDir dir;
  const Ports ports;
  ChildProcess demo(demo_args(dir.file("data"), ports, {"--no-firmware", "--duration", "5m"}));
  ASSERT_TRUE(demo.wait_for_output("mote demo: the system is up", 30s)) << demo.describe();
  const std::string out = demo.stdout_text();
  EXPECT_NE(out.find("mote demo: data in " + dir.file("data")), std::string::npos) << out;
  EXPECT_NE(out.find("  dashboard  http://localhost:" + std::to_string(ports.http) + "/"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("simulated DS18B20s (no 1-Wire thermometer under"), std::string::npos) << out;
  EXPECT_NE(out.find("firmware node: skipped (--no-firmware)"), std::string::npos) << out;
  const std::map<std::string, pid_t> pids = node_pids(out);
  ASSERT_EQ(pids.size(), 3u) << out;
  // Each node is the real `mote sensor` program; attic speaks CoAP.
  EXPECT_TRUE(
      std::regex_search(out, std::regex("node attic +pid \\d+ +CoAP, simulated DS18B20: "
                                        "\\S+ sensor --name attic .*--coap 127\\.0\\.0\\.1:" +
                                        std::to_string(ports.coap))))
      << out;

  // Every node's readings reach the store, and every node is online.
  for (const char* node : {"kitchen", "garage", "attic"}) {
    EXPECT_TRUE(system_test::eventually(
        [&] {
          return system_test::history_count(ports.http, node, "temperature") >= 3 &&
                 online(ports.http, node);
        },
        60s))
        << node << "\n"
        << demo.describe();
  }

  // One node dies: the gateway shows it offline (its MQTT will), the
  // others go on.
  ASSERT_TRUE(pids.contains("kitchen"));
  ASSERT_EQ(::kill(pids.at("kitchen"), SIGKILL), 0);
  EXPECT_TRUE(system_test::eventually([&] { return !online(ports.http, "kitchen"); }, 30s))
      << demo.describe();
  EXPECT_TRUE(demo.wait_for_output("node kitchen ended (killed by SIGKILL); the others go on", 10s))
      << demo.describe();
  const std::size_t garage_then = system_test::history_count(ports.http, "garage", "temperature");
  const std::size_t attic_then = system_test::history_count(ports.http, "attic", "temperature");
  EXPECT_TRUE(system_test::eventually([&] {
    return system_test::history_count(ports.http, "garage", "temperature") > garage_then &&
           system_test::history_count(ports.http, "attic", "temperature") > attic_then;
  })) << demo.describe();
  EXPECT_TRUE(online(ports.http, "garage"));
  EXPECT_TRUE(demo.running());

  // SIGTERM: the nodes stop first, then the gateway, and the demo exits 0.
  demo.signal(SIGTERM);
  ASSERT_EQ(demo.wait_for_exit(60s), 0) << demo.describe();
  const std::string all = demo.stdout_text();
  const std::size_t garage_stopped = all.find("mote demo: node garage stopped (exit 0)");
  const std::size_t attic_stopped = all.find("mote demo: node attic stopped (exit 0)");
  const std::size_t gateway_stopped = all.find("mote demo: gateway stopped (exit 0)");
  ASSERT_NE(garage_stopped, std::string::npos) << demo.describe();
  ASSERT_NE(attic_stopped, std::string::npos) << demo.describe();
  ASSERT_NE(gateway_stopped, std::string::npos) << demo.describe();
  EXPECT_LT(garage_stopped, gateway_stopped);
  EXPECT_LT(attic_stopped, gateway_stopped);
  EXPECT_NE(all.find("gateway  | mote gateway: stopped"), std::string::npos) << all;
  EXPECT_NE(all.find("mote demo: stopped\n"), std::string::npos) << all;
  EXPECT_FALSE(testing::wait_for_tcp_listener(ports.http, 200ms)) << "the gateway is still up";

  // What the gateway stored is there for the next one.
  ChildProcess gateway({MOTE_BINARY, "gateway", "--data-dir", dir.file("data"), "--mqtt-port",
                        std::to_string(ports.mqtt), "--http-port", std::to_string(ports.http),
                        "--coap-port", std::to_string(ports.coap)});
  ASSERT_TRUE(testing::wait_for_tcp_listener(ports.http, 10s)) << gateway.describe();
  for (const char* node : {"kitchen", "garage", "attic"}) {
    EXPECT_GE(system_test::history_count(ports.http, node, "temperature"), 3u) << node;
  }
  // Clean stops said "offline"; the killed node's will did.
  for (const char* node : {"kitchen", "garage", "attic"}) {
    const nlohmann::json device = system_test::find_device(ports.http, node);
    EXPECT_TRUE(device.is_object() && !device.value("online", true)) << node;
  }
}

// Ctrl-C at a terminal is SIGINT to the demo alone (its children are in
// their own process group): the same ordered stop.
TEST(SystemDemo, SigintStopsTheNodesThenTheGateway) {
  testing::TempDir dir;
  const Ports ports;
  ChildProcess demo(demo_args(dir.file("data"), ports, {"--no-firmware"}));
  ASSERT_TRUE(demo.wait_for_output("mote demo: the system is up", 30s)) << demo.describe();
  demo.signal(SIGINT);
  ASSERT_EQ(demo.wait_for_exit(60s), 0) << demo.describe();
  EXPECT_NE(demo.stderr_text().find("SIGINT received: stopping the nodes, then the gateway"),
            std::string::npos)
      << demo.describe();
  const std::string out = demo.stdout_text();
  const std::size_t node_stopped = out.find("mote demo: node attic stopped (exit 0)");
  const std::size_t gateway_stopped = out.find("mote demo: gateway stopped (exit 0)");
  ASSERT_NE(node_stopped, std::string::npos) << out;
  ASSERT_NE(gateway_stopped, std::string::npos) << out;
  EXPECT_LT(node_stopped, gateway_stopped);
}

// Where the kernel's w1 driver lists a DS18B20 (here a directory laid out
// as sysfs is), kitchen reads it and says so once; the others stay simulated.
TEST(SystemDemo, KitchenReadsTheThermometersTheW1DriverLists) {
  MOTE_SKIP_UNLESS_PROGRAM("curl");
  testing::TempDir dir;
  const std::string w1 = dir.path() + "/w1";
  const std::string thermometer = w1 + "/28-00000a1b2c3d";
  ASSERT_EQ(::mkdir(w1.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(thermometer.c_str(), 0755), 0);
  std::ofstream(thermometer + "/temperature") << "23437\n";
  const Ports ports;
  ChildProcess demo(
      demo_args(dir.file("data"), ports, {"--no-firmware", "--w1-dir", w1, "--duration", "5m"}));
  ASSERT_TRUE(demo.wait_for_output("mote demo: the system is up", 30s)) << demo.describe();
  const std::string out = demo.stdout_text();
  EXPECT_NE(out.find("sensors: kitchen reads 1 DS18B20 through the kernel's w1 driver (" + w1 +
                     "); the others are simulated"),
            std::string::npos)
      << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("node kitchen +pid \\d+ +MQTT, real DS18B20: ")))
      << out;
  EXPECT_TRUE(
      std::regex_search(out, std::regex("node garage +pid \\d+ +MQTT, simulated DS18B20: ")))
      << out;
  const auto kitchen_reads = [&](double value) {
    const nlohmann::json device = system_test::find_device(ports.http, "kitchen");
    if (!device.is_object() || !device.contains("metrics")) return false;
    for (const nlohmann::json& metric : device["metrics"]) {
      if (metric.value("name", "") == "temperature" &&
          std::abs(metric.value("last_value", 0.0) - value) < 1e-9) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(system_test::eventually([&] { return kitchen_reads(23.437); }, 30s))
      << demo.describe();
  demo.signal(SIGTERM);
  EXPECT_EQ(demo.wait_for_exit(60s), 0) << demo.describe();
}

// Without the gateway there is no system: when it dies, the nodes are
// stopped and the demo fails.
TEST(SystemDemo, AGatewayThatDiesStopsTheDemoWithAnError) {
  testing::TempDir dir;
  const Ports ports;
  ChildProcess demo(demo_args(dir.file("data"), ports, {"--no-firmware", "--duration", "5m"}));
  ASSERT_TRUE(demo.wait_for_output("mote demo: the system is up", 30s)) << demo.describe();
  std::smatch gateway;
  const std::string out = demo.stdout_text();
  ASSERT_TRUE(std::regex_search(out, gateway, std::regex(R"(mote demo: gateway \(pid (\d+)\))")))
      << out;
  ASSERT_EQ(::kill(static_cast<pid_t>(std::stol(gateway[1])), SIGKILL), 0);
  EXPECT_EQ(demo.wait_for_exit(60s), 1) << demo.describe();
  EXPECT_NE(demo.stderr_text().find("the gateway stopped (killed by SIGKILL): stopping the nodes"),
            std::string::npos)
      << demo.describe();
  EXPECT_NE(demo.stdout_text().find("mote demo: node garage stopped (exit 0)"), std::string::npos)
      << demo.describe();
  EXPECT_NE(demo.stdout_text().find("mote demo: stopped (with errors, see above)"),
            std::string::npos)
      << demo.describe();
}

TEST(SystemDemo, APortInUseIsNamedAndNothingStarts) {
  testing::TempDir dir;
  const Ports ports;
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(ports.mqtt);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 1), 0);

  ChildProcess demo(demo_args(dir.file("data"), ports, {"--duration", "5s"}));
  EXPECT_EQ(demo.wait_for_exit(20s), 1) << demo.describe();
  EXPECT_NE(demo.stderr_text().find("mote demo: MQTT port " + std::to_string(ports.mqtt) +
                                    "/tcp on 127.0.0.1: in use by another program; choose "
                                    "another with --mqtt-port"),
            std::string::npos)
      << demo.describe();
  EXPECT_EQ(demo.stdout_text().find("gateway"), std::string::npos) << demo.describe();
  ::close(listener);
}

// The whole system with the real firmware node: sensor_node_net on QEMU's
// mps2-an385, mote's IP stack on the LAN9118 with a DHCP lease from QEMU,
// publishing over MQTT (mote's TCP) to the gateway through QEMU's user
// network. The image comes from MOTE_SENSOR_NODE_NET_IMAGE or the source tree's cortex-m3 build;
// skipped, saying so, without it or without qemu-system-arm.
TEST(SystemDemo, TheFirmwareNodeArrivesLikeTheOthersAndGoesOfflineWhenKilled) {
  MOTE_SKIP_UNLESS_PROGRAM("qemu-system-arm");
  MOTE_SKIP_UNLESS_PROGRAM("curl");
  const std::string image = system_test::sensor_node_net_image(MOTE_SENSOR_NODE_NET_IMAGE_IN_TREE);
  if (::access(image.c_str(), R_OK) != 0) {
    GTEST_SKIP() << "no sensor_node_net image at " << image
                 << " (cmake --build --preset cortex-m3 --target sensor_node_net)";
  }
  testing::TempDir dir;
  const Ports ports;
  ChildProcess demo(demo_args(dir.file("data"), ports, {"--firmware", image, "--duration", "5m"}));
  ASSERT_TRUE(demo.wait_for_output("mote demo: the system is up", 30s)) << demo.describe();
  const std::map<std::string, pid_t> pids = node_pids(demo.stdout_text());
  ASSERT_TRUE(pids.contains("firmware")) << demo.describe();
  for (const char* node : {"kitchen", "garage", "attic", "firmware"}) {
    EXPECT_TRUE(system_test::eventually(
        [&] {
          return system_test::history_count(ports.http, node, "temperature") >= 2 &&
                 online(ports.http, node);
        },
        90s))
        << node << "\n"
        << demo.describe();
  }
  // Killed, it cannot say "offline": the gateway notices its silence.
  ASSERT_EQ(::kill(pids.at("firmware"), SIGKILL), 0);
  EXPECT_TRUE(system_test::eventually([&] { return !online(ports.http, "firmware"); }, 60s))
      << demo.describe();
  EXPECT_TRUE(online(ports.http, "garage"));
  demo.signal(SIGTERM);
  EXPECT_EQ(demo.wait_for_exit(60s), 0) << demo.describe();
}

// The firmware node's hook without the firmware: QEMU is replaced by a
// script that records its command line and waits to be stopped.
TEST(SystemDemo, FirmwareNodeRunsQemuWhenThereIsAnImageAndSaysWhyNotOtherwise) {
  MOTE_SKIP_UNLESS_PROGRAM("env");
  testing::TempDir dir;
  const std::string bin = dir.path() + "/bin";
  ASSERT_EQ(::mkdir(bin.c_str(), 0755), 0);
  const std::string recorded = dir.file("qemu-args");
  {
    std::ofstream fake(bin + "/qemu-system-arm");
    // It starts a process of its own, as a wrapper might: the demo's stop
    // must end that too, or its output pipe would never close.
    fake << "#!/bin/sh\necho \"$@\" > " << recorded << "\necho 'sensor_node_net: started'\n"
         << "sleep 600 &\nwait\n";
  }
  ASSERT_EQ(::chmod((bin + "/qemu-system-arm").c_str(), 0755), 0);
  const std::string image = dir.write("sensor_node_net.elf", "not really an image");

  std::uint16_t mqtt_port = 0;  // of the last run
  const auto run_demo = [&](const std::string& path, const std::string& firmware) {
    const Ports ports;
    mqtt_port = ports.mqtt;
    std::vector<std::string> argv{"env", "PATH=" + path};
    for (const std::string& arg :
         demo_args(dir.file("data"), ports, {"--firmware", firmware, "--duration", "1s"})) {
      argv.push_back(arg);
    }
    auto demo = std::make_unique<ChildProcess>(argv);
    EXPECT_EQ(demo->wait_for_exit(60s), 0) << demo->describe();
    return demo;
  };

  // No QEMU on PATH.
  const auto without_qemu = run_demo(dir.path() + "/nothing-here", image);
  EXPECT_NE(without_qemu->stdout_text().find(
                "  firmware node: skipped (qemu-system-arm is not installed"),
            std::string::npos)
      << without_qemu->describe();

  // QEMU, but no image.
  const auto without_image = run_demo(bin + ":/usr/bin:/bin", dir.file("missing.elf"));
  EXPECT_NE(without_image->stdout_text().find("  firmware node: skipped (no image at " +
                                              dir.file("missing.elf") + ")"),
            std::string::npos)
      << without_image->describe();

  // Both: QEMU runs the image on mps2-an385 with a LAN9118 on slirp, its
  // output is relayed, and the demo's stop stops it.
  const auto with_both = run_demo(bin + ":/usr/bin:/bin", image);
  const std::string out = with_both->stdout_text();
  EXPECT_NE(out.find("firmware | sensor_node_net: started"), std::string::npos) << out;
  EXPECT_NE(out.find("mote demo: node firmware stopped (killed by SIGTERM)"), std::string::npos)
      << out;
  std::ifstream args(recorded);
  std::string line;
  std::getline(args, line);
  EXPECT_EQ(line,
            "-M mps2-an385 -display none -serial null -monitor none -semihosting-config "
            "enable=on,target=native -nic user,model=lan9118 -kernel " +
                image + " -append --mqtt 10.0.2.2:" + std::to_string(mqtt_port) +
                " --device firmware --interval-ms 500");
}

}  // namespace
}  // namespace mote::cli
