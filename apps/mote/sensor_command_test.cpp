// `mote sensor` against a real broker (mosquitto on loopback): what it
// publishes is the gateway's wire format, and readings taken while the
// broker is away arrive once it is back, each at its own time. Over CoAP,
// against `mote gateway` itself, through a restart of the gateway. Over
// mote's own stack on a TAP device (MQTT with a lease from dnsmasq, CoAP
// with a fixed address), against `mote gateway` in a network namespace the
// test makes, through a restart of the gateway.

#include <algorithm>
#include <gtest/gtest.h>
#include <optional>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include "../../net/linux/testdata/tap_namespace.hpp"
#include "mote/gateway/ingest.hpp"
#include "mote/testing/process.hpp"
#include "system_test_support.hpp"

namespace mote::cli {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
namespace system_test = gateway::system_test;

struct Received {
  std::vector<std::string> statuses;
  std::vector<gateway::ReadingPayload> readings;
};

// mosquitto_sub -v lines: "<topic> <payload>".
Received parse_subscriber(const std::string& output) {
  Received received;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    const std::string topic = line.substr(0, space);
    const std::string payload = line.substr(space + 1);
    if (topic == "mote/greenhouse/status") {
      received.statuses.push_back(payload);
    } else if (topic == "mote/greenhouse/temperature") {
      const Result<gateway::ReadingPayload> reading = gateway::parse_reading(payload);
      EXPECT_TRUE(reading.ok()) << payload;
      if (reading.ok()) received.readings.push_back(*reading);
    } else {
      ADD_FAILURE() << "unexpected topic " << topic;
    }
  }
  return received;
}

class Mosquitto {
 public:
  explicit Mosquitto(std::uint16_t port) : port_(port) {
    // Run as root, mosquitto drops to the "mosquitto" user: it must be able
    // to write its database here.
    ::chmod(dir_.path().c_str(), 0777);
    config_ = dir_.write("mosquitto.conf", "listener " + std::to_string(port) +
                                               " 127.0.0.1\nallow_anonymous true\n"
                                               "persistence true\npersistence_location " +
                                               dir_.path() + "/\nautosave_interval 1\n");
  }
  bool start() {
    process_ = std::make_unique<ChildProcess>(std::vector<std::string>{"mosquitto", "-c", config_});
    return process_->started() && testing::wait_for_tcp_listener(port_, 10s);
  }
  void kill() { process_->signal(SIGKILL), process_->wait_for_exit(5s); }

 private:
  std::uint16_t port_;
  testing::TempDir dir_;
  std::string config_;
  std::unique_ptr<ChildProcess> process_;
};

std::vector<std::string> sensor_args(std::uint16_t port, const std::string& duration) {
  return {MOTE_BINARY,  "sensor",     "--name",
          "greenhouse", "--mqtt",     "127.0.0.1:" + std::to_string(port),
          "--simulate", "--interval", "100ms",
          "--duration", duration};
}

TEST(SensorCommand, PublishesReadingsInTheGatewayFormat) {
  MOTE_SKIP_UNLESS_PROGRAM("mosquitto");
  MOTE_SKIP_UNLESS_PROGRAM("mosquitto_sub");
  const std::uint16_t port = testing::unused_port(SOCK_STREAM);
  Mosquitto broker(port);
  ASSERT_TRUE(broker.start());
  ChildProcess subscriber(
      {"mosquitto_sub", "-p", std::to_string(port), "-t", "mote/#", "-v", "-q", "1"});
  ASSERT_TRUE(subscriber.started());
  std::this_thread::sleep_for(200ms);  // the subscription is in place before the first reading

  ChildProcess sensor(sensor_args(port, "3s"));
  ASSERT_EQ(sensor.wait_for_exit(20s), 0) << sensor.describe();
  EXPECT_NE(sensor.stdout_text().find("simulated DS18B20 (--simulate)"), std::string::npos);
  EXPECT_NE(sensor.stdout_text().find(" 0 unsent, 0 dropped"), std::string::npos)
      << sensor.describe();
  ASSERT_TRUE(subscriber.wait_for_output("mote/greenhouse/status offline", 5s))
      << subscriber.describe();

  const Received received = parse_subscriber(subscriber.stdout_text());
  EXPECT_EQ(received.statuses, (std::vector<std::string>{"online", "offline"}));
  ASSERT_GE(received.readings.size(), 2u) << subscriber.describe();
  for (const gateway::ReadingPayload& reading : received.readings) {
    EXPECT_EQ(reading.unit, "°C");
    EXPECT_GT(reading.value, 10.0);
    EXPECT_LT(reading.value, 32.0);
    EXPECT_TRUE(reading.time_ms.has_value());
  }
}

// The broker is killed mid-stream and restarted: the readings taken
// meanwhile arrive afterwards with their own times, so the series has no
// hole, and the node's will told the subscriber it was offline.
TEST(SensorCommand, DeliversWhatItBufferedWhileTheBrokerWasAway) {
  MOTE_SKIP_UNLESS_PROGRAM("mosquitto");
  MOTE_SKIP_UNLESS_PROGRAM("mosquitto_sub");
  const std::uint16_t port = testing::unused_port(SOCK_STREAM);
  Mosquitto broker(port);
  ASSERT_TRUE(broker.start());
  // A persistent QoS 1 session: messages that reach the restarted broker
  // are kept for the subscriber until it is back too.
  ChildProcess subscriber({"mosquitto_sub", "-p", std::to_string(port), "-t",
                           "mote/greenhouse/temperature", "-v", "-q", "1", "-c", "-i",
                           "mote-test-sub"});
  ASSERT_TRUE(subscriber.started());
  // The broker saves its state every second: the subscriber's session must
  // be on disk before the broker is killed.
  std::this_thread::sleep_for(1500ms);

  ChildProcess sensor(sensor_args(port, "60s"));
  ASSERT_TRUE(sensor.started());
  ASSERT_TRUE(sensor.wait_for_output("connected to", 10s, true)) << sensor.describe();
  // Two readings through, then the broker dies for a while.
  const auto readings_seen = [&] {
    return parse_subscriber(subscriber.stdout_text()).readings.size();
  };
  for (int i = 0; i < 100 && readings_seen() < 2; ++i) std::this_thread::sleep_for(100ms);
  ASSERT_GE(readings_seen(), 2u) << subscriber.describe();
  broker.kill();
  std::this_thread::sleep_for(3s);  // about four readings wait in the sensor's buffer
  ASSERT_TRUE(broker.start());

  const std::size_t wanted = readings_seen() + 6;
  for (int i = 0; i < 200 && readings_seen() < wanted; ++i) std::this_thread::sleep_for(100ms);
  sensor.signal(SIGTERM);
  ASSERT_EQ(sensor.wait_for_exit(20s), 0) << sensor.describe();
  EXPECT_NE(sensor.stdout_text().find(" 0 unsent, 0 dropped"), std::string::npos)
      << sensor.describe();

  Received received = parse_subscriber(subscriber.stdout_text());
  ASSERT_GE(received.readings.size(), wanted) << subscriber.describe();
  std::vector<std::int64_t> times;
  for (const gateway::ReadingPayload& reading : received.readings)
    times.push_back(*reading.time_ms);
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());  // QoS 1 may repeat one
  // A DS18B20 conversion takes 750 ms, so readings are about that far apart;
  // a hole where the broker was down would be several seconds.
  for (std::size_t i = 1; i < times.size(); ++i) {
    EXPECT_LT(times[i] - times[i - 1], 2500) << "a hole in the series after reading " << i;
  }
}

// --- against `mote gateway` --------------------------------------------------------

// `bind`: the address every listener binds (empty: the gateway's default,
// 127.0.0.1).
std::unique_ptr<ChildProcess> start_gateway(const std::string& data_dir,
                                            const system_test::Ports& ports,
                                            const std::string& bind = "") {
  std::vector<std::string> arguments{MOTE_BINARY,   "gateway",
                                     "--data-dir",  data_dir,
                                     "--mqtt-port", std::to_string(ports.mqtt),
                                     "--http-port", std::to_string(ports.http),
                                     "--coap-port", std::to_string(ports.coap)};
  if (!bind.empty()) arguments.insert(arguments.end(), {"--bind", bind});
  auto gateway = std::make_unique<ChildProcess>(arguments);
  if (!gateway->started() || !testing::wait_for_tcp_listener(ports.http, 10s)) return nullptr;
  // The banner comes once every listener, CoAP's too, is bound.
  if (!gateway->wait_for_output("  dashboard  ", 10s)) return nullptr;
  return gateway;
}

// The running `sensor` (device "greenhouse") publishes to `gateway`, which
// is stopped for a while and started again on the same store: the readings
// taken meanwhile arrive afterwards at their own times, none is lost, and a
// clean stop of the sensor marks it offline.
void expect_every_reading_through_a_gateway_restart(ChildProcess& sensor,
                                                    std::unique_ptr<ChildProcess>& gateway,
                                                    const std::string& data_dir,
                                                    const system_test::Ports& ports,
                                                    const std::string& bind = "") {
  ASSERT_TRUE(system_test::eventually([&] {
    return system_test::history_count(ports.http, "greenhouse", "temperature") >= 2;
  })) << sensor.describe()
      << gateway->describe();
  EXPECT_TRUE(system_test::find_device(ports.http, "greenhouse").value("online", false));

  // The gateway goes away (a clean stop stores what it has) for about three
  // readings, then comes back on the same data directory.
  gateway->signal(SIGTERM);
  ASSERT_EQ(gateway->wait_for_exit(20s), 0) << gateway->describe();
  std::this_thread::sleep_for(2500ms);
  gateway = start_gateway(data_dir, ports, bind);
  ASSERT_NE(gateway, nullptr);
  const std::size_t stored_before =
      system_test::history_count(ports.http, "greenhouse", "temperature");
  EXPECT_GE(stored_before, 2u);
  ASSERT_TRUE(system_test::eventually(
      [&] {
        return system_test::history_count(ports.http, "greenhouse", "temperature") >=
               stored_before + 6;
      },
      60s))
      << sensor.describe() << gateway->describe();

  sensor.signal(SIGTERM);
  ASSERT_EQ(sensor.wait_for_exit(20s), 0) << sensor.describe();
  EXPECT_NE(sensor.stdout_text().find(" 0 unsent, 0 dropped"), std::string::npos)
      << sensor.describe();
  // A clean stop says "offline" (over CoAP too).
  EXPECT_TRUE(system_test::eventually([&] {
    const nlohmann::json device = system_test::find_device(ports.http, "greenhouse");
    return device.is_object() && !device.value("online", true);
  })) << gateway->describe();

  // No hole where the gateway was down: readings are a DS18B20 conversion
  // (750 ms) apart, the outage was several seconds.
  const nlohmann::json points =
      system_test::history_points(ports.http, "greenhouse", "temperature");
  ASSERT_GE(points.size(), stored_before + 6);
  for (std::size_t i = 1; i < points.size(); ++i) {
    EXPECT_EQ(points[i][4].get<int>(), 1) << "raw samples expected";
    EXPECT_LT(points[i][0].get<std::int64_t>() - points[i - 1][0].get<std::int64_t>(), 2500)
        << "a hole in the series after reading " << i;
  }
}

// The node POSTs its readings (confirmable) and its status through a
// restart of the gateway.
TEST(SensorCommand, OverCoapDeliversEveryReadingThroughAGatewayRestart) {
  MOTE_SKIP_UNLESS_PROGRAM("curl");
  testing::TempDir dir;
  const system_test::Ports ports;
  std::unique_ptr<ChildProcess> gateway = start_gateway(dir.file("data"), ports);
  ASSERT_NE(gateway, nullptr);

  ChildProcess sensor({MOTE_BINARY, "sensor", "--name", "greenhouse", "--coap",
                       "coap://127.0.0.1:" + std::to_string(ports.coap) + "/", "--simulate",
                       "--interval", "100ms", "--duration", "90s"});
  ASSERT_TRUE(sensor.started());
  ASSERT_TRUE(sensor.wait_for_output("publishing to coap://127.0.0.1:", 10s)) << sensor.describe();
  EXPECT_NE(sensor.stdout_text().find("network: the kernel's sockets"), std::string::npos);
  expect_every_reading_through_a_gateway_restart(sensor, gateway, dir.file("data"), ports);
}

// --- over mote's own stack on a TAP device ------------------------------------------
//
// A network namespace the test makes, with a persistent TAP device in it
// whose kernel side is 10.77.0.1/24; the test's thread enters the namespace,
// so the gateway (bound to every address), dnsmasq, curl and `mote sensor
// --tap` all run there: the gateway on the kernel's stack, the sensor on
// mote's, and the frames between them cross the TAP device. Skips (visibly)
// without root, `ip` or /dev/net/tun, like the other TAP tests.

constexpr const char* kTap = "motetap0";
constexpr const char* kGatewayAddress = "10.77.0.1";

class SensorOverTap : public ::testing::Test {
 protected:
  void SetUp() override {
    MOTE_SKIP_UNLESS_PROGRAM("ip");
    MOTE_SKIP_UNLESS_PROGRAM("curl");
    if (std::optional<std::string> why =
            namespace_.open_persistent("sensor", kTap, "10.77.0.1/24")) {
      GTEST_SKIP() << *why;
    }
    const std::optional<std::string> entered = namespace_.enter();
    ASSERT_FALSE(entered.has_value()) << *entered;
    ports_.emplace();  // free in the namespace
  }

  void TearDown() override {
    if (sensor_) sensor_->stop();
    if (gateway_) gateway_->stop();
    if (dnsmasq_) dnsmasq_->stop();
    namespace_.close();
  }

  // dnsmasq serving DHCP (no DNS) on the TAP device's kernel side.
  void start_dhcp_server() {
    dnsmasq_.emplace(std::vector<std::string>{
        "/usr/sbin/dnsmasq", "--no-daemon", std::string("--interface=") + kTap, "--bind-interfaces",
        "--except-interface=lo", "--port=0", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
        "--pid-file=", "--log-facility=-", "--log-dhcp", "--no-ping", "--dhcp-authoritative",
        "--dhcp-leasefile=" + dir_.file("dnsmasq.leases"),
        "--dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h",
        "--dhcp-option=option:router,10.77.0.1"});
    ASSERT_TRUE(dnsmasq_->wait_for_output("started, version", 5s, true)) << dnsmasq_->describe();
  }

  void start_gateway_on_every_address() {
    gateway_ = start_gateway(dir_.file("data"), *ports_, "0.0.0.0");
    ASSERT_NE(gateway_, nullptr);
  }

  std::vector<std::string> sensor_on_tap(std::vector<std::string> more) const {
    std::vector<std::string> arguments{MOTE_BINARY, "sensor",     "--name",     "greenhouse",
                                       "--tap",     kTap,         "--simulate", "--interval",
                                       "100ms",     "--duration", "90s"};
    arguments.insert(arguments.end(), more.begin(), more.end());
    return arguments;
  }

  testing::TempDir dir_;
  net::test_support::TapNamespace namespace_;
  std::optional<system_test::Ports> ports_;
  std::optional<ChildProcess> dnsmasq_;
  std::unique_ptr<ChildProcess> gateway_;
  std::optional<ChildProcess> sensor_;
};

TEST_F(SensorOverTap, MqttWithADhcpLeaseDeliversEveryReadingThroughAGatewayRestart) {
  MOTE_SKIP_UNLESS_PROGRAM("/usr/sbin/dnsmasq");
  ASSERT_NO_FATAL_FAILURE(start_dhcp_server());
  ASSERT_NO_FATAL_FAILURE(start_gateway_on_every_address());
  sensor_.emplace(
      sensor_on_tap({"--mqtt", std::string(kGatewayAddress) + ":" + std::to_string(ports_->mqtt)}));
  ASSERT_TRUE(sensor_->wait_for_output("publishing to mqtt://10.77.0.1:", 20s))
      << sensor_->describe() << dnsmasq_->describe();
  const std::string said = sensor_->stdout_text();
  EXPECT_NE(said.find(std::string("network: mote's own stack on TAP device ") + kTap),
            std::string::npos)
      << said;
  // dnsmasq leases from 10.77.0.100-150.
  EXPECT_NE(said.find("network: address 10.77.0.1"), std::string::npos) << said;
  EXPECT_NE(said.find(" via 10.77.0.1 by DHCP"), std::string::npos) << said;
  EXPECT_NE(dnsmasq_->stderr_text().find("DHCPACK(motetap0)"), std::string::npos)
      << dnsmasq_->describe();
  expect_every_reading_through_a_gateway_restart(*sensor_, gateway_, dir_.file("data"), *ports_,
                                                 "0.0.0.0");
}

TEST_F(SensorOverTap, CoapWithAFixedAddressDeliversEveryReadingThroughAGatewayRestart) {
  ASSERT_NO_FATAL_FAILURE(start_gateway_on_every_address());
  sensor_.emplace(
      sensor_on_tap({"--address", "10.77.0.2/24", "--coap",
                     std::string(kGatewayAddress) + ":" + std::to_string(ports_->coap)}));
  ASSERT_TRUE(sensor_->wait_for_output("publishing to coap://10.77.0.1:", 10s))
      << sensor_->describe();
  EXPECT_NE(sensor_->stdout_text().find(std::string("network: mote's own stack on TAP device ") +
                                        kTap + " (MAC 02:"),
            std::string::npos)
      << sensor_->describe();
  EXPECT_NE(sensor_->stdout_text().find("address 10.77.0.2/24"), std::string::npos)
      << sensor_->describe();
  expect_every_reading_through_a_gateway_restart(*sensor_, gateway_, dir_.file("data"), *ports_,
                                                 "0.0.0.0");
}

// Nobody answers DHCP: a clear error once the timeout passed, not a node
// that buffers for ever without an address.
TEST_F(SensorOverTap, NoLeaseWithinTheTimeoutIsAClearError) {
  ChildProcess sensor(sensor_on_tap({"--dhcp-timeout", "1s", "--mqtt", "10.77.0.1:1883"}));
  EXPECT_EQ(sensor.wait_for_exit(20s), 1) << sensor.describe();
  EXPECT_NE(sensor.stderr_text().find("no DHCP lease on TAP device motetap0 within 1 s"),
            std::string::npos)
      << sensor.describe();
}

// The TAP device belongs to root and the sensor runs without privileges:
// it says what it needs.
TEST_F(SensorOverTap, ATapDeviceItMayNotOpenIsAClearError) {
  MOTE_SKIP_UNLESS_PROGRAM("setpriv");
  std::vector<std::string> arguments{"setpriv",        "--reuid=65534",   "--regid=65534",
                                     "--clear-groups", "--inh-caps=-all", "--"};
  const std::vector<std::string> sensor = sensor_on_tap({"--address", "10.77.0.2/24"});
  arguments.insert(arguments.end(), sensor.begin(), sensor.end());
  ChildProcess unprivileged(arguments);
  EXPECT_EQ(unprivileged.wait_for_exit(20s), 1) << unprivileged.describe();
  EXPECT_NE(unprivileged.stderr_text().find("cannot open TAP device 'motetap0': permission denied"),
            std::string::npos)
      << unprivileged.describe();
  EXPECT_NE(unprivileged.stderr_text().find("CAP_NET_ADMIN"), std::string::npos);
}

TEST(SensorCommand, CoapAndMqttExcludeEachOther) {
  ChildProcess sensor({MOTE_BINARY, "sensor", "--mqtt", "127.0.0.1:1883", "--coap",
                       "127.0.0.1:5683", "--simulate", "--duration", "1s"});
  EXPECT_EQ(sensor.wait_for_exit(10s), 2) << sensor.describe();
  EXPECT_NE(sensor.stderr_text().find("exclude each other"), std::string::npos);
  ChildProcess bad({MOTE_BINARY, "sensor", "--coap", "coap://nowhere:x", "--duration", "1s"});
  EXPECT_EQ(bad.wait_for_exit(10s), 2) << bad.describe();
  EXPECT_NE(bad.stderr_text().find("--coap wants"), std::string::npos) << bad.describe();
}

// Checked before any device is opened: no privilege needed.
TEST(SensorCommand, TapOptionsAreCheckedFirst) {
  const auto usage_error = [](std::vector<std::string> arguments, const std::string& said) {
    arguments.insert(arguments.begin(), {MOTE_BINARY, "sensor", "--simulate", "--duration", "1s"});
    ChildProcess sensor(arguments);
    EXPECT_EQ(sensor.wait_for_exit(10s), 2) << sensor.describe();
    EXPECT_NE(sensor.stderr_text().find(said), std::string::npos) << sensor.describe();
  };
  usage_error({"--address", "10.0.0.5/24"}, "--address is for --tap");
  for (const char* bad : {"10.0.0.5", "10.0.0.5/31", "10.0.0.5/0", "10.0.0.5/24,10.0.1.1",
                          "10.0.0.5/24,", "127.0.0.1/8", "10.0.0.5/x"}) {
    usage_error({"--tap", "tap0", "--address", bad}, "--address wants A.B.C.D/NN[,GATEWAY]");
  }
  usage_error({"--tap", "tap0", "--coap", "[::1]:5683"}, "the gateway must be an IPv4 address");
}

}  // namespace
}  // namespace mote::cli
