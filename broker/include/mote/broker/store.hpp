#pragma once
// The broker's durable state in one SQLite database (WAL): retained
// messages, and for every persistent session (Session Expiry Interval > 0,
// or a 3.1.1 clean-session=0 client) its subscriptions, its queued and
// in-flight QoS 1/2 messages, and the QoS 2 packet ids it sent that await
// PUBREL. QoS 0 messages are never stored.
//
// Group commit: every write goes into one open transaction (begun by the
// first write); commit() ends it. The broker commits every few
// milliseconds or after a number of writes, and holds back the PUBACK or
// PUBREC of a QoS 1/2 PUBLISH until the commit holding its writes is done,
// so an acknowledged message survives kill -9. One commit costs about the
// same for one message as for a thousand.
//
// Durability: WAL with synchronous=NORMAL survives the process being
// killed at any point; an operating-system crash or power loss may lose
// the last commits (synchronous=FULL would close that with an fsync per
// commit).
//
// One store belongs to one thread. Errors as in mote/sqlite/database.hpp.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/broker/message.hpp"
#include "mote/broker/session.hpp"
#include "mote/broker/topic_tree.hpp"

struct sqlite3;

namespace mote::broker {

// A persistent session as loaded from the database.
struct StoredSession {
  std::string client_id;
  std::uint32_t expiry_interval_s = 0;
  std::int64_t disconnected_at_ms = 0;  // 0: it was online when the broker stopped
  std::vector<std::pair<std::string, SubscriptionOptions>> subscriptions;
  std::vector<Outbound> messages;  // by seq
  std::vector<std::uint16_t> incoming_qos2;
};

// The will of a client as loaded: kept while its connection is open, and
// while a Will Delay Interval runs after it ended.
struct StoredWill {
  std::string client_id;
  MessagePtr message;
  std::uint32_t delay_s = 0;
  std::int64_t due_ms = 0;  // 0: its connection was open when the broker stopped
};

class BrokerStore {
 public:
  // Opens or creates the database at `path` (":memory:" for tests).
  // data_loss when the file has a newer schema than this mote knows.
  static Result<std::unique_ptr<BrokerStore>> open(const std::string& path);
  ~BrokerStore();
  BrokerStore(const BrokerStore&) = delete;
  BrokerStore& operator=(const BrokerStore&) = delete;

  Result<std::vector<MessagePtr>> load_retained();
  // Damaged message rows are skipped with a log line (counted in
  // damaged_rows()), so one bad row does not lose a whole session.
  Result<std::vector<StoredSession>> load_sessions();
  [[nodiscard]] std::size_t damaged_rows() const { return damaged_rows_; }

  // Damaged rows are skipped and counted as above.
  Result<std::vector<StoredWill>> load_wills();

  Status put_retained(const Message& message);
  Status erase_retained(std::string_view topic);

  Status put_session(std::string_view client_id, std::uint32_t expiry_interval_s,
                     std::int64_t disconnected_at_ms);
  // The session with its subscriptions, messages and QoS 2 ids.
  Status erase_session(std::string_view client_id);

  Status put_subscription(std::string_view client_id, std::string_view filter,
                          const SubscriptionOptions& options);
  Status erase_subscription(std::string_view client_id, std::string_view filter);

  Status put_outbound(std::string_view client_id, const Outbound& outbound);
  Status update_outbound(std::string_view client_id, std::uint64_t seq, std::uint16_t packet_id,
                         OutboundState state);
  Status erase_outbound(std::string_view client_id, std::uint64_t seq);

  // Every client's will, persistent session or not (§3.1.2.5: a
  // connection that ends without DISCONNECT publishes it, and a broker
  // that was killed ended every connection that way).
  Status put_will(std::string_view client_id, const Will& will, std::int64_t due_ms);
  Status erase_will(std::string_view client_id);

  Status put_incoming_qos2(std::string_view client_id, std::uint16_t packet_id);
  Status erase_incoming_qos2(std::string_view client_id, std::uint16_t packet_id);

  // Writes since the last commit.
  [[nodiscard]] std::size_t pending_writes() const { return pending_; }
  // Commits the open transaction (nothing to do when there is none).
  Status commit();

 private:
  struct Statements;
  BrokerStore(sqlite3* db);
  Status begin_write();

  sqlite3* db_;
  std::unique_ptr<Statements> statements_;
  std::size_t pending_ = 0;
  bool in_transaction_ = false;
  std::size_t damaged_rows_ = 0;
};

}  // namespace mote::broker
