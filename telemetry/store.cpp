#include "mote/telemetry/store.hpp"

#include <cmath>
#include <utility>

#include "mote/base/log.hpp"
#include "mote/sqlite/database.hpp"

namespace mote::telemetry {
namespace {

using sqlite::Query;
using sqlite::Statement;
using sqlite::Transaction;

constexpr int kSchemaVersion = 1;
constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kHourMs = 3'600'000;

// The schema, version 1. sample and rollup are WITHOUT ROWID tables keyed by
// (metric, time): a history query is one range scan of the primary key.
constexpr const char* kSchema = R"sql(
CREATE TABLE device (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL
);
CREATE TABLE metric (
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL REFERENCES device(id),
  name TEXT NOT NULL,
  unit TEXT NOT NULL DEFAULT '',
  last_time_ms INTEGER NOT NULL,
  last_value REAL NOT NULL,
  UNIQUE (device_id, name)
);
CREATE TABLE sample (
  metric_id INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (metric_id, time_ms)
) WITHOUT ROWID;
CREATE TABLE rollup (
  metric_id INTEGER NOT NULL,
  resolution_ms INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  min REAL NOT NULL,
  max REAL NOT NULL,
  sum REAL NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (metric_id, resolution_ms, time_ms)
) WITHOUT ROWID;
CREATE TABLE retention_horizon (
  resolution_ms INTEGER PRIMARY KEY,
  horizon_ms INTEGER NOT NULL
);
PRAGMA user_version = 1;
)sql";

std::int64_t bucket_start(std::int64_t time_ms, std::int64_t width_ms) {
  std::int64_t remainder = time_ms % width_ms;
  if (remainder < 0) remainder += width_ms;
  return time_ms - remainder;
}

bool retention_keeps_forever(std::chrono::milliseconds retention) { return retention.count() == 0; }

}  // namespace

const char* to_string(Resolution resolution) {
  switch (resolution) {
    case Resolution::automatic: return "automatic";
    case Resolution::raw: return "raw";
    case Resolution::minute: return "minute";
    case Resolution::hour: return "hour";
  }
  return "?";
}

struct TelemetryStore::Statements {
  Statement upsert_device;
  Statement upsert_metric;
  Statement insert_sample;
  Statement upsert_rollup;
  Statement select_horizons;
  Statement set_horizon;
  Statement select_devices;
  Statement select_device;
  Statement select_metric_id;
  Statement count_raw;
  Statement select_raw;
  Statement select_rollup;
  Statement delete_raw_before;
  Statement delete_rollup_before;
  Statement select_device_id;
  Statement delete_device_samples;
  Statement delete_device_rollups;
  Statement delete_device_metrics;
  Statement delete_device;
  Statement count_rows;

  Status prepare(sqlite3* db) {
    MOTE_TRY(upsert_device.prepare(db, R"sql(
      INSERT INTO device (name, first_seen_ms, last_seen_ms) VALUES (?1, ?2, ?2)
      ON CONFLICT (name) DO UPDATE SET
        first_seen_ms = min(first_seen_ms, excluded.first_seen_ms),
        last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)
      RETURNING id)sql"));
    // In an UPDATE every right-hand side sees the old row, so last_value is
    // chosen against the old last_time_ms.
    MOTE_TRY(upsert_metric.prepare(db, R"sql(
      INSERT INTO metric (device_id, name, unit, last_time_ms, last_value) VALUES (?1, ?2, ?3, ?4, ?5)
      ON CONFLICT (device_id, name) DO UPDATE SET
        unit = CASE WHEN excluded.unit <> '' THEN excluded.unit ELSE unit END,
        last_value = CASE WHEN excluded.last_time_ms >= last_time_ms
                          THEN excluded.last_value ELSE last_value END,
        last_time_ms = max(last_time_ms, excluded.last_time_ms)
      RETURNING id)sql"));
    MOTE_TRY(insert_sample.prepare(
        db, "INSERT OR IGNORE INTO sample (metric_id, time_ms, value) VALUES (?1, ?2, ?3)"));
    MOTE_TRY(upsert_rollup.prepare(db, R"sql(
      INSERT INTO rollup (metric_id, resolution_ms, time_ms, min, max, sum, count)
      VALUES (?1, ?2, ?3, ?4, ?4, ?4, 1)
      ON CONFLICT (metric_id, resolution_ms, time_ms) DO UPDATE SET
        min = min(min, excluded.min), max = max(max, excluded.max),
        sum = sum + excluded.sum, count = count + 1)sql"));
    MOTE_TRY(
        select_horizons.prepare(db, "SELECT resolution_ms, horizon_ms FROM retention_horizon"));
    MOTE_TRY(set_horizon.prepare(db, R"sql(
      INSERT INTO retention_horizon (resolution_ms, horizon_ms) VALUES (?1, ?2)
      ON CONFLICT (resolution_ms) DO UPDATE SET horizon_ms = max(horizon_ms, excluded.horizon_ms))sql"));
    MOTE_TRY(select_devices.prepare(db, R"sql(
      SELECT d.name, d.first_seen_ms, d.last_seen_ms, m.name, m.unit, m.last_time_ms, m.last_value
      FROM device d LEFT JOIN metric m ON m.device_id = d.id
      ORDER BY d.name, m.name)sql"));
    MOTE_TRY(select_device.prepare(db, R"sql(
      SELECT d.name, d.first_seen_ms, d.last_seen_ms, m.name, m.unit, m.last_time_ms, m.last_value
      FROM device d LEFT JOIN metric m ON m.device_id = d.id
      WHERE d.name = ?1 ORDER BY m.name)sql"));
    MOTE_TRY(select_metric_id.prepare(db, R"sql(
      SELECT m.id FROM metric m JOIN device d ON d.id = m.device_id
      WHERE d.name = ?1 AND m.name = ?2)sql"));
    MOTE_TRY(count_raw.prepare(db, R"sql(
      SELECT count(*) FROM (SELECT 1 FROM sample
        WHERE metric_id = ?1 AND time_ms >= ?2 AND time_ms < ?3 LIMIT ?4))sql"));
    MOTE_TRY(select_raw.prepare(db, R"sql(
      SELECT time_ms, value FROM sample
      WHERE metric_id = ?1 AND time_ms >= ?2 AND time_ms < ?3 ORDER BY time_ms)sql"));
    MOTE_TRY(select_rollup.prepare(db, R"sql(
      SELECT time_ms, min, max, sum, count FROM rollup
      WHERE metric_id = ?1 AND resolution_ms = ?2 AND time_ms >= ?3 AND time_ms < ?4
      ORDER BY time_ms)sql"));
    MOTE_TRY(delete_raw_before.prepare(db, "DELETE FROM sample WHERE time_ms < ?1"));
    MOTE_TRY(delete_rollup_before.prepare(
        db, "DELETE FROM rollup WHERE resolution_ms = ?1 AND time_ms < ?2"));
    MOTE_TRY(select_device_id.prepare(db, "SELECT id FROM device WHERE name = ?1"));
    MOTE_TRY(delete_device_samples.prepare(
        db, "DELETE FROM sample WHERE metric_id IN (SELECT id FROM metric WHERE device_id = ?1)"));
    MOTE_TRY(delete_device_rollups.prepare(
        db, "DELETE FROM rollup WHERE metric_id IN (SELECT id FROM metric WHERE device_id = ?1)"));
    MOTE_TRY(delete_device_metrics.prepare(db, "DELETE FROM metric WHERE device_id = ?1"));
    MOTE_TRY(delete_device.prepare(db, "DELETE FROM device WHERE id = ?1"));
    MOTE_TRY(count_rows.prepare(db, R"sql(
      SELECT (SELECT count(*) FROM device), (SELECT count(*) FROM metric),
             (SELECT count(*) FROM sample), (SELECT count(*) FROM rollup),
             (SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()))sql"));
    return ok_status();
  }

  // The oldest time each resolution still covers (0: everything).
  Result<std::int64_t> horizon(std::int64_t resolution_ms) {
    Query query(select_horizons);
    for (;;) {
      MOTE_TRY_ASSIGN(const bool row, query.step("read retention horizons"));
      if (!row) return std::int64_t{0};
      if (query.int64(0) == resolution_ms) return query.int64(1);
    }
  }
};

Result<TelemetryStore> TelemetryStore::open(const StoreOptions& options) {
  if (options.path.empty()) {
    MOTE_LOG_ERROR("telemetry: no database path given");
    return StatusCode::invalid_argument;
  }
  const auto longer_or_forever = [](std::chrono::milliseconds shorter,
                                    std::chrono::milliseconds longer) {
    return retention_keeps_forever(longer) ||
           (!retention_keeps_forever(shorter) && shorter <= longer);
  };
  if (!longer_or_forever(options.raw_retention, options.minute_retention) ||
      !longer_or_forever(options.minute_retention, options.hour_retention)) {
    MOTE_LOG_ERROR(
        "telemetry: retention must not shrink towards coarser resolutions "
        "(raw <= minute <= hour; 0 keeps forever)");
    return StatusCode::invalid_argument;
  }

  MOTE_TRY_ASSIGN(sqlite3 * db, sqlite::open_wal_database(options.path));
  TelemetryStore store(db, options);
  MOTE_TRY(sqlite::create_schema_if_new(db, kSchema, kSchemaVersion, options.path));
  MOTE_TRY(store.statements_->prepare(db));
  return store;
}

TelemetryStore::TelemetryStore(sqlite3* db, StoreOptions options)
    : options_(std::move(options)), db_(db), statements_(std::make_unique<Statements>()) {}

TelemetryStore::TelemetryStore(TelemetryStore&& other) noexcept
    : options_(std::move(other.options_)),
      db_(std::exchange(other.db_, nullptr)),
      statements_(std::move(other.statements_)) {}

TelemetryStore& TelemetryStore::operator=(TelemetryStore&& other) noexcept {
  if (this != &other) {
    statements_.reset();
    sqlite3_close(db_);
    options_ = std::move(other.options_);
    db_ = std::exchange(other.db_, nullptr);
    statements_ = std::move(other.statements_);
  }
  return *this;
}

TelemetryStore::~TelemetryStore() {
  statements_.reset();  // statements are finalized before the connection closes
  sqlite3_close(db_);
}

Result<std::size_t> TelemetryStore::append(std::span<const Sample> samples) {
  for (const Sample& sample : samples) {
    if (sample.device.empty() || sample.metric.empty() || !std::isfinite(sample.value)) {
      MOTE_LOG_WARN("telemetry: rejected a sample (device '%s', metric '%s'): %s",
                    sample.device.c_str(), sample.metric.c_str(),
                    std::isfinite(sample.value) ? "empty name" : "value is not finite");
      return StatusCode::invalid_argument;
    }
  }
  Statements& s = *statements_;
  Transaction transaction(db_);
  MOTE_TRY(transaction.begin());
  // A sample older than the raw horizon may already have been folded into
  // the rollups and deleted: storing it again would count it twice.
  MOTE_TRY_ASSIGN(const std::int64_t raw_horizon, s.horizon(0));
  std::size_t added = 0;
  for (const Sample& sample : samples) {
    if (sample.time_ms < raw_horizon) continue;
    std::int64_t device_id = 0;
    {
      Query query(s.upsert_device);
      query.bind(1, sample.device).bind(2, sample.time_ms);
      MOTE_TRY(query.step_row("store device"));
      device_id = query.int64(0);
    }
    std::int64_t metric_id = 0;
    {
      Query query(s.upsert_metric);
      query.bind(1, device_id).bind(2, sample.metric).bind(3, sample.unit);
      query.bind(4, sample.time_ms).bind(5, sample.value);
      MOTE_TRY(query.step_row("store metric"));
      metric_id = query.int64(0);
    }
    {
      Query query(s.insert_sample);
      query.bind(1, metric_id).bind(2, sample.time_ms).bind(3, sample.value);
      MOTE_TRY(query.step("store sample"));
    }
    if (sqlite3_changes(db_) == 0) continue;  // already stored
    ++added;
    for (const std::int64_t width : {kMinuteMs, kHourMs}) {
      Query query(s.upsert_rollup);
      query.bind(1, metric_id).bind(2, width).bind(3, bucket_start(sample.time_ms, width));
      query.bind(4, sample.value);
      MOTE_TRY(query.step("store rollup"));
    }
  }
  MOTE_TRY(transaction.commit());
  return added;
}

namespace {

// Rows of (device name, first seen, last seen, metric name, unit, last time,
// last value), ordered by device, folded into summaries. A device without
// metrics has NULL metric columns (LEFT JOIN).
Result<std::vector<DeviceSummary>> read_summaries(Query& query) {
  std::vector<DeviceSummary> devices;
  for (;;) {
    MOTE_TRY_ASSIGN(const bool row, query.step("read devices"));
    if (!row) break;
    std::string name = query.text(0);
    if (devices.empty() || devices.back().name != name) {
      DeviceSummary& device = devices.emplace_back();
      device.name = std::move(name);
      device.first_seen_ms = query.int64(1);
      device.last_seen_ms = query.int64(2);
    }
    if (query.is_null(3)) continue;
    MetricSummary& metric = devices.back().metrics.emplace_back();
    metric.name = query.text(3);
    metric.unit = query.text(4);
    metric.last_time_ms = query.int64(5);
    metric.last_value = query.real(6);
  }
  return devices;
}

}  // namespace

Result<std::vector<DeviceSummary>> TelemetryStore::devices() {
  Query query(statements_->select_devices);
  return read_summaries(query);
}

Result<std::optional<DeviceSummary>> TelemetryStore::device(std::string_view name) {
  Query query(statements_->select_device);
  query.bind(1, name);
  MOTE_TRY_ASSIGN(std::vector<DeviceSummary> devices, read_summaries(query));
  if (devices.empty()) return std::optional<DeviceSummary>();
  return std::optional<DeviceSummary>(std::move(devices.front()));
}

Result<History> TelemetryStore::history(const HistoryQuery& request) {
  Statements& s = *statements_;
  std::int64_t metric_id = 0;
  {
    Query query(s.select_metric_id);
    query.bind(1, request.device).bind(2, request.metric);
    MOTE_TRY_ASSIGN(const bool found, query.step("find metric"));
    if (!found) return StatusCode::not_found;
    metric_id = query.int64(0);
  }
  History history;
  if (request.to_ms <= request.from_ms) {
    history.resolution =
        request.resolution == Resolution::automatic ? Resolution::raw : request.resolution;
    return history;
  }

  history.resolution = request.resolution;
  if (history.resolution == Resolution::automatic) {
    MOTE_TRY_ASSIGN(const std::int64_t raw_horizon, s.horizon(0));
    MOTE_TRY_ASSIGN(const std::int64_t minute_horizon, s.horizon(kMinuteMs));
    const auto max_points = static_cast<std::int64_t>(request.max_points);
    std::int64_t raw_count = max_points + 1;
    if (request.from_ms >= raw_horizon) {
      Query query(s.count_raw);
      query.bind(1, metric_id).bind(2, request.from_ms).bind(3, request.to_ms);
      query.bind(4, max_points + 1);
      MOTE_TRY(query.step_row("count samples"));
      raw_count = query.int64(0);
    }
    const std::int64_t minutes = (request.to_ms - request.from_ms + kMinuteMs - 1) / kMinuteMs;
    if (raw_count <= max_points) {
      history.resolution = Resolution::raw;
    } else if (minutes <= max_points && request.from_ms >= minute_horizon) {
      history.resolution = Resolution::minute;
    } else {
      history.resolution = Resolution::hour;
    }
  }

  if (history.resolution == Resolution::raw) {
    Query query(s.select_raw);
    query.bind(1, metric_id).bind(2, request.from_ms).bind(3, request.to_ms);
    for (;;) {
      MOTE_TRY_ASSIGN(const bool row, query.step("read samples"));
      if (!row) break;
      const double value = query.real(1);
      history.points.push_back({query.int64(0), value, value, value, 1});
    }
    return history;
  }
  const std::int64_t width = history.resolution == Resolution::minute ? kMinuteMs : kHourMs;
  Query query(s.select_rollup);
  // A bucket that starts before from_ms but reaches into the range counts.
  query.bind(1, metric_id).bind(2, width).bind(3, bucket_start(request.from_ms, width));
  query.bind(4, request.to_ms);
  for (;;) {
    MOTE_TRY_ASSIGN(const bool row, query.step("read rollups"));
    if (!row) break;
    const auto count = static_cast<std::uint32_t>(query.int64(4));
    history.points.push_back({query.int64(0), query.real(1), query.real(2),
                              count > 0 ? query.real(3) / count : 0.0, count});
  }
  return history;
}

Result<RetentionResult> TelemetryStore::enforce_retention(std::int64_t now_ms) {
  Statements& s = *statements_;
  RetentionResult result;
  Transaction transaction(db_);
  MOTE_TRY(transaction.begin());
  // Resolution 0 stands for raw samples in retention_horizon.
  const struct {
    std::int64_t resolution_ms;
    std::chrono::milliseconds retention;
    std::uint64_t* deleted;
  } levels[] = {{0, options_.raw_retention, &result.raw_deleted},
                {kMinuteMs, options_.minute_retention, &result.minute_deleted},
                {kHourMs, options_.hour_retention, &result.hour_deleted}};
  for (const auto& level : levels) {
    if (retention_keeps_forever(level.retention)) continue;
    const std::int64_t horizon = now_ms - level.retention.count();
    if (level.resolution_ms == 0) {
      Query query(s.delete_raw_before);
      query.bind(1, horizon);
      MOTE_TRY(query.step("expire samples"));
    } else {
      // Only whole buckets go: one that straddles the horizon stays.
      Query query(s.delete_rollup_before);
      query.bind(1, level.resolution_ms).bind(2, bucket_start(horizon, level.resolution_ms));
      MOTE_TRY(query.step("expire rollups"));
    }
    *level.deleted = static_cast<std::uint64_t>(sqlite3_changes64(db_));
    Query query(s.set_horizon);
    query.bind(1, level.resolution_ms).bind(2, horizon);
    MOTE_TRY(query.step("store retention horizon"));
  }
  MOTE_TRY(transaction.commit());
  return result;
}

Status TelemetryStore::forget_device(std::string_view name) {
  Statements& s = *statements_;
  Transaction transaction(db_);
  MOTE_TRY(transaction.begin());
  std::int64_t device_id = 0;
  {
    Query query(s.select_device_id);
    query.bind(1, name);
    MOTE_TRY_ASSIGN(const bool found, query.step("find device"));
    if (!found) return Status::not_found();
    device_id = query.int64(0);
  }
  for (Statement* statement : {&s.delete_device_samples, &s.delete_device_rollups,
                               &s.delete_device_metrics, &s.delete_device}) {
    Query query(*statement);
    query.bind(1, device_id);
    MOTE_TRY(query.step("forget device"));
  }
  return transaction.commit();
}

Result<StoreStats> TelemetryStore::stats() {
  Query query(statements_->count_rows);
  MOTE_TRY(query.step_row("count rows"));
  StoreStats stats;
  stats.devices = static_cast<std::uint64_t>(query.int64(0));
  stats.metrics = static_cast<std::uint64_t>(query.int64(1));
  stats.raw_samples = static_cast<std::uint64_t>(query.int64(2));
  stats.rollup_rows = static_cast<std::uint64_t>(query.int64(3));
  stats.file_bytes = static_cast<std::uint64_t>(query.int64(4));
  return stats;
}

}  // namespace mote::telemetry
