// coap_node: the firmware sensor node. mote's IP stack on the board's
// LAN9118 (Stack<Lan9118>), a DHCP lease, a DS18B20 read through the real
// driver on the simulated 1-Wire bus, and every reading POSTed to the
// gateway's CoAP ingest (docs/gateway.md) until the gateway has taken it.
//   stack    Stack<Lan9118>: frames in and out, ARP, timers
//   dhcp     AsyncDhcpClient on a UdpSocket bound to port 68: configures the
//            interface with each lease (and clears it when one is lost)
//   coap     the CoAP client's loop (receives, retransmits)
//   node     waits for a lease, announces "online", then every interval
//            reads the sensor and publishes the reading; while the gateway
//            is away it keeps trying with the newest reading (the node has
//            no wall clock to stamp older ones with, see reading_publisher.hpp)
//
// The command line comes from semihosting (QEMU: -append "..." after
// -kernel, or -semihosting-config ...,arg=...):
//   --gateway HOST:PORT   the gateway's CoAP endpoint (10.0.2.2:5683: the
//                         host under QEMU's user networking)
//   --device NAME         the device name (mps2-<last 3 MAC octets>)
//   --interval-ms N       time between readings (1000)
//   --count N             once N readings were taken by the gateway, send
//                         "offline" and stop with exit status 0 (0: run for ever)
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

#define MOTE_LOG_MODULE "coap_node"
#include "mote/async/event.hpp"
#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/base/log.hpp"
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
#include "mote/net/dhcp/async_dhcp_client.hpp"
#include "mote/net/iface/interface.hpp"
#include "mote/net/random_source.hpp"
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
using Publisher = mote::firmware::CoapReadingPublisher<net::UdpSocket, 2>;
using Thermometer = mote::drivers::Ds18b20<mote::hal::sim::SimOneWireBus, mote::hal::ExecutorDelay>;
static_assert(mote::firmware::ReadingPublisher<Publisher>);

constexpr std::string_view kPrefix = "mote";
constexpr std::string_view kMetric = "temperature";
constexpr std::string_view kUnit = "°C";
constexpr std::uint64_t kSensorSerial = 0x0316'A279'9FB2;

struct Options {
  mote::io::Endpoint gateway{mote::io::Ipv4Address(10, 0, 2, 2), 5683};
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
    words[count++] = line.substr(0, end);
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  }
  for (std::size_t i = 1; i < count; i += 2) {
    const std::string_view name = words[i];
    if (i + 1 >= count) {
      MOTE_LOG_ERROR("%.*s needs a value", static_cast<int>(name.size()), name.data());
      return false;
    }
    const std::string_view value = words[i + 1];
    bool ok = false;
    if (name == "--gateway") {
      Result<mote::io::Endpoint> endpoint = mote::io::Endpoint::parse(value);
      ok = endpoint.ok() && endpoint->address.is_v4() && endpoint->port != 0;
      if (ok) options.gateway = *endpoint;
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
      // No substr(): it may throw, and firmware links no exception support.
      const std::size_t slash = value.find('/');
      std::uint32_t prefix = 0;
      ok = slash != std::string_view::npos;
      Result<mote::io::Ipv4Address> address =
          mote::io::Ipv4Address::parse(std::string_view(value.data(), ok ? slash : 0));
      ok = ok && address.ok() &&
           parse_number(std::string_view(value.data() + slash + 1, value.size() - slash - 1),
                        prefix) &&
           prefix >= 1 && prefix <= 30;
      if (ok) {
        options.address = *address;
        options.prefix_len = static_cast<std::uint8_t>(prefix);
      }
    } else {
      MOTE_LOG_ERROR("unknown option %.*s (--gateway, --device, --interval-ms, --count, --address)",
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
  net::StaticUdpSocket<1536, 1536> coap_socket;
  std::optional<net::AsyncDhcpClient<net::UdpSocket>> dhcp;
  std::optional<CoapClient> coap;
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

Task<Status> run_coap(Node& node) { co_return co_await node.coap->run(); }

// What the simulated DS18B20 measures at reading `n`: a slow ramp between
// 20 and 24 °C in 1/16 °C steps, so the dashboard's chart moves.
std::int16_t simulated_sixteenths(std::uint32_t n) {
  const std::uint32_t phase = n % 128;
  const std::uint32_t step = phase < 64 ? phase : 128 - phase;
  return static_cast<std::int16_t>(320 + step);
}

mote::async::TaskStorage<1024> stack_storage;
mote::async::TaskStorage<2048> dhcp_storage;
mote::async::TaskStorage<2048> coap_storage;
mote::async::TaskStorage<4096> node_storage;
char command_line[256];

Task<Status> sample_and_publish(Node& node, mote::async::Driver& clock) {
  mote::hal::sim::SimDs18b20 model(kSensorSerial);
  mote::hal::sim::SimOneWireBus bus(clock);
  bus.attach(model);
  mote::hal::ExecutorDelay delay;
  Thermometer sensor(bus, delay, model.rom());
  Publisher publisher(*node.coap, node.options.gateway, kPrefix, node.options.device.data());

  co_await node.leased.wait();
  const auto& g = node.options.gateway.address.v4().octets();
  MOTE_LOG_INFO("publishing to coap://%u.%u.%u.%u:%u/%.*s/%s/%.*s every %lu ms", g[0], g[1], g[2],
                g[3], node.options.gateway.port, static_cast<int>(kPrefix.size()), kPrefix.data(),
                node.options.device.data(), static_cast<int>(kMetric.size()), kMetric.data(),
                static_cast<unsigned long>(node.options.interval_ms));
  bool announced = false;
  const mote::async::Duration interval = std::chrono::milliseconds(node.options.interval_ms);
  mote::async::Instant next = mote::async::now();
  for (std::uint32_t n = 0;; ++n) {
    co_await mote::async::sleep_until(next);
    next += interval;
    if (!node.leased.is_set()) co_await node.leased.wait();
    if (!announced) announced = (co_await publisher.publish_status("online")).ok();
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
        // Leaving on purpose: say so, as an MQTT node's will would, so the
        // gateway shows the node offline at once instead of after silence.
        co_return co_await publisher.publish_status("offline");
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

// The node's work, then (with --count) the end of the other tasks, so that
// executor.run() returns.
Task<Status> run_node(Node& node, mote::async::Driver& clock) {
  const Status status = co_await sample_and_publish(node, clock);
  coap_storage.cancel();
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
      !node.coap_socket.bind(*node.iface, 0).ok()) {
    MOTE_LOG_ERROR("cannot bind the sockets");
    return 1;
  }
  net::DhcpClientConfig dhcp_config;
  dhcp_config.host_name = node.options.device.data();
  node.dhcp.emplace(node.dhcp_socket, mac, *node.random, dhcp_config);
  node.coap.emplace(node.coap_socket, node.random->next_u32());

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
  ok = ok && executor.spawn(coap_storage, run_coap, std::ref(node)).ok();
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
  MOTE_LOG_INFO("frame bytes used: stack %u, dhcp %u, coap %u, node %u",
                u(stack_storage.high_water_mark()), u(dhcp_storage.high_water_mark()),
                u(coap_storage.high_water_mark()), u(node_storage.high_water_mark()));
  if (!result.ok()) {
    MOTE_LOG_ERROR("node: %s", result.str());
    return 1;
  }
  mote::firmware::semihosting::write0("coap_node: PASS\n");
  return 0;
}
