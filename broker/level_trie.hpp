#pragma once
// Walking and growing the tries of TopicTree and RetainedStore: a Node has
// `parent`, `level` (its own name) and `children` (a map from level name to
// unique_ptr<Node> that finds by string_view). Internal to the broker.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mote/broker/topic.hpp"

namespace mote::broker::internal {

template <typename Node>
Node* child_of(const Node& node, std::string_view level) {
  const auto it = node.children.find(level);
  return it == node.children.end() ? nullptr : it->second.get();
}

// The node for `path` (a topic or filter), or nullptr.
template <typename Node>
Node* find_node(Node& root, std::string_view path) {
  std::vector<std::string_view> levels;
  split_levels(path, levels);
  Node* node = &root;
  for (const std::string_view level : levels) {
    node = child_of(*node, level);
    if (node == nullptr) return nullptr;
  }
  return node;
}

// The node for `path`, created with its missing ancestors; `added` counts
// the nodes created.
template <typename Node>
Node& find_or_add_node(Node& root, std::string_view path, std::size_t& added) {
  std::vector<std::string_view> levels;
  split_levels(path, levels);
  Node* node = &root;
  for (const std::string_view level : levels) {
    Node* next = child_of(*node, level);
    if (next == nullptr) {
      auto created = std::make_unique<Node>();
      created->parent = node;
      created->level = std::string(level);
      next = created.get();
      node->children.emplace(std::string(level), std::move(created));
      ++added;
    }
    node = next;
  }
  return *node;
}

// Removes `node` and then its ancestors while they hold nothing; returns
// how many were removed.
template <typename Node, typename IsEmpty>
std::size_t prune_nodes(const Node& root, Node* node, IsEmpty is_empty) {
  std::size_t removed = 0;
  while (node != &root && is_empty(*node)) {
    Node* parent = node->parent;
    parent->children.erase(parent->children.find(node->level));  // destroys node
    ++removed;
    node = parent;
  }
  return removed;
}

}  // namespace mote::broker::internal
