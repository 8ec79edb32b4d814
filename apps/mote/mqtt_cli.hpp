#pragma once
// What `mote pub` and `mote sub` share: the connection options a mosquitto
// user knows (-h -p -i -I -k -u -P -V -c -x -D --will-*, -d --quiet), their
// checks, MQTT 5 properties from `-D command name value`, and the session
// around mote's MQTT client on kernel sockets: resolve, connect once, stop
// cleanly on SIGINT/SIGTERM (docs/cli.md).

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command.hpp"
#include "mote/async/async.hpp"
#include "mote/base/bytes.hpp"
#include "mote/io/address.hpp"
#include "mote/mqtt/client.hpp"
#include "mote/mqtt/properties.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/kernel_sockets.hpp"

namespace mote::cli {

// mosquitto_pub/sub's exit codes, kept so scripts written for them work:
// 0 done; 1 bad command line or connection failure; the CONNACK code when
// the broker refused the connection (3.1.1 return code 1-5, MQTT 5 reason
// code 128-159); 27 (MOSQ_ERR_TIMEOUT) when `mote sub -W` ran out.
inline constexpr int kMqttExitError = 1;
inline constexpr int kMqttExitTimeout = 27;

// Options of both commands, as typed.
struct MqttConnectionFlags {
  std::string host = "localhost";
  std::int64_t port = 1883;
  std::string id;
  std::string id_prefix;
  std::int64_t keepalive = 60;
  std::string username;
  std::string password;
  std::string version = "mqttv311";
  bool disable_clean_session = false;
  std::string session_expiry;  // -x: seconds, -1 or "∞"
  std::vector<std::vector<std::string>> properties;
  std::string will_topic;
  std::string will_payload;
  std::int64_t will_qos = 0;
  bool will_retain = false;
  bool debug = false;
  bool quiet = false;
};

// Declares the options above. `client` names the default client id prefix
// in help texts ("mote pub").
void declare_connection_options(Options& options, MqttConnectionFlags& flags);

// The packets `-D` may put properties in, for one command.
enum class PropertyPacket : std::uint8_t {
  connect,
  publish,
  subscribe,
  unsubscribe,
  disconnect,
  will
};

// MQTT 5 properties built from `-D` groups, per packet; the storage is owned.
class PropertySets {
 public:
  PropertySets() = default;
  PropertySets(const PropertySets&) = delete;
  PropertySets& operator=(const PropertySets&) = delete;

  // Builds every group; the first bad one is described in `error`. A group
  // is {command, name, value} or {command, "user-property", key, value}.
  // `allowed` lists the packets this command sends.
  bool build(const std::vector<std::vector<std::string>>& groups,
             std::initializer_list<PropertyPacket> allowed, std::string& error);

  [[nodiscard]] mqtt::Properties of(PropertyPacket packet) const;
  // -D connect session-expiry-interval (the client writes that one itself).
  [[nodiscard]] std::optional<std::uint32_t> session_expiry() const { return session_expiry_; }
  // -D publish topic-alias (the client manages aliases itself).
  [[nodiscard]] std::uint16_t topic_alias() const { return topic_alias_; }

 private:
  std::vector<std::byte> storage_[6];
  mqtt::Properties properties_[6];
  std::optional<std::uint32_t> session_expiry_;
  std::uint16_t topic_alias_ = 0;
};

// The checked connection settings; views point into the flags and `this`.
struct MqttConnection {
  std::string command;  // "mote pub", for messages
  std::string host;
  std::uint16_t port = 1883;
  std::string client_id;
  bool debug = false;
  bool quiet = false;
  mqtt::ClientOptions options;
  PropertySets properties;
  std::vector<std::byte> will_payload;
};

// Checks the flags and fills `out`; on a bad combination prints
// "Error: ..." (mosquitto's wording where it has one) and returns false.
bool prepare_connection(const MqttConnectionFlags& flags, const char* command,
                        std::initializer_list<PropertyPacket> packets, MqttConnection& out);

// "mqttv5"/"5", "mqttv311"/"311"; nullopt otherwise.
std::optional<mqtt::ProtocolVersion> parse_protocol_version(const std::string& text);

// The exit code and message for a connection that did not come up.
// `refusal` is the CONNACK's reason, if there was one.
int report_connect_failure(const MqttConnection& connection, Status status,
                           std::optional<mqtt::ReasonCode> refusal);

// printf to stderr unless --quiet.
void print_error(const MqttConnection& connection, const char* format, ...)
    __attribute__((format(printf, 2, 3)));
// "Error: MESSAGE", then where to find the usage, to stderr unless --quiet;
// returns kMqttExitError.
int print_usage_error(const MqttConnection& connection, const std::string& message);

// mote's own log: debug with -d, nothing with --quiet.
void set_log_level(const MqttConnectionFlags& flags);

// printf to stdout when -d (mosquitto prints its debug lines there).
void print_debug(const MqttConnection& connection, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

// The client both commands use: 20 QoS 1/2 messages in flight (mosquitto's
// default -M), aliases the broker may use towards `mote sub`.
inline constexpr mqtt::ClientLimits kCliClientLimits{.max_inflight = 20,
                                                     .max_incoming_qos2 = 64,
                                                     .max_pending_requests = 4,
                                                     .inbound_topic_aliases = 32,
                                                     .alias_topic_size = 256,
                                                     .outbound_topic_aliases = 16};
using CliClient = mqtt::Client<platform::KernelTcpConnector, kCliClientLimits>;

// Memory for the client's buffers, mapped without reserving it: pages
// never written are never made resident, so a generous maximum (a whole
// -f file per in-flight slot, mosquitto's 256 MB packets for `mote sub`)
// costs nothing until a message that large comes.
class MappedBytes {
 public:
  MappedBytes() = default;
  explicit MappedBytes(std::size_t size);
  MappedBytes(const MappedBytes&) = delete;
  MappedBytes& operator=(const MappedBytes&) = delete;
  ~MappedBytes();
  [[nodiscard]] bool ok() const { return data_ != nullptr; }
  [[nodiscard]] ByteSpan span() const { return {data_, size_}; }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

struct CliBuffers {
  CliBuffers(std::size_t receive_size, std::size_t send_size, std::size_t slot_size)
      : receive(receive_size),
        send(send_size),
        inflight(slot_size * kCliClientLimits.max_inflight) {}
  [[nodiscard]] bool ok() const { return receive.ok() && send.ok() && inflight.ok(); }
  [[nodiscard]] mqtt::ClientBuffers view() const {
    return {receive.span(), send.span(), inflight.span()};
  }

  MappedBytes receive;
  MappedBytes send;
  MappedBytes inflight;
};

// Resolves the host: "localhost" is 127.0.0.1 (where both mosquitto and
// `mote broker` listen by default, whatever order the resolver would give
// ::1 in); other names through the kernel's resolver.
async::Task<Result<io::Endpoint>> resolve_server(platform::KernelResolver& resolver,
                                                 const MqttConnection& connection);

// One run of `mote pub` or `mote sub`: resolve the host, connect once (a
// failure ends the program with mosquitto's exit code), run work(), then
// DISCONNECT and close. SIGINT/SIGTERM or stop() end work() early, with a
// clean DISCONNECT too. With `reconnect` (mote sub, as mosquitto_sub) a
// connection lost after the first CONNACK is made again with backoff, and
// on_reconnected() is called; otherwise a lost connection ends the program
// (exit 1).
class MqttSession : public mqtt::MessageHandler {
 public:
  explicit MqttSession(MqttConnection& connection) : connection_(connection) {}
  MqttSession(const MqttSession&) = delete;
  MqttSession& operator=(const MqttSession&) = delete;

  // Returns the exit code.
  int run(const CliBuffers& buffers, bool reconnect);

  void on_connected(const mqtt::ServerSettings& server) override;

 protected:
  ~MqttSession() = default;

  // Runs after the first CONNACK; returns the exit code.
  virtual async::Task<int> work() = 0;
  // The client is connected again after a lost connection (reconnect only).
  virtual void on_reconnected(const mqtt::ServerSettings& /*server*/) {}

  // Ends work() and disconnects; the program exits with `exit_code`.
  void stop(int exit_code);
  [[nodiscard]] bool stopping() const { return stop_.is_set(); }

  CliClient& client() { return *client_; }
  MqttConnection& connection() { return connection_; }
  platform::EpollDriver& driver() { return driver_; }

 private:
  async::Task<void> main_task(mqtt::ClientBuffers buffers, bool reconnect);
  async::Task<Status> run_client(bool reconnect);
  async::Task<void> watch_signals();

  MqttConnection& connection_;
  platform::EpollDriver driver_;
  std::unique_ptr<platform::KernelTcpConnector> connector_;
  std::unique_ptr<CliClient> client_;
  async::Event stop_;
  async::Event connected_;
  int stop_exit_code_ = 0;
  int exit_code_ = 0;
  std::uint32_t connections_ = 0;
  platform::FdWatch* signals_ = nullptr;
  async::Executor* executor_ = nullptr;

  async::TaskStorage<std::size_t{64} * 1024> main_storage_;
  async::TaskStorage<std::size_t{64} * 1024> client_storage_;
  async::TaskStorage<std::size_t{16} * 1024> signal_storage_;
};

// The client id for -d lines: mosquitto's "(null)" when the broker assigned it.
std::string client_label(std::string_view client_id);

// Text of a Payload for the terminal: the bytes as they are.
inline std::string_view text_of(ConstByteSpan bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline ConstByteSpan bytes_of_text(std::string_view text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

}  // namespace mote::cli
