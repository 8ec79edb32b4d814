#include "mote/broker/topic.hpp"

#include <gtest/gtest.h>

namespace mote::broker {
namespace {

TEST(Topic, NamesHaveNoWildcards) {
  EXPECT_TRUE(is_valid_topic_name("a"));
  EXPECT_TRUE(is_valid_topic_name("a/b/c"));
  EXPECT_TRUE(is_valid_topic_name("/"));
  EXPECT_TRUE(is_valid_topic_name("a//b"));
  EXPECT_TRUE(is_valid_topic_name("$SYS/broker/uptime"));
  EXPECT_FALSE(is_valid_topic_name(""));
  EXPECT_FALSE(is_valid_topic_name("a/+"));
  EXPECT_FALSE(is_valid_topic_name("a/#"));
  EXPECT_FALSE(is_valid_topic_name("a+b"));
  EXPECT_FALSE(is_valid_topic_name(std::string_view("a\0b", 3)));
  EXPECT_FALSE(is_valid_topic_name(std::string(kMaxTopicLength + 1, 'x')));
}

TEST(Topic, FiltersFollowSection4_7_1) {
  for (const char* good : {"#", "+", "a/#", "+/+", "/+", "a/+/b", "+/#", "a//b", "$SYS/#"}) {
    EXPECT_TRUE(is_valid_topic_filter(good)) << good;
  }
  for (const char* bad : {"", "a#", "a/#/b", "#/a", "a/b+", "+a", "##", "a/++"}) {
    EXPECT_FALSE(is_valid_topic_filter(bad)) << bad;
  }
}

TEST(Topic, SharedSubscriptionsSplit) {
  EXPECT_FALSE(parse_shared_filter("a/b").has_value());
  const auto shared = parse_shared_filter("$share/group/a/+/c");
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->group, "group");
  EXPECT_EQ(shared->filter, "a/+/c");
  EXPECT_TRUE(is_valid_subscription("$share/g/#"));
  EXPECT_FALSE(is_valid_subscription("$share/g"));
  EXPECT_FALSE(is_valid_subscription("$share//a"));
  EXPECT_FALSE(is_valid_subscription("$share/g+/a"));
  EXPECT_FALSE(is_valid_subscription("$share/g/a#"));
  EXPECT_TRUE(is_valid_subscription("$shared/x"));  // not the prefix: an ordinary filter
}

TEST(Topic, SplitKeepsEmptyLevels) {
  std::vector<std::string_view> levels;
  split_levels("/a//b/", levels);
  EXPECT_EQ(levels, (std::vector<std::string_view>{"", "a", "", "b", ""}));
  split_levels("x", levels);
  EXPECT_EQ(levels, (std::vector<std::string_view>{"x"}));
}

struct MatchCase {
  const char* filter;
  const char* topic;
  bool matches;
};

TEST(Topic, MatchesLikeTheSpecExamples) {
  const MatchCase cases[] = {
      // §4.7.1.2
      {"sport/tennis/player1/#", "sport/tennis/player1", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
      {"sport/#", "sport", true},
      {"#", "anything/at/all", true},
      // §4.7.1.3
      {"sport/tennis/+", "sport/tennis/player1", true},
      {"sport/tennis/+", "sport/tennis/player1/ranking", false},
      {"sport/+", "sport", false},
      {"sport/+", "sport/", true},
      {"+/+", "/finance", true},
      {"/+", "/finance", true},
      {"+", "/finance", false},
      {"+/monitor/Clients", "$SYS/monitor/Clients", false},
      {"#", "$SYS/uptime", false},
      {"$SYS/#", "$SYS/uptime", true},
      {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
      {"a/b", "a/b", true},
      {"a/b", "a/b/c", false},
      {"a/b/c", "a/b", false},
      {"a//b", "a//b", true},
      {"a/+/b", "a//b", true},
  };
  for (const MatchCase& c : cases) {
    EXPECT_EQ(topic_matches(c.filter, c.topic), c.matches) << c.filter << " vs " << c.topic;
  }
}

}  // namespace
}  // namespace mote::broker
