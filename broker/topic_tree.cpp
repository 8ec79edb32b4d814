#include "mote/broker/topic_tree.hpp"

#include <algorithm>
#include <map>

#include "level_trie.hpp"
#include "mote/broker/topic.hpp"
#include "mote/mqtt/topic.hpp"

namespace mote::broker {
namespace {

// Heterogeneous lookup: find a level by string_view without a string.
struct LevelHash {
  using is_transparent = void;  // NOLINT(readability-identifier-naming): the standard names it
  std::size_t operator()(std::string_view level) const {
    return std::hash<std::string_view>{}(level);
  }
};

void add_identifier(std::vector<std::uint32_t>& identifiers, std::uint32_t identifier) {
  if (identifier == 0) return;
  const auto at = std::lower_bound(identifiers.begin(), identifiers.end(), identifier);
  if (at == identifiers.end() || *at != identifier) identifiers.insert(at, identifier);
}

}  // namespace

struct TopicTree::SharedGroup {
  std::vector<std::pair<SessionId, SubscriptionOptions>> members;
  std::size_t next = 0;  // round-robin position
};

struct TopicTree::Node {
  Node* parent = nullptr;
  std::string level;
  std::unordered_map<std::string, std::unique_ptr<Node>, LevelHash, std::equal_to<>> children;
  std::unordered_map<SessionId, SubscriptionOptions> subscribers;
  std::map<std::string, SharedGroup, std::less<>> groups;

  [[nodiscard]] bool empty() const {
    return children.empty() && subscribers.empty() && groups.empty();
  }
  Node* child(std::string_view name) { return internal::child_of(*this, name); }
};

TopicTree::TopicTree() : root_(std::make_unique<Node>()) {}
TopicTree::~TopicTree() = default;

TopicTree::Node& TopicTree::find_or_add(std::string_view filter) {
  return internal::find_or_add_node(*root_, filter, nodes_);
}

TopicTree::Node* TopicTree::find(std::string_view filter) {
  return internal::find_node(*root_, filter);
}

void TopicTree::prune(Node* node) {
  nodes_ -= internal::prune_nodes(*root_, node, [](const Node& n) { return n.empty(); });
}

bool TopicTree::subscribe(SessionId session, std::string_view filter,
                          const SubscriptionOptions& options) {
  if (const mqtt::SharedFilter shared = mqtt::split_shared_filter(filter);
      !shared.share_name.empty()) {
    Node& node = find_or_add(shared.filter);
    auto group = node.groups.find(shared.share_name);
    if (group == node.groups.end()) {
      group = node.groups.emplace(std::string(shared.share_name), SharedGroup{}).first;
    }
    auto& members = group->second.members;
    for (auto& member : members) {
      if (member.first == session) {
        member.second = options;
        return false;
      }
    }
    members.emplace_back(session, options);
    ++subscriptions_;
    return true;
  }
  Node& node = find_or_add(filter);
  const bool added = node.subscribers.insert_or_assign(session, options).second;
  if (added) ++subscriptions_;
  return added;
}

bool TopicTree::unsubscribe(SessionId session, std::string_view filter) {
  const mqtt::SharedFilter shared = mqtt::split_shared_filter(filter);
  const bool is_shared = !shared.share_name.empty();
  Node* node = find(is_shared ? shared.filter : filter);
  if (node == nullptr) return false;
  bool removed = false;
  if (is_shared) {
    const auto group = node->groups.find(shared.share_name);
    if (group != node->groups.end()) {
      auto& members = group->second.members;
      const auto it = std::find_if(members.begin(), members.end(),
                                   [&](const auto& member) { return member.first == session; });
      if (it != members.end()) {
        const auto index = static_cast<std::size_t>(it - members.begin());
        members.erase(it);
        // Keep the round-robin position on the member that was next.
        if (index < group->second.next) --group->second.next;
        if (members.empty()) node->groups.erase(group);
        removed = true;
      }
    }
  } else {
    removed = node->subscribers.erase(session) != 0;
  }
  if (removed) --subscriptions_;
  prune(node);
  return removed;
}

void TopicTree::collect(Node& node, SessionId publisher, const Available& available,
                        std::vector<Delivery>& out) {
  for (const auto& [session, options] : node.subscribers) {
    if (options.no_local && session == publisher) continue;
    const auto [it, added] = delivered_.try_emplace(session, out.size());
    if (added) {
      Delivery& delivery = out.emplace_back();
      delivery.session = session;
      delivery.qos = options.qos;
      delivery.retain_as_published = options.retain_as_published;
      add_identifier(delivery.identifiers, options.identifier);
    } else {
      Delivery& delivery = out[it->second];
      delivery.qos = max_qos(delivery.qos, options.qos);
      delivery.retain_as_published = delivery.retain_as_published || options.retain_as_published;
      add_identifier(delivery.identifiers, options.identifier);
    }
  }
  for (auto& [name, group] : node.groups) {
    auto& members = group.members;
    if (group.next >= members.size()) group.next = 0;
    std::size_t chosen = group.next;
    for (std::size_t i = 0; i < members.size(); ++i) {
      const std::size_t candidate = (group.next + i) % members.size();
      if (!available || available(members[candidate].first)) {
        chosen = candidate;
        break;
      }
    }
    group.next = (chosen + 1) % members.size();
    const auto& [session, options] = members[chosen];
    Delivery& delivery = out.emplace_back();
    delivery.session = session;
    delivery.qos = options.qos;
    delivery.retain_as_published = options.retain_as_published;
    delivery.shared = true;
    add_identifier(delivery.identifiers, options.identifier);
  }
}

void TopicTree::walk(Node& node, std::size_t level, bool dollar, SessionId publisher,
                     const Available& available, std::vector<Delivery>& out) {
  // §4.7.2: wildcards in the first level do not match a '$' topic.
  const bool wildcards = !(dollar && level == 0);
  if (wildcards) {
    // '#' matches the rest, including nothing (the parent level).
    if (Node* hash = node.child("#")) collect(*hash, publisher, available, out);
  }
  if (level == levels_.size()) {
    collect(node, publisher, available, out);
    return;
  }
  if (Node* exact = node.child(levels_[level])) {
    walk(*exact, level + 1, dollar, publisher, available, out);
  }
  if (wildcards) {
    if (Node* plus = node.child("+")) walk(*plus, level + 1, dollar, publisher, available, out);
  }
}

void TopicTree::match(std::string_view topic, SessionId publisher, const Available& available,
                      std::vector<Delivery>& out) {
  split_levels(topic, levels_);
  delivered_.clear();
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!out[i].shared) delivered_.emplace(out[i].session, i);
  }
  walk(*root_, 0, !topic.empty() && topic.front() == '$', publisher, available, out);
}

}  // namespace mote::broker
