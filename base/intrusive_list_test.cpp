#include "mote/base/intrusive_list.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <vector>

namespace mote {
namespace {

struct Item : IntrusiveListNode {
  explicit Item(int v) : value(v) {}
  int value;
};

std::vector<int> values(IntrusiveList<Item>& list) {
  std::vector<int> out;
  for (Item& item : list) out.push_back(item.value);
  return out;
}

// A list at namespace scope is ready before any static constructor runs.
constinit IntrusiveList<Item> g_static_list;

TEST(IntrusiveList, StartsEmpty) {
  IntrusiveList<Item> list;
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.size(), 0u);
  EXPECT_EQ(list.begin(), list.end());
  EXPECT_TRUE(g_static_list.empty());
  Item item(1);
  g_static_list.push_back(item);
  EXPECT_EQ(&g_static_list.front(), &item);
  g_static_list.clear();
}

TEST(IntrusiveList, PushBackAndFrontKeepOrder) {
  Item a(1), b(2), c(3);
  IntrusiveList<Item> list;
  list.push_back(b);
  list.push_back(c);
  list.push_front(a);
  EXPECT_EQ(values(list), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(list.size(), 3u);
  EXPECT_EQ(&list.front(), &a);
  EXPECT_EQ(&list.back(), &c);
  EXPECT_TRUE(a.linked());
  list.clear();
}

TEST(IntrusiveList, IteratesBothWays) {
  Item a(1), b(2), c(3);
  IntrusiveList<Item> list;
  list.push_back(a);
  list.push_back(b);
  list.push_back(c);
  std::vector<int> backwards;
  for (auto it = list.end(); it != list.begin();) {
    --it;
    backwards.push_back(it->value);
  }
  EXPECT_EQ(backwards, (std::vector<int>{3, 2, 1}));
  auto it = list.begin();
  EXPECT_EQ((it++)->value, 1);
  EXPECT_EQ(it->value, 2);
  (*it).value = 20;
  EXPECT_EQ(b.value, 20);
  list.clear();
}

TEST(IntrusiveList, PopsInOrder) {
  Item a(1), b(2), c(3), d(4);
  IntrusiveList<Item> list;
  for (Item* item : {&a, &b, &c, &d}) list.push_back(*item);
  EXPECT_EQ(&list.pop_front(), &a);
  EXPECT_FALSE(a.linked());
  EXPECT_EQ(&list.pop_back(), &d);
  EXPECT_FALSE(d.linked());
  EXPECT_EQ(&list.pop_front(), &b);
  EXPECT_EQ(&list.pop_front(), &c);
  EXPECT_TRUE(list.empty());
}

TEST(IntrusiveList, InsertGoesBeforeThePosition) {
  Item a(1), b(2), c(3);
  IntrusiveList<Item> list;
  list.push_back(a);
  list.push_back(c);
  auto position = list.begin();
  ++position;
  list.insert(position, b);
  EXPECT_EQ(values(list), (std::vector<int>{1, 2, 3}));
  Item d(4);
  list.insert(list.end(), d);
  EXPECT_EQ(values(list), (std::vector<int>{1, 2, 3, 4}));
  list.clear();
}

TEST(IntrusiveList, RemoveAndUnlinkFromTheMiddle) {
  Item a(1), b(2), c(3);
  IntrusiveList<Item> list;
  list.push_back(a);
  list.push_back(b);
  list.push_back(c);
  list.remove(b);
  EXPECT_FALSE(b.linked());
  EXPECT_EQ(values(list), (std::vector<int>{1, 3}));
  c.unlink();
  EXPECT_EQ(values(list), (std::vector<int>{1}));
  c.unlink();  // a no-op once unlinked
  EXPECT_EQ(values(list), (std::vector<int>{1}));
  list.push_back(b);  // a node can move to the list again
  EXPECT_EQ(values(list), (std::vector<int>{1, 2}));
  list.clear();
}

TEST(IntrusiveList, DestroyedNodeUnlinksItself) {
  Item a(1), c(3);
  IntrusiveList<Item> list;
  list.push_back(a);
  {
    std::optional<Item> b(std::in_place, 2);
    list.push_back(*b);
    list.push_back(c);
    EXPECT_EQ(values(list), (std::vector<int>{1, 2, 3}));
    b.reset();
    EXPECT_EQ(values(list), (std::vector<int>{1, 3}));
    {
      Item last(4);
      list.push_back(last);
      EXPECT_EQ(list.size(), 3u);
    }
  }
  EXPECT_EQ(values(list), (std::vector<int>{1, 3}));
  EXPECT_EQ(&list.back(), &c);
  list.clear();
}

TEST(IntrusiveList, ClearUnlinksEveryNode) {
  Item a(1), b(2);
  IntrusiveList<Item> list;
  list.push_back(a);
  list.push_back(b);
  list.clear();
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(a.linked());
  EXPECT_FALSE(b.linked());
}

TEST(IntrusiveListDeathTest, NodeOnTwoListsAsserts) {
  Item a(1);
  IntrusiveList<Item> first;
  IntrusiveList<Item> second;
  first.push_back(a);
  EXPECT_DEATH(second.push_back(a), "assertion failed");
  first.clear();
}

TEST(IntrusiveListDeathTest, DestroyingANonEmptyListAsserts) {
  EXPECT_DEATH(
      {
        Item a(1);
        IntrusiveList<Item> list;
        list.push_back(a);
      },
      "assertion failed");
}

TEST(IntrusiveListDeathTest, FrontOfEmptyAsserts) {
  IntrusiveList<Item> list;
  EXPECT_DEATH(static_cast<void>(list.front()), "assertion failed");
}

}  // namespace
}  // namespace mote
