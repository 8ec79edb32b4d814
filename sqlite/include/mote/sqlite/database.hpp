#pragma once
// Thin, no-exceptions helpers over Debian's libsqlite3 shared by mote's
// host-side stores (telemetry, the MQTT broker's persistence): open a
// database in WAL mode, prepared statements reused across calls, one-shot
// queries that reset themselves, transactions that roll back unless
// committed, and SQLite result codes as Status. Host only.
//
// Errors are logged with SQLite's own message (it names the file or the
// table) and returned as: unavailable (cannot open, not a database, busy),
// resource_exhausted (disk full), data_loss (corrupt), permission_denied
// (read-only), invalid_argument (constraint, type), internal (the rest).

#include <cstdint>
#include <span>
#include <sqlite3.h>
#include <string>
#include <string_view>
#include <vector>

#include "mote/base/result.hpp"
#include "mote/base/status.hpp"

namespace mote::sqlite {

Status status_from_sqlite(int code);

// Logs "<what>: <sqlite message>" and returns status_from_sqlite(code).
Status fail(sqlite3* db, int code, const char* what);

// Runs one or more SQL statements without results.
Status execute(sqlite3* db, const char* sql, const char* what);

// Opens (creating) `path` with a 5 s busy timeout, WAL journal and
// synchronous=NORMAL: a committed transaction survives the process being
// killed at any point. The caller owns the handle (sqlite3_close).
Result<sqlite3*> open_wal_database(const std::string& path);

// PRAGMA user_version (the schema version a store wrote).
Result<int> user_version(sqlite3* db);

// Creates the schema (SQL that also sets PRAGMA user_version = `version`)
// in a new database; accepts one at `version` or older (the caller
// migrates); refuses a newer one with data_loss rather than touch it.
// `path` names the file in log lines.
Status create_schema_if_new(sqlite3* db, const char* schema, int version, const std::string& path);

// A prepared statement, prepared once and reused.
class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(statement_); }

  Status prepare(sqlite3* db, const char* sql);

  [[nodiscard]] sqlite3_stmt* get() const { return statement_; }
  [[nodiscard]] sqlite3* db() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* statement_ = nullptr;
};

// One use of a Statement: binds, steps, and resets it on destruction so it
// releases its read snapshot and is ready for the next use. Bound text and
// blobs must outlive the Query.
class Query {
 public:
  explicit Query(const Statement& statement) : statement_(statement.get()), db_(statement.db()) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

  Query& bind(int index, std::int64_t value) {
    sqlite3_bind_int64(statement_, index, value);
    return *this;
  }
  Query& bind(int index, double value) {
    sqlite3_bind_double(statement_, index, value);
    return *this;
  }
  Query& bind(int index, std::string_view text) {
    sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    return *this;
  }
  Query& bind_blob(int index, std::span<const std::uint8_t> blob) {
    sqlite3_bind_blob(statement_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
    return *this;
  }

  // true: a row is there; false: done. Errors are logged with `what`.
  Result<bool> step(const char* what);
  // For statements that must yield one row (RETURNING, count(*)).
  Status step_row(const char* what);
  // For statements that yield no rows (INSERT, UPDATE, DELETE).
  Status run(const char* what);

  [[nodiscard]] std::int64_t int64(int column) const {
    return sqlite3_column_int64(statement_, column);
  }
  [[nodiscard]] double real(int column) const { return sqlite3_column_double(statement_, column); }
  [[nodiscard]] std::string text(int column) const;
  [[nodiscard]] std::vector<std::uint8_t> blob(int column) const;
  [[nodiscard]] bool is_null(int column) const {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
  }

 private:
  sqlite3_stmt* statement_;
  sqlite3* db_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (open_) (void)execute(db_, "ROLLBACK", "rollback");
  }
  Status begin();
  Status commit();

 private:
  sqlite3* db_;
  bool open_ = false;
};

}  // namespace mote::sqlite
