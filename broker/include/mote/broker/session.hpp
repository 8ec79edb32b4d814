#pragma once
// A session (MQTT 5 §4.1): what the broker keeps for one client id, online
// or not — its subscriptions, the messages on their way to it, and the
// QoS 2 packet ids it sent that await PUBREL.
//
// Outbound messages pass through two stages, in order:
//   queue     accepted for the client, not sent yet (also while offline);
//   in flight sent with a packet id, awaiting PUBACK (QoS 1) or PUBREC and
//             then PUBCOMP (QoS 2); at most the client's Receive Maximum
//             (§3.1.2.11.3) QoS 1/2 messages at once.
// Sending is strictly in queue order, so one topic's messages keep their
// order (§4.6); a QoS 0 message behind a full window waits its turn.
//
// The queue has a cap (max_queued). When it is full, room is made by
// dropping the oldest QoS 0 message if there is one, else the oldest
// message; each drop is counted (dropped()). While the client is offline
// QoS 0 messages are not queued at all (§3.1.2.4 lets a server skip them).
// Messages past their expiry are dropped when their turn comes.
//
// A Session does no I/O and knows nothing of persistence: Core wraps it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mote/broker/message.hpp"
#include "mote/broker/topic_tree.hpp"

namespace mote::broker {

// Session Expiry Interval that never expires (§3.1.2.11.2).
inline constexpr std::uint32_t kSessionNeverExpires = 0xFFFFFFFF;

enum class OutboundState : std::uint8_t {
  queued = 0,            // not sent
  awaiting_puback = 1,   // QoS 1 PUBLISH sent
  awaiting_pubrec = 2,   // QoS 2 PUBLISH sent
  awaiting_pubcomp = 3,  // QoS 2 PUBREL sent
};

struct Outbound {
  std::uint64_t seq = 0;  // per-session order; the persistence key
  MessagePtr message;
  QoS qos = QoS::at_most_once;  // the QoS it goes out with
  bool retain = false;          // the RETAIN flag it goes out with
  std::vector<std::uint32_t> identifiers;
  std::uint16_t packet_id = 0;
  OutboundState state = OutboundState::queued;
};

// What a session's client sends when it connects, in a protocol-neutral form.
struct Will {
  MessagePtr message;
  std::uint32_t delay_s = 0;  // Will Delay Interval (§3.1.3.2.2)
};

class SessionOwner;

// A session's subscriptions by filter. The map is made with the first one:
// an empty std::map is 48 bytes in every session, this is 8.
class Subscriptions {
 public:
  using Map = std::map<std::string, SubscriptionOptions, std::less<>>;
  using const_iterator = Map::const_iterator;

  [[nodiscard]] bool empty() const { return !map_ || map_->empty(); }
  [[nodiscard]] std::size_t size() const { return map_ ? map_->size() : 0; }
  [[nodiscard]] std::size_t count(std::string_view filter) const {
    return map_ ? map_->count(filter) : 0;
  }
  // The options of a filter that is there.
  [[nodiscard]] const SubscriptionOptions& at(std::string_view filter) const {
    return map_->find(filter)->second;
  }
  [[nodiscard]] const_iterator find(std::string_view filter) const {
    return map_ ? map_->find(filter) : end();
  }
  [[nodiscard]] const_iterator begin() const { return map_ ? map_->cbegin() : none().cbegin(); }
  [[nodiscard]] const_iterator end() const { return map_ ? map_->cend() : none().cend(); }

  void insert_or_assign(const std::string& filter, const SubscriptionOptions& options) {
    map().insert_or_assign(filter, options);
  }
  void emplace(std::string filter, const SubscriptionOptions& options) {
    map().emplace(std::move(filter), options);
  }
  void erase(const_iterator it) {
    map_->erase(it);
    if (map_->empty()) map_.reset();
  }

 private:
  Map& map() {
    if (!map_) map_ = std::make_unique<Map>();
    return *map_;
  }
  static const Map& none() {
    static const Map kNone;
    return kNone;
  }
  std::unique_ptr<Map> map_;
};

class Session {
 public:
  Session(SessionId id, std::string client_id) : id_(id), client_id_(std::move(client_id)) {}

  [[nodiscard]] SessionId id() const { return id_; }
  [[nodiscard]] const std::string& client_id() const { return client_id_; }

  // --- lifetime -------------------------------------------------------------
  std::uint32_t expiry_interval_s = 0;  // 0: ends with the connection
  bool online = false;
  bool stored = false;                  // the store holds this session
  bool will_stored = false;             // the store holds its will
  std::int64_t disconnected_at_ms = 0;  // when it went offline (0 while online)
  SessionOwner* owner = nullptr;        // the connection holding it (set by Core)
  // The user name the client authenticated with ("" when none).
  [[nodiscard]] const std::string& username() const;
  void set_username(const std::string& username);
  std::unique_ptr<Will> will;    // made with one (most clients have none)
  std::int64_t will_due_ms = 0;  // when a delayed will is published (0: none pending)

  // Kept after the connection ends (and so, with a store, on disk).
  [[nodiscard]] bool persistent() const { return expiry_interval_s != 0; }
  [[nodiscard]] bool expired(std::int64_t now_ms) const;

  // --- subscriptions --------------------------------------------------------
  Subscriptions subscriptions;

  // --- outbound -------------------------------------------------------------
  std::uint16_t receive_maximum = 65535;  // the client's (§3.1.2.11.3)
  std::size_t max_queued = 1000;

  // Queues a message. Returns the messages dropped to make room (or the
  // message itself when it was not taken: QoS 0 while offline).
  struct EnqueueResult {
    const Outbound* queued = nullptr;  // the queued message (valid until the queue changes)
    std::vector<Outbound> dropped;
  };
  EnqueueResult enqueue(Outbound outbound);

  // The next thing to send, moved into flight with a packet id for QoS 1/2;
  // nullopt when the queue is empty or the window is full. Expired messages
  // at the front are removed into `expired`.
  std::optional<Outbound> next_to_send(std::int64_t now_ms, std::vector<Outbound>& expired);

  // PUBACK for a QoS 1 message: its seq, or nullopt for an unknown id.
  std::optional<std::uint64_t> acknowledge_puback(std::uint16_t packet_id);
  // PUBREC: the message is now awaiting PUBCOMP; its seq, or nullopt.
  // `accepted` false (a PUBREC reason code >= 0x80, §3.5.2.1) ends the flow.
  std::optional<std::uint64_t> acknowledge_pubrec(std::uint16_t packet_id, bool accepted);
  std::optional<std::uint64_t> acknowledge_pubcomp(std::uint16_t packet_id);

  // In-flight messages in send order, for a resumed session (§4.4: resend
  // PUBLISH with DUP set, or PUBREL, before anything new).
  [[nodiscard]] std::vector<const Outbound*> in_flight() const;
  [[nodiscard]] const std::deque<Outbound>& queued() const;
  [[nodiscard]] std::size_t in_flight_count() const {
    return flows_ ? flows_->in_flight.size() : 0;
  }
  [[nodiscard]] std::size_t queued_count() const { return flows_ ? flows_->queue.size() : 0; }
  [[nodiscard]] bool queue_full() const { return queued_count() >= max_queued; }
  [[nodiscard]] std::uint64_t dropped() const { return dropped_; }
  [[nodiscard]] bool has_sendable() const;

  // Puts a stored message back (loading a persistent session): a queued one
  // at the back of the queue, an in-flight one into flight.
  void restore(Outbound outbound);
  // Forgets every queued and in-flight message (clean start).
  void clear_messages();
  std::uint64_t next_seq = 1;

  // --- inbound QoS 2 (§4.3.3) -----------------------------------------------
  // Packet ids of QoS 2 PUBLISHes received and answered with PUBREC whose
  // PUBREL has not come yet: a resent PUBLISH with one of them is not
  // routed again. Made with the first.
  // false: it was there already.
  bool add_incoming_qos2(std::uint16_t packet_id);
  // false: it was not there.
  bool remove_incoming_qos2(std::uint16_t packet_id);
  [[nodiscard]] bool has_incoming_qos2(std::uint16_t packet_id) const {
    return incoming_qos2_ && incoming_qos2_->contains(packet_id);
  }
  [[nodiscard]] std::vector<std::uint16_t> incoming_qos2() const;

 private:
  std::uint16_t allocate_packet_id();
  // Ends the flow of `packet_id` if it is in state `expected`: its seq.
  std::optional<std::uint64_t> finish(std::uint16_t packet_id, OutboundState expected);

  SessionId id_;
  std::string client_id_;
  // The outbound messages. Made with the first one: an idle session then
  // holds none of it (a std::deque allocates about 600 bytes as soon as it
  // is constructed; the maps are 100 bytes more while empty).
  struct Flows {
    std::deque<Outbound> queue;
    std::map<std::uint64_t, Outbound> in_flight;                  // by seq
    std::unordered_map<std::uint16_t, std::uint64_t> packet_ids;  // packet id -> seq
  };
  Flows& flows();  // created on first use
  std::unique_ptr<Flows> flows_;
  std::unique_ptr<std::unordered_set<std::uint16_t>> incoming_qos2_;
  std::unique_ptr<std::string> username_;  // null: none
  std::uint16_t window_used_ = 0;          // QoS 1/2 in flight (counts against receive_maximum)
  std::uint16_t last_packet_id_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace mote::broker
