#pragma once
// The JSON the gateway's HTTP API and live WebSocket feed send
// (docs/gateway.md, "HTTP API"). Pure functions of the store's summaries and
// the tracker's state, so the dashboard's contract is tested without a
// server.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mote/base/result.hpp"
#include "mote/gateway/device_tracker.hpp"
#include "mote/telemetry/store.hpp"

namespace mote::gateway {

// GET /api/devices: {"devices": [device, ...]}, where a device is
//   {"name", "online", "first_seen_ms", "last_seen_ms",
//    "metrics": [{"name", "unit", "last_time_ms", "last_value"}, ...]}
std::string devices_json(const std::vector<telemetry::DeviceSummary>& devices,
                         const DeviceTracker& tracker);
// GET /api/devices/{name}: the device object alone.
std::string device_json(const telemetry::DeviceSummary& device, const DeviceTracker& tracker);
// GET /api/devices/{name}/metrics/{metric}/history:
//   {"device", "metric", "resolution": "raw"|"minute"|"hour",
//    "points": [[time_ms, min, max, mean, count], ...]}
std::string history_json(std::string_view device, std::string_view metric,
                         const telemetry::History& history);
// GET /api/alerts: {"alerts": [{"id", "kind", "device", "metric", "message", "since_ms"}]}
std::string alerts_json(const std::vector<Alert>& alerts);
// CoAP GET /<prefix>/{device}/{metric}: the latest reading in the wire
// format's JSON, {"value", "unit", "time_ms"}.
std::string reading_json(const telemetry::Sample& sample);
// An error body: {"error": message}.
std::string error_json(std::string_view message);

// The query of GET .../history ("from=...&to=...&points=..."): times in ms
// since the Unix epoch. Missing: to = now_ms + 1 (so a reading taken now is
// in), from = to - 1 hour, points = 1000. invalid_argument for a value that
// is not a decimal integer, from >= to, or points outside 1..100000.
struct HistoryRange {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::size_t points = 0;
};
Result<HistoryRange> parse_history_query(std::string_view query, std::int64_t now_ms);

// Live feed messages (one WebSocket text message each):
//   {"type": "sample", "device", "metric", "unit", "time_ms", "value"}
//   {"type": "device", "device": <device object>}
//   {"type": "alert", "active": true|false, "alert": <alert object>}
std::string live_sample_json(const telemetry::Sample& sample);
std::string live_device_json(const telemetry::DeviceSummary& device, const DeviceTracker& tracker);
std::string live_alert_json(const Alert& alert, bool active);

}  // namespace mote::gateway
