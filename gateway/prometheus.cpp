#include "mote/gateway/prometheus.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

namespace mote::gateway {
namespace {

// A label value: backslash, double quote and line feed escaped.
void append_label(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += "=\"";
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
}

// Shortest round-trip form; the format spells infinities and NaN its own way
// (the store holds only finite values, but a gauge must never be garbage).
void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char number[32];
    const auto written = std::to_chars(number, number + sizeof number, value);
    out.append(number, written.ptr);
  }
  out += '\n';
}

void append_family(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_single(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, std::uint64_t value) {
  append_family(out, name, type, help);
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

std::string prometheus_text(const std::vector<telemetry::DeviceSummary>& devices,
                            const DeviceTracker& tracker, const GatewayCounters& counters) {
  std::string out;
  append_family(out, "mote_device_online", "gauge", "1 while the device is online, else 0.");
  for (const telemetry::DeviceSummary& device : devices) {
    const DeviceState* state = tracker.device(device.name);
    out += "mote_device_online{";
    append_label(out, "device", device.name);
    out += "} ";
    append_value(out, state != nullptr && state->online ? 1 : 0);
  }
  append_family(out, "mote_device_last_seen_seconds", "gauge",
                "Time of the device's newest reading, in seconds since the Unix epoch.");
  for (const telemetry::DeviceSummary& device : devices) {
    if (device.metrics.empty()) continue;  // heard from, nothing stored yet
    out += "mote_device_last_seen_seconds{";
    append_label(out, "device", device.name);
    out += "} ";
    append_value(out, static_cast<double>(device.last_seen_ms) / 1000.0);
  }
  append_family(out, "mote_reading", "gauge", "The latest reading of each metric.");
  for (const telemetry::DeviceSummary& device : devices) {
    for (const telemetry::MetricSummary& metric : device.metrics) {
      out += "mote_reading{";
      append_label(out, "device", device.name);
      out += ',';
      append_label(out, "metric", metric.name);
      out += ',';
      append_label(out, "unit", metric.unit);
      out += "} ";
      append_value(out, metric.last_value);
    }
  }
  append_single(out, "mote_samples_received_total", "counter",
                "Readings received over MQTT and CoAP.", counters.samples_received);
  append_single(out, "mote_samples_stored_total", "counter",
                "Readings stored (one re-sent with the same time counts once).",
                counters.samples_stored);
  append_single(out, "mote_bad_messages_total", "counter",
                "Messages dropped because they were malformed.", counters.bad_messages);
  append_single(out, "mote_devices_online", "gauge", "Devices online now.", tracker.online_count());
  append_single(out, "mote_alerts_active", "gauge", "Active alerts.", tracker.alerts().size());
  append_single(out, "mote_mqtt_clients", "gauge", "MQTT clients connected.",
                counters.mqtt_clients);
  append_single(out, "mote_live_clients", "gauge", "WebSocket clients of the live feed.",
                counters.live_clients);
  return out;
}

}  // namespace mote::gateway
