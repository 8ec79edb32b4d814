// `mote sensor`: a Linux sensor node. It reads DS18B20 thermometers through
// the kernel's w1 driver (sysfs), or a simulated DS18B20 on the HAL's
// simulated 1-Wire bus when there is none (and says which, once), and
// publishes every reading to the gateway in the gateway's wire format
// (docs/gateway.md): over MQTT (QoS 1) or over CoAP (confirmable POST).
//
//   sampler ──> buffer (bounded, oldest dropped first) ──> publisher ──> mqtt::Client
//                                                                    or coap::Client
//
// The node is written once, over the io concepts, as Node<Network>: with
// KernelNetwork it runs on the kernel's sockets, with TapNetwork (--tap,
// tap_network.hpp) on mote's own TCP/IP stack on a TAP device, its address
// from DHCP or --address. Everything below holds on both.
//
// While the gateway is away the readings wait in the buffer, each with the
// time it was taken; when the connection is back they go out oldest first,
// so the gateway stores them at their own times. A reading whose delivery is
// in doubt (the connection dropped before its PUBACK) is sent again: the
// gateway keeps each (device, metric, time) once, so that costs nothing.
//
// Over MQTT the node's status topic says "online" (retained) after each
// connect; its will says "offline" when the connection drops, and a clean
// stop (Ctrl-C, --duration) says "offline" itself before disconnecting.
// CoAP has no connection and no will: the node POSTs "online" to its status
// resource before its first reading and again after the gateway was away,
// and "offline" when it stops; a node that dies silently goes offline at
// the gateway after devices.silent_after.
//
// Over CoAP one request is in flight at a time (NSTART = 1, RFC 7252 §4.7);
// the client retransmits a confirmable POST with exponential back-off
// (§4.2) for about 45 s. A POST that gets no answer in that time, or a 5.xx,
// leaves the reading first in the buffer and is tried again; the readings
// taken meanwhile queue behind it, so a gateway that restarts gets all of
// them, oldest first. A 4.xx means the gateway will never take that reading:
// it is dropped and logged.
#define MOTE_LOG_MODULE "sensor"

#include "sensor_command.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <concepts>
#include <cstdio>
#include <deque>
#include <string>
#include <sys/random.h>
#include <unistd.h>
#include <vector>

#include "mote/async/async.hpp"
#include "mote/base/log.hpp"
#include "mote/coap/client.hpp"
#include "mote/drivers/ds18b20.hpp"
#include "mote/gateway/reading_format.hpp"
#include "mote/hal/delay.hpp"
#include "mote/hal/sim/ds18b20.hpp"
#include "mote/hal/sim/one_wire_bus.hpp"
#include "mote/io/concepts.hpp"
#include "mote/mqtt/client.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"
#include "mote/platform/w1_thermometer.hpp"
#include "stop_signals.hpp"
#include "tap_network.hpp"

namespace mote::cli {
namespace {

using namespace std::chrono_literals;
using async::Duration;
using async::Task;

struct SensorConfig {
  std::string name;
  std::string mqtt;  // ADDRESS:PORT; 127.0.0.1:1883 unless --coap is given
  std::string coap;  // ADDRESS:PORT of the gateway's CoAP endpoint; empty: MQTT
  std::string prefix = "mote";
  Duration interval = 5s;
  std::string w1_dir = "/sys/bus/w1/devices";
  bool simulate = false;
  std::int64_t buffer = 10000;
  Duration duration = Duration::zero();  // zero: until stopped
  // mote's own stack on this TAP device instead of the kernel's sockets.
  std::string tap;
  std::string address;  // A.B.C.D/NN[,GATEWAY]; empty: DHCP
  Duration dhcp_timeout = 30s;
};

// --- where readings come from --------------------------------------------------

struct Measurement {
  std::string metric;
  std::int64_t milli = 0;  // thousandths of the unit
  const char* unit = "";
};

class ReadingSource {
 public:
  ReadingSource() = default;
  ReadingSource(const ReadingSource&) = delete;
  ReadingSource& operator=(const ReadingSource&) = delete;
  virtual ~ReadingSource() = default;
  // Appends one measurement per sensor that answered; logs the others.
  virtual Task<void> read_all(std::vector<Measurement>& out) = 0;
};

// DS18B20s the kernel's w1_therm driver handles.
class W1Source final : public ReadingSource {
 public:
  W1Source(async::Executor& executor, const std::vector<std::string>& devices) {
    for (const std::string& device : devices) {
      const std::string id = device.substr(device.find_last_of('/') + 1);
      // One sensor is "temperature"; several are told apart by their ROM id.
      metrics_.push_back(devices.size() == 1 ? "temperature" : "temperature-" + id);
      sensors_.push_back(std::make_unique<platform::W1Thermometer>(executor, device));
    }
  }
  Task<void> read_all(std::vector<Measurement>& out) override {
    for (std::size_t i = 0; i < sensors_.size(); ++i) {
      const Result<hal::MilliCelsius> reading = co_await sensors_[i]->read_temperature();
      if (reading.ok()) {
        out.push_back({metrics_[i], reading->value, "°C"});
      } else {
        MOTE_LOG_WARN("%s: %s", sensors_[i]->device_directory().c_str(), reading.status().str());
      }
    }
  }

 private:
  std::vector<std::string> metrics_;
  std::vector<std::unique_ptr<platform::W1Thermometer>> sensors_;
};

// A DS18B20 model on the HAL's simulated 1-Wire bus, read by the real
// driver (reset, ROM, CONVERT T, scratchpad with CRC); its temperature
// wanders around 21 °C.
class SimulatedSource final : public ReadingSource {
 public:
  SimulatedSource(async::Driver& clock, std::uint32_t seed)
      : bus_(clock), model_(0x0000'5EED'0000'0001ULL + seed), state_(seed * 2654435761u + 1) {
    bus_.attach(model_);
  }
  ~SimulatedSource() override { bus_.detach(model_); }

  Task<void> read_all(std::vector<Measurement>& out) override {
    // A step of up to ±0.12 °C, drifting back towards 21 °C.
    const auto step = static_cast<std::int32_t>(next() % 241) - 120;
    temperature_ += step + (21000 - temperature_) / 20;
    model_.set_temperature(hal::MilliCelsius{temperature_});
    hal::ExecutorDelay delay;
    auto sensor =
        drivers::Ds18b20<hal::sim::SimOneWireBus, hal::ExecutorDelay>::alone_on_bus(bus_, delay);
    const Result<hal::MilliCelsius> reading = co_await sensor.read_temperature();
    if (reading.ok()) {
      out.push_back({"temperature", reading->value, "°C"});
    } else {
      MOTE_LOG_WARN("simulated DS18B20: %s", reading.status().str());
    }
  }

 private:
  std::uint32_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }

  hal::sim::SimOneWireBus bus_;
  hal::sim::SimDs18b20 model_;
  std::uint32_t state_;
  std::int32_t temperature_ = 21000;
};

// --- the node ----------------------------------------------------------------------

struct Pending {
  std::string metric;
  std::int64_t milli = 0;
  const char* unit = "";
  std::int64_t time_ms = 0;
};

// What the node needs of a network: a TCP connector (MQTT), one UDP socket
// on an ephemeral port (CoAP), and stop() for a clean end once the clients
// are done.
template <class N>
concept SensorNetwork = io::Connector<typename N::Connector> &&
    io::DatagramSocket<typename N::Datagram> && requires(N& network, const io::Endpoint& server) {
  { network.connector() } -> std::same_as<typename N::Connector&>;
  { network.open_datagram(server) } -> std::same_as<Result<typename N::Datagram*>>;
  { network.stop() } -> std::same_as<Task<void>>;
};

// The kernel's sockets.
class KernelNetwork {
 public:
  using Connector = platform::KernelTcpConnector;
  using Datagram = platform::KernelUdpSocket;

  explicit KernelNetwork(platform::EpollDriver& driver) : driver_(driver), connector_(driver) {}

  Connector& connector() { return connector_; }
  // A UDP socket on an ephemeral port of the server's family.
  Result<Datagram*> open_datagram(const io::Endpoint& server) {
    const io::IpAddress any = server.address.is_v4()
                                  ? io::IpAddress(io::Ipv4Address::unspecified())
                                  : io::IpAddress(io::Ipv6Address::unspecified());
    MOTE_TRY_ASSIGN(datagram_, platform::KernelUdpSocket::bind(driver_, {any, 0}));
    return &datagram_;
  }
  // The kernel finishes closing connections after the process is gone.
  static Task<void> stop() { co_return; }

 private:
  platform::EpollDriver& driver_;
  Connector connector_;
  Datagram datagram_;
};

static_assert(SensorNetwork<KernelNetwork>);
static_assert(SensorNetwork<TapNetwork>);

// The node, written once against the io concepts: Network is KernelNetwork
// or TapNetwork.
template <SensorNetwork Network>
struct Node final : mqtt::MessageHandler {
  using MqttClient = mqtt::Client<typename Network::Connector>;
  using CoapClient = coap::Client<typename Network::Datagram>;

  Node(SensorConfig c, async::Executor& e, Network& n)
      : config(std::move(c)), executor(e), network(n) {}

  void on_message(const mqtt::Message& /*message*/) override {}  // subscribes to nothing
  void on_connected(const mqtt::ServerSettings& /*server*/) override {
    MOTE_LOG_INFO("connected to %s", config.mqtt.c_str());
    connected.signal();
  }

  std::int64_t wall_clock_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  void buffer_reading(Measurement measurement, std::int64_t time_ms) {
    if (buffer.size() >= static_cast<std::size_t>(config.buffer)) {
      buffer.pop_front();
      ++dropped;
      if (dropped == 1 || dropped % 1000 == 0) {
        MOTE_LOG_WARN("buffer full (%lld readings): dropped the oldest (%llu so far)",
                      static_cast<long long>(config.buffer),
                      static_cast<unsigned long long>(dropped));
      }
    }
    buffer.push_back({std::move(measurement.metric), measurement.milli, measurement.unit, time_ms});
    have_readings.signal();
  }

  SensorConfig config;
  async::Executor& executor;
  Network& network;
  std::unique_ptr<ReadingSource> source;
  std::unique_ptr<MqttClient> client;  // over MQTT
  std::string status_topic;
  std::string client_id;
  // Over CoAP: the client and the gateway's endpoint.
  std::unique_ptr<CoapClient> coap;
  io::Endpoint coap_server;
  bool coap_announced = false;  // "online" was accepted since the gateway was last away

  std::deque<Pending> buffer;
  async::Signal<> have_readings;
  async::Signal<> connected;
  std::uint64_t sampled = 0;
  std::uint64_t sent = 0;
  std::uint64_t dropped = 0;

  std::array<std::byte, 4096> receive_buffer{};
  std::array<std::byte, 1024> send_buffer{};
  std::array<std::byte, std::size_t{8} * 256> inflight_buffer{};

  async::TaskStorage<std::size_t{32} * 1024> client_task;
  async::TaskStorage<std::size_t{16} * 1024> sampler_task;
  async::TaskStorage<std::size_t{16} * 1024> publisher_task;
  async::TaskStorage<std::size_t{8} * 1024> status_task;
  async::TaskStorage<std::size_t{16} * 1024> supervisor_task;
};

template <class Network>
Task<Status> run_client(Node<Network>& node) {
  if (node.coap) co_return co_await node.coap->run();
  co_return co_await node.client->run();
}

// The node's own state on its status topic, retained: "online" / "offline".
template <class Network>
mqtt::OutgoingMessage status_message(const Node<Network>& node, std::string_view state,
                                     mqtt::QoS qos) {
  mqtt::OutgoingMessage message;
  message.topic = node.status_topic;
  message.payload = ConstByteSpan(reinterpret_cast<const std::byte*>(state.data()), state.size());
  message.qos = qos;
  message.retain = true;
  return message;
}

template <class Network>
Task<void> sample(Node<Network>& node) {
  std::vector<Measurement> measurements;
  for (;;) {
    const async::Instant started = node.executor.now();
    measurements.clear();
    co_await node.source->read_all(measurements);
    const std::int64_t time_ms = node.wall_clock_ms();
    for (Measurement& measurement : measurements) {
      MOTE_LOG_DEBUG("%s = %lld/1000 %s", measurement.metric.c_str(),
                     static_cast<long long>(measurement.milli), measurement.unit);
      node.buffer_reading(std::move(measurement), time_ms);
      ++node.sampled;
    }
    co_await async::sleep_until(started + node.config.interval);
  }
}

template <class Network>
Task<void> publish_mqtt(Node<Network>& node) {
  std::array<char, 160> topic{};
  std::array<std::byte, 128> payload{};
  for (;;) {
    while (node.buffer.empty()) co_await node.have_readings.wait();
    const Pending reading = node.buffer.front();
    const Result<std::size_t> topic_size =
        gateway::format_topic(topic, node.config.prefix, node.config.name, reading.metric);
    const Result<std::size_t> payload_size =
        gateway::format_reading(payload, reading.milli, reading.unit, reading.time_ms);
    if (!topic_size.ok() || !payload_size.ok()) {
      MOTE_LOG_ERROR("cannot format %s: dropped", reading.metric.c_str());
      node.buffer.pop_front();
      continue;
    }
    mqtt::OutgoingMessage message;
    message.topic = std::string_view(topic.data(), *topic_size);
    message.payload = ConstByteSpan(payload.data(), *payload_size);
    message.qos = mqtt::QoS::at_least_once;
    // Waits for a free in-flight slot and the PUBACK, across reconnects.
    const Result<mqtt::ReasonCode> acked = co_await node.client->publish(message);
    if (acked.ok() && !mqtt::is_failure(*acked)) {
      if (!node.buffer.empty() && node.buffer.front().time_ms == reading.time_ms &&
          node.buffer.front().metric == reading.metric) {
        node.buffer.pop_front();
      }
      ++node.sent;
    } else if (acked.ok()) {
      MOTE_LOG_WARN("the broker refused %s (reason 0x%02x): dropped", reading.metric.c_str(),
                    static_cast<unsigned>(*acked));
      node.buffer.pop_front();
    } else {
      // aborted: the session ended with the message unacknowledged. The
      // reading stays first in line and goes again.
      MOTE_LOG_INFO("%s: %s; sending it again", reading.metric.c_str(), acked.status().str());
      co_await async::sleep_for(100ms);
    }
  }
}

// One confirmable POST of `payload` to <prefix>/<name>/<metric>; its
// response code, or the client's error (deadline_exceeded: no answer).
template <class Network>
Task<Result<coap::Code>> post_coap(Node<Network>& node, std::string_view metric,
                                   std::string_view payload) {
  std::array<char, 160> path{};
  MOTE_CO_TRY_ASSIGN(const std::size_t path_size,
                     gateway::format_topic(path, node.config.prefix, node.config.name, metric));
  coap::Request request;
  request.method = coap::codes::kPost;
  request.path = std::string_view(path.data(), path_size);
  request.payload =
      ConstByteSpan(reinterpret_cast<const std::byte*>(payload.data()), payload.size());
  request.confirmable = true;
  std::array<std::byte, coap::kMaxMessageSize> response{};
  MOTE_CO_TRY_ASSIGN(const coap::Response answer,
                     co_await node.coap->request(node.coap_server, request, response));
  co_return answer.code;
}

template <class Network>
Task<void> publish_coap(Node<Network>& node) {
  std::array<std::byte, 128> payload{};
  Duration backoff = 500ms;
  bool away = false;  // the last request got no answer: said once in the log
  const auto gateway_away = [&](const Status& why) -> Duration {
    if (!away) {
      MOTE_LOG_WARN("coap://%s: %s; keeping readings until it answers", node.config.coap.c_str(),
                    why.str());
    }
    away = true;
    node.coap_announced = false;
    const Duration wait = backoff;
    backoff = std::min<Duration>(backoff * 2, 10s);
    return wait;
  };
  for (;;) {
    while (node.buffer.empty()) co_await node.have_readings.wait();
    if (!node.coap_announced) {
      const Result<coap::Code> said = co_await post_coap(node, "status", "online");
      if (!said.ok() || said->code_class() == 5) {
        co_await async::sleep_for(gateway_away(said.ok() ? Status::unavailable() : said.status()));
        continue;
      }
      node.coap_announced = true;
    }
    const Pending reading = node.buffer.front();
    const Result<std::size_t> payload_size =
        gateway::format_reading(payload, reading.milli, reading.unit, reading.time_ms);
    if (!payload_size.ok()) {
      MOTE_LOG_ERROR("cannot format %s: dropped", reading.metric.c_str());
      node.buffer.pop_front();
      continue;
    }
    const Result<coap::Code> answer = co_await post_coap(
        node, reading.metric,
        std::string_view(reinterpret_cast<const char*>(payload.data()), *payload_size));
    if (!answer.ok() || answer->code_class() == 5) {
      co_await async::sleep_for(
          gateway_away(answer.ok() ? Status::unavailable() : answer.status()));
      continue;
    }
    if (away) MOTE_LOG_INFO("coap://%s answers again", node.config.coap.c_str());
    away = false;
    backoff = 500ms;
    if (!node.buffer.empty() && node.buffer.front().time_ms == reading.time_ms &&
        node.buffer.front().metric == reading.metric) {
      node.buffer.pop_front();
    }
    if (answer->is_success()) {
      ++node.sent;
    } else {
      MOTE_LOG_WARN("the gateway refused %s (CoAP %u.%02u): dropped", reading.metric.c_str(),
                    static_cast<unsigned>(answer->code_class()),
                    static_cast<unsigned>(answer->detail()));
    }
  }
}

template <class Network>
Task<void> publish(Node<Network>& node) {
  if (node.coap) {
    co_await publish_coap(node);
  } else {
    co_await publish_mqtt(node);
  }
}

// "online", retained, after each connect (the will says "offline"). Over
// CoAP the publisher says it (publish_coap).
template <class Network>
Task<void> announce(Node<Network>& node) {
  if (node.coap) co_return;
  for (;;) {
    co_await node.connected.wait();
    const Result<mqtt::ReasonCode> acked =
        co_await node.client->publish(status_message(node, "online", mqtt::QoS::at_least_once));
    if (!acked.ok()) MOTE_LOG_WARN("status: %s", acked.status().str());
  }
}

template <class Network>
Task<int> wait_for_stop(Node<Network>& node, platform::FdWatch& signals) {
  if (node.config.duration == Duration::zero()) co_return co_await next_signal(signals);
  auto first = co_await async::select(
      [](Duration d) -> Task<int> {
        co_await async::sleep_for(d);
        co_return 0;
      }(node.config.duration),
      next_signal(signals));
  co_return first.index() == 0 ? std::get<0>(first) : std::get<1>(first);
}

template <class Network>
Task<void> supervise(Node<Network>& node, platform::FdWatch& signals) {
  const int signal = co_await wait_for_stop(node, signals);
  if (signal != 0) MOTE_LOG_INFO("%s: stopping", signal_name(signal));
  node.sampler_task.cancel();
  node.publisher_task.cancel();
  node.status_task.cancel();
  if (node.coap) {
    // "offline", if the gateway answers soon (a CON is retransmitted after
    // 2-3 s: one try, and no long wait on a gateway that is gone).
    if (node.coap_announced) {
      const Result<coap::Code> said =
          co_await async::with_timeout(2s, post_coap(node, "status", "offline"));
      if (!said.ok()) MOTE_LOG_WARN("status offline: %s", said.status().str());
    }
    node.coap->stop();
    co_await node.network.stop();
    co_return;
  }
  if (node.client->connected()) {
    static_cast<void>(
        co_await node.client->publish(status_message(node, "offline", mqtt::QoS::at_most_once)));
  }
  static_cast<void>(co_await node.client->disconnect());
  co_await node.network.stop();
}

std::string default_name() {
  char host[64] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "sensor";
  std::string name = "sensor-";
  for (const char* c = host; *c != '\0' && name.size() < 64; ++c) {
    const bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || *c == '-' || *c == '_';
    name += ok ? *c : '-';
  }
  return name;
}

// The MQTT client, with the node's will ("offline", retained).
template <class Network>
void open_mqtt(Node<Network>& node, const io::Endpoint& server) {
  node.status_topic = node.config.prefix + "/" + node.config.name + "/status";
  static constexpr std::string_view kOffline = "offline";
  node.client_id = "mote-sensor-" + node.config.name;
  mqtt::ClientOptions options;
  options.client_id = node.client_id;
  options.keep_alive = 30;
  options.reconnect_delay_min = 500ms;
  options.reconnect_delay_max = 10s;
  mqtt::Will will;
  will.topic = node.status_topic;
  will.payload =
      ConstByteSpan(reinterpret_cast<const std::byte*>(kOffline.data()), kOffline.size());
  will.qos = mqtt::QoS::at_least_once;
  will.retain = true;
  options.will = will;
  node.client = std::make_unique<typename Node<Network>::MqttClient>(
      node.network.connector(), server,
      mqtt::ClientBuffers{node.receive_buffer, node.send_buffer, node.inflight_buffer}, options,
      node);
}

// A UDP socket on an ephemeral port, and the client.
template <class Network>
Status open_coap(Node<Network>& node, const io::Endpoint& server) {
  MOTE_TRY_ASSIGN(auto* socket, node.network.open_datagram(server));
  // RFC 7252 §5.3.1: tokens an off-path attacker cannot guess.
  std::uint32_t seed = 0;
  if (::getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed)) {
    seed =
        static_cast<std::uint32_t>(node.wall_clock_ms()) ^ static_cast<std::uint32_t>(::getpid());
  }
  node.coap = std::make_unique<typename Node<Network>::CoapClient>(*socket, seed);
  node.coap_server = server;
  return ok_status();
}

// "coap://host:port/" and "host" become "host:port" (5683 when absent);
// a bare IPv6 address gets its brackets.
std::string coap_endpoint_text(std::string text) {
  constexpr std::string_view kScheme = "coap://";
  if (text.starts_with(kScheme)) text.erase(0, kScheme.size());
  while (text.ends_with("/")) text.pop_back();
  const auto colons = std::count(text.begin(), text.end(), ':');
  if (text.starts_with("[")) {
    if (text.ends_with("]")) text += ":5683";
  } else if (colons == 0) {
    text += ":5683";
  } else if (colons > 1) {
    text = "[" + text + "]:5683";
  }
  return text;
}

// The DS18B20s the kernel lists, or the simulated one; says which, once.
std::unique_ptr<ReadingSource> open_source(const SensorConfig& config,
                                           platform::EpollDriver& driver,
                                           async::Executor& executor) {
  const std::vector<std::string> devices = config.simulate
                                               ? std::vector<std::string>{}
                                               : platform::W1Thermometer::discover(config.w1_dir);
  if (devices.empty()) {
    std::printf(
        "mote sensor %s: simulated DS18B20 (%s)\n", config.name.c_str(),
        config.simulate ? "--simulate" : ("no 1-Wire thermometer under " + config.w1_dir).c_str());
    return std::make_unique<SimulatedSource>(
        driver, static_cast<std::uint32_t>(std::hash<std::string>{}(config.name)));
  }
  std::printf("mote sensor %s: %zu DS18B20 through the kernel's w1 driver (%s)\n",
              config.name.c_str(), devices.size(), config.w1_dir.c_str());
  return std::make_unique<W1Source>(executor, devices);
}

// Runs the node on `network` until it is stopped; the exit status.
template <class Network>
int run_node(const SensorConfig& config, const io::Endpoint& server, Network& network,
             std::unique_ptr<ReadingSource> source, async::Executor& executor,
             StopSignals& signals) {
  Node<Network> node(config, executor, network);
  node.source = std::move(source);
  const bool over_coap = !config.coap.empty();
  std::printf("publishing to %s://%s as %s/%s/<metric> every %lld ms\n",
              over_coap ? "coap" : "mqtt", over_coap ? config.coap.c_str() : config.mqtt.c_str(),
              config.prefix.c_str(), config.name.c_str(),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(config.interval).count()));
  std::fflush(stdout);

  if (over_coap) {
    if (const Status opened = open_coap(node, server); !opened.ok()) {
      MOTE_LOG_ERROR("CoAP: cannot open a UDP socket: %s", opened.str());
      return kExitFailure;
    }
  } else {
    open_mqtt(node, server);
  }

  for (const Status started :
       {executor.spawn(node.client_task, run_client<Network>, std::ref(node)),
        executor.spawn(node.sampler_task, sample<Network>, std::ref(node)),
        executor.spawn(node.publisher_task, publish<Network>, std::ref(node)),
        executor.spawn(node.status_task, announce<Network>, std::ref(node)),
        executor.spawn(node.supervisor_task, supervise<Network>, std::ref(node),
                       std::ref(signals.watch()))}) {
    if (!started.ok()) {
      MOTE_LOG_ERROR("cannot start a task: %s", started.str());
      return kExitFailure;
    }
  }
  const Status ran = executor.run();
  const Status client_status = node.client_task.exit_status();
  std::printf("mote sensor %s: %llu readings taken, %llu sent, %zu unsent, %llu dropped\n",
              config.name.c_str(), static_cast<unsigned long long>(node.sampled),
              static_cast<unsigned long long>(node.sent), node.buffer.size(),
              static_cast<unsigned long long>(node.dropped));
  if (!ran.ok()) {
    MOTE_LOG_ERROR("stopped early: %s", ran.str());
    return kExitFailure;
  }
  if (!client_status.ok()) {
    MOTE_LOG_ERROR("%s: %s", over_coap ? "coap" : "mqtt", client_status.str());
    return kExitFailure;
  }
  return kExitOk;
}

// Until the TAP network has an address, or a stop signal came (cancelled).
Task<Status> until_addressed(TapNetwork& network, platform::FdWatch& signals) {
  auto first = co_await async::select(network.wait_for_address(), next_signal(signals));
  if (first.index() == 1) {
    MOTE_LOG_INFO("%s: stopping", signal_name(std::get<1>(first)));
    co_return Status::cancelled();
  }
  co_return std::get<0>(first);
}

// mote's own stack on the TAP device: opens it, brings it up (DHCP or the
// fixed address) and runs the node on it.
int run_on_tap(const SensorConfig& config, const TapNetworkConfig& tap_config,
               const io::Endpoint& server, std::unique_ptr<ReadingSource> source,
               platform::EpollDriver& driver, async::Executor& executor, StopSignals& signals) {
  TapNetwork network(driver, tap_config);
  if (const Status opened = network.open(); !opened.ok()) {
    std::fprintf(stderr, "mote sensor: %s\n", network.open_error(opened).c_str());
    return kExitFailure;
  }
  std::array<char, net::wire::MacAddress::kMaxTextLen> mac{};
  const std::size_t mac_size = network.hardware_address().format(mac).value_or(0);
  std::printf(
      "network: mote's own stack on TAP device %s (MAC %.*s), %s\n", tap_config.device.c_str(),
      static_cast<int>(mac_size), mac.data(),
      tap_config.address ? ("address " + network.address_text()).c_str() : "address by DHCP");
  std::fflush(stdout);
  async::TaskStorage<std::size_t{8} * 1024> bring_up;
  Status started = network.start(executor);
  if (started.ok()) {
    started =
        executor.spawn(bring_up, until_addressed, std::ref(network), std::ref(signals.watch()));
  }
  if (!started.ok()) {
    MOTE_LOG_ERROR("cannot start mote's stack: %s", started.str());
    return kExitFailure;
  }
  while (bring_up.state() != async::TaskState::finished) {
    const Status ran = executor.run_for(100ms);
    if (!ran.ok() && ran.code() != StatusCode::deadline_exceeded) {
      MOTE_LOG_ERROR("stopped early: %s", ran.str());
      return kExitFailure;
    }
  }
  const Status addressed = bring_up.exit_status();
  if (addressed.code() == StatusCode::cancelled) return kExitOk;
  if (!addressed.ok()) {
    std::fprintf(
        stderr,
        "mote sensor: no DHCP lease on TAP device %s within %lld s (%s). Is a DHCP "
        "server on that link? Or give --address A.B.C.D/NN[,GATEWAY]\n",
        tap_config.device.c_str(),
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::seconds>(tap_config.lease_timeout).count()),
        addressed.str());
    return kExitFailure;
  }
  if (!tap_config.address) {
    std::printf("network: address %s by DHCP\n", network.address_text().c_str());
  }
  return run_node(config, server, network, std::move(source), executor, signals);
}

int run_sensor(SensorConfig config) {
  if (config.name.empty()) config.name = default_name();
  if (!gateway::internal::is_valid_name(config.name)) {
    std::fprintf(stderr, "mote sensor: --name must be 1-64 of A-Z a-z 0-9 _ . - (got '%s')\n",
                 config.name.c_str());
    return kExitUsage;
  }
  if (!config.mqtt.empty() && !config.coap.empty()) {
    std::fprintf(stderr, "mote sensor: --mqtt and --coap exclude each other\n");
    return kExitUsage;
  }
  const bool over_coap = !config.coap.empty();
  if (over_coap) {
    config.coap = coap_endpoint_text(config.coap);
  } else if (config.mqtt.empty()) {
    config.mqtt = "127.0.0.1:1883";
  }
  const std::string& server_text = over_coap ? config.coap : config.mqtt;
  const Result<io::Endpoint> server = io::Endpoint::parse(server_text);
  if (!server.ok()) {
    if (over_coap) {
      std::fprintf(stderr,
                   "mote sensor: --coap wants ADDRESS[:PORT] or coap://ADDRESS[:PORT], e.g. "
                   "127.0.0.1:5683 (got '%s')\n",
                   server_text.c_str());
    } else {
      std::fprintf(stderr,
                   "mote sensor: --mqtt wants ADDRESS:PORT, e.g. 127.0.0.1:1883 (got '%s')\n",
                   server_text.c_str());
    }
    return kExitUsage;
  }
  TapNetworkConfig tap_config;
  if (config.tap.empty()) {
    if (!config.address.empty()) {
      std::fprintf(stderr,
                   "mote sensor: --address is for --tap (over the kernel's sockets the host's "
                   "own addresses are used)\n");
      return kExitUsage;
    }
  } else {
    if (!server->address.is_v4()) {
      std::fprintf(stderr,
                   "mote sensor: over --tap the gateway must be an IPv4 address (got '%s')\n",
                   server_text.c_str());
      return kExitUsage;
    }
    tap_config.device = config.tap;
    tap_config.host_name = config.name;
    tap_config.lease_timeout = config.dhcp_timeout;
    if (!config.address.empty()) {
      const Result<FixedAddress> fixed = parse_fixed_address(config.address);
      if (!fixed.ok()) {
        std::fprintf(stderr,
                     "mote sensor: --address wants A.B.C.D/NN[,GATEWAY], e.g. 10.0.0.5/24 or "
                     "10.0.0.5/24,10.0.0.1 (prefix 1-30, gateway on that subnet; got '%s')\n",
                     config.address.c_str());
        return kExitUsage;
      }
      tap_config.address = *fixed;
    }
  }

  platform::EpollDriver driver;
  StopSignals signals;
  if (!prepare_to_run(driver, signals)) return kExitFailure;
  async::Executor executor(driver);
  std::unique_ptr<ReadingSource> source = open_source(config, driver, executor);
  if (config.tap.empty()) {
    std::printf("network: the kernel's sockets\n");
    KernelNetwork network(driver);
    return run_node(config, *server, network, std::move(source), executor, signals);
  }
  return run_on_tap(config, tap_config, *server, std::move(source), driver, executor, signals);
}

class SensorCommand final : public Command {
 public:
  [[nodiscard]] const char* name() const override { return "sensor"; }
  [[nodiscard]] const char* summary() const override {
    return "Run a sensor node: DS18B20 readings (or a simulated one) to the gateway (MQTT or CoAP)";
  }
  [[nodiscard]] const char* description() const override {
    return "Reads DS18B20 thermometers through the kernel's w1 driver, or a simulated DS18B20\n"
           "when there is none, and publishes each reading to <prefix>/<name>/<metric>: over\n"
           "MQTT with QoS 1 (the default), or with --coap as a confirmable CoAP POST.\n"
           "Readings wait in a buffer while the gateway is away and go out, with the time\n"
           "they were taken, when it is back. With --tap it runs mote's own TCP/IP stack on\n"
           "a TAP device (address by DHCP, or --address) instead of the kernel's sockets.";
  }
  void declare(Options& options) override {
    options.text("--name", config_.name, "Device name (default: sensor-<hostname>)");
    options.text("--mqtt", config_.mqtt,
                 "Gateway's MQTT broker, ADDRESS:PORT (default 127.0.0.1:1883)");
    options.text(
        "--coap", config_.coap,
        "Publish over CoAP instead: the gateway's ADDRESS[:PORT] or coap://ADDRESS[:PORT]");
    options.text("--prefix", config_.prefix, "Topic prefix (default mote)");
    options.duration("-i,--interval", config_.interval, "Time between readings (default 5s)",
                     std::chrono::milliseconds(10));
    options.flag("--simulate", config_.simulate,
                 "Use the simulated DS18B20 even if real ones exist");
    options.text("--w1-dir", config_.w1_dir, "Where the kernel lists 1-Wire devices");
    options.integer("--buffer", config_.buffer, "Readings kept while the gateway is away", 1,
                    10'000'000);
    options.duration("-d,--duration", config_.duration,
                     "Stop after this long (default: run until Ctrl-C)");
    options.text("--tap", config_.tap,
                 "Run mote's own TCP/IP stack on this TAP device instead of the kernel's sockets");
    options.text("--address", config_.address,
                 "With --tap: a fixed address A.B.C.D/NN[,GATEWAY] instead of DHCP");
    options.duration("--dhcp-timeout", config_.dhcp_timeout,
                     "With --tap: give up when no DHCP lease came in this long (default 30s)",
                     std::chrono::milliseconds(100));
  }
  int run(const GlobalOptions&) override { return run_sensor(config_); }

 private:
  SensorConfig config_;
};

}  // namespace

std::unique_ptr<Command> make_sensor_command() { return std::make_unique<SensorCommand>(); }

}  // namespace mote::cli
