#pragma once
// GET /metrics: the gateway's state in the Prometheus text exposition format
// (version 0.0.4): one gauge per device and per metric, and the gateway's
// counters. A pure function, so the format is tested without a server.
//
//   mote_device_online{device="kitchen"} 1
//   mote_reading{device="kitchen",metric="temperature",unit="°C"} 21.5
//   mote_samples_stored_total 1234

#include <cstdint>
#include <string>
#include <vector>

#include "mote/gateway/device_tracker.hpp"
#include "mote/telemetry/store.hpp"

namespace mote::gateway {

struct GatewayCounters {
  std::uint64_t samples_received = 0;  // readings that parsed (MQTT and CoAP)
  std::uint64_t samples_stored = 0;    // new in the store (re-sent ones count once)
  std::uint64_t bad_messages = 0;      // dropped as malformed
  std::uint64_t mqtt_clients = 0;      // connected now
  std::uint64_t live_clients = 0;      // WebSocket clients of /api/live now
};

// The Content-Type of what prometheus_text() returns.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string prometheus_text(const std::vector<telemetry::DeviceSummary>& devices,
                            const DeviceTracker& tracker, const GatewayCounters& counters);

}  // namespace mote::gateway
