// `mote bench mqtt [-h HOST] [-p PORT] [-s SCENARIO] [-c N] [-q QOS] ...`: drives
// an MQTT broker with the load generator of mqtt_load.hpp and prints what it
// measured (a table, or --json). Progress goes to stderr: one updating line on
// a terminal, a plain line a second otherwise.

#include "bench_command.hpp"

#include <csignal>
#include <cstdio>
#include <string>
#include <unistd.h>

#include "mqtt_load.hpp"

namespace mote::cli {
namespace {

using mqtt_load::LoadOptions;
using mqtt_load::LoadProgress;
using mqtt_load::LoadReport;
using mqtt_load::Scenario;

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

const char* protocol_name(mqtt::ProtocolVersion version) {
  return version == mqtt::ProtocolVersion::v5 ? "5" : "3.1.1";
}

double micros(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

void print_json(const LoadReport& r) {
  const LoadOptions& o = r.options;
  std::printf(
      "{\"broker\": %s, \"port\": %u, \"scenario\": \"%s\", \"protocol\": \"%s\", "
      "\"qos\": %u, \"publishers\": %u, \"subscribers\": %u, \"connections\": %u, "
      "\"payload_bytes\": %u, \"threads\": %u, \"inflight\": %u, \"rate\": %.0f,\n",
      json_string(o.host).c_str(), static_cast<unsigned>(o.port),
      mqtt_load::scenario_name(o.scenario), protocol_name(o.version), static_cast<unsigned>(o.qos),
      r.publishers, r.subscribers,
      o.scenario == Scenario::idle ? o.clients : r.publishers + r.subscribers, o.payload_size,
      o.threads, o.inflight, o.rate);
  std::printf(
      " \"connected\": %u, \"failed\": %u, \"connect_seconds\": %.3f, "
      "\"cpu_seconds\": %.3f,\n",
      r.connected, r.failed, r.connect_seconds, r.cpu_seconds);
  std::printf(
      " \"sent\": %llu, \"acknowledged\": %llu, \"expected\": %llu, \"received\": %llu, "
      "\"lost\": %llu, \"duplicates\": %llu,\n",
      static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.acknowledged),
      static_cast<unsigned long long>(r.expected), static_cast<unsigned long long>(r.received),
      static_cast<unsigned long long>(r.lost), static_cast<unsigned long long>(r.duplicates));
  std::printf(
      " \"publish_seconds\": %.6f, \"receive_seconds\": %.6f, \"sent_per_second\": %.1f, "
      "\"received_per_second\": %.1f,\n",
      r.publish_seconds, r.receive_seconds, r.sent_per_second(), r.received_per_second());
  const mqtt_load::LatencyHistogram& l = r.latency;
  std::printf(
      " \"latency_us\": {\"count\": %llu, \"min\": %.1f, \"mean\": %.1f, \"p50\": %.1f, "
      "\"p90\": %.1f, \"p99\": %.1f, \"max\": %.1f},\n",
      static_cast<unsigned long long>(l.count()), micros(l.min()), l.mean() / 1000.0,
      micros(l.quantile(0.50)), micros(l.quantile(0.90)), micros(l.quantile(0.99)),
      micros(l.max()));
  std::printf(" \"errors\": [");
  for (std::size_t i = 0; i < r.errors.size(); ++i) {
    std::printf("%s%s", i == 0 ? "" : ", ", json_string(r.errors[i]).c_str());
  }
  std::printf("]}\n");
}

std::string latency_text(std::uint64_t ns) {
  char text[32];
  if (ns < 10'000) {
    std::snprintf(text, sizeof text, "%.1f µs", micros(ns));
  } else if (ns < 10'000'000) {
    std::snprintf(text, sizeof text, "%.0f µs", micros(ns));
  } else {
    std::snprintf(text, sizeof text, "%.1f ms", static_cast<double>(ns) / 1e6);
  }
  return text;
}

void print_table(const LoadReport& r) {
  const LoadOptions& o = r.options;
  std::printf("mote bench mqtt: %s:%u, %s, MQTT %s, QoS %u, %u-byte payloads\n", o.host.c_str(),
              static_cast<unsigned>(o.port), mqtt_load::scenario_name(o.scenario),
              protocol_name(o.version), static_cast<unsigned>(o.qos), o.payload_size);
  if (o.scenario == Scenario::idle) {
    std::printf("  connections  %u up, %u failed (%.2f s to connect)\n", r.connected, r.failed,
                r.connect_seconds);
  } else {
    std::printf("  clients      %u publisher(s), %u subscriber(s), %u thread(s)\n", r.publishers,
                r.subscribers, o.threads);
    std::printf("  sent         %llu in %.3f s: %.0f msg/s",
                static_cast<unsigned long long>(r.sent), r.publish_seconds, r.sent_per_second());
    if (o.qos != mqtt::QoS::at_most_once) {
      std::printf(" (%llu acknowledged)", static_cast<unsigned long long>(r.acknowledged));
    }
    std::printf("\n  received     %llu of %llu in %.3f s: %.0f msg/s\n",
                static_cast<unsigned long long>(r.received),
                static_cast<unsigned long long>(r.expected), r.receive_seconds,
                r.received_per_second());
    std::printf("  lost         %llu, duplicates %llu\n", static_cast<unsigned long long>(r.lost),
                static_cast<unsigned long long>(r.duplicates));
    const mqtt_load::LatencyHistogram& l = r.latency;
    std::printf("  latency      p50 %s, p90 %s, p99 %s, max %s\n",
                latency_text(l.quantile(0.5)).c_str(), latency_text(l.quantile(0.9)).c_str(),
                latency_text(l.quantile(0.99)).c_str(), latency_text(l.max()).c_str());
  }
  for (const std::string& error : r.errors) std::printf("  error        %s\n", error.c_str());
}

class BenchCommand final : public Command {
 public:
  [[nodiscard]] const char* name() const override { return "bench"; }
  [[nodiscard]] const char* summary() const override {
    return "Load-test an MQTT broker (mote bench mqtt)";
  }
  [[nodiscard]] const char* description() const override {
    return "mote bench mqtt drives any MQTT 3.1.1 / 5 broker and reports messages/s sent and\n"
           "received, latency percentiles (send time in the payload, monotonic clock), losses\n"
           "and duplicates. Scenarios: fan-in (N publishers -> 1 subscriber), fan-out\n"
           "(1 -> N), pairs (N -> N, a topic each), idle (N connections that only connect\n"
           "and stay, for memory per connection). The run ends after --count messages per\n"
           "publisher and/or --duration, then up to --drain for the rest to arrive.";
  }
  void declare(Options& options) override {
    options.help_flag("--help");  // -h is the host, as in mosquitto's tools
    options.positional("what", what_, "What to benchmark: mqtt", true);
    options.text("-h,--host", load_.host, "Broker host");
    options.integer("-p,--port", port_, "Broker port", 1, 65535);
    options.text("-s,--scenario", scenario_, "fan-in, fan-out, pairs or idle");
    options.integer("-c,--clients", clients_,
                    "Publishers (fan-in), subscribers (fan-out), pairs, or idle connections", 1,
                    1'000'000);
    options.integer("-q,--qos", qos_, "QoS of the messages and subscriptions", 0, 2);
    options.text("-V,--protocol-version", protocol_, "311 (mqttv311) or 5 (mqttv5)");
    options.integer("--size", size_, "Payload bytes (at least 16)", 16,
                    std::int64_t{256} * 1024 * 1024);
    options.integer("-n,--count", count_, "Messages per publisher (0: until --duration)", 0,
                    0xffffffffLL);
    options.duration("-d,--duration", duration_,
                     "Stop publishing after this long (idle: hold the connections this long)");
    options.integer("--rate", rate_, "Messages per second, all publishers together (0: no limit)",
                    0, 1'000'000'000);
    options.integer("--threads", threads_, "Threads running the clients", 1, 256);
    options.integer("--inflight", inflight_, "Unacknowledged QoS 1/2 messages per publisher", 1,
                    65535);
    options.duration("--drain", drain_, "Longest wait for the last messages after publishing");
    options.integer(
        "-k,--keepalive", keep_alive_,
        "Keep-alive in seconds (default: 0 for load clients; 60 for idle ones, which ping)", 0,
        65535);
    options.text("-t,--topic", load_.topic_prefix, "Topic prefix (topics are PREFIX/RUN/N)");
    options.flag("--json", json_, "Print the result as one JSON object");
  }
  int run(const GlobalOptions&) override {
    if (what_ != "mqtt") {
      std::fprintf(stderr, "mote bench: only 'mqtt' can be benchmarked, not '%s'\n", what_.c_str());
      return kExitUsage;
    }
    if (scenario_ == "fan-in") {
      load_.scenario = Scenario::fan_in;
    } else if (scenario_ == "fan-out") {
      load_.scenario = Scenario::fan_out;
    } else if (scenario_ == "pairs") {
      load_.scenario = Scenario::pairs;
    } else if (scenario_ == "idle") {
      load_.scenario = Scenario::idle;
    } else {
      std::fprintf(stderr, "mote bench mqtt: --scenario is fan-in, fan-out, pairs or idle\n");
      return kExitUsage;
    }
    if (protocol_ == "311" || protocol_ == "mqttv311" || protocol_ == "3.1.1") {
      load_.version = mqtt::ProtocolVersion::v311;
    } else if (protocol_ == "5" || protocol_ == "mqttv5") {
      load_.version = mqtt::ProtocolVersion::v5;
    } else {
      std::fprintf(stderr, "mote bench mqtt: --protocol-version is 311 or 5\n");
      return kExitUsage;
    }
    load_.port = static_cast<std::uint16_t>(port_);
    load_.clients = static_cast<std::uint32_t>(clients_);
    load_.qos = static_cast<mqtt::QoS>(qos_);
    load_.payload_size = static_cast<std::uint32_t>(size_);
    load_.count = static_cast<std::uint64_t>(count_);
    load_.duration = std::chrono::duration_cast<std::chrono::milliseconds>(duration_);
    load_.rate = static_cast<double>(rate_);
    load_.threads = static_cast<std::uint32_t>(threads_);
    load_.inflight = static_cast<std::uint32_t>(inflight_);
    load_.drain = std::chrono::duration_cast<std::chrono::milliseconds>(drain_);
    load_.keep_alive = static_cast<std::uint16_t>(keep_alive_);
    if (load_.scenario == Scenario::idle && keep_alive_ < 0) load_.keep_alive = 60;
    if (keep_alive_ < 0) load_.keep_alive = 0;
    const std::string problem = mqtt_load::check_options(load_);
    if (!problem.empty()) {
      std::fprintf(stderr, "mote bench mqtt: %s\n", problem.c_str());
      return kExitUsage;
    }

    struct sigaction action = {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);

    LoadProgress progress;
    const bool tty = isatty(STDERR_FILENO) != 0;
    auto last = std::chrono::steady_clock::now();
    std::uint64_t last_sent = 0;
    std::uint64_t last_received = 0;
    bool announced_hold = false;
    bool drew = false;
    const auto tick = [&]() {
      if (load_.scenario == Scenario::idle && progress.holding.load() && !announced_hold) {
        announced_hold = true;
        std::fprintf(stderr, "%sholding %u connections (%u failed)\n", drew ? "\n" : "",
                     progress.connected.load(), progress.failed.load());
        drew = false;
      }
      const auto now = std::chrono::steady_clock::now();
      const double seconds = std::chrono::duration<double>(now - last).count();
      if (seconds < (tty ? 0.25 : 1.0)) return;
      const std::uint64_t sent = progress.sent.load();
      const std::uint64_t received = progress.received.load();
      char line[200];
      if (!progress.publishing.load()) {
        std::snprintf(line, sizeof line, "connected %u, failed %u", progress.connected.load(),
                      progress.failed.load());
      } else {
        std::snprintf(line, sizeof line, "sent %llu (%.0f/s), received %llu (%.0f/s)",
                      static_cast<unsigned long long>(sent),
                      static_cast<double>(sent - last_sent) / seconds,
                      static_cast<unsigned long long>(received),
                      static_cast<double>(received - last_received) / seconds);
      }
      if (tty) {
        std::fprintf(stderr, "\r\033[K%s", line);
        drew = true;
      } else {
        std::fprintf(stderr, "%s\n", line);
      }
      last = now;
      last_sent = sent;
      last_received = received;
    };
    const LoadReport report = mqtt_load::run_load(load_, progress, g_stop, tick);
    if (drew) std::fprintf(stderr, "\n");
    if (json_) {
      print_json(report);
    } else {
      print_table(report);
    }
    std::fflush(stdout);
    const bool nothing = load_.scenario != Scenario::idle && report.received == 0;
    return report.errors.empty() && !nothing ? kExitOk : kExitFailure;
  }

 private:
  std::string what_;
  std::string scenario_ = "fan-in";
  std::string protocol_ = "311";
  std::int64_t port_ = 1883;
  std::int64_t clients_ = 16;
  std::int64_t qos_ = 0;
  std::int64_t size_ = 16;
  std::int64_t count_ = 10000;
  async::Duration duration_ = async::Duration::zero();
  std::int64_t rate_ = 0;
  std::int64_t threads_ = 1;
  std::int64_t inflight_ = 64;
  async::Duration drain_ = std::chrono::seconds(5);
  std::int64_t keep_alive_ = -1;  // default: 0 for load, 60 for idle connections
  bool json_ = false;
  LoadOptions load_;
};

}  // namespace

std::unique_ptr<Command> make_bench_command() { return std::make_unique<BenchCommand>(); }

}  // namespace mote::cli
