#include "mote/gateway/prometheus.hpp"

#include <gtest/gtest.h>

namespace mote::gateway {
namespace {

TEST(Prometheus, DevicesReadingsAndCounters) {
  DeviceTracker tracker(TrackerOptions{});
  static_cast<void>(tracker.on_reading("kitchen", "temperature", 21.5, 1000));
  tracker.add_known("attic");
  telemetry::DeviceSummary kitchen{"kitchen", 500, 1000, {{"temperature", "°C", 1000, 21.5}}};
  telemetry::DeviceSummary attic{"attic", 10, 2500, {{"humidity", "say \"%\"\\", 2500, 0.1}}};
  GatewayCounters counters;
  counters.samples_received = 7;
  counters.samples_stored = 6;
  counters.bad_messages = 1;
  counters.mqtt_clients = 2;
  counters.live_clients = 3;
  EXPECT_EQ(prometheus_text({attic, kitchen}, tracker, counters),
            "# HELP mote_device_online 1 while the device is online, else 0.\n"
            "# TYPE mote_device_online gauge\n"
            "mote_device_online{device=\"attic\"} 0\n"
            "mote_device_online{device=\"kitchen\"} 1\n"
            "# HELP mote_device_last_seen_seconds Time of the device's newest reading, in "
            "seconds since the Unix epoch.\n"
            "# TYPE mote_device_last_seen_seconds gauge\n"
            "mote_device_last_seen_seconds{device=\"attic\"} 2.5\n"
            "mote_device_last_seen_seconds{device=\"kitchen\"} 1\n"
            "# HELP mote_reading The latest reading of each metric.\n"
            "# TYPE mote_reading gauge\n"
            "mote_reading{device=\"attic\",metric=\"humidity\",unit=\"say \\\"%\\\"\\\\\"} 0.1\n"
            "mote_reading{device=\"kitchen\",metric=\"temperature\",unit=\"°C\"} 21.5\n"
            "# HELP mote_samples_received_total Readings received over MQTT and CoAP.\n"
            "# TYPE mote_samples_received_total counter\n"
            "mote_samples_received_total 7\n"
            "# HELP mote_samples_stored_total Readings stored (one re-sent with the same time "
            "counts once).\n"
            "# TYPE mote_samples_stored_total counter\n"
            "mote_samples_stored_total 6\n"
            "# HELP mote_bad_messages_total Messages dropped because they were malformed.\n"
            "# TYPE mote_bad_messages_total counter\n"
            "mote_bad_messages_total 1\n"
            "# HELP mote_devices_online Devices online now.\n"
            "# TYPE mote_devices_online gauge\n"
            "mote_devices_online 1\n"
            "# HELP mote_alerts_active Active alerts.\n"
            "# TYPE mote_alerts_active gauge\n"
            "mote_alerts_active 0\n"
            "# HELP mote_mqtt_clients MQTT clients connected.\n"
            "# TYPE mote_mqtt_clients gauge\n"
            "mote_mqtt_clients 2\n"
            "# HELP mote_live_clients WebSocket clients of the live feed.\n"
            "# TYPE mote_live_clients gauge\n"
            "mote_live_clients 3\n");
}

TEST(Prometheus, NoDevicesStillListsTheFamilies) {
  const DeviceTracker tracker(TrackerOptions{});
  const std::string text = prometheus_text({}, tracker, GatewayCounters{});
  EXPECT_NE(text.find("# TYPE mote_device_online gauge\n# HELP mote_device_last_seen_seconds"),
            std::string::npos);
  EXPECT_NE(text.find("\nmote_samples_stored_total 0\n"), std::string::npos);
}

}  // namespace
}  // namespace mote::gateway
