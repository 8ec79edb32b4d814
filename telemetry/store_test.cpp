#include "mote/telemetry/store.hpp"

#include <cmath>
#include <fstream>
#include <gtest/gtest.h>
#include <limits>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mote/testing/process.hpp"

namespace mote::telemetry {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 3'600'000;
// 2026-11-21 00:00:00 UTC: a round hour, so buckets line up with the test data.
constexpr std::int64_t kT0 = 1'795'219'200'000;

StoreOptions options_at(const std::string& path) {
  StoreOptions options;
  options.path = path;
  return options;
}

TelemetryStore open_store(const StoreOptions& options) {
  Result<TelemetryStore> store = TelemetryStore::open(options);
  EXPECT_TRUE(store.ok()) << to_string(store.status().code());
  return std::move(store).value();
}

Sample reading(std::string device, std::string metric, std::int64_t time_ms, double value,
               std::string unit = "") {
  return Sample{std::move(device), std::move(metric), time_ms, value, std::move(unit)};
}

// One sample every `step_ms` for `count` steps from `start`, value = index.
std::vector<Sample> series(const std::string& device, const std::string& metric, std::int64_t start,
                           std::int64_t step_ms, int count) {
  std::vector<Sample> samples;
  for (int i = 0; i < count; ++i) {
    samples.push_back(reading(device, metric, start + i * step_ms, static_cast<double>(i)));
  }
  return samples;
}

TEST(TelemetryStore, DataSurvivesReopening) {
  testing::TempDir dir;
  const StoreOptions options = options_at(dir.file("telemetry.db"));
  {
    TelemetryStore store = open_store(options);
    const std::vector<Sample> samples = {reading("kitchen", "temperature", kT0, 21.5, "°C"),
                                         reading("kitchen", "humidity", kT0, 40.0, "%")};
    EXPECT_EQ(store.append(samples).value(), 2u);
  }
  TelemetryStore store = open_store(options);
  const std::optional<DeviceSummary> kitchen = store.device("kitchen").value();
  ASSERT_TRUE(kitchen.has_value());
  ASSERT_EQ(kitchen->metrics.size(), 2u);
  EXPECT_EQ(kitchen->metrics[0].name, "humidity");
  EXPECT_EQ(kitchen->metrics[1].name, "temperature");
  EXPECT_EQ(kitchen->metrics[1].unit, "°C");
  EXPECT_DOUBLE_EQ(kitchen->metrics[1].last_value, 21.5);
}

TEST(TelemetryStore, DevicesAppearOnFirstSampleWithLatestReadings) {
  TelemetryStore store = open_store(options_at(":memory:"));
  EXPECT_TRUE(store.devices().value().empty());
  const std::vector<Sample> samples = {
      reading("garage", "temperature", kT0 + 5000, 12.0, "°C"),
      reading("attic", "temperature", kT0 + 1000, 30.0, "°C"),
      // Arrives late (buffered by the node): older than what is stored.
      reading("garage", "temperature", kT0 + 2000, 11.0),
  };
  ASSERT_EQ(store.append(samples).value(), 3u);
  const std::vector<DeviceSummary> devices = store.devices().value();
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].name, "attic");
  EXPECT_EQ(devices[1].name, "garage");
  EXPECT_EQ(devices[1].first_seen_ms, kT0 + 2000);
  EXPECT_EQ(devices[1].last_seen_ms, kT0 + 5000);
  ASSERT_EQ(devices[1].metrics.size(), 1u);
  // The latest reading by time, not by arrival; the unit stays.
  EXPECT_DOUBLE_EQ(devices[1].metrics[0].last_value, 12.0);
  EXPECT_EQ(devices[1].metrics[0].last_time_ms, kT0 + 5000);
  EXPECT_EQ(devices[1].metrics[0].unit, "°C");
  EXPECT_FALSE(store.device("cellar").value().has_value());
}

TEST(TelemetryStore, ResentSamplesAreStoredOnce) {
  TelemetryStore store = open_store(options_at(":memory:"));
  const std::vector<Sample> samples = series("node", "t", kT0, 1000, 30);
  EXPECT_EQ(store.append(samples).value(), 30u);
  EXPECT_EQ(store.append(samples).value(), 0u);
  const History history =
      store.history({"node", "t", kT0, kT0 + kHour, 1000, Resolution::minute}).value();
  ASSERT_EQ(history.points.size(), 1u);
  EXPECT_EQ(history.points[0].count, 30u);
  EXPECT_EQ(store.stats().value().raw_samples, 30u);
}

TEST(TelemetryStore, AppendIsAllOrNothing) {
  TelemetryStore store = open_store(options_at(":memory:"));
  std::vector<Sample> samples = series("node", "t", kT0, 1000, 5);
  samples.push_back(reading("node", "t", kT0 + 9000, std::numeric_limits<double>::quiet_NaN()));
  EXPECT_EQ(store.append(samples).status().code(), StatusCode::invalid_argument);
  samples.back() = reading("", "t", kT0 + 9000, 1.0);
  EXPECT_EQ(store.append(samples).status().code(), StatusCode::invalid_argument);
  samples.back() = reading("node", "", kT0 + 9000, 1.0);
  EXPECT_EQ(store.append(samples).status().code(), StatusCode::invalid_argument);
  const StoreStats stats = store.stats().value();
  EXPECT_EQ(stats.devices, 0u);
  EXPECT_EQ(stats.raw_samples, 0u);
}

TEST(TelemetryStore, HistoryPicksTheResolutionThatFits) {
  TelemetryStore store = open_store(options_at(":memory:"));
  // Two hours, one sample every 10 s: 720 samples, 120 minutes, 2 hours.
  ASSERT_EQ(store.append(series("node", "t", kT0, 10'000, 720)).value(), 720u);
  HistoryQuery query{"node", "t", kT0, kT0 + 2 * kHour, 1000, Resolution::automatic};

  History raw = store.history(query).value();
  EXPECT_EQ(raw.resolution, Resolution::raw);
  ASSERT_EQ(raw.points.size(), 720u);
  EXPECT_EQ(raw.points[719].time_ms, kT0 + 719 * 10'000);
  EXPECT_DOUBLE_EQ(raw.points[719].mean, 719.0);

  query.max_points = 200;
  History minutes = store.history(query).value();
  EXPECT_EQ(minutes.resolution, Resolution::minute);
  ASSERT_EQ(minutes.points.size(), 120u);
  // Minute 7 holds samples 42..47.
  EXPECT_EQ(minutes.points[7].time_ms, kT0 + 7 * kMinute);
  EXPECT_EQ(minutes.points[7].count, 6u);
  EXPECT_DOUBLE_EQ(minutes.points[7].min, 42.0);
  EXPECT_DOUBLE_EQ(minutes.points[7].max, 47.0);
  EXPECT_DOUBLE_EQ(minutes.points[7].mean, 44.5);

  query.max_points = 50;
  History hours = store.history(query).value();
  EXPECT_EQ(hours.resolution, Resolution::hour);
  ASSERT_EQ(hours.points.size(), 2u);
  EXPECT_EQ(hours.points[1].count, 360u);
  EXPECT_DOUBLE_EQ(hours.points[1].min, 360.0);
  EXPECT_DOUBLE_EQ(hours.points[1].max, 719.0);
  EXPECT_DOUBLE_EQ(hours.points[1].mean, (360.0 + 719.0) / 2);

  // A range inside one bucket still returns that bucket.
  query = {"node", "t", kT0 + 90 * kMinute + 5, kT0 + 91 * kMinute, 1, Resolution::hour};
  History inside = store.history(query).value();
  ASSERT_EQ(inside.points.size(), 1u);
  EXPECT_EQ(inside.points[0].time_ms, kT0 + kHour);

  EXPECT_TRUE(store.history({"node", "t", kT0, kT0, 10, Resolution::automatic})->points.empty());
  EXPECT_EQ(store.history({"node", "nope", kT0, kT0 + 1, 10}).status().code(),
            StatusCode::not_found);
  EXPECT_EQ(store.history({"nobody", "t", kT0, kT0 + 1, 10}).status().code(),
            StatusCode::not_found);
}

TEST(TelemetryStore, RetentionExpiresRawSamplesButKeepsRollups) {
  StoreOptions options = options_at(":memory:");
  options.raw_retention = 1h;
  options.minute_retention = 24h;
  options.hour_retention = 0ms;  // forever
  TelemetryStore store = open_store(options);
  ASSERT_EQ(store.append(series("node", "t", kT0, 10'000, 720)).value(), 720u);

  const RetentionResult expired = store.enforce_retention(kT0 + 2 * kHour).value();
  EXPECT_EQ(expired.raw_deleted, 360u);  // the first hour
  EXPECT_EQ(expired.minute_deleted, 0u);
  EXPECT_EQ(expired.hour_deleted, 0u);
  EXPECT_EQ(store.stats().value().raw_samples, 360u);

  // The first hour now only exists as rollups: automatic picks them even
  // though few enough raw points would fit.
  History first_hour = store.history({"node", "t", kT0, kT0 + kHour, 1000}).value();
  EXPECT_EQ(first_hour.resolution, Resolution::minute);
  ASSERT_EQ(first_hour.points.size(), 60u);
  EXPECT_EQ(first_hour.points[0].count, 6u);
  History second_hour = store.history({"node", "t", kT0 + kHour, kT0 + 2 * kHour, 1000}).value();
  EXPECT_EQ(second_hour.resolution, Resolution::raw);
  EXPECT_EQ(second_hour.points.size(), 360u);

  // A sample from before the raw horizon would be counted twice in its
  // rollup: it is dropped.
  EXPECT_EQ(store.append(std::vector<Sample>{reading("node", "t", kT0 + 10, 5.0)}).value(), 0u);
  History minute0 =
      store.history({"node", "t", kT0, kT0 + kMinute, 10, Resolution::minute}).value();
  ASSERT_EQ(minute0.points.size(), 1u);
  EXPECT_EQ(minute0.points[0].count, 6u);

  // A day later the minute rollups of that first hour go too; hours stay.
  const RetentionResult later = store.enforce_retention(kT0 + 26 * kHour).value();
  EXPECT_EQ(later.raw_deleted, 360u);
  EXPECT_EQ(later.minute_deleted, 120u);
  History hours = store.history({"node", "t", kT0, kT0 + 2 * kHour, 1000}).value();
  EXPECT_EQ(hours.resolution, Resolution::hour);
  ASSERT_EQ(hours.points.size(), 2u);
  EXPECT_EQ(hours.points[0].count + hours.points[1].count, 720u);
}

TEST(TelemetryStore, ForgetDeviceRemovesAllItsData) {
  TelemetryStore store = open_store(options_at(":memory:"));
  ASSERT_TRUE(store.append(series("a", "t", kT0, 1000, 10)).ok());
  ASSERT_TRUE(store.append(series("b", "t", kT0, 1000, 10)).ok());
  EXPECT_TRUE(store.forget_device("a").ok());
  EXPECT_EQ(store.forget_device("a").code(), StatusCode::not_found);
  const StoreStats stats = store.stats().value();
  EXPECT_EQ(stats.devices, 1u);
  EXPECT_EQ(stats.metrics, 1u);
  EXPECT_EQ(stats.raw_samples, 10u);
  EXPECT_EQ(stats.rollup_rows, 2u);  // b's one minute and one hour
  EXPECT_EQ(store.history({"a", "t", kT0, kT0 + kHour, 10}).status().code(), StatusCode::not_found);
}

TEST(TelemetryStore, RejectsBadOptionsAndFiles) {
  EXPECT_EQ(TelemetryStore::open(options_at("")).status().code(), StatusCode::invalid_argument);

  StoreOptions shrinking = options_at(":memory:");
  shrinking.raw_retention = 48h;
  shrinking.minute_retention = 24h;
  EXPECT_EQ(TelemetryStore::open(shrinking).status().code(), StatusCode::invalid_argument);

  testing::TempDir dir;
  const std::string garbage = dir.write("garbage.db", std::string(4096, 'x'));
  EXPECT_EQ(TelemetryStore::open(options_at(garbage)).status().code(), StatusCode::unavailable);
  EXPECT_EQ(TelemetryStore::open(options_at(dir.file("missing/dir/t.db"))).status().code(),
            StatusCode::unavailable);

  // A database written by a newer mote (schema version 2) is left alone.
  const std::string newer = dir.file("newer.db");
  { open_store(options_at(newer)); }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(newer.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 2", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_EQ(TelemetryStore::open(options_at(newer)).status().code(), StatusCode::data_loss);
}

// A writer process killed with SIGKILL mid-stream loses no committed batch
// and leaves no partial one: every batch is 100 samples, so the stored count
// is a multiple of 100 and at least what the writer reported committed.
TEST(TelemetryStore, KillNineLosesNoCommittedBatch) {
  testing::TempDir dir;
  const StoreOptions options = options_at(dir.file("telemetry.db"));
  { open_store(options); }  // the schema exists before the race starts

  int progress[2];
  ASSERT_EQ(::pipe(progress), 0);
  const pid_t writer = ::fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    ::close(progress[0]);
    Result<TelemetryStore> store = TelemetryStore::open(options);
    if (!store.ok()) ::_exit(2);
    for (int batch = 0; batch < 100'000; ++batch) {
      const std::vector<Sample> samples = series("node", "t", kT0 + batch * 100'000LL, 1000, 100);
      if (store->append(samples).value_or(0) != 100) ::_exit(3);
      const char committed = 'c';
      if (::write(progress[1], &committed, 1) != 1) ::_exit(4);
    }
    ::_exit(0);
  }
  ::close(progress[1]);
  int committed = 0;
  char byte = 0;
  while (committed < 25 && ::read(progress[0], &byte, 1) == 1) ++committed;
  ::kill(writer, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(writer, &status, 0), writer);
  while (::read(progress[0], &byte, 1) == 1) ++committed;  // reported before it died
  ::close(progress[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself: " << status;
  ASSERT_EQ(committed >= 25, true);

  TelemetryStore store = open_store(options);
  const StoreStats stats = store.stats().value();
  EXPECT_GE(stats.raw_samples, static_cast<std::uint64_t>(committed) * 100);
  EXPECT_EQ(stats.raw_samples % 100, 0u);
  // The rollups agree with the raw samples: nothing half-written.
  const History hours =
      store.history({"node", "t", kT0, kT0 + 10'000 * kHour, 100'000, Resolution::hour}).value();
  std::uint64_t rolled_up = 0;
  for (const Point& point : hours.points) rolled_up += point.count;
  EXPECT_EQ(rolled_up, stats.raw_samples);
}

}  // namespace
}  // namespace mote::telemetry
