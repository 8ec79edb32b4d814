#pragma once
// Which devices are online, and which alerts are active. No I/O and no
// clock inside: the gateway passes the time in and calls tick() by
// next_deadline(); each call returns what changed, for the live feed.
//
// A device is online from the moment anything arrives from it until it has
// been silent for `silent_after`, or until it says "offline" itself (an MQTT
// node's will does that when its connection drops). Going offline raises a
// "silent" alert; the next reading clears it. A threshold rule raises an
// alert when a reading crosses it and clears it when a reading is back in
// range.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mote::gateway {

struct ThresholdRule {
  std::string device = "*";  // a device name, or "*" for every device
  std::string metric;
  std::optional<double> above;  // alert when value > above
  std::optional<double> below;  // alert when value < below
};

struct TrackerOptions {
  std::chrono::milliseconds silent_after = std::chrono::seconds(60);
  std::vector<ThresholdRule> thresholds;
};

struct Alert {
  enum class Kind : std::uint8_t { silent, threshold };
  std::string id;  // "<device>/silent" or "<device>/<metric>/threshold"
  Kind kind = Kind::silent;
  std::string device;
  std::string metric;  // threshold alerts only
  std::string message;
  std::int64_t since_ms = 0;
};
const char* to_string(Alert::Kind kind);

struct DeviceState {
  bool online = false;
  std::int64_t last_heard_ms = 0;  // gateway time of the last message, 0: never (this run)
};

struct TrackerEvent {
  enum class Kind : std::uint8_t { device_changed, alert_raised, alert_cleared };
  Kind kind = Kind::device_changed;
  std::string device;
  Alert alert;  // for alert_raised / alert_cleared
};

class DeviceTracker {
 public:
  explicit DeviceTracker(TrackerOptions options);

  // A device known from the store: offline until it is heard from.
  void add_known(std::string_view device);

  std::vector<TrackerEvent> on_reading(std::string_view device, std::string_view metric,
                                       double value, std::int64_t now_ms);
  std::vector<TrackerEvent> on_status(std::string_view device, bool online, std::int64_t now_ms);
  // Marks devices silent for `silent_after` offline.
  std::vector<TrackerEvent> tick(std::int64_t now_ms);
  // When tick() next has something to do; nullopt: nothing online.
  std::optional<std::int64_t> next_deadline() const;

  // nullptr for a device never seen (neither known nor heard).
  const DeviceState* device(std::string_view name) const;
  std::size_t online_count() const;
  std::vector<Alert> alerts() const;  // active, oldest first
  const TrackerOptions& options() const { return options_; }

 private:
  DeviceState& state_of(std::string_view device, std::vector<TrackerEvent>& events);
  void go_offline(const std::string& device, DeviceState& state, std::string message,
                  std::int64_t now_ms, std::vector<TrackerEvent>& events);
  void raise(Alert alert, std::vector<TrackerEvent>& events);
  void clear(const std::string& id, std::vector<TrackerEvent>& events);

  TrackerOptions options_;
  std::map<std::string, DeviceState, std::less<>> devices_;
  std::map<std::string, Alert, std::less<>> alerts_;
};

}  // namespace mote::gateway
