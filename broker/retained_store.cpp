#include "mote/broker/retained_store.hpp"

#include <functional>
#include <map>
#include <string>

#include "level_trie.hpp"
#include "mote/broker/topic.hpp"

namespace mote::broker {

struct RetainedStore::Node {
  Node* parent = nullptr;
  std::string level;
  // Ordered, so '+' and '#' walks return topics in a stable order.
  std::map<std::string, std::unique_ptr<Node>, std::less<>> children;
  MessagePtr message;

  Node* child(std::string_view name) const { return internal::child_of(*this, name); }
};

RetainedStore::RetainedStore() : root_(std::make_unique<Node>()) {}
RetainedStore::~RetainedStore() = default;

bool RetainedStore::set(MessagePtr message) {
  if (message->payload.empty()) return erase(message->topic);
  std::size_t added = 0;
  Node* node = &internal::find_or_add_node(*root_, message->topic, added);
  if (!node->message) ++count_;
  node->message = std::move(message);
  return true;
}

bool RetainedStore::erase(std::string_view topic) {
  Node* node = internal::find_node(*root_, topic);
  if (node == nullptr) return false;
  if (!node->message) return false;
  node->message.reset();
  --count_;
  prune(node);
  return true;
}

void RetainedStore::prune(Node* node) {
  internal::prune_nodes(*root_, node,
                        [](const Node& n) { return !n.message && n.children.empty(); });
}

MessagePtr RetainedStore::find(std::string_view topic, std::int64_t now_ms) const {
  const Node* node = internal::find_node(*root_, topic);
  if (node == nullptr) return nullptr;
  if (node->message && node->message->expired(now_ms)) return nullptr;
  return node->message;
}

void RetainedStore::walk_all(Node& node, std::int64_t now_ms, std::vector<MessagePtr>& out,
                             std::vector<std::string>& expired) {
  if (node.message) {
    if (node.message->expired(now_ms)) {
      expired.push_back(node.message->topic);
    } else {
      out.push_back(node.message);
    }
  }
  for (auto& [level, child] : node.children) walk_all(*child, now_ms, out, expired);
}

void RetainedStore::walk(Node& node, std::size_t level, std::int64_t now_ms,
                         std::vector<MessagePtr>& out, std::vector<std::string>& expired) {
  if (level == levels_.size()) {
    if (node.message) {
      if (node.message->expired(now_ms)) {
        expired.push_back(node.message->topic);
      } else {
        out.push_back(node.message);
      }
    }
    return;
  }
  const std::string_view want = levels_[level];
  // §4.7.2: a filter starting with a wildcard does not match '$' topics.
  const bool skip_dollar = level == 0;
  if (want == "#") {
    // "a/#" matches "a" itself and everything below it.
    if (level > 0 && node.message) {
      if (node.message->expired(now_ms)) {
        expired.push_back(node.message->topic);
      } else {
        out.push_back(node.message);
      }
    }
    for (auto& [name, child] : node.children) {
      if (skip_dollar && name.starts_with('$')) continue;
      walk_all(*child, now_ms, out, expired);
    }
    return;
  }
  if (want == "+") {
    for (auto& [name, child] : node.children) {
      if (skip_dollar && name.starts_with('$')) continue;
      walk(*child, level + 1, now_ms, out, expired);
    }
    return;
  }
  if (Node* exact = node.child(want)) walk(*exact, level + 1, now_ms, out, expired);
}

void RetainedStore::match(std::string_view filter, std::int64_t now_ms,
                          std::vector<MessagePtr>& out) {
  split_levels(filter, levels_);
  std::vector<std::string> expired;
  walk(*root_, 0, now_ms, out, expired);
  for (const std::string& topic : expired) erase(topic);
}

std::vector<std::string> RetainedStore::purge_expired(std::int64_t now_ms) {
  std::vector<MessagePtr> live;
  std::vector<std::string> expired;
  walk_all(*root_, now_ms, live, expired);
  for (const std::string& topic : expired) erase(topic);
  return expired;
}

}  // namespace mote::broker
