#pragma once
// The gateway's telemetry store: readings from every device, kept in one
// SQLite database file, with rollups for long time ranges and retention
// limits per resolution. Host only.
//
// Model: a device (by name) has metrics (by name, with an optional unit);
// a metric has samples (time in ms since the Unix epoch, a double value).
// Every sample also updates its one-minute and one-hour rollup rows (min,
// max, sum, count) in the same transaction, so raw samples can expire while
// long-range history stays exact at the coarser resolution.
//
// Durability: WAL journal with synchronous=NORMAL. A committed append
// survives the process being killed (kill -9) at any point; an operating
// system crash or power loss may lose the last transactions before a
// checkpoint. A sample whose (device, metric, time) is already stored is
// ignored, so a sensor that re-sends what it buffered (MQTT QoS 1
// duplicates) never counts a reading twice.
//
// Threading: one store object belongs to one thread. Calls block on disk
// I/O; appends are meant to be batched (one transaction per batch).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <sqlite3.h>
#include <string>
#include <string_view>
#include <vector>

#include "mote/base/result.hpp"
#include "mote/base/status.hpp"

namespace mote::telemetry {

struct Sample {
  std::string device;
  std::string metric;
  std::int64_t time_ms = 0;  // since the Unix epoch
  double value = 0;
  std::string unit;  // optional; when given, becomes the metric's unit
};

struct StoreOptions {
  std::string path;  // a file; ":memory:" for a store that lives in memory only
  // How long each resolution is kept; zero keeps it forever.
  std::chrono::milliseconds raw_retention = std::chrono::hours(24 * 7);
  std::chrono::milliseconds minute_retention = std::chrono::hours(24 * 90);
  std::chrono::milliseconds hour_retention = std::chrono::milliseconds(0);
};

enum class Resolution : std::uint8_t { automatic, raw, minute, hour };
const char* to_string(Resolution resolution);

// One point of a history: a raw sample (count 1, min = max = mean) or a
// rollup bucket starting at time_ms.
struct Point {
  std::int64_t time_ms = 0;
  double min = 0;
  double max = 0;
  double mean = 0;
  std::uint32_t count = 0;
};

struct HistoryQuery {
  std::string device;
  std::string metric;
  std::int64_t from_ms = 0;  // inclusive
  std::int64_t to_ms = 0;    // exclusive
  // With Resolution::automatic: raw samples when at most this many fall in
  // the range and raw data still covers it, else one-minute buckets when at
  // most this many minutes, else one-hour buckets.
  std::size_t max_points = 1000;
  Resolution resolution = Resolution::automatic;
};

struct History {
  Resolution resolution = Resolution::raw;  // what was chosen
  std::vector<Point> points;                // oldest first
};

struct MetricSummary {
  std::string name;
  std::string unit;
  std::int64_t last_time_ms = 0;
  double last_value = 0;
};

struct DeviceSummary {
  std::string name;
  std::int64_t first_seen_ms = 0;
  std::int64_t last_seen_ms = 0;       // the newest sample's time
  std::vector<MetricSummary> metrics;  // by name
};

struct StoreStats {
  std::uint64_t devices = 0;
  std::uint64_t metrics = 0;
  std::uint64_t raw_samples = 0;
  std::uint64_t rollup_rows = 0;
  std::uint64_t file_bytes = 0;
};

struct RetentionResult {
  std::uint64_t raw_deleted = 0;
  std::uint64_t minute_deleted = 0;
  std::uint64_t hour_deleted = 0;
};

class TelemetryStore {
 public:
  // Opens (creating if needed) the database and its schema. Errors:
  // unavailable (cannot open or not a database), data_loss (the schema is
  // from a newer mote), invalid_argument (empty path).
  static Result<TelemetryStore> open(const StoreOptions& options);

  TelemetryStore(TelemetryStore&&) noexcept;
  TelemetryStore& operator=(TelemetryStore&&) noexcept;
  ~TelemetryStore();

  // Stores the samples in one transaction: all or none. Devices and metrics
  // appear on their first sample. Returns how many samples were new (not
  // already stored). invalid_argument for an empty device or metric name or
  // a value that is not finite.
  Result<std::size_t> append(std::span<const Sample> samples);

  Result<std::vector<DeviceSummary>> devices();
  Result<std::optional<DeviceSummary>> device(std::string_view name);
  // not_found when the device or metric is unknown.
  Result<History> history(const HistoryQuery& query);

  // Deletes what is older than each resolution's retention, measured back
  // from now_ms.
  Result<RetentionResult> enforce_retention(std::int64_t now_ms);
  // Removes a device with all its data; not_found when there is none.
  Status forget_device(std::string_view name);

  Result<StoreStats> stats();

  const StoreOptions& options() const { return options_; }

 private:
  struct Statements;
  TelemetryStore(sqlite3* db, StoreOptions options);

  StoreOptions options_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<Statements> statements_;
};

}  // namespace mote::telemetry
