#include "mote/broker/store.hpp"

#include "mote/base/log.hpp"
#include "mote/broker/message_record.hpp"
#include "mote/sqlite/database.hpp"

namespace mote::broker {
namespace {

using sqlite::Query;
using sqlite::Statement;

constexpr int kSchemaVersion = 1;

// Version 1. Every table but retained is keyed by client id first, so a
// session's rows are one range of each primary key.
constexpr const char* kSchema = R"sql(
CREATE TABLE retained (
  topic TEXT PRIMARY KEY,
  message BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE session (
  client_id TEXT PRIMARY KEY,
  expiry_interval INTEGER NOT NULL,
  disconnected_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE subscription (
  client_id TEXT NOT NULL,
  filter TEXT NOT NULL,
  qos INTEGER NOT NULL,
  no_local INTEGER NOT NULL,
  retain_as_published INTEGER NOT NULL,
  retain_handling INTEGER NOT NULL,
  identifier INTEGER NOT NULL,
  PRIMARY KEY (client_id, filter)
) WITHOUT ROWID;
CREATE TABLE outbound (
  client_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  qos INTEGER NOT NULL,
  retain INTEGER NOT NULL,
  packet_id INTEGER NOT NULL,
  state INTEGER NOT NULL,
  identifiers TEXT NOT NULL,
  message BLOB NOT NULL,
  PRIMARY KEY (client_id, seq)
) WITHOUT ROWID;
CREATE TABLE incoming_qos2 (
  client_id TEXT NOT NULL,
  packet_id INTEGER NOT NULL,
  PRIMARY KEY (client_id, packet_id)
) WITHOUT ROWID;
PRAGMA user_version = 1;
)sql";

// Added after version 1 without a version change: a mote without it
// ignores the table, one with it creates it in an older file.
constexpr const char* kWillTable = R"sql(
CREATE TABLE IF NOT EXISTS will (
  client_id TEXT PRIMARY KEY,
  delay_s INTEGER NOT NULL,
  due_ms INTEGER NOT NULL,
  message BLOB NOT NULL
) WITHOUT ROWID;
)sql";

std::string identifiers_text(const std::vector<std::uint32_t>& identifiers) {
  std::string text;
  for (const std::uint32_t identifier : identifiers) {
    if (!text.empty()) text += ',';
    text += std::to_string(identifier);
  }
  return text;
}

std::vector<std::uint32_t> parse_identifiers(std::string_view text) {
  std::vector<std::uint32_t> identifiers;
  std::uint64_t value = 0;
  bool digits = false;
  for (const char c : text) {
    if (c >= '0' && c <= '9' && value < 0x10000000) {
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
      digits = true;
    } else {
      if (digits && value != 0) identifiers.push_back(static_cast<std::uint32_t>(value));
      value = 0;
      digits = false;
    }
  }
  if (digits && value != 0) identifiers.push_back(static_cast<std::uint32_t>(value));
  return identifiers;
}

}  // namespace

struct BrokerStore::Statements {
  Statement select_retained;
  Statement put_retained;
  Statement erase_retained;
  Statement select_sessions;
  Statement select_subscriptions;
  Statement select_outbound;
  Statement select_incoming;
  Statement put_session;
  Statement erase_session;
  Statement erase_session_subscriptions;
  Statement erase_session_outbound;
  Statement erase_session_incoming;
  Statement put_subscription;
  Statement erase_subscription;
  Statement put_outbound;
  Statement update_outbound;
  Statement erase_outbound;
  Statement put_incoming;
  Statement erase_incoming;
  Statement select_wills;
  Statement put_will;
  Statement erase_will;

  Status prepare(sqlite3* db) {
    MOTE_TRY(select_wills.prepare(db, "SELECT client_id, delay_s, due_ms, message FROM will"));
    MOTE_TRY(put_will.prepare(db, R"sql(
      INSERT OR REPLACE INTO will (client_id, delay_s, due_ms, message)
      VALUES (?1, ?2, ?3, ?4))sql"));
    MOTE_TRY(erase_will.prepare(db, "DELETE FROM will WHERE client_id = ?1"));
    MOTE_TRY(select_retained.prepare(db, "SELECT topic, message FROM retained"));
    MOTE_TRY(put_retained.prepare(
        db, "INSERT OR REPLACE INTO retained (topic, message) VALUES (?1, ?2)"));
    MOTE_TRY(erase_retained.prepare(db, "DELETE FROM retained WHERE topic = ?1"));
    MOTE_TRY(select_sessions.prepare(
        db, "SELECT client_id, expiry_interval, disconnected_at_ms FROM session"));
    MOTE_TRY(select_subscriptions.prepare(db, R"sql(
      SELECT filter, qos, no_local, retain_as_published, retain_handling, identifier
      FROM subscription WHERE client_id = ?1)sql"));
    MOTE_TRY(select_outbound.prepare(db, R"sql(
      SELECT seq, qos, retain, packet_id, state, identifiers, message
      FROM outbound WHERE client_id = ?1 ORDER BY seq)sql"));
    MOTE_TRY(
        select_incoming.prepare(db, "SELECT packet_id FROM incoming_qos2 WHERE client_id = ?1"));
    MOTE_TRY(put_session.prepare(db, R"sql(
      INSERT OR REPLACE INTO session (client_id, expiry_interval, disconnected_at_ms)
      VALUES (?1, ?2, ?3))sql"));
    MOTE_TRY(erase_session.prepare(db, "DELETE FROM session WHERE client_id = ?1"));
    MOTE_TRY(
        erase_session_subscriptions.prepare(db, "DELETE FROM subscription WHERE client_id = ?1"));
    MOTE_TRY(erase_session_outbound.prepare(db, "DELETE FROM outbound WHERE client_id = ?1"));
    MOTE_TRY(erase_session_incoming.prepare(db, "DELETE FROM incoming_qos2 WHERE client_id = ?1"));
    MOTE_TRY(put_subscription.prepare(db, R"sql(
      INSERT OR REPLACE INTO subscription
        (client_id, filter, qos, no_local, retain_as_published, retain_handling, identifier)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7))sql"));
    MOTE_TRY(erase_subscription.prepare(
        db, "DELETE FROM subscription WHERE client_id = ?1 AND filter = ?2"));
    MOTE_TRY(put_outbound.prepare(db, R"sql(
      INSERT OR REPLACE INTO outbound
        (client_id, seq, qos, retain, packet_id, state, identifiers, message)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8))sql"));
    MOTE_TRY(update_outbound.prepare(
        db, "UPDATE outbound SET packet_id = ?3, state = ?4 WHERE client_id = ?1 AND seq = ?2"));
    MOTE_TRY(erase_outbound.prepare(db, "DELETE FROM outbound WHERE client_id = ?1 AND seq = ?2"));
    MOTE_TRY(put_incoming.prepare(
        db, "INSERT OR IGNORE INTO incoming_qos2 (client_id, packet_id) VALUES (?1, ?2)"));
    MOTE_TRY(erase_incoming.prepare(
        db, "DELETE FROM incoming_qos2 WHERE client_id = ?1 AND packet_id = ?2"));
    return ok_status();
  }
};

Result<std::unique_ptr<BrokerStore>> BrokerStore::open(const std::string& path) {
  MOTE_TRY_ASSIGN(sqlite3 * db, sqlite::open_wal_database(path));
  std::unique_ptr<BrokerStore> store(new BrokerStore(db));
  MOTE_TRY(sqlite::create_schema_if_new(db, kSchema, kSchemaVersion, path));
  MOTE_TRY(sqlite::execute(db, kWillTable, "create the will table"));
  MOTE_TRY(store->statements_->prepare(db));
  return store;
}

BrokerStore::BrokerStore(sqlite3* db) : db_(db), statements_(std::make_unique<Statements>()) {}

BrokerStore::~BrokerStore() {
  if (in_transaction_) (void)commit();
  statements_.reset();  // finalized before the connection closes
  sqlite3_close(db_);
}

Result<std::vector<MessagePtr>> BrokerStore::load_retained() {
  std::vector<MessagePtr> messages;
  Query query(statements_->select_retained);
  for (;;) {
    MOTE_TRY_ASSIGN(const bool row, query.step("load retained"));
    if (!row) return messages;
    Result<Message> message = decode_message_record(query.blob(1));
    if (!message.ok()) {
      MOTE_LOG_WARN("broker: skipped a damaged retained message (topic '%s')",
                    query.text(0).c_str());
      ++damaged_rows_;
      continue;
    }
    messages.push_back(std::make_shared<const Message>(std::move(*message)));
  }
}

Result<std::vector<StoredSession>> BrokerStore::load_sessions() {
  std::vector<StoredSession> sessions;
  {
    Query query(statements_->select_sessions);
    for (;;) {
      MOTE_TRY_ASSIGN(const bool row, query.step("load sessions"));
      if (!row) break;
      StoredSession& session = sessions.emplace_back();
      session.client_id = query.text(0);
      session.expiry_interval_s = static_cast<std::uint32_t>(query.int64(1));
      session.disconnected_at_ms = query.int64(2);
    }
  }
  for (StoredSession& session : sessions) {
    {
      Query query(statements_->select_subscriptions);
      query.bind(1, session.client_id);
      for (;;) {
        MOTE_TRY_ASSIGN(const bool row, query.step("load subscriptions"));
        if (!row) break;
        SubscriptionOptions options;
        options.qos = static_cast<QoS>(query.int64(1) & 3);
        options.no_local = query.int64(2) != 0;
        options.retain_as_published = query.int64(3) != 0;
        options.retain_handling = static_cast<RetainHandling>(query.int64(4) % 3);
        options.identifier = static_cast<std::uint32_t>(query.int64(5));
        session.subscriptions.emplace_back(query.text(0), options);
      }
    }
    {
      Query query(statements_->select_outbound);
      query.bind(1, session.client_id);
      for (;;) {
        MOTE_TRY_ASSIGN(const bool row, query.step("load messages"));
        if (!row) break;
        Result<Message> message = decode_message_record(query.blob(6));
        const std::int64_t state = query.int64(4);
        if (!message.ok() || state < 0 || state > 3) {
          MOTE_LOG_WARN("broker: skipped a damaged message of session '%s' (seq %lld)",
                        session.client_id.c_str(), static_cast<long long>(query.int64(0)));
          ++damaged_rows_;
          continue;
        }
        Outbound& outbound = session.messages.emplace_back();
        outbound.seq = static_cast<std::uint64_t>(query.int64(0));
        outbound.qos = static_cast<QoS>(query.int64(1) & 3);
        outbound.retain = query.int64(2) != 0;
        outbound.packet_id = static_cast<std::uint16_t>(query.int64(3));
        outbound.state = static_cast<OutboundState>(state);
        outbound.identifiers = parse_identifiers(query.text(5));
        outbound.message = std::make_shared<const Message>(std::move(*message));
      }
    }
    Query query(statements_->select_incoming);
    query.bind(1, session.client_id);
    for (;;) {
      MOTE_TRY_ASSIGN(const bool row, query.step("load QoS 2 ids"));
      if (!row) break;
      session.incoming_qos2.push_back(static_cast<std::uint16_t>(query.int64(0)));
    }
  }
  return sessions;
}

Result<std::vector<StoredWill>> BrokerStore::load_wills() {
  std::vector<StoredWill> wills;
  Query query(statements_->select_wills);
  for (;;) {
    MOTE_TRY_ASSIGN(const bool row, query.step("load wills"));
    if (!row) return wills;
    Result<Message> message = decode_message_record(query.blob(3));
    if (!message.ok()) {
      MOTE_LOG_WARN("broker: skipped the damaged will of '%s'", query.text(0).c_str());
      ++damaged_rows_;
      continue;
    }
    StoredWill& will = wills.emplace_back();
    will.client_id = query.text(0);
    will.delay_s = static_cast<std::uint32_t>(query.int64(1));
    will.due_ms = query.int64(2);
    will.message = std::make_shared<const Message>(std::move(*message));
  }
}

Status BrokerStore::begin_write() {
  if (!in_transaction_) {
    MOTE_TRY(sqlite::execute(db_, "BEGIN IMMEDIATE", "begin"));
    in_transaction_ = true;
  }
  ++pending_;
  return ok_status();
}

Status BrokerStore::commit() {
  if (!in_transaction_) return ok_status();
  const Status status = sqlite::execute(db_, "COMMIT", "commit");
  if (!status.ok()) {
    (void)sqlite::execute(db_, "ROLLBACK", "rollback");
  }
  in_transaction_ = false;
  pending_ = 0;
  return status;
}

Status BrokerStore::put_retained(const Message& message) {
  MOTE_TRY(begin_write());
  const std::vector<std::uint8_t> record = encode_message_record(message);
  Query query(statements_->put_retained);
  query.bind(1, message.topic).bind_blob(2, record);
  return query.run("store retained message");
}

Status BrokerStore::erase_retained(std::string_view topic) {
  MOTE_TRY(begin_write());
  Query query(statements_->erase_retained);
  query.bind(1, topic);
  return query.run("delete retained message");
}

Status BrokerStore::put_session(std::string_view client_id, std::uint32_t expiry_interval_s,
                                std::int64_t disconnected_at_ms) {
  MOTE_TRY(begin_write());
  Query query(statements_->put_session);
  query.bind(1, client_id)
      .bind(2, static_cast<std::int64_t>(expiry_interval_s))
      .bind(3, disconnected_at_ms);
  return query.run("store session");
}

Status BrokerStore::erase_session(std::string_view client_id) {
  MOTE_TRY(begin_write());
  for (Statement* statement :
       {&statements_->erase_session, &statements_->erase_session_subscriptions,
        &statements_->erase_session_outbound, &statements_->erase_session_incoming}) {
    Query query(*statement);
    query.bind(1, client_id);
    MOTE_TRY(query.run("delete session"));
  }
  return ok_status();
}

Status BrokerStore::put_subscription(std::string_view client_id, std::string_view filter,
                                     const SubscriptionOptions& options) {
  MOTE_TRY(begin_write());
  Query query(statements_->put_subscription);
  query.bind(1, client_id)
      .bind(2, filter)
      .bind(3, static_cast<std::int64_t>(options.qos))
      .bind(4, static_cast<std::int64_t>(options.no_local))
      .bind(5, static_cast<std::int64_t>(options.retain_as_published))
      .bind(6, static_cast<std::int64_t>(options.retain_handling))
      .bind(7, static_cast<std::int64_t>(options.identifier));
  return query.run("store subscription");
}

Status BrokerStore::erase_subscription(std::string_view client_id, std::string_view filter) {
  MOTE_TRY(begin_write());
  Query query(statements_->erase_subscription);
  query.bind(1, client_id).bind(2, filter);
  return query.run("delete subscription");
}

Status BrokerStore::put_outbound(std::string_view client_id, const Outbound& outbound) {
  MOTE_TRY(begin_write());
  const std::vector<std::uint8_t> record = encode_message_record(*outbound.message);
  const std::string identifiers = identifiers_text(outbound.identifiers);
  Query query(statements_->put_outbound);
  query.bind(1, client_id)
      .bind(2, static_cast<std::int64_t>(outbound.seq))
      .bind(3, static_cast<std::int64_t>(outbound.qos))
      .bind(4, static_cast<std::int64_t>(outbound.retain))
      .bind(5, static_cast<std::int64_t>(outbound.packet_id))
      .bind(6, static_cast<std::int64_t>(outbound.state))
      .bind(7, identifiers)
      .bind_blob(8, record);
  return query.run("store message");
}

Status BrokerStore::update_outbound(std::string_view client_id, std::uint64_t seq,
                                    std::uint16_t packet_id, OutboundState state) {
  MOTE_TRY(begin_write());
  Query query(statements_->update_outbound);
  query.bind(1, client_id)
      .bind(2, static_cast<std::int64_t>(seq))
      .bind(3, static_cast<std::int64_t>(packet_id))
      .bind(4, static_cast<std::int64_t>(state));
  return query.run("update message");
}

Status BrokerStore::erase_outbound(std::string_view client_id, std::uint64_t seq) {
  MOTE_TRY(begin_write());
  Query query(statements_->erase_outbound);
  query.bind(1, client_id).bind(2, static_cast<std::int64_t>(seq));
  return query.run("delete message");
}

Status BrokerStore::put_will(std::string_view client_id, const Will& will, std::int64_t due_ms) {
  MOTE_TRY(begin_write());
  const std::vector<std::uint8_t> record = encode_message_record(*will.message);
  Query query(statements_->put_will);
  query.bind(1, client_id)
      .bind(2, static_cast<std::int64_t>(will.delay_s))
      .bind(3, due_ms)
      .bind_blob(4, record);
  return query.run("store will");
}

Status BrokerStore::erase_will(std::string_view client_id) {
  MOTE_TRY(begin_write());
  Query query(statements_->erase_will);
  query.bind(1, client_id);
  return query.run("delete will");
}

Status BrokerStore::put_incoming_qos2(std::string_view client_id, std::uint16_t packet_id) {
  MOTE_TRY(begin_write());
  Query query(statements_->put_incoming);
  query.bind(1, client_id).bind(2, static_cast<std::int64_t>(packet_id));
  return query.run("store QoS 2 id");
}

Status BrokerStore::erase_incoming_qos2(std::string_view client_id, std::uint16_t packet_id) {
  MOTE_TRY(begin_write());
  Query query(statements_->erase_incoming);
  query.bind(1, client_id).bind(2, static_cast<std::int64_t>(packet_id));
  return query.run("delete QoS 2 id");
}

}  // namespace mote::broker
