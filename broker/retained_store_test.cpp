#include "mote/broker/retained_store.hpp"

#include <algorithm>
#include <gtest/gtest.h>

namespace mote::broker {
namespace {

MessagePtr retained(std::string topic, std::string payload, std::int64_t expires_at_ms = 0) {
  auto message = std::make_shared<Message>();
  message->topic = std::move(topic);
  message->payload.assign(payload.begin(), payload.end());
  message->retain = true;
  message->expires_at_ms = expires_at_ms;
  return message;
}

std::vector<std::string> topics(RetainedStore& store, std::string_view filter,
                                std::int64_t now_ms = 0) {
  std::vector<MessagePtr> out;
  store.match(filter, now_ms, out);
  std::vector<std::string> names;
  for (const MessagePtr& m : out) names.push_back(m->topic);
  std::sort(names.begin(), names.end());
  return names;
}

TEST(RetainedStore, OneMessagePerTopicAndEmptyPayloadDeletes) {
  RetainedStore store;
  EXPECT_TRUE(store.set(retained("a/b", "1")));
  EXPECT_TRUE(store.set(retained("a/b", "2")));
  EXPECT_EQ(store.size(), 1u);
  ASSERT_NE(store.find("a/b", 0), nullptr);
  EXPECT_EQ(store.find("a/b", 0)->payload, (std::vector<std::uint8_t>{'2'}));
  EXPECT_TRUE(store.set(retained("a/b", "")));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.find("a/b", 0), nullptr);
  EXPECT_FALSE(store.set(retained("a/b", "")));  // nothing to delete
}

TEST(RetainedStore, FiltersWalkTheTrie) {
  RetainedStore store;
  for (const char* topic : {"a", "a/b", "a/c", "a/b/c", "b/b", "/x", "$SYS/up", "a//c"}) {
    store.set(retained(topic, "x"));
  }
  EXPECT_EQ(topics(store, "a/#"), (std::vector<std::string>{"a", "a//c", "a/b", "a/b/c", "a/c"}));
  EXPECT_EQ(topics(store, "a/+"), (std::vector<std::string>{"a/b", "a/c"}));
  EXPECT_EQ(topics(store, "+/b"), (std::vector<std::string>{"a/b", "b/b"}));
  EXPECT_EQ(topics(store, "a/+/c"), (std::vector<std::string>{"a//c", "a/b/c"}));
  EXPECT_EQ(topics(store, "#"),
            (std::vector<std::string>{"/x", "a", "a//c", "a/b", "a/b/c", "a/c", "b/b"}));
  EXPECT_EQ(topics(store, "+/+"), (std::vector<std::string>{"/x", "a/b", "a/c", "b/b"}));
  EXPECT_EQ(topics(store, "$SYS/#"), (std::vector<std::string>{"$SYS/up"}));
  EXPECT_EQ(topics(store, "a/b"), (std::vector<std::string>{"a/b"}));
  EXPECT_TRUE(topics(store, "c/#").empty());
}

TEST(RetainedStore, ExpiredMessagesAreNotReturnedAndGetRemoved) {
  RetainedStore store;
  store.set(retained("t/1", "x", 1000));
  store.set(retained("t/2", "x", 5000));
  store.set(retained("t/3", "x"));
  EXPECT_EQ(topics(store, "t/+", 999).size(), 3u);
  EXPECT_EQ(topics(store, "t/+", 1000), (std::vector<std::string>{"t/2", "t/3"}));
  EXPECT_EQ(store.size(), 2u);  // t/1 was removed on the way
  EXPECT_EQ(store.find("t/2", 6000), nullptr);
  EXPECT_EQ(store.purge_expired(6000), (std::vector<std::string>{"t/2"}));
  EXPECT_EQ(store.size(), 1u);
}

TEST(RetainedStore, EraseUnknownTopics) {
  RetainedStore store;
  store.set(retained("a/b/c", "x"));
  EXPECT_FALSE(store.erase("a/b"));
  EXPECT_FALSE(store.erase("x"));
  EXPECT_TRUE(store.erase("a/b/c"));
  EXPECT_TRUE(topics(store, "#").empty());
}

}  // namespace
}  // namespace mote::broker
