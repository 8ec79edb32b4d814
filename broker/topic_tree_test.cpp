#include "mote/broker/topic_tree.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <map>
#include <random>

#include "mote/mqtt/topic.hpp"

namespace mote::broker {
namespace {

std::vector<Delivery> route(TopicTree& tree, std::string_view topic, SessionId publisher = 0,
                            const TopicTree::Available& available = {}) {
  std::vector<Delivery> out;
  tree.match(topic, publisher, available, out);
  std::sort(out.begin(), out.end(), [](const Delivery& a, const Delivery& b) {
    return a.session != b.session ? a.session < b.session : a.shared < b.shared;
  });
  return out;
}

std::vector<SessionId> sessions_of(const std::vector<Delivery>& deliveries) {
  std::vector<SessionId> ids;
  for (const Delivery& d : deliveries) ids.push_back(d.session);
  return ids;
}

SubscriptionOptions qos(QoS q, std::uint32_t identifier = 0) {
  SubscriptionOptions options;
  options.qos = q;
  options.identifier = identifier;
  return options;
}

TEST(TopicTree, RoutesByLevelWithWildcards) {
  TopicTree tree;
  tree.subscribe(1, "a/b", {});
  tree.subscribe(2, "a/+", {});
  tree.subscribe(3, "a/#", {});
  tree.subscribe(4, "#", {});
  tree.subscribe(5, "+/+/c", {});
  tree.subscribe(6, "b/#", {});
  EXPECT_EQ(sessions_of(route(tree, "a/b")), (std::vector<SessionId>{1, 2, 3, 4}));
  EXPECT_EQ(sessions_of(route(tree, "a")), (std::vector<SessionId>{3, 4}));  // a/# sees a
  EXPECT_EQ(sessions_of(route(tree, "a/")), (std::vector<SessionId>{2, 3, 4}));
  EXPECT_EQ(sessions_of(route(tree, "a/b/c")), (std::vector<SessionId>{3, 4, 5}));
  EXPECT_EQ(sessions_of(route(tree, "x//c")), (std::vector<SessionId>{4, 5}));
  EXPECT_EQ(sessions_of(route(tree, "b")), (std::vector<SessionId>{4, 6}));
  EXPECT_EQ(tree.subscription_count(), 6u);
}

TEST(TopicTree, DollarTopicsAreNotSeenByLeadingWildcards) {
  TopicTree tree;
  tree.subscribe(1, "#", {});
  tree.subscribe(2, "+/uptime", {});
  tree.subscribe(3, "$SYS/#", {});
  tree.subscribe(4, "$SYS/+", {});
  EXPECT_EQ(sessions_of(route(tree, "$SYS/uptime")), (std::vector<SessionId>{3, 4}));
  EXPECT_EQ(sessions_of(route(tree, "x/uptime")), (std::vector<SessionId>{1, 2}));
}

TEST(TopicTree, OverlappingSubscriptionsGiveOneDeliveryWithMaxQosAndAllIdentifiers) {
  TopicTree tree;
  tree.subscribe(1, "a/+", qos(QoS::at_most_once, 7));
  tree.subscribe(1, "a/#", qos(QoS::exactly_once, 3));
  tree.subscribe(1, "a/b", qos(QoS::at_least_once));
  const auto out = route(tree, "a/b");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].qos, QoS::exactly_once);
  EXPECT_EQ(out[0].identifiers, (std::vector<std::uint32_t>{3, 7}));
}

TEST(TopicTree, ResubscribingReplacesOptions) {
  TopicTree tree;
  EXPECT_TRUE(tree.subscribe(1, "a", qos(QoS::at_most_once)));
  EXPECT_FALSE(tree.subscribe(1, "a", qos(QoS::exactly_once)));
  EXPECT_EQ(tree.subscription_count(), 1u);
  EXPECT_EQ(route(tree, "a").at(0).qos, QoS::exactly_once);
}

TEST(TopicTree, NoLocalSkipsOnlyThatSubscription) {
  TopicTree tree;
  SubscriptionOptions no_local;
  no_local.no_local = true;
  tree.subscribe(1, "a", no_local);
  tree.subscribe(2, "a", no_local);
  EXPECT_EQ(sessions_of(route(tree, "a", 1)), (std::vector<SessionId>{2}));
  tree.subscribe(1, "#", {});  // a second subscription without no-local still matches
  EXPECT_EQ(sessions_of(route(tree, "a", 1)), (std::vector<SessionId>{1, 2}));
}

TEST(TopicTree, UnsubscribePrunesTheTrie) {
  TopicTree tree;
  const std::size_t empty = tree.node_count();
  tree.subscribe(1, "a/b/c/d", {});
  tree.subscribe(2, "a/b", {});
  tree.subscribe(3, "$share/g/a/b/c/d", {});
  EXPECT_GT(tree.node_count(), empty);
  EXPECT_FALSE(tree.unsubscribe(1, "a/b/c"));
  EXPECT_FALSE(tree.unsubscribe(9, "a/b/c/d"));
  EXPECT_TRUE(tree.unsubscribe(1, "a/b/c/d"));
  EXPECT_TRUE(tree.unsubscribe(3, "$share/g/a/b/c/d"));
  EXPECT_EQ(tree.node_count(), empty + 2);
  EXPECT_TRUE(tree.unsubscribe(2, "a/b"));
  EXPECT_EQ(tree.node_count(), empty);
  EXPECT_EQ(tree.subscription_count(), 0u);
  EXPECT_TRUE(route(tree, "a/b/c/d").empty());
}

TEST(TopicTree, SharedGroupsDeliverRoundRobinOncePerGroup) {
  TopicTree tree;
  tree.subscribe(1, "$share/g/s/+", {});
  tree.subscribe(2, "$share/g/s/+", {});
  tree.subscribe(3, "$share/g/s/+", {});
  tree.subscribe(4, "$share/h/s/#", {});
  std::map<SessionId, int> counts;
  for (int i = 0; i < 30; ++i) {
    const auto out = route(tree, "s/x");
    ASSERT_EQ(out.size(), 2u);  // one for g, one for h
    for (const Delivery& d : out) {
      EXPECT_TRUE(d.shared);
      ++counts[d.session];
    }
  }
  EXPECT_EQ(counts[1], 10);
  EXPECT_EQ(counts[2], 10);
  EXPECT_EQ(counts[3], 10);
  EXPECT_EQ(counts[4], 30);
}

TEST(TopicTree, SharedGroupsSkipUnavailableMembers) {
  TopicTree tree;
  tree.subscribe(1, "$share/g/t", {});
  tree.subscribe(2, "$share/g/t", {});
  tree.subscribe(3, "$share/g/t", {});
  const TopicTree::Available only_three = [](SessionId s) { return s == 3; };
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(sessions_of(route(tree, "t", 0, only_three)), (std::vector<SessionId>{3}));
  // Nobody available: still one member gets it (to queue), in turn.
  const TopicTree::Available nobody = [](SessionId) { return false; };
  std::map<SessionId, int> counts;
  for (int i = 0; i < 6; ++i) ++counts[route(tree, "t", 0, nobody).at(0).session];
  EXPECT_EQ(counts.size(), 3u);
}

TEST(TopicTree, SharedAndOrdinarySubscriptionsOfOneSessionAreSeparate) {
  TopicTree tree;
  tree.subscribe(1, "$share/g/t", qos(QoS::at_least_once));
  tree.subscribe(1, "t", qos(QoS::at_most_once));
  const auto out = route(tree, "t");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[0].shared);
  EXPECT_TRUE(out[1].shared);
}

TEST(TopicTree, UnsubscribingFromAGroupKeepsTheRotation) {
  TopicTree tree;
  for (SessionId s = 1; s <= 3; ++s) tree.subscribe(s, "$share/g/t", {});
  EXPECT_EQ(route(tree, "t").at(0).session, 1u);
  EXPECT_TRUE(tree.unsubscribe(1, "$share/g/t"));
  EXPECT_EQ(route(tree, "t").at(0).session, 2u);
  EXPECT_EQ(route(tree, "t").at(0).session, 3u);
  EXPECT_EQ(route(tree, "t").at(0).session, 2u);
}

// The trie agrees with the codec's one-filter matcher on random filters and topics.
TEST(TopicTree, AgreesWithTopicMatchesOnRandomInput) {
  std::mt19937 random(1234);
  const char* words[] = {"a", "b", "", "$x", "c"};
  auto pick_level = [&](bool filter) -> std::string {
    const int r = static_cast<int>(random() % 7);
    if (filter && r == 5) return "+";
    if (filter && r == 6) return "#";
    return words[random() % 5];
  };
  auto make = [&](bool filter) {
    std::string text;
    const int levels = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < levels; ++i) {
      if (i > 0) text += '/';
      std::string level = pick_level(filter);
      text += level;
      if (level == "#") break;
    }
    return text;
  };
  TopicTree tree;
  std::vector<std::string> filters;
  for (SessionId s = 1; s <= 200; ++s) {
    std::string filter = make(true);
    if (!mqtt::is_valid_topic_filter(filter, false)) continue;
    tree.subscribe(s, filter, {});
    filters.resize(s);
    filters[s - 1] = filter;
  }
  for (int i = 0; i < 500; ++i) {
    const std::string topic = make(false);
    std::vector<SessionId> expected;
    for (std::size_t s = 0; s < filters.size(); ++s) {
      if (!filters[s].empty() && mqtt::topic_matches(filters[s], topic)) expected.push_back(s + 1);
    }
    EXPECT_EQ(sessions_of(route(tree, topic)), expected) << topic;
  }
}

}  // namespace
}  // namespace mote::broker
