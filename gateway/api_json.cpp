#include "mote/gateway/api_json.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

namespace mote::gateway {
namespace {

using nlohmann::json;

// Names are checked ASCII and units were valid UTF-8 when parsed, but a
// dump must never abort (no exceptions): replace anything invalid.
std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json device_object(const telemetry::DeviceSummary& device, const DeviceTracker& tracker) {
  const DeviceState* state = tracker.device(device.name);
  json metrics = json::array();
  for (const telemetry::MetricSummary& metric : device.metrics) {
    metrics.push_back({{"name", metric.name},
                       {"unit", metric.unit},
                       {"last_time_ms", metric.last_time_ms},
                       {"last_value", metric.last_value}});
  }
  // last_seen_ms: the newest reading's time, or when the gateway last heard
  // from the device (a status message), whichever is later.
  const std::int64_t heard = state != nullptr ? state->last_heard_ms : 0;
  return {{"name", device.name},
          {"online", state != nullptr && state->online},
          {"first_seen_ms", device.first_seen_ms},
          {"last_seen_ms", std::max(device.last_seen_ms, heard)},
          {"metrics", std::move(metrics)}};
}

json alert_object(const Alert& alert) {
  return {{"id", alert.id},         {"kind", to_string(alert.kind)}, {"device", alert.device},
          {"metric", alert.metric}, {"message", alert.message},      {"since_ms", alert.since_ms}};
}

// "from=1&to=2" -> the value of `key`; nullopt if absent.
std::optional<std::string_view> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

// A decimal integer, optionally negative, the whole text.
bool parse_integer(std::optional<std::string_view> text, std::int64_t& value) {
  if (!text) return true;  // absent: the default stays
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  return !text->empty() && error == std::errc() && end == text->data() + text->size();
}

}  // namespace

Result<HistoryRange> parse_history_query(std::string_view query, std::int64_t now_ms) {
  constexpr std::int64_t kHourMs = std::int64_t{3600} * 1000;
  constexpr std::int64_t kMaxPoints = 100000;
  std::int64_t to = now_ms + 1;
  std::int64_t from = 0;
  std::int64_t points = 1000;
  const std::optional<std::string_view> from_text = query_value(query, "from");
  if (!parse_integer(query_value(query, "to"), to) || !parse_integer(from_text, from) ||
      !parse_integer(query_value(query, "points"), points)) {
    return Status::invalid_argument();
  }
  constexpr std::int64_t kEarliest = std::numeric_limits<std::int64_t>::min();
  if (!from_text) from = to > kEarliest + kHourMs ? to - kHourMs : kEarliest;
  if (from >= to || points < 1 || points > kMaxPoints) return Status::invalid_argument();
  return HistoryRange{from, to, static_cast<std::size_t>(points)};
}

std::string devices_json(const std::vector<telemetry::DeviceSummary>& devices,
                         const DeviceTracker& tracker) {
  json list = json::array();
  for (const telemetry::DeviceSummary& device : devices) {
    list.push_back(device_object(device, tracker));
  }
  return dump({{"devices", std::move(list)}});
}

std::string device_json(const telemetry::DeviceSummary& device, const DeviceTracker& tracker) {
  return dump(device_object(device, tracker));
}

std::string history_json(std::string_view device, std::string_view metric,
                         const telemetry::History& history) {
  json points = json::array();
  for (const telemetry::Point& point : history.points) {
    points.push_back({point.time_ms, point.min, point.max, point.mean, point.count});
  }
  return dump({{"device", device},
               {"metric", metric},
               {"resolution", telemetry::to_string(history.resolution)},
               {"points", std::move(points)}});
}

std::string alerts_json(const std::vector<Alert>& alerts) {
  json list = json::array();
  for (const Alert& alert : alerts) list.push_back(alert_object(alert));
  return dump({{"alerts", std::move(list)}});
}

std::string error_json(std::string_view message) { return dump({{"error", message}}); }

std::string reading_json(const telemetry::Sample& sample) {
  return dump({{"value", sample.value}, {"unit", sample.unit}, {"time_ms", sample.time_ms}});
}

std::string live_sample_json(const telemetry::Sample& sample) {
  return dump({{"type", "sample"},
               {"device", sample.device},
               {"metric", sample.metric},
               {"unit", sample.unit},
               {"time_ms", sample.time_ms},
               {"value", sample.value}});
}

std::string live_device_json(const telemetry::DeviceSummary& device, const DeviceTracker& tracker) {
  return dump({{"type", "device"}, {"device", device_object(device, tracker)}});
}

std::string live_alert_json(const Alert& alert, bool active) {
  return dump({{"type", "alert"}, {"active", active}, {"alert", alert_object(alert)}});
}

}  // namespace mote::gateway
