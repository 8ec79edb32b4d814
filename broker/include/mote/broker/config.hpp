#pragma once
// The broker's configuration, and a reader for mosquitto-style config
// files so a mosquitto.conf of the common kind works:
//
//   listener 1883 127.0.0.1       port and optional bind address
//   port 1883                     (old form of the same)
//   listener 9001                 another listener, here for MQTT over
//   protocol websockets           WebSocket (`protocol` applies to the
//                                 listener above it; mqtt is the default)
//   allow_anonymous false
//   password_file /etc/mote/passwd
//   acl_file /etc/mote/acl
//   persistence true              (with persistence_location; mote always
//   persistence_location /var/lib/mote/   persists when a location is given)
//   max_connections 1000          (-1: no limit)
//   message_size_limit 65536      largest payload in bytes (0: no limit)
//   max_packet_size 1048576
//   max_queued_messages 1000
//   max_keepalive 300
//   sys_interval 10               seconds between $SYS updates (0: none)
//   # comments and blank lines
//
// Other mosquitto options are accepted with a warning and ignored; a
// malformed value is an error naming the line.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mote/base/result.hpp"
#include "mote/broker/connection.hpp"
#include "mote/broker/core.hpp"
#include "mote/io/address.hpp"

namespace mote::broker {

enum class ListenerProtocol : std::uint8_t { mqtt, websockets };

struct BrokerConfig {
  // Loopback unless configured otherwise, as mosquitto 2 does without a
  // config file: an anonymous broker is not offered to the network by default.
  // A `listener PORT` line without an address listens on every interface.
  io::Endpoint listen{io::IpAddress(io::Ipv4Address(127, 0, 0, 1)), 1883};
  // false: the config names only WebSocket listeners; no plain MQTT port.
  bool listen_mqtt = true;
  // MQTT over WebSocket (`protocol websockets`), served on every path.
  std::vector<io::Endpoint> websocket_listeners;
  std::string data_directory;  // empty: nothing persists
  Limits limits;
  bool allow_anonymous = true;
  std::string password_file;  // empty: none
  std::string acl_file;       // empty: every client may do everything
  // Group commit: the store commits this often, or when this many writes wait.
  std::chrono::milliseconds commit_interval = std::chrono::milliseconds(5);
  std::size_t commit_batch = 2000;
  std::chrono::seconds sys_interval = std::chrono::seconds(10);
};

// Applies the lines of a mosquitto-style config to `config`.
// invalid_argument (logged with the line number) for a malformed line.
Status parse_config(std::string_view text, BrokerConfig& config);
Status load_config(const std::string& path, BrokerConfig& config);

// The whole file; not_found (logged) when it cannot be read.
Result<std::string> read_text_file(const std::string& path);

// Loads the password and ACL files `config` names into an AccessPolicy and
// the matching read check for Core.
Status load_access(const BrokerConfig& config, AccessPolicy& access,
                   std::function<bool(const Session&, std::string_view)>& may_receive);

}  // namespace mote::broker
