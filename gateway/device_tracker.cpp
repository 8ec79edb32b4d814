#include "mote/gateway/device_tracker.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace mote::gateway {
namespace {

std::string format_value(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace

const char* to_string(Alert::Kind kind) {
  return kind == Alert::Kind::silent ? "silent" : "threshold";
}

DeviceTracker::DeviceTracker(TrackerOptions options) : options_(std::move(options)) {}

void DeviceTracker::add_known(std::string_view device) {
  devices_.try_emplace(std::string(device));
}

DeviceState& DeviceTracker::state_of(std::string_view device, std::vector<TrackerEvent>& events) {
  auto found = devices_.find(device);
  if (found == devices_.end()) {
    found = devices_.emplace(std::string(device), DeviceState{}).first;
    events.push_back({TrackerEvent::Kind::device_changed, found->first, {}});
  }
  return found->second;
}

void DeviceTracker::raise(Alert alert, std::vector<TrackerEvent>& events) {
  if (alerts_.contains(alert.id)) return;
  events.push_back({TrackerEvent::Kind::alert_raised, alert.device, alert});
  std::string id = alert.id;
  alerts_.emplace(std::move(id), std::move(alert));
}

void DeviceTracker::clear(const std::string& id, std::vector<TrackerEvent>& events) {
  const auto found = alerts_.find(id);
  if (found == alerts_.end()) return;
  events.push_back({TrackerEvent::Kind::alert_cleared, found->second.device, found->second});
  alerts_.erase(found);
}

void DeviceTracker::go_offline(const std::string& device, DeviceState& state, std::string message,
                               std::int64_t now_ms, std::vector<TrackerEvent>& events) {
  state.online = false;
  events.push_back({TrackerEvent::Kind::device_changed, device, {}});
  raise({device + "/silent", Alert::Kind::silent, device, "", std::move(message), now_ms}, events);
}

std::vector<TrackerEvent> DeviceTracker::on_reading(std::string_view device,
                                                    std::string_view metric, double value,
                                                    std::int64_t now_ms) {
  std::vector<TrackerEvent> events;
  DeviceState& state = state_of(device, events);
  const std::string name(device);
  state.last_heard_ms = now_ms;
  if (!state.online) {
    state.online = true;
    if (events.empty()) events.push_back({TrackerEvent::Kind::device_changed, name, {}});
    clear(name + "/silent", events);
  }
  for (const ThresholdRule& rule : options_.thresholds) {
    if ((rule.device != "*" && rule.device != device) || rule.metric != metric) continue;
    const std::string id = name + "/" + std::string(metric) + "/threshold";
    const bool too_high = rule.above && value > *rule.above;
    const bool too_low = rule.below && value < *rule.below;
    if (too_high || too_low) {
      std::string message = name + " " + std::string(metric) + " is " + format_value(value) +
                            (too_high ? ", above " + format_value(*rule.above)
                                      : ", below " + format_value(*rule.below));
      raise({id, Alert::Kind::threshold, name, std::string(metric), std::move(message), now_ms},
            events);
    } else {
      clear(id, events);
    }
  }
  return events;
}

std::vector<TrackerEvent> DeviceTracker::on_status(std::string_view device, bool online,
                                                   std::int64_t now_ms) {
  std::vector<TrackerEvent> events;
  DeviceState& state = state_of(device, events);
  const std::string name(device);
  state.last_heard_ms = now_ms;
  if (online && !state.online) {
    state.online = true;
    if (events.empty()) events.push_back({TrackerEvent::Kind::device_changed, name, {}});
    clear(name + "/silent", events);
  } else if (!online && state.online) {
    go_offline(name, state, name + " went offline", now_ms, events);
  }
  return events;
}

std::vector<TrackerEvent> DeviceTracker::tick(std::int64_t now_ms) {
  std::vector<TrackerEvent> events;
  const std::int64_t silent_ms = options_.silent_after.count();
  for (auto& [name, state] : devices_) {
    if (state.online && now_ms - state.last_heard_ms >= silent_ms) {
      go_offline(name, state,
                 name + " has been silent for " + std::to_string(silent_ms / 1000) + " s", now_ms,
                 events);
    }
  }
  return events;
}

std::optional<std::int64_t> DeviceTracker::next_deadline() const {
  std::optional<std::int64_t> next;
  for (const auto& [name, state] : devices_) {
    if (!state.online) continue;
    const std::int64_t due = state.last_heard_ms + options_.silent_after.count();
    if (!next || due < *next) next = due;
  }
  return next;
}

const DeviceState* DeviceTracker::device(std::string_view name) const {
  const auto found = devices_.find(name);
  return found == devices_.end() ? nullptr : &found->second;
}

std::size_t DeviceTracker::online_count() const {
  return static_cast<std::size_t>(std::count_if(
      devices_.begin(), devices_.end(), [](const auto& entry) { return entry.second.online; }));
}

std::vector<Alert> DeviceTracker::alerts() const {
  std::vector<Alert> active;
  active.reserve(alerts_.size());
  for (const auto& [id, alert] : alerts_) active.push_back(alert);
  std::stable_sort(active.begin(), active.end(),
                   [](const Alert& a, const Alert& b) { return a.since_ms < b.since_ms; });
  return active;
}

}  // namespace mote::gateway
