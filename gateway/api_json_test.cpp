#include "mote/gateway/api_json.hpp"

#include <gtest/gtest.h>
#include <limits>
#include <nlohmann/json.hpp>

#include "mote/gateway/ingest.hpp"

namespace mote::gateway {
namespace {

using nlohmann::json;

json parse(const std::string& text) {
  json value = json::parse(text, nullptr, false);
  EXPECT_FALSE(value.is_discarded()) << text;
  return value;
}

telemetry::DeviceSummary kitchen() {
  telemetry::DeviceSummary device;
  device.name = "kitchen";
  device.first_seen_ms = 1000;
  device.last_seen_ms = 5000;
  device.metrics.push_back({"temperature", "°C", 5000, 21.5});
  return device;
}

TEST(ApiJson, DevicesCarryOnlineStateAndLatestReadings) {
  DeviceTracker tracker({});
  (void)tracker.on_reading("kitchen", "temperature", 21.5, 9000);
  const json body = parse(devices_json({kitchen()}, tracker));
  ASSERT_EQ(body["devices"].size(), 1u);
  const json& device = body["devices"][0];
  EXPECT_EQ(device["name"], "kitchen");
  EXPECT_EQ(device["online"], true);
  EXPECT_EQ(device["first_seen_ms"], 1000);
  EXPECT_EQ(device["last_seen_ms"], 9000);  // heard later than the reading's own time
  EXPECT_EQ(device["metrics"][0]["name"], "temperature");
  EXPECT_EQ(device["metrics"][0]["unit"], "°C");
  EXPECT_EQ(device["metrics"][0]["last_value"], 21.5);

  DeviceTracker empty({});
  EXPECT_EQ(parse(device_json(kitchen(), empty))["online"], false);
  EXPECT_EQ(parse(devices_json({}, empty))["devices"], json::array());
}

TEST(ApiJson, HistoryIsCompactPoints) {
  telemetry::History history;
  history.resolution = telemetry::Resolution::minute;
  history.points.push_back({60'000, 1, 3, 2, 3});
  const json body = parse(history_json("kitchen", "temperature", history));
  EXPECT_EQ(body["resolution"], "minute");
  EXPECT_EQ(body["points"], json::parse("[[60000, 1.0, 3.0, 2.0, 3]]"));
}

TEST(ApiJson, AlertsAndLiveMessages) {
  const Alert alert{
      "kitchen/silent", Alert::Kind::silent, "kitchen", "", "kitchen went offline", 42};
  const json alerts = parse(alerts_json({alert}));
  EXPECT_EQ(alerts["alerts"][0]["kind"], "silent");
  EXPECT_EQ(alerts["alerts"][0]["since_ms"], 42);

  const json live_alert = parse(live_alert_json(alert, false));
  EXPECT_EQ(live_alert["type"], "alert");
  EXPECT_EQ(live_alert["active"], false);
  EXPECT_EQ(live_alert["alert"]["id"], "kitchen/silent");

  const json sample = parse(live_sample_json({"kitchen", "temperature", 7, 21.5, "°C"}));
  EXPECT_EQ(sample["type"], "sample");
  EXPECT_EQ(sample["value"], 21.5);
  EXPECT_EQ(sample["time_ms"], 7);

  DeviceTracker tracker({});
  EXPECT_EQ(parse(live_device_json(kitchen(), tracker))["device"]["name"], "kitchen");
  EXPECT_EQ(parse(error_json("no such device"))["error"], "no such device");
}

TEST(ApiJson, HistoryQueries) {
  constexpr std::int64_t kNow = 1795219200000;
  const auto range = [](std::string_view query) { return parse_history_query(query, kNow); };
  ASSERT_TRUE(range("").ok());
  EXPECT_EQ(range("")->to_ms, kNow + 1);
  EXPECT_EQ(range("")->from_ms, kNow + 1 - 3600000);
  EXPECT_EQ(range("")->points, 1000u);
  ASSERT_TRUE(range("points=5&from=10&to=20").ok());
  EXPECT_EQ(range("points=5&from=10&to=20")->from_ms, 10);
  EXPECT_EQ(range("points=5&from=10&to=20")->to_ms, 20);
  EXPECT_EQ(range("points=5&from=10&to=20")->points, 5u);
  // Only `to`: the hour before it.
  EXPECT_EQ(range("to=7200000")->from_ms, 3600000);
  EXPECT_EQ(range("to=-9223372036854775807")->from_ms, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(range("x=1&from=0")->from_ms, 0);
  for (const char* bad : {"from=x", "from=", "to=1.5", "points=0", "points=100001", "from=5&to=5",
                          "from=6&to=5", "points=-1", "from=99999999999999999999", "to= 1"}) {
    EXPECT_FALSE(range(bad).ok()) << bad;
  }
}

TEST(ApiJson, ReadingIsTheWireFormat) {
  const telemetry::Sample sample{"kitchen", "temperature", 1795219200000, 21.5, "°C\n"};
  const std::string text = reading_json(sample);
  EXPECT_EQ(text, "{\"time_ms\":1795219200000,\"unit\":\"°C\\n\",\"value\":21.5}");
  const Result<ReadingPayload> parsed = parse_reading(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->value, 21.5);
  EXPECT_EQ(parsed->unit, "°C\n");
  EXPECT_EQ(parsed->time_ms, 1795219200000);
}

TEST(ApiJson, InvalidUtf8NeverAborts) {
  telemetry::DeviceSummary device = kitchen();
  device.metrics[0].unit = "\xff\xfe";
  DeviceTracker tracker({});
  const json body = parse(device_json(device, tracker));
  EXPECT_TRUE(body["metrics"][0]["unit"].is_string());
}

}  // namespace
}  // namespace mote::gateway
