#pragma once
// Retained messages (MQTT 5 §3.3.1.3), at most one per topic, in a trie by
// topic level so a new subscription's filter walks only the branches it can
// match: the exact level, every child for '+', the whole subtree for '#'.
//
// A retained PUBLISH with an empty payload deletes the topic's message
// (§3.3.1.3). A message whose expiry has passed is never returned and is
// removed when met (or by purge_expired).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "mote/broker/message.hpp"

namespace mote::broker {

class RetainedStore {
 public:
  RetainedStore();
  ~RetainedStore();
  RetainedStore(const RetainedStore&) = delete;
  RetainedStore& operator=(const RetainedStore&) = delete;

  // Stores `message` for its topic, or deletes the topic's message when the
  // payload is empty. Returns true when a message was stored or deleted.
  bool set(MessagePtr message);
  // Deletes the message of `topic`; true when there was one.
  bool erase(std::string_view topic);

  // Appends every unexpired message whose topic matches `filter` (a valid,
  // non-shared filter) to `out`; expired ones met on the way are removed.
  void match(std::string_view filter, std::int64_t now_ms, std::vector<MessagePtr>& out);
  // The message of exactly `topic`, if any and unexpired.
  [[nodiscard]] MessagePtr find(std::string_view topic, std::int64_t now_ms) const;

  // Removes every expired message; returns their topics (for persistence).
  std::vector<std::string> purge_expired(std::int64_t now_ms);

  [[nodiscard]] std::size_t size() const { return count_; }

 private:
  struct Node;
  void walk(Node& node, std::size_t level, std::int64_t now_ms, std::vector<MessagePtr>& out,
            std::vector<std::string>& expired);
  void walk_all(Node& node, std::int64_t now_ms, std::vector<MessagePtr>& out,
                std::vector<std::string>& expired);
  void prune(Node* node);

  std::unique_ptr<Node> root_;
  std::size_t count_ = 0;
  std::vector<std::string_view> levels_;  // scratch
};

}  // namespace mote::broker
