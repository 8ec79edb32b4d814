#include "mote/async/timer_queue.hpp"

#include "mote/base/assert.hpp"

namespace mote::async {
namespace {
// prev_ of the root points here, so "armed" is simply prev_ != nullptr.
// (Never dereferenced; an address no TimerNode can have.)
TimerNode* root_marker() {
  alignas(TimerNode) static constinit char marker = 0;
  return static_cast<TimerNode*>(static_cast<void*>(&marker));
}
}  // namespace

TimerNode* TimerQueue::meld(TimerNode* a, TimerNode* b) {
  if (b->deadline_ < a->deadline_) {
    TimerNode* t = a;
    a = b;
    b = t;
  }
  b->sibling_ = a->child_;
  if (a->child_ != nullptr) a->child_->prev_ = b;
  b->prev_ = a;
  a->child_ = b;
  return a;
}

// The standard two-pass pairing: meld siblings pairwise left to right, then
// meld the pairs right to left.
TimerNode* TimerQueue::merge_pairs(TimerNode* first) {
  if (first == nullptr) return nullptr;
  TimerNode* pairs = nullptr;  // melded pairs, most recent first
  while (first != nullptr) {
    TimerNode* a = first;
    TimerNode* b = a->sibling_;
    if (b == nullptr) {
      a->sibling_ = pairs;
      pairs = a;
      break;
    }
    first = b->sibling_;
    a->sibling_ = nullptr;
    b->sibling_ = nullptr;
    TimerNode* melded = meld(a, b);
    melded->sibling_ = pairs;
    pairs = melded;
  }
  TimerNode* result = pairs;
  pairs = pairs->sibling_;
  result->sibling_ = nullptr;
  while (pairs != nullptr) {
    TimerNode* next = pairs->sibling_;
    pairs->sibling_ = nullptr;
    result = meld(result, pairs);
    pairs = next;
  }
  return result;
}

void TimerQueue::set_root(TimerNode* root) {
  root_ = root;
  if (root_ != nullptr) {
    root_->prev_ = root_marker();
    root_->sibling_ = nullptr;
  }
}

void TimerQueue::insert(TimerNode& node, Instant deadline) {
  MOTE_ASSERT(!node.armed());
  node.deadline_ = deadline;
  node.child_ = nullptr;
  node.sibling_ = nullptr;
  set_root(root_ == nullptr ? &node : meld(root_, &node));
}

TimerNode* TimerQueue::pop() {
  TimerNode* top = root_;
  set_root(merge_pairs(top->child_));
  top->child_ = nullptr;
  top->prev_ = nullptr;
  return top;
}

void TimerQueue::remove(TimerNode& node) {
  if (!node.armed()) return;
  if (&node == root_) {
    pop();
    return;
  }
  // Cut the node (with its subtree) out of its parent's child list.
  if (node.prev_->child_ == &node) {
    node.prev_->child_ = node.sibling_;
  } else {
    node.prev_->sibling_ = node.sibling_;
  }
  if (node.sibling_ != nullptr) node.sibling_->prev_ = node.prev_;
  TimerNode* subtree = merge_pairs(node.child_);
  node.child_ = nullptr;
  node.sibling_ = nullptr;
  node.prev_ = nullptr;
  if (subtree != nullptr) set_root(meld(root_, subtree));
}

unsigned TimerQueue::expire(Instant now) {
  unsigned count = 0;
  while (root_ != nullptr && root_->deadline_ <= now) {
    TimerNode* due = pop();
    due->on_expire_(due);
    ++count;
  }
  return count;
}

}  // namespace mote::async
