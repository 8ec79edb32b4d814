#pragma once
// An application message as the broker keeps it: what a PUBLISH carried,
// with its MQTT 5 properties that are passed on to subscribers unchanged
// (§3.3.2.3: payload format, content type, response topic, correlation
// data, user properties) and its expiry as an absolute time.
//
// Messages are shared (one copy for every subscriber and the retained
// store) and never change once routed.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mote/mqtt/types.hpp"

namespace mote::broker {

using QoS = mqtt::QoS;

constexpr QoS min_qos(QoS a, QoS b) { return a < b ? a : b; }
constexpr QoS max_qos(QoS a, QoS b) { return a < b ? b : a; }

// Identifies a session inside the broker (and the topic tree); never 0.
using SessionId = std::uint64_t;

struct UserProperty {
  std::string name;
  std::string value;
  friend bool operator==(const UserProperty&, const UserProperty&) = default;
};

struct Message {
  std::string topic;
  std::vector<std::uint8_t> payload;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  // Unix time in milliseconds after which the message is dropped instead
  // of delivered (MQTT 5 message expiry interval); 0: never.
  std::int64_t expires_at_ms = 0;
  std::optional<std::uint8_t> payload_format;  // 0 bytes, 1 UTF-8
  std::optional<std::string> content_type;
  std::optional<std::string> response_topic;
  std::optional<std::vector<std::uint8_t>> correlation_data;
  std::vector<UserProperty> user_properties;
  // The session that published it (for no-local, §3.8.3.1); 0 for the broker.
  SessionId publisher = 0;

  [[nodiscard]] bool expired(std::int64_t now_ms) const {
    return expires_at_ms != 0 && now_ms >= expires_at_ms;
  }
  // The message expiry interval to send with it (§3.3.2.3.3: the received
  // value minus the time it waited), rounded up; nullopt when it has none.
  [[nodiscard]] std::optional<std::uint32_t> remaining_expiry_s(std::int64_t now_ms) const;

  friend bool operator==(const Message&, const Message&) = default;
};

using MessagePtr = std::shared_ptr<const Message>;

}  // namespace mote::broker
