#include "mote/gateway/device_tracker.hpp"

#include <gtest/gtest.h>

namespace mote::gateway {
namespace {

using Kind = TrackerEvent::Kind;
using namespace std::chrono_literals;

TrackerOptions options_with(std::vector<ThresholdRule> thresholds = {}) {
  TrackerOptions options;
  options.silent_after = 60s;
  options.thresholds = std::move(thresholds);
  return options;
}

std::vector<Kind> kinds(const std::vector<TrackerEvent>& events) {
  std::vector<Kind> result;
  for (const TrackerEvent& event : events) result.push_back(event.kind);
  return result;
}

TEST(DeviceTracker, NewDeviceComesOnlineAndGoesSilent) {
  DeviceTracker tracker(options_with());
  EXPECT_EQ(tracker.next_deadline(), std::nullopt);
  EXPECT_EQ(kinds(tracker.on_reading("kitchen", "t", 20, 1000)), std::vector{Kind::device_changed});
  ASSERT_NE(tracker.device("kitchen"), nullptr);
  EXPECT_TRUE(tracker.device("kitchen")->online);
  EXPECT_EQ(tracker.online_count(), 1u);
  EXPECT_EQ(tracker.next_deadline(), 61'000);

  // Another reading within the window: nothing changes, the deadline moves.
  EXPECT_TRUE(tracker.on_reading("kitchen", "t", 21, 30'000).empty());
  EXPECT_EQ(tracker.next_deadline(), 90'000);
  EXPECT_TRUE(tracker.tick(89'999).empty());

  const std::vector<TrackerEvent> silent = tracker.tick(90'000);
  EXPECT_EQ(kinds(silent), (std::vector{Kind::device_changed, Kind::alert_raised}));
  EXPECT_EQ(silent[1].alert.id, "kitchen/silent");
  EXPECT_EQ(silent[1].alert.kind, Alert::Kind::silent);
  EXPECT_EQ(silent[1].alert.message, "kitchen has been silent for 60 s");
  EXPECT_FALSE(tracker.device("kitchen")->online);
  EXPECT_EQ(tracker.alerts().size(), 1u);
  EXPECT_EQ(tracker.next_deadline(), std::nullopt);
  EXPECT_TRUE(tracker.tick(200'000).empty());  // already offline: once only

  // It comes back: online again and the alert clears.
  const std::vector<TrackerEvent> back = tracker.on_reading("kitchen", "t", 21, 300'000);
  EXPECT_EQ(kinds(back), (std::vector{Kind::device_changed, Kind::alert_cleared}));
  EXPECT_TRUE(tracker.alerts().empty());
}

TEST(DeviceTracker, WillSaysOfflineAtOnce) {
  DeviceTracker tracker(options_with());
  (void)tracker.on_status("node", true, 0);
  EXPECT_TRUE(tracker.device("node")->online);
  const std::vector<TrackerEvent> gone = tracker.on_status("node", false, 5000);
  EXPECT_EQ(kinds(gone), (std::vector{Kind::device_changed, Kind::alert_raised}));
  EXPECT_EQ(gone[1].alert.message, "node went offline");
  EXPECT_TRUE(tracker.on_status("node", false, 6000).empty());
  EXPECT_EQ(kinds(tracker.on_status("node", true, 7000)),
            (std::vector{Kind::device_changed, Kind::alert_cleared}));
}

TEST(DeviceTracker, KnownDevicesStartOffline) {
  DeviceTracker tracker(options_with());
  tracker.add_known("attic");
  ASSERT_NE(tracker.device("attic"), nullptr);
  EXPECT_FALSE(tracker.device("attic")->online);
  EXPECT_EQ(tracker.device("cellar"), nullptr);
  // No alert for a device that was already offline when the gateway started.
  EXPECT_TRUE(tracker.tick(1'000'000).empty());
  EXPECT_EQ(kinds(tracker.on_reading("attic", "t", 1, 10)), std::vector{Kind::device_changed});
}

TEST(DeviceTracker, ThresholdsRaiseAndClear) {
  DeviceTracker tracker(
      options_with({{"*", "temperature", 30.0, 5.0}, {"boiler", "pressure", 2.5, {}}}));
  EXPECT_EQ(kinds(tracker.on_reading("kitchen", "temperature", 20, 0)),
            std::vector{Kind::device_changed});

  std::vector<TrackerEvent> hot = tracker.on_reading("kitchen", "temperature", 31.5, 1000);
  ASSERT_EQ(kinds(hot), std::vector{Kind::alert_raised});
  EXPECT_EQ(hot[0].alert.id, "kitchen/temperature/threshold");
  EXPECT_EQ(hot[0].alert.metric, "temperature");
  EXPECT_EQ(hot[0].alert.message, "kitchen temperature is 31.5, above 30");
  EXPECT_TRUE(tracker.on_reading("kitchen", "temperature", 35, 2000).empty());  // still active
  EXPECT_EQ(kinds(tracker.on_reading("kitchen", "temperature", 29, 3000)),
            std::vector{Kind::alert_cleared});

  std::vector<TrackerEvent> cold = tracker.on_reading("kitchen", "temperature", 4, 4000);
  ASSERT_EQ(cold.size(), 1u);
  EXPECT_EQ(cold[0].alert.message, "kitchen temperature is 4, below 5");

  // A rule for one device leaves the others alone; another metric is not checked.
  (void)tracker.on_reading("garage", "pressure", 3, 5000);
  EXPECT_EQ(tracker.alerts().size(), 1u);
  EXPECT_EQ(kinds(tracker.on_reading("boiler", "pressure", 3, 6000)),
            (std::vector{Kind::device_changed, Kind::alert_raised}));
  EXPECT_EQ(tracker.alerts().size(), 2u);
  EXPECT_EQ(tracker.alerts()[0].since_ms, 4000);  // oldest first
}

}  // namespace
}  // namespace mote::gateway
