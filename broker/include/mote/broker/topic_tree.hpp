#pragma once
// The subscription tree: every subscription of every session, in a trie with
// one node per topic level, so routing a PUBLISH visits only the nodes its
// topic can reach (the exact level, '+' and '#' at each step), never the
// whole subscription list.
//
// Rules (MQTT 5 §4.7, §4.8, §3.3.4; 3.1.1 likewise):
//   - '+' matches one level, empty ones too; '#' matches any number of
//     levels including none, so "a/#" matches "a".
//   - Topics starting with '$' are not matched by filters starting with a
//     wildcard ("#" does not see "$SYS/...").
//   - A session with several matching subscriptions gets one delivery, with
//     the highest QoS among them and every subscription identifier (§3.3.4);
//     a subscription with no-local is skipped for the session's own messages.
//   - Shared subscriptions ("$share/{group}/{filter}") deliver each message
//     to one member of each group: round-robin, skipping members the caller
//     says cannot take it now (offline or full); when none can, the next one
//     in turn gets it (its session queues it).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mote/broker/message.hpp"
#include "mote/mqtt/packets.hpp"

namespace mote::broker {

using RetainHandling = mqtt::RetainHandling;  // §3.8.3.1

struct SubscriptionOptions {
  QoS qos = QoS::at_most_once;  // the maximum QoS the subscriber takes
  bool no_local = false;
  bool retain_as_published = false;
  RetainHandling retain_handling = RetainHandling::send_on_subscribe;
  std::uint32_t identifier = 0;  // the subscription identifier; 0: none
  friend bool operator==(const SubscriptionOptions&, const SubscriptionOptions&) = default;
};

// One copy of a message for one session.
struct Delivery {
  SessionId session = 0;
  QoS qos = QoS::at_most_once;  // the subscription's maximum; min with the message's applies
  bool retain_as_published = false;
  bool shared = false;
  std::vector<std::uint32_t> identifiers;  // sorted, no zeros
};

class TopicTree {
 public:
  TopicTree();
  ~TopicTree();
  TopicTree(const TopicTree&) = delete;
  TopicTree& operator=(const TopicTree&) = delete;

  // Adds or replaces the subscription of `session` to `filter` (which is
  // valid: mqtt::is_valid_topic_filter(filter, true)). Returns true when it is new.
  bool subscribe(SessionId session, std::string_view filter, const SubscriptionOptions& options);
  // Returns true when there was such a subscription.
  bool unsubscribe(SessionId session, std::string_view filter);

  // Whether the session can take a message right now (for shared groups).
  using Available = std::function<bool(SessionId)>;

  // Appends to `out` one delivery per session (and one per shared group)
  // whose subscriptions match `topic`. `publisher` is the publishing
  // session (0: none) for no-local.
  void match(std::string_view topic, SessionId publisher, const Available& available,
             std::vector<Delivery>& out);

  [[nodiscard]] std::size_t subscription_count() const { return subscriptions_; }
  // Nodes in the trie (for tests: unsubscribing prunes).
  [[nodiscard]] std::size_t node_count() const { return nodes_; }

 private:
  struct Node;
  struct SharedGroup;
  Node& find_or_add(std::string_view filter);
  Node* find(std::string_view filter);
  void prune(Node* node);
  void collect(Node& node, SessionId publisher, const Available& available,
               std::vector<Delivery>& out);
  void walk(Node& node, std::size_t level, bool dollar, SessionId publisher,
            const Available& available, std::vector<Delivery>& out);

  std::unique_ptr<Node> root_;
  std::size_t subscriptions_ = 0;
  std::size_t nodes_ = 1;
  std::vector<std::string_view> levels_;                  // scratch for match()
  std::unordered_map<SessionId, std::size_t> delivered_;  // scratch: session -> index in out
};

}  // namespace mote::broker
