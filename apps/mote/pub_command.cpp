// `mote pub`: publish one message, a file, stdin or stdin line by line, as
// mosquitto_pub does (docs/cli.md): same options, same exit codes.
//
// QoS 1/2 messages are acknowledged before the program disconnects, so an
// exit status of 0 means the broker has every message (QoS 0: every
// message was written to the connection before the clean DISCONNECT).
#include "pub_command.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "mote/mqtt/topic.hpp"
#include "mqtt_cli.hpp"

namespace mote::cli {
namespace {

using async::Task;

constexpr const char* kCommand = "mote pub";
// -l: the longest line sent (mosquitto_pub's has no limit; a longer line
// is refused with a message rather than cut).
constexpr std::size_t kMaxLine = std::size_t{1} << 20;
// Room for the fixed header, topic length, packet id and property length.
constexpr std::size_t kPublishOverhead = 32;

struct PubFlags {
  MqttConnectionFlags connection;
  std::string topic;
  std::string message;
  std::string file;
  bool stdin_line = false;
  bool stdin_file = false;
  bool null_message = false;
  std::int64_t qos = 0;
  bool retain = false;
  std::int64_t repeat = 1;
  async::Duration repeat_delay = async::Duration::zero();
};

// Reads all of a file descriptor (blocking: before the connection exists).
bool read_all(int fd, std::vector<std::byte>& out) {
  std::byte chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    out.insert(out.end(), chunk, chunk + n);
  }
}

// Standard input line by line, without blocking the executor: a pipe or a
// terminal is read through the epoll driver; a regular file (which epoll
// does not take) is read directly, it never blocks for long.
class StdinLines {
 public:
  StdinLines() = default;
  StdinLines(const StdinLines&) = delete;
  StdinLines& operator=(const StdinLines&) = delete;
  ~StdinLines() {
    watch_.close();
    if (restore_flags_) ::fcntl(STDIN_FILENO, F_SETFL, flags_);
  }

  void open(platform::EpollDriver& driver) {
    flags_ = ::fcntl(STDIN_FILENO, F_GETFL);
    if (flags_ < 0) return;
    if (::fcntl(STDIN_FILENO, F_SETFL, flags_ | O_NONBLOCK) != 0) return;
    restore_flags_ = true;
    if (watch_.open(driver, STDIN_FILENO).ok()) {
      watched_ = true;
    } else {
      ::fcntl(STDIN_FILENO, F_SETFL, flags_);
      restore_flags_ = false;
    }
  }

  // The next line without its '\n' ('\r' is kept, as mosquitto_pub does);
  // the text after the last '\n' if not empty; nullopt at the end. Errors:
  // resource_exhausted for a line longer than kMaxLine.
  Task<Result<std::optional<std::string>>> next() {
    for (;;) {
      const std::size_t end = pending_.find('\n', scanned_);
      if (end != std::string::npos) {
        std::string line = pending_.substr(0, end);
        pending_.erase(0, end + 1);
        scanned_ = 0;
        co_return std::optional<std::string>(std::move(line));
      }
      scanned_ = pending_.size();
      if (pending_.size() > kMaxLine) co_return Status::resource_exhausted();
      if (eof_) {
        if (pending_.empty()) co_return std::optional<std::string>();
        std::string line = std::move(pending_);
        pending_.clear();
        scanned_ = 0;
        co_return std::optional<std::string>(std::move(line));
      }
      const ssize_t n = ::read(STDIN_FILENO, chunk_.data(), chunk_.size());
      if (n > 0) {
        pending_.append(chunk_.data(), static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EAGAIN && watched_) {
        watch_.clear_readable();
        if (!(co_await watch_.readable()).ok()) eof_ = true;
      } else if (n == 0 || errno != EINTR) {
        eof_ = true;  // an unreadable stdin ends the input, as the end of the file does
      }
    }
  }

 private:
  platform::FdWatch watch_;
  int flags_ = 0;
  bool restore_flags_ = false;
  bool watched_ = false;
  bool eof_ = false;
  std::string pending_;
  std::size_t scanned_ = 0;
  std::vector<char> chunk_ = std::vector<char>(65536);  // not in the coroutine frame
};

class Publisher final : public MqttSession {
 public:
  Publisher(const PubFlags& flags, MqttConnection& connection, std::vector<std::byte> payload)
      : MqttSession(connection), flags_(flags), payload_(std::move(payload)) {}

  void on_message(const mqtt::Message& /*message*/) override {}  // subscribes to nothing

 private:
  Task<int> work() override {
    if (flags_.stdin_line) {
      StdinLines lines;
      lines.open(driver());
      for (std::uint64_t number = 1;; ++number) {
        const Result<std::optional<std::string>> line = co_await lines.next();
        if (!line.ok()) {
          print_error(connection(), "Error: line %llu of stdin is longer than %zu bytes.\n",
                      static_cast<unsigned long long>(number), kMaxLine);
          co_return kMqttExitError;
        }
        if (!line->has_value()) co_return kExitOk;
        if (!co_await publish_one(bytes_of_text(**line))) co_return kMqttExitError;
      }
    }
    for (std::int64_t i = 0; i < flags_.repeat; ++i) {
      if (i > 0 && flags_.repeat_delay > async::Duration::zero()) {
        co_await async::sleep_for(flags_.repeat_delay);
      }
      if (!co_await publish_one(ConstByteSpan(payload_))) co_return kMqttExitError;
    }
    co_return kExitOk;
  }

  Task<bool> publish_one(ConstByteSpan payload) {
    mqtt::OutgoingMessage message;
    message.topic = flags_.topic;
    message.payload = payload;
    message.qos = static_cast<mqtt::QoS>(flags_.qos);
    message.retain = flags_.retain;
    message.properties = connection().properties.of(PropertyPacket::publish);
    message.topic_alias = connection().properties.topic_alias();
    const std::uint64_t number = ++published_;
    print_debug(connection(), "Client %s sending PUBLISH (q%d, r%d, '%s', ... (%zu bytes))\n",
                client_label(client().client_id()).c_str(), static_cast<int>(flags_.qos),
                flags_.retain ? 1 : 0, flags_.topic.c_str(), payload.size());
    const Result<mqtt::ReasonCode> acked = co_await client().publish(message);
    if (!acked.ok()) {
      print_error(connection(), "Error: publish %llu failed: %s.\n",
                  static_cast<unsigned long long>(number), describe(acked.status()));
      co_return false;
    }
    if (mqtt::is_failure(*acked)) {
      print_error(connection(), "Warning: Publish %llu failed: %s.\n",
                  static_cast<unsigned long long>(number), mqtt::to_string(*acked));
      co_return false;
    }
    if (flags_.qos > 0) {
      print_debug(connection(), "Client %s received %s (%s)\n",
                  client_label(client().client_id()).c_str(),
                  flags_.qos == 1 ? "PUBACK" : "PUBCOMP", mqtt::to_string(*acked));
    }
    co_return true;
  }

  static const char* describe(Status status) {
    if (status.code() == StatusCode::failed_precondition) {
      return "the broker does not allow this QoS, retain or topic alias";
    }
    if (status.code() == StatusCode::resource_exhausted) {
      return "the message is larger than the broker's maximum packet size";
    }
    return status.str();
  }

  const PubFlags& flags_;
  std::vector<std::byte> payload_;
  std::uint64_t published_ = 0;
};

int run_pub(const PubFlags& flags) {
  MqttConnection connection;
  if (!prepare_connection(flags.connection, kCommand,
                          {PropertyPacket::connect, PropertyPacket::publish,
                           PropertyPacket::disconnect, PropertyPacket::will},
                          connection)) {
    return kMqttExitError;
  }
  const auto fail = [&](const std::string& message) {
    return print_usage_error(connection, message);
  };
  const int sources = (flags.message.empty() ? 0 : 1) + (flags.file.empty() ? 0 : 1) +
                      (flags.stdin_line ? 1 : 0) + (flags.stdin_file ? 1 : 0) +
                      (flags.null_message ? 1 : 0);
  if (flags.topic.empty() || sources == 0) return fail("Both topic and message must be supplied.");
  if (sources > 1) return fail("Only one type of message can be sent at once.");
  if (!mqtt::is_valid_topic_name(flags.topic)) {
    return fail("Invalid publish topic '" + flags.topic + "', does it contain '+' or '#'?");
  }
  if (flags.stdin_line && flags.repeat != 1) {
    return fail("--repeat can only be used with -f, -m, -n or -s.");
  }
  if (connection.properties.topic_alias() != 0 && flags.qos != 0) {
    return fail("-D publish topic-alias works with QoS 0 only.");
  }
  if (connection.properties.topic_alias() != 0 &&
      !connection.properties.of(PropertyPacket::publish).empty()) {
    return fail("-D publish topic-alias cannot be combined with other publish properties.");
  }
  std::vector<std::byte> payload;
  if (!flags.message.empty()) {
    const ConstByteSpan text = bytes_of_text(flags.message);
    payload.assign(text.begin(), text.end());
  } else if (!flags.file.empty()) {
    const int fd = ::open(flags.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || !read_all(fd, payload)) {
      if (fd >= 0) ::close(fd);
      print_error(connection, "Error: Unable to read file \"%s\": %s.\n", flags.file.c_str(),
                  std::strerror(errno));
      return kMqttExitError;
    }
    ::close(fd);
  } else if (flags.stdin_file) {
    if (!read_all(STDIN_FILENO, payload)) {
      print_error(connection, "Error: Unable to read stdin: %s.\n", std::strerror(errno));
      return kMqttExitError;
    }
  }
  if (payload.size() > mqtt::kMaxVariableByteInteger - flags.topic.size() - kPublishOverhead) {
    print_error(connection, "Error: the message (%zu bytes) is larger than MQTT allows.\n",
                payload.size());
    return kMqttExitError;
  }

  // One packet is the largest this sends: the payload (or line) plus the
  // topic and properties.
  const std::size_t largest = (flags.stdin_line ? kMaxLine : payload.size()) + flags.topic.size() +
                              connection.properties.of(PropertyPacket::publish).bytes().size() +
                              kPublishOverhead;
  // What a publisher receives: acknowledgements, DISCONNECT with a reason;
  // and messages of a persistent session (-c) it had subscribed in before.
  constexpr std::size_t kReceive = std::size_t{256} * 1024;
  const CliBuffers buffers(kReceive, std::max<std::size_t>(largest, 4096),
                           flags.qos == 0 ? 64 : largest);
  Publisher publisher(flags, connection, std::move(payload));
  return publisher.run(buffers, /*reconnect=*/false);
}

class PubCommand final : public Command {
 public:
  [[nodiscard]] const char* name() const override { return "pub"; }
  [[nodiscard]] const char* summary() const override {
    return "Publish MQTT messages (like mosquitto_pub)";
  }
  [[nodiscard]] const char* description() const override {
    return "Connects to an MQTT broker, publishes one message (-m, -f, -s, -n) or one per line\n"
           "of standard input (-l), waits until QoS 1/2 messages are acknowledged and\n"
           "disconnects. The options and exit codes are mosquitto_pub's: 0 done, 1 bad command\n"
           "line or connection failure, the CONNACK code when the broker refused us.";
  }
  void declare(Options& options) override {
    declare_connection_options(options, flags_.connection);
    options.text("-t,--topic", flags_.topic, "Topic to publish to");
    options.text("-m,--message", flags_.message, "Message payload");
    options.text("-f,--file", flags_.file, "Send the contents of a file as the message");
    options.flag("-l,--stdin-line", flags_.stdin_line, "Send each line of stdin as a message");
    options.flag("-s,--stdin-file", flags_.stdin_file, "Send all of stdin as one message");
    options.flag("-n,--null-message", flags_.null_message, "Send a zero-length message");
    options.integer("-q,--qos", flags_.qos, "QoS: 0, 1 or 2", 0, 2);
    options.flag("-r,--retain", flags_.retain, "Make the message retained");
    options.integer("--repeat", flags_.repeat, "Publish the message this many times (-m/-f/-s/-n)",
                    1, 1'000'000'000);
    options.duration("--repeat-delay", flags_.repeat_delay, "Time between repeated messages");
  }
  int run(const GlobalOptions& /*global*/) override {
    set_log_level(flags_.connection);
    return run_pub(flags_);
  }

 private:
  PubFlags flags_;
};

}  // namespace

std::unique_ptr<Command> make_pub_command() { return std::make_unique<PubCommand>(); }

}  // namespace mote::cli
