#include "mqtt_cli.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdarg>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>

#include "mote/base/log.hpp"
#include "mote/mqtt/topic.hpp"
#include "stop_signals.hpp"

namespace mote::cli {
namespace {

using mqtt::PropertyId;
using mqtt::PropertyType;

// mosquitto's names for the properties (its -D syntax).
struct PropertyName {
  const char* name;
  PropertyId id;
};
constexpr PropertyName kPropertyNames[] = {
    {"payload-format-indicator", PropertyId::payload_format_indicator},
    {"message-expiry-interval", PropertyId::message_expiry_interval},
    {"content-type", PropertyId::content_type},
    {"response-topic", PropertyId::response_topic},
    {"correlation-data", PropertyId::correlation_data},
    {"subscription-identifier", PropertyId::subscription_identifier},
    {"session-expiry-interval", PropertyId::session_expiry_interval},
    {"assigned-client-identifier", PropertyId::assigned_client_identifier},
    {"server-keep-alive", PropertyId::server_keep_alive},
    {"authentication-method", PropertyId::authentication_method},
    {"authentication-data", PropertyId::authentication_data},
    {"request-problem-information", PropertyId::request_problem_information},
    {"will-delay-interval", PropertyId::will_delay_interval},
    {"request-response-information", PropertyId::request_response_information},
    {"response-information", PropertyId::response_information},
    {"server-reference", PropertyId::server_reference},
    {"reason-string", PropertyId::reason_string},
    {"receive-maximum", PropertyId::receive_maximum},
    {"topic-alias-maximum", PropertyId::topic_alias_maximum},
    {"topic-alias", PropertyId::topic_alias},
    {"maximum-qos", PropertyId::maximum_qos},
    {"retain-available", PropertyId::retain_available},
    {"user-property", PropertyId::user_property},
    {"maximum-packet-size", PropertyId::maximum_packet_size},
    {"wildcard-subscription-available", PropertyId::wildcard_subscription_available},
    {"subscription-identifier-available", PropertyId::subscription_identifier_available},
    {"shared-subscription-available", PropertyId::shared_subscription_available},
};

struct PacketName {
  const char* name;
  PropertyPacket packet;
  mqtt::PropertyContext context;
};
constexpr PacketName kPacketNames[] = {
    {"connect", PropertyPacket::connect, mqtt::PropertyContext::connect},
    {"publish", PropertyPacket::publish, mqtt::PropertyContext::publish},
    {"subscribe", PropertyPacket::subscribe, mqtt::PropertyContext::subscribe},
    {"unsubscribe", PropertyPacket::unsubscribe, mqtt::PropertyContext::unsubscribe},
    {"disconnect", PropertyPacket::disconnect, mqtt::PropertyContext::disconnect},
    {"will", PropertyPacket::will, mqtt::PropertyContext::will},
};

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::uint64_t integer_maximum(PropertyType type) {
  switch (type) {
    case PropertyType::byte: return 0xff;
    case PropertyType::two_byte_integer: return 0xffff;
    case PropertyType::four_byte_integer: return 0xffffffff;
    default: return mqtt::kMaxVariableByteInteger;
  }
}

// The properties the client writes itself, from its own options.
bool is_set_by_client(PropertyPacket packet, PropertyId id) {
  if (packet != PropertyPacket::connect) return false;
  return id == PropertyId::receive_maximum || id == PropertyId::maximum_packet_size ||
         id == PropertyId::topic_alias_maximum;
}

void vprint(std::FILE* out, const char* format, va_list args) {
  std::vfprintf(out, format, args);
  std::fflush(out);
}

}  // namespace

void declare_connection_options(Options& options, MqttConnectionFlags& flags) {
  options.help_flag("--help");
  options.usage_exit_code(kMqttExitError);
  options.text("-h,--host", flags.host, "Broker host name or address");
  options.integer("-p,--port", flags.port, "Broker port", 1, 65535);
  options.text("-i,--id", flags.id, "Client id (default: empty, the broker assigns one)");
  options.text("-I,--id-prefix", flags.id_prefix,
               "Client id: this prefix followed by the process id");
  options.integer("-k,--keepalive", flags.keepalive, "Keep-alive in seconds, 0 for none", 0, 65535);
  options.text("-u,--username", flags.username, "User name");
  options.text("-P,--pw", flags.password, "Password (needs -u)");
  options.text("-V,--protocol-version", flags.version,
               "MQTT version: mqttv311 (default) or mqttv5 (also 311, 5)");
  options.flag("-c,--disable-clean-session", flags.disable_clean_session,
               "Keep the session when disconnected (a persistent session; needs -i)");
  options.text("-x,--session-expiry", flags.session_expiry,
               "MQTT 5 session expiry in seconds; -1 or ∞: never (default: 0, or -1 with -c)");
  options.text_groups("-D,--property", flags.properties,
                      "MQTT 5 property: -D <packet> <name> <value>, or -D <packet> user-property "
                      "<key> <value>; packets: connect, publish, subscribe, unsubscribe, "
                      "disconnect, will",
                      3, 4);
  options.text("--will-topic", flags.will_topic, "Topic of the will (sent if we vanish)");
  options.text("--will-payload", flags.will_payload, "Payload of the will (default empty)");
  options.integer("--will-qos", flags.will_qos, "QoS of the will, 0-2", 0, 2);
  options.flag("--will-retain", flags.will_retain, "Make the will retained");
  options.flag("-d,--debug", flags.debug, "Print what the client sends and receives");
  options.flag("--quiet", flags.quiet, "Print no error messages");
}

std::optional<mqtt::ProtocolVersion> parse_protocol_version(const std::string& text) {
  if (text == "mqttv5" || text == "5") return mqtt::ProtocolVersion::v5;
  if (text == "mqttv311" || text == "311") return mqtt::ProtocolVersion::v311;
  return std::nullopt;
}

bool PropertySets::build(const std::vector<std::vector<std::string>>& groups,
                         std::initializer_list<PropertyPacket> allowed, std::string& error) {
  // Each packet's bytes: at most the texts plus a few bytes of header each.
  std::array<std::size_t, 6> sizes{};
  std::vector<const PacketName*> packets;
  for (const std::vector<std::string>& group : groups) {
    const PacketName* packet = nullptr;
    for (const PacketName& candidate : kPacketNames) {
      if (group[0] == candidate.name) packet = &candidate;
    }
    if (packet == nullptr ||
        std::find(allowed.begin(), allowed.end(), packet->packet) == allowed.end()) {
      error = "'" + group[0] + "' is not a packet this command sends properties in";
      return false;
    }
    packets.push_back(packet);
    std::size_t size = 16;
    for (const std::string& text : group) size += text.size() + 4;
    sizes[static_cast<std::size_t>(packet->packet)] += size;
  }
  for (std::size_t i = 0; i < 6; ++i) storage_[i].resize(sizes[i]);
  std::vector<mqtt::PropertyBuilder> builders;
  builders.reserve(6);
  for (std::vector<std::byte>& storage : storage_) builders.emplace_back(ByteSpan(storage));

  for (std::size_t g = 0; g < groups.size(); ++g) {
    const std::vector<std::string>& group = groups[g];
    const PacketName& packet = *packets[g];
    const std::string where = "-D " + group[0] + " " + group[1];
    const PropertyName* property = nullptr;
    for (const PropertyName& candidate : kPropertyNames) {
      if (group[1] == candidate.name) property = &candidate;
    }
    if (property == nullptr) {
      error = where + ": no such property";
      return false;
    }
    const bool user = property->id == PropertyId::user_property;
    if (group.size() != (user ? 4u : 3u)) {
      error = where + (user ? ": wants a key and a value" : ": wants one value");
      return false;
    }
    // A client never sends these (§3.3.4: Subscription Identifier is the
    // server's, in PUBLISH).
    if (!mqtt::is_property_allowed(property->id, packet.context) ||
        (packet.packet == PropertyPacket::publish &&
         property->id == PropertyId::subscription_identifier)) {
      error = where + ": not allowed in " + group[0];
      return false;
    }
    if (is_set_by_client(packet.packet, property->id)) {
      error = where + ": mote sets this one itself";
      return false;
    }
    mqtt::PropertyBuilder& builder = builders[static_cast<std::size_t>(packet.packet)];
    const PropertyType type = *mqtt::property_type(static_cast<std::uint8_t>(property->id));
    const std::string& value = group[2];
    switch (type) {
      case PropertyType::utf8_string: builder.add_string(property->id, value); break;
      case PropertyType::binary_data: builder.add_binary(property->id, bytes_of_text(value)); break;
      case PropertyType::utf8_string_pair: builder.add_user_property(group[2], group[3]); break;
      default: {
        const std::optional<std::uint64_t> number = parse_unsigned(value);
        if (!number || *number > integer_maximum(type)) {
          error = where;
          error.append(": '").append(value).append("' is not an integer from 0 to ");
          error += std::to_string(integer_maximum(type));
          return false;
        }
        const auto integer = static_cast<std::uint32_t>(*number);
        if (packet.packet == PropertyPacket::connect &&
            property->id == PropertyId::session_expiry_interval) {
          session_expiry_ = integer;
        } else if (property->id == PropertyId::topic_alias) {
          if (integer == 0 || integer > kCliClientLimits.outbound_topic_aliases) {
            error =
                where + ": from 1 to " + std::to_string(kCliClientLimits.outbound_topic_aliases);
            return false;
          }
          topic_alias_ = static_cast<std::uint16_t>(integer);
        } else {
          builder.add_integer(property->id, integer);
        }
      }
    }
    if (!builder.status().ok()) {
      error = where + ": not a valid value (" + std::string(builder.status().str()) + ")";
      return false;
    }
  }
  for (std::size_t i = 0; i < 6; ++i) {
    const Result<mqtt::Properties> built = builders[i].properties();
    if (!built.ok()) {
      error = "-D: " + std::string(built.status().str());
      return false;
    }
    properties_[i] = *built;
    // The repeat rules are checked as the packet would be (§2.2.2.2).
    if (const auto bad = mqtt::check_properties(built->bytes(), kPacketNames[i].context)) {
      error = std::string("-D ") + kPacketNames[i].name + ": " + bad->detail;
      return false;
    }
  }
  return true;
}

mqtt::Properties PropertySets::of(PropertyPacket packet) const {
  return properties_[static_cast<std::size_t>(packet)];
}

bool prepare_connection(const MqttConnectionFlags& flags, const char* command,
                        std::initializer_list<PropertyPacket> packets, MqttConnection& out) {
  out.command = command;
  out.debug = flags.debug;
  out.quiet = flags.quiet;
  out.host = flags.host;
  out.port = static_cast<std::uint16_t>(flags.port);
  const auto fail = [&](const std::string& message) {
    print_usage_error(out, message);
    return false;
  };

  const std::optional<mqtt::ProtocolVersion> version = parse_protocol_version(flags.version);
  if (!version) {
    return fail("Invalid protocol version '" + flags.version +
                "', must be mqttv5, mqttv311, 5 or 311.");
  }
  const bool v5 = *version == mqtt::ProtocolVersion::v5;
  mqtt::ClientOptions& options = out.options;
  options.version = *version;

  if (!flags.id.empty() && !flags.id_prefix.empty()) {
    return fail("-i and -I argument cannot be used together.");
  }
  out.client_id = flags.id;
  if (!flags.id_prefix.empty()) out.client_id = flags.id_prefix + std::to_string(::getpid());
  if (out.client_id.size() > 65535 || !mqtt::is_valid_utf8(out.client_id)) {
    return fail("Invalid client id.");
  }
  if (flags.disable_clean_session && flags.id.empty()) {
    return fail("You must provide a client id if you are using the -c option.");
  }
  options.client_id = out.client_id;
  options.clean_start = !flags.disable_clean_session;
  options.keep_alive = static_cast<std::uint16_t>(flags.keepalive);
  if (flags.keepalive != 0 && flags.keepalive < 5) {
    return fail("Invalid keepalive given, it must be between 5 and 65535 inclusive.");
  }
  // A broken connection is noticed at the next keep-alive: the client that
  // only ever publishes once does not need to wait longer than that.
  options.connect_timeout = std::chrono::seconds(10);

  if (!flags.session_expiry.empty()) {
    if (!v5) return fail("-x is only valid with MQTT v5 (-V mqttv5).");
    const std::string& text = flags.session_expiry;
    if (text == "-1" || text == "∞") {
      options.session_expiry_interval = 0xffffffff;
    } else {
      const std::optional<std::uint64_t> seconds = parse_unsigned(text);
      if (!seconds || *seconds > 0xffffffff) {
        return fail("Invalid session-expiry-interval '" + text + "'.");
      }
      options.session_expiry_interval = static_cast<std::uint32_t>(*seconds);
    }
  } else if (flags.disable_clean_session) {
    options.session_expiry_interval = 0xffffffff;  // -c alone: the session never expires
  }

  if (!flags.username.empty()) options.user_name = flags.username;
  if (!flags.password.empty()) {
    if (flags.username.empty()) return fail("-P needs a user name (-u).");
    options.password = mqtt::BinaryData(bytes_of_text(flags.password));
  }

  if (!flags.properties.empty() && !v5) {
    return fail("-D/--property is only valid with MQTT v5 (-V mqttv5).");
  }
  std::string error;
  if (!out.properties.build(flags.properties, packets, error)) return fail(error);
  if (const auto expiry = out.properties.session_expiry()) {
    if (!flags.session_expiry.empty())
      return fail("-x and -D connect session-expiry-interval both given.");
    options.session_expiry_interval = *expiry;
  }
  options.connect_properties = out.properties.of(PropertyPacket::connect);

  const bool will_details = !flags.will_payload.empty() || flags.will_qos != 0 ||
                            flags.will_retain || !out.properties.of(PropertyPacket::will).empty();
  if (flags.will_topic.empty()) {
    if (will_details)
      return fail("Will payload, QoS, retain or properties given without --will-topic.");
  } else {
    if (!mqtt::is_valid_topic_name(flags.will_topic)) {
      return fail("Invalid will topic '" + flags.will_topic + "', does it contain '+' or '#'?");
    }
    out.will_payload.assign(
        reinterpret_cast<const std::byte*>(flags.will_payload.data()),
        reinterpret_cast<const std::byte*>(flags.will_payload.data()) + flags.will_payload.size());
    mqtt::Will will;
    will.topic = flags.will_topic;
    will.payload = mqtt::BinaryData(ConstByteSpan(out.will_payload));
    will.qos = static_cast<mqtt::QoS>(flags.will_qos);
    will.retain = flags.will_retain;
    will.properties = out.properties.of(PropertyPacket::will);
    options.will = will;
  }
  return true;
}

int report_connect_failure(const MqttConnection& connection, Status status,
                           std::optional<mqtt::ReasonCode> refusal) {
  if (refusal) {
    const auto reason = static_cast<std::uint8_t>(*refusal);
    // A 3.1.1 broker's return code (the codec reads it as a reason code).
    int code = reason;
    if (connection.options.version == mqtt::ProtocolVersion::v311) {
      switch (*refusal) {
        case mqtt::ReasonCode::unsupported_protocol_version: code = 1; break;
        case mqtt::ReasonCode::client_identifier_not_valid: code = 2; break;
        case mqtt::ReasonCode::server_unavailable: code = 3; break;
        case mqtt::ReasonCode::bad_user_name_or_password: code = 4; break;
        case mqtt::ReasonCode::not_authorized: code = 5; break;
        default: code = kMqttExitError; break;
      }
    }
    print_error(connection, "Connection error: Connection Refused: %s (%d).\n",
                mqtt::to_string(*refusal), code);
    return code;
  }
  print_error(connection, "Error: cannot connect to %s port %u: %s.\n", connection.host.c_str(),
              connection.port, status.ok() ? "connection closed" : status.str());
  return kMqttExitError;
}

void print_error(const MqttConnection& connection, const char* format, ...) {
  if (connection.quiet) return;
  va_list args;
  va_start(args, format);
  vprint(stderr, format, args);
  va_end(args);
}

int print_usage_error(const MqttConnection& connection, const std::string& message) {
  print_error(connection, "Error: %s\n\nUse '%s --help' to see usage.\n", message.c_str(),
              connection.command.c_str());
  return kMqttExitError;
}

void set_log_level(const MqttConnectionFlags& flags) {
  if (flags.debug) log::set_runtime_level(log::Level::debug);
  if (flags.quiet) log::set_runtime_level(log::Level::off);
}

void print_debug(const MqttConnection& connection, const char* format, ...) {
  if (!connection.debug) return;
  va_list args;
  va_start(args, format);
  vprint(stdout, format, args);
  va_end(args);
}

MappedBytes::MappedBytes(std::size_t size) : size_(size) {
  void* mapped = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapped != MAP_FAILED) data_ = static_cast<std::byte*>(mapped);
}

MappedBytes::~MappedBytes() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

async::Task<Result<io::Endpoint>> resolve_server(platform::KernelResolver& resolver,
                                                 const MqttConnection& connection) {
  io::Endpoint server;
  server.port = connection.port;
  if (connection.host == "localhost") {
    server.address = *io::IpAddress::parse("127.0.0.1");
    co_return server;
  }
  const Result<io::IpAddress> address = co_await resolver.resolve(connection.host);
  if (!address.ok()) co_return address.status();
  server.address = *address;
  co_return server;
}

std::string client_label(std::string_view client_id) {
  return client_id.empty() ? std::string("(null)") : std::string(client_id);
}

void MqttSession::on_connected(const mqtt::ServerSettings& server) {
  ++connections_;
  print_debug(connection_, "Client %s received CONNACK (session present %d)\n",
              client_label(client_->client_id()).c_str(), server.session_present ? 1 : 0);
  if (connections_ > 1) on_reconnected(server);
  connected_.set();
}

void MqttSession::stop(int exit_code) {
  if (stop_.is_set()) return;
  stop_exit_code_ = exit_code;
  stop_.set();
}

async::Task<Status> MqttSession::run_client(bool reconnect) {
  Status status = co_await client_->run_once();
  if (reconnect && connections_ > 0 && !stop_.is_set()) status = co_await client_->run();
  co_return status;
}

async::Task<void> MqttSession::watch_signals() {
  const int signal = co_await next_signal(*signals_);
  if (signal > 0) print_debug(connection_, "%s: disconnecting\n", signal_name(signal));
  stop(kExitOk);
}

namespace {
async::Task<Status> join_task(async::TaskStorageBase& task) { co_return co_await task.join(); }
async::Task<void> wait_event(async::Event& event) { co_await event.wait(); }
}  // namespace

async::Task<void> MqttSession::main_task(mqtt::ClientBuffers buffers, bool reconnect) {
  platform::KernelResolver resolver(*executor_);
  const Result<io::Endpoint> server = co_await resolve_server(resolver, connection_);
  if (!server.ok()) {
    print_error(connection_, "Error: cannot resolve host '%s': %s.\n", connection_.host.c_str(),
                server.status().str());
    exit_code_ = kMqttExitError;
    signal_storage_.cancel();
    co_return;
  }
  connector_ = std::make_unique<platform::KernelTcpConnector>(driver_);
  client_ = std::make_unique<CliClient>(*connector_, *server, buffers, connection_.options, *this);
  print_debug(connection_, "Client %s sending CONNECT\n",
              connection_.client_id.empty() ? "(null)" : connection_.client_id.c_str());
  if (const Status spawned =
          executor_->spawn(client_storage_, [this, reconnect] { return run_client(reconnect); });
      !spawned.ok()) {
    print_error(connection_, "Error: %s.\n", spawned.str());
    exit_code_ = kMqttExitError;
    signal_storage_.cancel();
    co_return;
  }

  auto first =
      co_await async::select(wait_event(connected_), join_task(client_storage_), wait_event(stop_));
  if (first.index() == 1) {
    exit_code_ = report_connect_failure(connection_, std::get<1>(first), client_->last_refusal());
    signal_storage_.cancel();
    co_return;
  }
  if (first.index() == 0) {
    auto done = co_await async::select(work(), join_task(client_storage_), wait_event(stop_));
    if (done.index() == 0) {
      exit_code_ = std::get<0>(done);
    } else if (done.index() == 1) {
      const Status lost = std::get<1>(done);
      print_error(connection_, "Error: the connection to %s was lost: %s.\n",
                  connection_.host.c_str(), lost.ok() ? "closed" : lost.str());
      exit_code_ = kMqttExitError;
      signal_storage_.cancel();
      co_return;
    } else {
      exit_code_ = stop_exit_code_;
    }
  } else {  // a signal before the CONNACK: nothing to say goodbye to
    client_storage_.cancel();
    exit_code_ = stop_exit_code_;
    signal_storage_.cancel();
    co_return;
  }
  stop_.set();  // run_client() must not connect again, handlers print no more
  print_debug(connection_, "Client %s sending DISCONNECT\n",
              client_label(client_->client_id()).c_str());
  static_cast<void>(co_await client_->disconnect());
  static_cast<void>(co_await client_storage_.join());
  signal_storage_.cancel();
}

int MqttSession::run(const CliBuffers& buffers, bool reconnect) {
  if (!buffers.ok()) {
    print_error(connection_, "Error: out of memory for the message buffers.\n");
    return kMqttExitError;
  }
  if (!driver_.status().ok()) {
    print_error(connection_, "Error: cannot start the Linux driver: %s.\n", driver_.status().str());
    return kMqttExitError;
  }
  StopSignals signals;
  if (const Status opened = signals.open(driver_); !opened.ok()) {
    print_error(connection_, "Error: cannot watch SIGINT/SIGTERM: %s.\n", opened.str());
    return kMqttExitError;
  }
  signals_ = &signals.watch();
  async::Executor executor(driver_);
  executor_ = &executor;
  const mqtt::ClientBuffers views = buffers.view();
  for (const Status started : {executor.spawn(signal_storage_, [this] { return watch_signals(); }),
                               executor.spawn(main_storage_, [this, views, reconnect] {
                                 return main_task(views, reconnect);
                               })}) {
    if (!started.ok()) {
      print_error(connection_, "Error: cannot start a task: %s.\n", started.str());
      return kMqttExitError;
    }
  }
  const Status ran = executor.run();
  if (!ran.ok()) {
    print_error(connection_, "Error: %s.\n", ran.str());
    return kMqttExitError;
  }
  if (!main_storage_.exit_status().ok()) {
    print_error(connection_, "Error: %s.\n", main_storage_.exit_status().str());
    return kMqttExitError;
  }
  return exit_code_;
}

}  // namespace mote::cli
