#pragma once
// The broker without I/O: sessions, routing through the subscription tree,
// retained messages, wills, expiry, statistics, and the store behind them.
// The connection layer (connection.hpp) turns packets into calls here and
// sends what sessions hold; tests drive Core directly.
//
// Durability and acknowledgements. Every change to a persistent session or
// to the retained store is written into the store's open transaction. A
// call that wrote returns a *ticket*; the acknowledgement that depends on
// it (PUBACK, PUBREC) is held with when_durable(ticket, ...) and released
// by commit(), which the broker calls every few milliseconds or when
// enough writes are pending. Ticket 0 means nothing to wait for.
//
// Threading: one thread (the executor's).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mote/async/event.hpp"
#include "mote/base/status.hpp"
#include "mote/broker/message.hpp"
#include "mote/broker/retained_store.hpp"
#include "mote/broker/session.hpp"
#include "mote/broker/store.hpp"
#include "mote/broker/topic_tree.hpp"

namespace mote::broker {

// Counters for $SYS and tests.
struct BrokerStats {
  std::uint64_t messages_received = 0;  // PUBLISH from clients
  std::uint64_t messages_sent = 0;      // PUBLISH to clients (resends not counted)
  std::uint64_t messages_dropped = 0;   // queue overflow, offline QoS 0, expiry
  std::uint64_t bytes_received = 0;     // counted by the connection layer
  std::uint64_t bytes_sent = 0;
  std::uint64_t connections_total = 0;
  std::size_t clients_connected = 0;
  std::uint64_t store_errors = 0;
};

// The connection that holds a session right now.
class SessionOwner {
 public:
  // The session has something to send.
  virtual void wake() = 0;
  // Another connection took the session (§3.1.4): close this one (MQTT 5:
  // DISCONNECT with 0x8E first). The session may be gone already (a clean
  // start ends it): from this call on the owner must not touch it.
  virtual void taken_over() = 0;

 protected:
  ~SessionOwner() = default;
};

struct ConnectRequest {
  std::string client_id;  // not empty (the connection layer assigns one)
  bool clean_start = true;
  std::uint32_t session_expiry_s = 0;  // 3.1.1: clean session 0 -> kSessionNeverExpires
  std::uint16_t receive_maximum = 65535;
  std::optional<Will> will;
  std::string username;
};

struct CoreOptions {
  std::size_t max_queued_messages = 1000;  // per session
  // Unix time in ms; the system clock when empty.
  std::function<std::int64_t()> clock;
  // Whether a session may receive a message on `topic` (ACL "read"); all
  // when empty.
  std::function<bool(const Session&, std::string_view topic)> may_receive;
  BrokerStore* store = nullptr;  // nothing is persisted when null
  // Group commit: commit_if_full() commits once this many writes wait.
  std::size_t commit_batch = 2000;
};

class Core {
 public:
  explicit Core(CoreOptions options);
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Loads retained messages and persistent sessions from the store (once,
  // before any connection). Sessions whose expiry passed are removed.
  Status load();

  [[nodiscard]] std::int64_t now_ms() const;

  // --- connections ----------------------------------------------------------
  struct Connected {
    Session* session = nullptr;
    bool session_present = false;
  };
  // Starts or resumes the session of request.client_id for `owner`. An
  // owner already holding that session is told taken_over().
  Connected connect(const ConnectRequest& request, SessionOwner& owner);
  // The connection of `owner` ended. `publish_will`: false after a normal
  // DISCONNECT. `expiry_s`: a new Session Expiry Interval from an MQTT 5
  // DISCONNECT. Nothing happens when `owner` no longer holds the session.
  void disconnect(Session& session, SessionOwner& owner, bool publish_will,
                  std::optional<std::uint32_t> expiry_s = std::nullopt);
  // A client id for a client that sent none: "mote-" and 16 hex digits.
  std::string assign_client_id();

  // --- messages -------------------------------------------------------------
  struct Published {
    std::size_t deliveries = 0;  // sessions (and shared groups) that got it
    std::uint64_t ticket = 0;    // hold the acknowledgement until durable
    // An online session it went to has its queue half full or more (0:
    // none): the publisher should slow down (see is_congested).
    SessionId congested = 0;
  };
  // Routes `message` (its retain flag handled: stored or deleted) from
  // `from` (null: the broker itself, e.g. $SYS or a will).
  Published publish(Session* from, const MessagePtr& message);

  // In-process observers (the gateway's ingest): `observer` is called, on
  // the executor's thread and before the message is delivered to any
  // session, with every message publish() routes whose topic matches
  // `filter` (a valid MQTT topic filter; wildcards as in a subscription,
  // so "#" and "+" skip $SYS topics, MQTT §4.7.2). No session, no queue
  // and no flow control: an observer must not block or re-enter publish().
  // Expired messages are not observed. Observers stay for the core's life.
  using PublishObserver = std::function<void(const Message&)>;
  void observe(std::string filter, PublishObserver observer);

  // Another store that an observer writes to (the gateway's telemetry),
  // joined to the broker's group commit so that an acknowledged message is
  // stored there too: `pending` counts its writes not yet durable, `commit`
  // makes them durable. commit() commits every such store before the
  // broker's own, and a failure there withholds the acknowledgements as a
  // failed write of the broker's would. Stores stay for the core's life.
  struct DurableStore {
    std::function<std::size_t()> pending;
    std::function<Status()> commit;
  };
  void add_durable_store(DurableStore store);

  // Whether an online session's queue is at least half full.
  [[nodiscard]] bool is_congested(SessionId session) const;

  // --- subscriptions --------------------------------------------------------
  // Adds or replaces a subscription (valid: mqtt::is_valid_topic_filter) and
  // queues the retained messages its Retain Handling asks for (none for a
  // shared subscription).
  void subscribe(Session& session, const std::string& filter, const SubscriptionOptions& options);
  // Returns whether the subscription existed.
  bool unsubscribe(Session& session, std::string_view filter);

  // --- outbound flow --------------------------------------------------------
  // The next message for an online session (QoS 1/2 now in flight). For a
  // QoS 2 message of a stored session its packet id is written first: send
  // it only once pending_ticket() is durable, so a restarted broker resends
  // it under the same id and the client does not take it twice.
  std::optional<Outbound> next_outbound(Session& session);
  bool puback(Session& session, std::uint16_t packet_id);
  bool pubrec(Session& session, std::uint16_t packet_id, bool accepted);
  bool pubcomp(Session& session, std::uint16_t packet_id);

  // --- inbound QoS 2 (§4.3.3) -----------------------------------------------
  // true: a new packet id (route the message); false: a resend whose
  // message was routed already (answer PUBREC only).
  bool receive_qos2(Session& session, std::uint16_t packet_id);
  // PUBREL: forget the id. Returns whether it was known.
  bool release_qos2(Session& session, std::uint16_t packet_id);

  // --- durability -----------------------------------------------------------
  // Runs `done(ok)` once everything written up to `ticket` is committed
  // (at once for ticket 0 or an already durable one).
  void when_durable(std::uint64_t ticket, std::function<void(bool ok)> done);
  [[nodiscard]] std::size_t pending_writes() const;
  // Writes are pending or acknowledgements wait: the committer should
  // commit (a durable store may have committed its writes on its own, but
  // what waits for them is released by commit()).
  [[nodiscard]] bool commit_due() const { return !waiting_.empty() || pending_writes() > 0; }
  // The ticket covering every write so far (0: nothing is pending).
  [[nodiscard]] std::uint64_t pending_ticket() const;
  // Commits the store's transaction and releases what waited for it.
  Status commit();
  // Commits when options.commit_batch writes are pending.
  void commit_if_full();
  // Set when writes wait for a commit (a waiter registered, or a caller
  // saw pending writes: request_commit()); the committer resets it. An
  // idle broker so never wakes up to commit nothing.
  async::Event& commit_requested() { return commit_requested_; }
  void request_commit() {
    if (pending_writes() > 0) commit_requested_.set();
  }

  // --- housekeeping ---------------------------------------------------------
  // Publishes due delayed wills, ends expired sessions, drops expired
  // retained messages. Call about once a second.
  void tick();

  // Publishes the $SYS topics (retained, not stored): broker/uptime,
  // clients/connected, clients/total, messages/received, messages/sent,
  // messages/dropped, bytes/received, bytes/sent, retained messages/count,
  // subscriptions/count, all under $SYS/broker/.
  void publish_sys(std::chrono::seconds uptime);

  [[nodiscard]] BrokerStats& stats() { return stats_; }
  [[nodiscard]] const RetainedStore& retained() const { return retained_; }
  [[nodiscard]] const TopicTree& tree() const { return tree_; }
  [[nodiscard]] std::size_t session_count() const { return sessions_.size(); }
  [[nodiscard]] Session* find_session(std::string_view client_id);

 private:
  Session& create_session(const std::string& client_id);
  void end_session(Session& session);
  void publish_will(Session& session);
  void deliver(Session& session, const MessagePtr& message, QoS qos, bool retain,
               std::vector<std::uint32_t> identifiers);
  void sync_session_record(Session& session);
  // Writes or erases the session's will in the store, as it stands.
  void sync_will(Session& session);
  [[nodiscard]] bool stores(const Session& session) const {
    return options_.store != nullptr && session.stored;
  }
  void note(Status status);

  CoreOptions options_;
  TopicTree tree_;
  RetainedStore retained_;
  // Sessions by client id (looked up by a string_view of it).
  struct ClientIdHash {
    using is_transparent = void;  // NOLINT(readability-identifier-naming): the standard names it
    std::size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
    std::size_t operator()(const std::unique_ptr<Session>& session) const {
      return (*this)(std::string_view(session->client_id()));
    }
  };
  struct ClientIdEqual {
    using is_transparent = void;  // NOLINT(readability-identifier-naming): the standard names it
    static std::string_view id(std::string_view id) { return id; }
    static std::string_view id(const std::unique_ptr<Session>& session) {
      return session->client_id();
    }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return id(a) == id(b);
    }
  };
  std::unordered_set<std::unique_ptr<Session>, ClientIdHash, ClientIdEqual> sessions_;
  // Sessions by id: an id is an index + 1, reused once its session ended
  // (nothing keeps an id past end_session: it unsubscribes them all).
  std::vector<Session*> by_id_;
  std::vector<SessionId> free_ids_;
  [[nodiscard]] Session* session_by_id(SessionId id) const;
  std::uint64_t generation_ = 1;    // of the open transaction
  bool generation_failed_ = false;  // a write of this generation failed
  std::multimap<std::uint64_t, std::function<void(bool)>> waiting_;
  std::vector<Delivery> deliveries_;  // scratch
  struct Observer {
    std::string filter;
    PublishObserver callback;
  };
  std::vector<Observer> observers_;
  std::vector<DurableStore> durable_stores_;
  std::int64_t next_retained_purge_ms_ = 0;
  std::uint64_t id_counter_ = 0;
  BrokerStats stats_;
  async::Event commit_requested_;
};

}  // namespace mote::broker
