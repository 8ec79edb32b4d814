#pragma once
// The gateway's configuration: a TOML file (gateway/mote-gateway.toml is the
// commented sample, installed beside the program), every key optional with a
// sensible default, command-line flags applied on top.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mote/base/result.hpp"
#include "mote/gateway/device_tracker.hpp"

namespace mote::gateway {

struct ListenConfig {
  std::string bind;
  std::uint16_t port = 0;
};

struct GatewayConfig {
  // Where the gateway keeps its state (the telemetry database, the broker's
  // sessions and retained messages). Created at start if missing.
  std::string data_dir = "mote-data";
  std::string log_level = "info";  // error, warn, info, debug

  ListenConfig mqtt{"127.0.0.1", 1883};
  std::string topic_prefix = "mote";
  // MQTT over WebSocket on the HTTP port at /mqtt (ws://host:8080/mqtt).
  bool mqtt_websocket = true;
  ListenConfig http{"127.0.0.1", 8080};
  std::string dashboard_dir;  // empty: the built-in location (next to the program, or installed)
  ListenConfig coap{"127.0.0.1", 5683};

  std::string store_path = "telemetry.db";  // relative paths are inside data_dir
  std::chrono::hours raw_retention{24 * 7};
  std::chrono::hours minute_retention{24 * 90};
  std::chrono::hours hour_retention{0};  // 0: forever

  TrackerOptions devices;
};

// Parses TOML text. On error, `error` says where and what ("gateway.toml:3:1:
// unknown key 'mqtt.prot'"). Unknown keys are errors, so typos do not pass
// silently.
Result<GatewayConfig> parse_gateway_config(std::string_view text, std::string_view source,
                                           std::string& error);
// Reads and parses a file; not_found when it does not exist.
Result<GatewayConfig> load_gateway_config(const std::string& path, std::string& error);

}  // namespace mote::gateway
