// `mote sub`: subscribe and print what arrives, as mosquitto_sub does
// (docs/cli.md): same options, output formats and exit codes. A connection
// lost after the first CONNACK is made again, and the subscriptions with it.
#include "sub_command.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "mote/mqtt/topic.hpp"
#include "mqtt_cli.hpp"
#include "mqtt_message_format.hpp"

namespace mote::cli {
namespace {

using async::Task;

constexpr const char* kCommand = "mote sub";

struct SubFlags {
  MqttConnectionFlags connection;
  std::vector<std::vector<std::string>> topics;
  std::vector<std::vector<std::string>> filtered_out;
  std::int64_t qos = 0;
  bool verbose = false;
  std::int64_t count = 0;
  std::int64_t timeout = 0;
  bool no_retained = false;
  bool no_newline = false;
  std::string format;
  bool have_format = false;
};

class Subscriber final : public MqttSession {
 public:
  Subscriber(const SubFlags& flags, MqttConnection& connection)
      : MqttSession(connection), flags_(flags) {
    for (const std::vector<std::string>& topic : flags.topics) {
      subscriptions_.push_back({topic[0], {.max_qos = static_cast<mqtt::QoS>(flags.qos)}});
    }
    granted_.resize(subscriptions_.size());
  }

  void on_message(const mqtt::Message& message) override {
    if (stopping()) return;  // -C reached: what comes before the DISCONNECT is not ours
    print_debug(connection(),
                "Client %s received PUBLISH (d%d, q%d, r%d, m%u, '%.*s', ... (%zu bytes))\n",
                client_label(client().client_id()).c_str(), message.dup ? 1 : 0,
                static_cast<int>(message.qos), message.retain ? 1 : 0,
                static_cast<unsigned>(message.packet_id), static_cast<int>(message.topic.size()),
                message.topic.data(), message.payload.size());
    if (flags_.no_retained && message.retain) return;
    for (const std::vector<std::string>& filter : flags_.filtered_out) {
      if (mqtt::topic_matches(filter[0], message.topic)) return;
    }
    line_.clear();
    bool printed = true;
    if (flags_.have_format) {
      timespec now{};
      ::clock_gettime(CLOCK_REALTIME, &now);
      format_message(flags_.format, message, {now.tv_sec, now.tv_nsec}, line_);
    } else {
      printed = format_message_plain(message, flags_.verbose, line_);
    }
    if (printed && !flags_.no_newline) line_ += '\n';
    std::fwrite(line_.data(), 1, line_.size(), stdout);
    std::fflush(stdout);
    ++received_;
    if (flags_.count > 0 && received_ >= static_cast<std::uint64_t>(flags_.count)) stop(kExitOk);
  }

 private:
  void on_reconnected(const mqtt::ServerSettings& /*server*/) override { resubscribe_.signal(); }

  Task<int> work() override {
    if (flags_.timeout == 0) co_return co_await subscribe_each_connection();
    auto first =
        co_await async::select(subscribe_each_connection(), [](std::int64_t seconds) -> Task<int> {
          co_await async::sleep_for(std::chrono::seconds(seconds));
          co_return kMqttExitTimeout;
        }(flags_.timeout));
    if (first.index() == 0) co_return std::get<0>(first);
    print_error(connection(), "Timed out\n");
    co_return kMqttExitTimeout;
  }

  // Subscribes now and after every reconnect (a session the broker did not
  // keep has lost them; one it kept gets the same subscriptions, which
  // MQTT treats as a replacement, §3.8.4).
  Task<int> subscribe_each_connection() {
    for (;;) {
      for (const mqtt::Subscription& s : subscriptions_) {
        print_debug(connection(), "Client %s sending SUBSCRIBE (Topic: %.*s, QoS: %d)\n",
                    client_label(client().client_id()).c_str(), static_cast<int>(s.filter.size()),
                    s.filter.data(), static_cast<int>(s.options.max_qos));
      }
      const Status subscribed = co_await client().subscribe(
          subscriptions_, granted_, connection().properties.of(PropertyPacket::subscribe));
      if (subscribed.ok()) {
        std::string codes;
        bool refused = false;
        for (const mqtt::ReasonCode code : granted_) {
          codes += (codes.empty() ? "" : ", ") + std::to_string(static_cast<int>(code));
          refused = refused || mqtt::is_failure(code);
        }
        print_debug(connection(), "Subscribed: %s\n", codes.c_str());
        // mosquitto_sub goes on when some were granted and fails when none was.
        if (refused) {
          bool any = false;
          for (const mqtt::ReasonCode code : granted_) any = any || !mqtt::is_failure(code);
          print_error(connection(),
                      any ? "Warning: a subscription was refused (%s)\n"
                          : "Error: all subscriptions were refused (%s)\n",
                      codes.c_str());
          if (!any) co_return kMqttExitError;
        }
      } else if (subscribed.code() != StatusCode::aborted &&
                 subscribed.code() != StatusCode::unavailable) {
        print_error(connection(), "Error: cannot subscribe: %s.\n",
                    subscribed.code() == StatusCode::failed_precondition
                        ? "the broker does not offer wildcard, shared or identified subscriptions"
                        : subscribed.str());
        co_return kMqttExitError;
      }
      co_await resubscribe_.wait();
    }
  }

  const SubFlags& flags_;
  std::vector<mqtt::Subscription> subscriptions_;
  std::vector<mqtt::ReasonCode> granted_;
  async::Signal<> resubscribe_;
  std::string line_;
  std::uint64_t received_ = 0;
};

int run_sub(const SubFlags& flags) {
  MqttConnection connection;
  if (!prepare_connection(flags.connection, kCommand,
                          {PropertyPacket::connect, PropertyPacket::subscribe,
                           PropertyPacket::disconnect, PropertyPacket::will},
                          connection)) {
    return kMqttExitError;
  }
  const auto fail = [&](const std::string& message) {
    return print_usage_error(connection, message);
  };
  if (flags.topics.empty()) return fail("You must specify a topic to subscribe to (-t).");
  for (const std::vector<std::string>& topic : flags.topics) {
    if (!mqtt::is_valid_topic_filter(topic[0],
                                     connection.options.version == mqtt::ProtocolVersion::v5)) {
      return fail("Invalid subscription topic '" + topic[0] +
                  "', are all '+' and '#' wildcards correct?");
    }
  }
  for (const std::vector<std::string>& topic : flags.filtered_out) {
    if (!mqtt::is_valid_topic_filter(topic[0], false)) {
      return fail("Invalid filter topic '" + topic[0] +
                  "', are all '+' and '#' wildcards correct?");
    }
  }
  if (flags.topics.size() > 64) return fail("At most 64 topics (-t) in one command.");
  std::string error;
  if (flags.have_format && !check_message_format(flags.format, error)) {
    return fail("-F: " + error + ".");
  }
  if (flags.timeout > 0 && flags.count < 0) return fail("Invalid -C.");

  // The largest packet MQTT has: the broker may send anything a publisher
  // sent; the mapping costs only the pages a message touches.
  const CliBuffers buffers(mqtt::kMaxPacketSize, std::size_t{64} * 1024, 64);
  Subscriber subscriber(flags, connection);
  return subscriber.run(buffers, /*reconnect=*/true);
}

class SubCommand final : public Command {
 public:
  [[nodiscard]] const char* name() const override { return "sub"; }
  [[nodiscard]] const char* summary() const override {
    return "Subscribe to MQTT topics and print the messages (like mosquitto_sub)";
  }
  [[nodiscard]] const char* description() const override {
    return "Connects to an MQTT broker, subscribes to every -t filter and prints each message:\n"
           "its payload, 'topic payload' with -v, or a -F format (%t topic, %p payload, %q QoS,\n"
           "%r retained, %l length, %m message id, %x/%X hex, %I ISO 8601 time, %U Unix time,\n"
           "%C %E %F %R %D %P %S MQTT 5 properties; \\n \\t \\\\ escapes). Runs until Ctrl-C, -C\n"
           "messages or -W seconds. The options and exit codes are mosquitto_sub's: 0 done,\n"
           "1 bad command line or connection failure, the CONNACK code when the broker refused\n"
           "us, 27 when -W ran out.";
  }
  void declare(Options& options) override {
    declare_connection_options(options, flags_.connection);
    options.text_groups("-t,--topic", flags_.topics, "Topic filter to subscribe to (repeatable)", 1,
                        1);
    options.text_groups("-T,--filter-out", flags_.filtered_out,
                        "Do not print messages whose topic matches this filter (repeatable)", 1, 1);
    options.integer("-q,--qos", flags_.qos, "Subscription QoS: 0, 1 or 2", 0, 2);
    options.flag("-v,--verbose", flags_.verbose, "Print 'topic payload'");
    options.integer("-C,--count", flags_.count, "Exit after this many messages", 1,
                    1'000'000'000'000);
    options.integer("-W,--timeout", flags_.timeout,
                    "Exit after this many seconds from the connection (exit code 27)", 1,
                    100'000'000);
    options.flag("-R,--no-retained", flags_.no_retained,
                 "Do not print retained messages (sent because a subscription was new)");
    options.flag("-N,--no-newline", flags_.no_newline, "Print no end of line after a message");
    options.text("-F,--format", flags_.format, "Print each message in this format (see above)");
  }
  int run(const GlobalOptions& /*global*/) override {
    set_log_level(flags_.connection);
    flags_.have_format = !flags_.format.empty();
    return run_sub(flags_);
  }

 private:
  SubFlags flags_;
};

}  // namespace

std::unique_ptr<Command> make_sub_command() { return std::make_unique<SubCommand>(); }

}  // namespace mote::cli
