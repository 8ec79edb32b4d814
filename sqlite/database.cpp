#include "mote/sqlite/database.hpp"

#include "mote/base/log.hpp"

namespace mote::sqlite {

Status status_from_sqlite(int code) {
  switch (code & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return ok_status();
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB: return Status::unavailable();
    case SQLITE_FULL:
    case SQLITE_NOMEM: return Status::resource_exhausted();
    case SQLITE_CORRUPT: return Status::data_loss();
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return Status::permission_denied();
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE: return Status::invalid_argument();
    default: return Status::internal();
  }
}

Status fail(sqlite3* db, int code, const char* what) {
  MOTE_LOG_ERROR("sqlite: %s: %s (sqlite %d)", what,
                 db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code), code);
  return status_from_sqlite(code);
}

Status execute(sqlite3* db, const char* sql, const char* what) {
  char* message = nullptr;
  const int code = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  if (code != SQLITE_OK) {
    MOTE_LOG_ERROR("sqlite: %s: %s", what, message != nullptr ? message : sqlite3_errstr(code));
    sqlite3_free(message);
    return status_from_sqlite(code);
  }
  return ok_status();
}

Result<sqlite3*> open_wal_database(const std::string& path) {
  sqlite3* db = nullptr;
  const int code =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (code != SQLITE_OK) {
    const Status status = fail(db, code, path.c_str());
    sqlite3_close(db);
    return status;
  }
  sqlite3_busy_timeout(db, 5000);
  // journal_mode is the first statement to read the file: it fails with
  // SQLITE_NOTADB on something that is not a database.
  Status status = execute(db, "PRAGMA journal_mode = WAL", path.c_str());
  if (status.ok()) status = execute(db, "PRAGMA synchronous = NORMAL", "synchronous");
  if (!status.ok()) {
    sqlite3_close(db);
    return status;
  }
  return db;
}

Result<int> user_version(sqlite3* db) {
  sqlite3_stmt* statement = nullptr;
  int step = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr);
  if (step == SQLITE_OK) step = sqlite3_step(statement);
  const int version = step == SQLITE_ROW ? sqlite3_column_int(statement, 0) : -1;
  sqlite3_finalize(statement);
  if (step != SQLITE_ROW) {
    return fail(db, step == SQLITE_DONE ? SQLITE_INTERNAL : step, "read schema version");
  }
  return version;
}

Status create_schema_if_new(sqlite3* db, const char* schema, int version, const std::string& path) {
  MOTE_TRY_ASSIGN(const int found, user_version(db));
  if (found == 0) {
    Transaction transaction(db);
    MOTE_TRY(transaction.begin());
    MOTE_TRY(execute(db, schema, "create schema"));
    MOTE_TRY(transaction.commit());
    MOTE_LOG_INFO("sqlite: created %s (schema %d)", path.c_str(), version);
  } else if (found > version) {
    MOTE_LOG_ERROR("sqlite: %s has schema %d, newer than this mote's %d", path.c_str(), found,
                   version);
    return Status::data_loss();
  }
  return ok_status();
}

Status Statement::prepare(sqlite3* db, const char* sql) {
  db_ = db;
  const int code = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement_, nullptr);
  return code == SQLITE_OK ? ok_status() : fail(db, code, "prepare");
}

Result<bool> Query::step(const char* what) {
  const int code = sqlite3_step(statement_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  return fail(db_, code, what);
}

Status Query::step_row(const char* what) {
  MOTE_TRY_ASSIGN(const bool row, step(what));
  return row ? ok_status() : fail(db_, SQLITE_INTERNAL, what);
}

Status Query::run(const char* what) {
  MOTE_TRY_ASSIGN(const bool row, step(what));
  (void)row;
  return ok_status();
}

std::string Query::text(int column) const {
  const unsigned char* text = sqlite3_column_text(statement_, column);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text),
          static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))};
}

std::vector<std::uint8_t> Query::blob(int column) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(statement_, column));
  if (data == nullptr) return {};
  return {data, data + sqlite3_column_bytes(statement_, column)};
}

Status Transaction::begin() {
  MOTE_TRY(execute(db_, "BEGIN IMMEDIATE", "begin"));
  open_ = true;
  return ok_status();
}

Status Transaction::commit() {
  MOTE_TRY(execute(db_, "COMMIT", "commit"));
  open_ = false;
  return ok_status();
}

}  // namespace mote::sqlite
