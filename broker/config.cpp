#include "mote/broker/config.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "mote/base/log.hpp"
#include "mote/broker/auth.hpp"
#include "mote/broker/scram.hpp"

namespace mote::broker {
namespace {

Status bad(std::size_t line, const char* why) {
  MOTE_LOG_ERROR("broker: config line %zu: %s", line, why);
  return Status::invalid_argument();
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

bool parse_bool(std::string_view text, bool& out) {
  if (text == "true") {
    out = true;
    return true;
  }
  if (text == "false") {
    out = false;
    return true;
  }
  return false;
}

// Options mosquitto has that mote does not act on (warned about, not fatal).
bool is_known_mosquitto_option(std::string_view key) {
  for (const char* known : {"log_dest",
                            "log_type",
                            "connection_messages",
                            "log_timestamp",
                            "autosave_interval",
                            "persistence_file",
                            "persistent_client_expiration",
                            "max_inflight_messages",
                            "queue_qos0_messages",
                            "retain_available",
                            "set_tcp_nodelay",
                            "per_listener_settings",
                            "user",
                            "pid_file",
                            "include_dir",
                            "socket_domain",
                            "max_inflight_bytes",
                            "max_queued_bytes",
                            "upgrade_outgoing_qos",
                            "allow_zero_length_clientid",
                            "check_retain_source",
                            "memory_limit"}) {
    if (key == known) return true;
  }
  return false;
}

// The listeners as the lines name them; resolved into BrokerConfig at the end.
struct ParsedListener {
  io::Endpoint endpoint;
  ListenerProtocol protocol = ListenerProtocol::mqtt;
  std::size_t line = 0;
};
struct ListenerLines {
  // mosquitto opens its default listener (`port`, `bind_address`) when
  // those lines are given or when there is no `listener` line.
  bool default_named = false;
  ListenerProtocol default_protocol = ListenerProtocol::mqtt;
  std::vector<ParsedListener> listeners;
};

Status apply(std::size_t line, std::string_view key, std::string_view value, BrokerConfig& config,
             ListenerLines& lines) {
  if (key == "listener" || key == "port") {
    const std::size_t space = value.find_first_of(" \t");
    const std::string_view port_text = value.substr(0, space);
    std::uint16_t port = 0;
    if (!parse_number(port_text, port)) return bad(line, "bad port");
    if (key == "port") {
      config.listen.port = port;
      lines.default_named = true;
      return ok_status();
    }
    ParsedListener listener{
        {io::IpAddress(io::Ipv4Address(0, 0, 0, 0)), port}, ListenerProtocol::mqtt, line};
    if (space != std::string_view::npos) {
      const Result<io::IpAddress> address = io::IpAddress::parse(trim(value.substr(space)));
      if (!address.ok()) return bad(line, "bad bind address (want an IP address)");
      listener.endpoint.address = *address;
    }
    lines.listeners.push_back(listener);
    return ok_status();
  }
  if (key == "protocol") {
    // Applies to the listener above it (or the default one), as in mosquitto.
    ListenerProtocol protocol = ListenerProtocol::mqtt;
    if (value == "websockets") {
      protocol = ListenerProtocol::websockets;
    } else if (value != "mqtt") {
      return bad(line, "want mqtt or websockets");
    }
    (lines.listeners.empty() ? lines.default_protocol : lines.listeners.back().protocol) = protocol;
    return ok_status();
  }
  if (key == "bind_address") {
    const Result<io::IpAddress> address = io::IpAddress::parse(value);
    if (!address.ok()) return bad(line, "bad bind address (want an IP address)");
    config.listen.address = *address;
    lines.default_named = true;
    return ok_status();
  }
  if (key == "allow_anonymous") {
    return parse_bool(value, config.allow_anonymous) ? ok_status()
                                                     : bad(line, "want true or false");
  }
  if (key == "persistence") {
    bool on = false;
    return parse_bool(value, on) ? ok_status() : bad(line, "want true or false");
  }
  if (key == "password_file") {
    config.password_file = std::string(value);
    return ok_status();
  }
  if (key == "scram_file") {
    config.scram_file = std::string(value);
    return ok_status();
  }
  if (key == "acl_file") {
    config.acl_file = std::string(value);
    return ok_status();
  }
  if (key == "persistence_location") {
    config.data_directory = std::string(value);
    while (config.data_directory.size() > 1 && config.data_directory.back() == '/') {
      config.data_directory.pop_back();
    }
    return ok_status();
  }
  if (key == "max_connections") {
    long long n = 0;
    if (!parse_number(value, n) || n < -1) return bad(line, "want a count or -1");
    config.limits.max_connections = n < 0 ? 0 : static_cast<std::size_t>(n);
    return ok_status();
  }
  if (key == "message_size_limit" || key == "max_packet_size") {
    std::size_t n = 0;
    if (!parse_number(value, n)) return bad(line, "want a size in bytes");
    // A payload limit becomes a packet limit with room for the headers.
    const std::size_t limit = key == "message_size_limit" && n != 0 ? n + 65'536 + 5 : n;
    config.limits.max_packet_size = limit == 0 ? mqtt::kMaxPacketSize : limit;
    return ok_status();
  }
  if (key == "max_queued_messages") {
    std::size_t n = 0;
    if (!parse_number(value, n)) return bad(line, "want a count");
    config.limits.max_queued_messages = n;
    return ok_status();
  }
  if (key == "max_keepalive") {
    std::uint16_t n = 0;
    if (!parse_number(value, n)) return bad(line, "want seconds (0..65535)");
    config.limits.max_keep_alive_s = n;
    return ok_status();
  }
  if (key == "sys_interval") {
    std::uint32_t n = 0;
    if (!parse_number(value, n)) return bad(line, "want seconds");
    config.sys_interval = std::chrono::seconds(n);
    return ok_status();
  }
  if (is_known_mosquitto_option(key)) {
    MOTE_LOG_WARN("broker: config line %zu: '%.*s' is not supported; ignored", line,
                  static_cast<int>(key.size()), key.data());
    return ok_status();
  }
  return bad(line, "unknown option");
}

}  // namespace

Status parse_config(std::string_view text, BrokerConfig& config) {
  std::size_t number = 0;
  ListenerLines lines;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = trim(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
    ++number;
    if (line.empty() || line.front() == '#') continue;
    const std::size_t space = line.find_first_of(" \t");
    if (space == std::string_view::npos) return bad(number, "option without a value");
    MOTE_TRY(apply(number, line.substr(0, space), trim(line.substr(space)), config, lines));
  }
  if (lines.default_named || lines.listeners.empty()) {
    lines.listeners.insert(lines.listeners.begin(),
                           ParsedListener{config.listen, lines.default_protocol, 0});
  }
  config.listen_mqtt = false;
  config.websocket_listeners.clear();
  for (const ParsedListener& listener : lines.listeners) {
    if (listener.protocol == ListenerProtocol::websockets) {
      config.websocket_listeners.push_back(listener.endpoint);
      continue;
    }
    if (config.listen_mqtt) return bad(listener.line, "a second MQTT listener (mote serves one)");
    config.listen = listener.endpoint;
    config.listen_mqtt = true;
  }
  return ok_status();
}

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    MOTE_LOG_ERROR("broker: cannot read %s", path.c_str());
    return Status::not_found();
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

Status load_config(const std::string& path, BrokerConfig& config) {
  MOTE_TRY_ASSIGN(const std::string text, read_text_file(path));
  return parse_config(text, config);
}

Status load_access(const BrokerConfig& config, AccessPolicy& access,
                   std::function<bool(const Session&, std::string_view)>& may_receive) {
  access.allow_anonymous = config.allow_anonymous;
  if (!config.password_file.empty()) {
    MOTE_TRY_ASSIGN(PasswordFile passwords, PasswordFile::load(config.password_file));
    auto shared = std::make_shared<PasswordFile>(std::move(passwords));
    access.check_password = [shared](std::string_view user, std::optional<ConstByteSpan> password) {
      if (!password) return false;
      return shared->check(
          user, {reinterpret_cast<const std::uint8_t*>(password->data()), password->size()});
    };
  }
  if (!config.scram_file.empty()) {
    MOTE_TRY_ASSIGN(ScramCredentials credentials, ScramCredentials::load(config.scram_file));
    access.auth_mechanisms.push_back(std::make_shared<ScramSha1Mechanism>(
        std::make_shared<const ScramCredentials>(std::move(credentials))));
  }
  if (!config.acl_file.empty()) {
    MOTE_TRY_ASSIGN(AclFile acl, AclFile::load(config.acl_file));
    auto shared = std::make_shared<AclFile>(std::move(acl));
    access.may_publish = [shared](std::string_view client_id, std::string_view user,
                                  std::string_view topic) {
      return shared->allows(client_id, user, topic, Access::write);
    };
    may_receive = [shared](const Session& session, std::string_view topic) {
      return shared->allows(session.client_id(), session.username(), topic, Access::read);
    };
  }
  return ok_status();
}

}  // namespace mote::broker
