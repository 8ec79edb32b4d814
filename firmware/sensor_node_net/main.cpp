// sensor_node_net: the firmware sensor node on a network. mote's IP stack on
// the board's LAN9118 (Stack<Lan9118>), a DHCP lease, a DS18B20 read through
// the real driver on the simulated 1-Wire bus, and every reading sent to the
// gateway (docs/gateway.md) until the gateway has taken it: over MQTT
// (QoS 1, mote's MQTT client on mote's TCP) or over CoAP (confirmable POST).
//   stack      Stack<Lan9118>: frames in and out, ARP, TCP timers
//   dhcp       AsyncDhcpClient on a UdpSocket bound to port 68: configures
//              the interface with each lease (and clears it when one is lost)
//   transport  the MQTT client's run() (connects, keeps alive, reconnects
//              with backoff) or the CoAP client's loop (receives, retransmits)
//   node       waits for a lease, announces "online", then every interval
//              reads the sensor and publishes the reading; while the gateway
//              is away it keeps trying with the newest reading (the node has
//              no wall clock to stamp older ones with, see reading_publisher.hpp)
//
// The command line comes from semihosting (QEMU: -append "..." after
// -kernel, or -semihosting-config ...,arg=...):
//   --mqtt HOST:PORT      publish to the gateway's MQTT broker (the default,
//                         10.0.2.2:1883: the host under QEMU's user networking)
//   --coap HOST:PORT      POST to the gateway's CoAP endpoint instead
//                         (10.0.2.2:5683)
//   --device NAME         the device name (mps2-<last 3 MAC octets>)
//   --interval-ms N       time between readings (1000)
//   --count N             once N readings were taken by the gateway, send
//                         "offline" (MQTT: then DISCONNECT) and stop with exit
//                         status 0 (0: run for ever)
//   --address A.B.C.D/P   a fixed address instead of DHCP (the gateway must
//                         then be on that subnet: no router is set)
// Exit status 2 for a bad command line, 1 when the network card fails.

#include <array>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string_view>

#define MOTE_LOG_MODULE "sensor_node_net"
#include "mote/async/event.hpp"
#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/timeout.hpp"
#include "mote/base/log.hpp"
#include "mote/base/text.hpp"
#include "mote/coap/client.hpp"
#include "mote/drivers/ds18b20.hpp"
#include "mote/firmware/board.hpp"
#include "mote/firmware/cortex_m.hpp"
#include "mote/firmware/lan9118.hpp"
#include "mote/firmware/semihosting.hpp"
#include "mote/firmware/systick_driver.hpp"
#include "mote/hal/delay.hpp"
#include "mote/hal/sim/ds18b20.hpp"
#include "mote/hal/sim/one_wire_bus.hpp"
#include "mote/mqtt/client.hpp"
#include "mote/net/dhcp/async_dhcp_client.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/random_source.hpp"
#include "mote/net/socket/tcp_socket.hpp"
#include "mote/net/socket/udp_socket.hpp"
#include "mote/net/stack.hpp"
#include "reading_publisher.hpp"

namespace {

using namespace std::chrono_literals;
using mote::Result;
using mote::Status;
using mote::async::Task;
using mote::firmware::Lan9118;
namespace net = mote::net;

using CoapClient = mote::coap::Client<net::UdpSocket, 2>;
using CoapPublisher = mote::firmware::CoapReadingPublisher<net::UdpSocket, 2>;
// One reading or status in flight at a time (the node waits for each
// PUBACK); it subscribes to nothing.
constexpr mote::mqtt::ClientLimits kMqttLimits{.max_inflight = 2,
                                               .max_incoming_qos2 = 2,
                                               .max_pending_requests = 1,
                                               .inbound_topic_aliases = 0,
                                               .alias_topic_size = 1,
                                               .outbound_topic_aliases = 0};
using MqttClient = mote::mqtt::Client<net::TcpConnector, kMqttLimits>;
using MqttPublisher = mote::firmware::MqttReadingPublisher<MqttClient>;
using Thermometer = mote::drivers::Ds18b20<mote::hal::sim::SimOneWireBus, mote::hal::ExecutorDelay>;
static_assert(mote::firmware::ReadingPublisher<CoapPublisher>);
static_assert(mote::firmware::ReadingPublisher<MqttPublisher>);

constexpr std::string_view kPrefix = "mote";
constexpr std::string_view kMetric = "temperature";
constexpr std::string_view kUnit = "°C";
constexpr std::uint64_t kSensorSerial = 0x0316'A279'9FB2;

enum class Transport : std::uint8_t { mqtt, coap };

struct Options {
  Transport transport = Transport::mqtt;
  mote::io::Endpoint gateway{mote::io::Ipv4Address(10, 0, 2, 2), 1883};
  std::array<char, 65> device{};  // NUL-terminated
  std::uint32_t interval_ms = 1000;
  std::uint32_t count = 0;
  std::optional<mote::io::Ipv4Address> address;  // nullopt: DHCP
  std::uint8_t prefix_len = 24;
};

bool parse_number(std::string_view text, std::uint32_t& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

// Splits the semihosting command line at spaces; the first word is the
// program's name. Returns false (after logging why) for a bad line.
bool parse_command_line(std::string_view line, Options& options) {
  std::array<std::string_view, 16> words{};
  std::size_t count = 0;
  while (!line.empty()) {
    const std::size_t start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const std::size_t end = line.find(' ');
    if (count == words.size()) {
      MOTE_LOG_ERROR("too many arguments");
      return false;
    }
    words[count++] = mote::slice(line, 0, end);
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  }
  bool transport_given = false;
  for (std::size_t i = 1; i < count; i += 2) {
    const std::string_view name = words[i];
    if (i + 1 >= count) {
      MOTE_LOG_ERROR("%.*s needs a value", static_cast<int>(name.size()), name.data());
      return false;
    }
    const std::string_view value = words[i + 1];
    bool ok = false;
    if (name == "--mqtt" || name == "--coap") {
      if (transport_given) {
        MOTE_LOG_ERROR("--mqtt and --coap: give one of them");
        return false;
      }
      transport_given = true;
      Result<mote::io::Endpoint> endpoint = mote::io::Endpoint::parse(value);
      ok = endpoint.ok() && endpoint->address.is_v4() && endpoint->port != 0;
      if (ok) options.gateway = *endpoint;
      options.transport = name == "--mqtt" ? Transport::mqtt : Transport::coap;
    } else if (name == "--device") {
      ok = mote::gateway::internal::is_valid_name(value);
      if (ok) {
        value.copy(options.device.data(), value.size());
        options.device[value.size()] = '\0';
      }
    } else if (name == "--interval-ms") {
      ok = parse_number(value, options.interval_ms) && options.interval_ms >= 10;
    } else if (name == "--count") {
      ok = parse_number(value, options.count);
    } else if (name == "--address") {
      const std::size_t slash = value.find('/');
      std::uint32_t prefix = 0;
      ok = slash != std::string_view::npos;
      Result<mote::io::Ipv4Address> address =
          mote::io::Ipv4Address::parse(mote::slice(value, 0, ok ? slash : 0));
      ok = ok && address.ok() && parse_number(mote::slice(value, slash + 1), prefix) &&
           prefix >= 1 && prefix <= 30;
      if (ok) {
        options.address = *address;
        options.prefix_len = static_cast<std::uint8_t>(prefix);
      }
    } else {
      MOTE_LOG_ERROR(
          "unknown option %.*s (--mqtt, --coap, --device, --interval-ms, --count, --address)",
          static_cast<int>(name.size()), name.data());
      return false;
    }
    if (!ok) {
      MOTE_LOG_ERROR("bad value for %.*s: %.*s", static_cast<int>(name.size()), name.data(),
                     static_cast<int>(value.size()), value.data());
      return false;
    }
  }
  return true;
}

// The board has no random number generator that QEMU models: the numbers
// come from xorshift32 seeded with the MAC address and the SysTick counter
// when the first one is asked for (its phase follows the host's clock under
// QEMU and the boot time on hardware, so the seed differs between runs). Good enough for DHCP
// transaction IDs and CoAP tokens on a lab network; not for anything an attacker may guess at.
class MixedRandom final : public net::RandomSource {
 public:
  explicit MixedRandom(net::wire::MacAddress mac) {
    for (const std::uint8_t octet : mac.octets()) state_ = state_ * 31U + octet;
  }
  std::uint32_t next_u32() override {
    if (!seeded_) {
      state_ ^= mote::firmware::cortex_m::systick_registers().val * 2654435761U;
      if (state_ == 0) state_ = 0x6d6f7465U;
      seeded_ = true;
    }
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }

 private:
  std::uint32_t state_ = 2166136261U;
  bool seeded_ = false;
};

struct Node {
  explicit Node(mote::async::Executor& executor) : nic(executor) {}
  Options options;
  Lan9118 nic;
  std::optional<net::StaticInterface<>> iface;
  std::optional<net::Stack<Lan9118>> stack;
  std::optional<MixedRandom> random;
  net::StaticUdpSocket<1024, 1024> dhcp_socket;
  std::optional<net::AsyncDhcpClient<net::UdpSocket>> dhcp;
  // CoAP
  net::StaticUdpSocket<1536, 1536> coap_socket;
  std::optional<CoapClient> coap;
  // MQTT: two sockets, so a reconnect need not wait for the last
  // connection's TIME-WAIT.
  net::StaticTcpSocket<2048, 2048> tcp_sockets[2];
  std::array<net::TcpSocket*, 2> tcp_pool{&tcp_sockets[0], &tcp_sockets[1]};
  std::optional<net::TcpConnector> connector;
  std::array<std::byte, 512> mqtt_receive{};
  std::array<std::byte, 512> mqtt_send{};
  std::array<std::byte, 2 * 256> mqtt_inflight{};
  std::array<char, 80> client_id{};
  std::optional<MqttPublisher> mqtt_publisher;
  std::optional<MqttClient> mqtt;
  mote::async::Event leased;
  std::uint32_t sent = 0;
  std::uint32_t failed = 0;
};

Task<void> run_stack(Node& node) { return node.stack->run(); }

Task<Status> run_dhcp(Node& node) {
  co_return co_await node.dhcp->run([&node](const net::DhcpEvent& event) {
    net::Interface& iface = *node.iface;
    if (event.kind == net::DhcpEvent::Kind::lost) {
      MOTE_LOG_WARN("lease lost");
      iface.clear_ipv4_address();
      node.leased.reset();
      return;
    }
    if (event.kind != net::DhcpEvent::Kind::acquired) return;
    const auto& a = event.lease.address.octets();
    MOTE_LOG_INFO("lease %u.%u.%u.%u/%u", a[0], a[1], a[2], a[3],
                  static_cast<unsigned>(event.lease.prefix_len));
    Status status = iface.set_ipv4_address(event.lease.address, event.lease.prefix_len);
    if (status.ok() && event.lease.router) status = iface.set_default_gateway(*event.lease.router);
    if (!status.ok()) {
      MOTE_LOG_ERROR("cannot configure the interface: %s", status.str());
      return;
    }
    node.leased.set();
  });
}

Task<Status> run_transport(Node& node) {
  if (node.mqtt) {
    // Without an address every connect would fail (no route) and only
    // lengthen the backoff.
    co_await node.leased.wait();
    co_return co_await node.mqtt->run();
  }
  co_return co_await node.coap->run();
}

// What the simulated DS18B20 measures at reading `n`: a slow ramp between
// 20 and 24 °C in 1/16 °C steps, so the dashboard's chart moves.
std::int16_t simulated_sixteenths(std::uint32_t n) {
  const std::uint32_t phase = n % 128;
  const std::uint32_t step = phase < 64 ? phase : 128 - phase;
  return static_cast<std::int16_t>(320 + step);
}

mote::async::TaskStorage<1024> stack_storage;
mote::async::TaskStorage<2048> dhcp_storage;
mote::async::TaskStorage<4096> transport_storage;
mote::async::TaskStorage<6144> node_storage;
char command_line[256];

template <mote::firmware::ReadingPublisher Publisher>
Task<Status> sample_and_publish(Node& node, mote::async::Driver& clock, Publisher& publisher) {
  mote::hal::sim::SimDs18b20 model(kSensorSerial);
  mote::hal::sim::SimOneWireBus bus(clock);
  bus.attach(model);
  mote::hal::ExecutorDelay delay;
  Thermometer sensor(bus, delay, model.rom());

  co_await node.leased.wait();
  const auto& g = node.options.gateway.address.v4().octets();
  MOTE_LOG_INFO("publishing to %s://%u.%u.%u.%u:%u/%.*s/%s/%.*s every %lu ms",
                node.options.transport == Transport::mqtt ? "mqtt" : "coap", g[0], g[1], g[2], g[3],
                node.options.gateway.port, static_cast<int>(kPrefix.size()), kPrefix.data(),
                node.options.device.data(), static_cast<int>(kMetric.size()), kMetric.data(),
                static_cast<unsigned long>(node.options.interval_ms));
  bool announced = false;
  const mote::async::Duration interval = std::chrono::milliseconds(node.options.interval_ms);
  mote::async::Instant next = mote::async::now();
  for (std::uint32_t n = 0;; ++n) {
    co_await mote::async::sleep_until(next);
    next += interval;
    if (!node.leased.is_set()) co_await node.leased.wait();
    if (!announced) {
      const Status said = co_await publisher.publish_status("online");
      announced = said.ok();
    }
    model.set_temperature_sixteenths(simulated_sixteenths(n));
    Result<mote::hal::MilliCelsius> reading = co_await sensor.read_temperature();
    if (!reading.ok()) {
      MOTE_LOG_WARN("ds18b20: %s", reading.status().str());
      continue;
    }
    const Status sent = co_await publisher.publish(kMetric, reading->value, kUnit);
    if (sent.ok()) {
      ++node.sent;
      MOTE_LOG_INFO("reading %lu: %ld m°C taken", static_cast<unsigned long>(node.sent),
                    static_cast<long>(reading->value));
      if (node.options.count != 0 && node.sent >= node.options.count) {
        // Leaving on purpose: say so, as the MQTT will would, so the
        // gateway shows the node offline at once instead of after silence.
        MOTE_CO_TRY(co_await publisher.publish_status("offline"));
        co_return co_await publisher.close();
      }
    } else {
      ++node.failed;
      MOTE_LOG_WARN("gateway did not take the reading (%s); trying again", sent.str());
      announced = announced && sent.code() != mote::StatusCode::deadline_exceeded;
    }
    // A reading that took longer than the interval (retransmissions) does
    // not make the node send a burst to catch up.
    if (next < mote::async::now()) next = mote::async::now();
  }
}

// After DISCONNECT the client closed the connection: give the stack up to a
// second to exchange the FINs, so the broker sees a clean close.
Task<void> let_tcp_close(Node& node) {
  const mote::async::Instant give_up = mote::async::now() + 1s;
  for (;;) {
    bool closing = false;
    for (const auto& socket : node.tcp_sockets) {
      const net::TcpState state = socket.tcb().state();
      closing = closing || (state != net::TcpState::closed && state != net::TcpState::time_wait);
    }
    if (!closing || mote::async::now() >= give_up) co_return;
    co_await mote::async::sleep_for(10ms);
  }
}

// The node's work, then (with --count) the end of the other tasks, so that
// executor.run() returns.
Task<Status> run_node(Node& node, mote::async::Driver& clock) {
  Status status;
  if (node.mqtt_publisher) {
    status = co_await sample_and_publish(node, clock, *node.mqtt_publisher);
    co_await let_tcp_close(node);
  } else {
    CoapPublisher publisher(*node.coap, node.options.gateway, kPrefix, node.options.device.data());
    status = co_await sample_and_publish(node, clock, publisher);
  }
  transport_storage.cancel();
  dhcp_storage.cancel();
  stack_storage.cancel();
  co_return status;
}

unsigned u(std::size_t value) { return static_cast<unsigned>(value); }

}  // namespace

int main() {
  mote::firmware::SysTickDriver driver(mote::firmware::board::kCoreClockHz);
  mote::async::Executor executor(driver);
  static Node node(executor);

  if (mote::firmware::semihosting::command_line(command_line, sizeof command_line) >= 0 &&
      !parse_command_line(command_line, node.options)) {
    return 2;
  }
  if (const Status opened = node.nic.open({}); !opened.ok()) {
    MOTE_LOG_ERROR("LAN9118: %s", opened.str());
    return 1;
  }
  const net::wire::MacAddress mac = node.nic.mac_address();
  const auto& m = mac.octets();
  if (node.options.device[0] == '\0') {
    std::snprintf(node.options.device.data(), node.options.device.size(), "mps2-%02x%02x%02x", m[3],
                  m[4], m[5]);
  }
  MOTE_LOG_INFO("LAN9118 id 0x%08lx, MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s",
                static_cast<unsigned long>(node.nic.chip_id()), m[0], m[1], m[2], m[3], m[4], m[5],
                node.nic.link_up() ? "up" : "down");

  net::InterfaceConfig config;
  config.hardware_address = mac;
  node.iface.emplace(node.nic.capabilities(), config);
  node.stack.emplace(*node.iface, node.nic);
  node.random.emplace(mac);
  if (!node.dhcp_socket.bind(*node.iface, net::AsyncDhcpClient<net::UdpSocket>::kClientPort).ok() ||
      (node.options.transport == Transport::coap && !node.coap_socket.bind(*node.iface, 0).ok())) {
    MOTE_LOG_ERROR("cannot bind the sockets");
    return 1;
  }
  net::DhcpClientConfig dhcp_config;
  dhcp_config.host_name = node.options.device.data();
  node.dhcp.emplace(node.dhcp_socket, mac, *node.random, dhcp_config);
  if (node.options.transport == Transport::coap) {
    node.coap.emplace(node.coap_socket, node.random->next_u32());
  } else {
    std::snprintf(node.client_id.data(), node.client_id.size(), "mote-node-%s",
                  node.options.device.data());
    node.connector.emplace(*node.iface, node.tcp_pool);
    node.mqtt_publisher.emplace(kPrefix, node.options.device.data());
    mote::mqtt::ClientOptions mqtt_options;
    mqtt_options.client_id = node.client_id.data();
    mqtt_options.keep_alive = 30;
    // Short enough that a node started before its gateway is there soon
    // after it; the client doubles it up to the maximum.
    mqtt_options.reconnect_delay_min = 500ms;
    mqtt_options.reconnect_delay_max = 5s;
    mqtt_options.will = node.mqtt_publisher->will();
    node.mqtt.emplace(
        *node.connector, node.options.gateway,
        mote::mqtt::ClientBuffers{node.mqtt_receive, node.mqtt_send, node.mqtt_inflight},
        mqtt_options, *node.mqtt_publisher);
    node.mqtt_publisher->attach(*node.mqtt);
  }

  bool ok = executor.spawn(stack_storage, run_stack, std::ref(node)).ok();
  if (node.options.address) {
    ok = ok && node.iface->set_ipv4_address(*node.options.address, node.options.prefix_len).ok();
    const auto& a = node.options.address->octets();
    MOTE_LOG_INFO("fixed address %u.%u.%u.%u/%u", a[0], a[1], a[2], a[3],
                  static_cast<unsigned>(node.options.prefix_len));
    node.leased.set();
  } else {
    ok = ok && executor.spawn(dhcp_storage, run_dhcp, std::ref(node)).ok();
  }
  ok = ok && executor.spawn(transport_storage, run_transport, std::ref(node)).ok();
  ok = ok && executor.spawn(node_storage, run_node, std::ref(node), std::ref(driver)).ok();
  if (!ok) {
    MOTE_LOG_ERROR("cannot spawn the tasks");
    return 1;
  }
  // Returns only with --count, when the node task has ended the others.
  const Status run = executor.run();
  const Status result = run.ok() ? node_storage.exit_status() : run;
  const mote::firmware::Lan9118Counters& c = node.nic.counters();
  MOTE_LOG_INFO(
      "readings taken %lu, failed %lu; frames in %lu out %lu, interrupts %lu, errors rx %lu tx "
      "%lu, too long %lu",
      static_cast<unsigned long>(node.sent), static_cast<unsigned long>(node.failed),
      static_cast<unsigned long>(c.rx_frames), static_cast<unsigned long>(c.tx_frames),
      static_cast<unsigned long>(c.interrupts),
      static_cast<unsigned long>(c.rx_errors + c.fifo_errors),
      static_cast<unsigned long>(c.tx_errors), static_cast<unsigned long>(c.rx_too_long));
  if (node.mqtt_publisher) {
    MOTE_LOG_INFO("mqtt connections %lu",
                  static_cast<unsigned long>(node.mqtt_publisher->connections()));
  }
  MOTE_LOG_INFO("frame bytes used: stack %u, dhcp %u, transport %u, node %u",
                u(stack_storage.high_water_mark()), u(dhcp_storage.high_water_mark()),
                u(transport_storage.high_water_mark()), u(node_storage.high_water_mark()));
  if (!result.ok()) {
    MOTE_LOG_ERROR("node: %s", result.str());
    return 1;
  }
  mote::firmware::semihosting::write0("sensor_node_net: PASS\n");
  return 0;
}
