#include "mote/mqtt/topic.hpp"

#include <gtest/gtest.h>
#include <string_view>

namespace mote::mqtt {
namespace {

TEST(MqttUtf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("sensors/kitchen"));
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9t\xc3\xa9"));         // été
  EXPECT_TRUE(is_valid_utf8("\xe2\x82\xac"));              // €
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x8c\xa1"));          // U+1F321
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));          // U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\xef\xbf\xbf"));              // U+FFFF, a non-character: allowed
  EXPECT_TRUE(is_valid_utf8("\x01\x7f"));                  // control characters: allowed
  EXPECT_TRUE(is_valid_utf8("\xed\x9f\xbf\xee\x80\x80"));  // U+D7FF, U+E000 around the surrogates
}

TEST(MqttUtf8, RefusesWhatSection154Forbids) {
  EXPECT_FALSE(is_valid_utf8(std::string_view("a\0", 2)));  // U+0000
  EXPECT_FALSE(is_valid_utf8("\xc0\x80"));                  // overlong U+0000
  EXPECT_FALSE(is_valid_utf8("\xc1\xbf"));                  // overlong
  EXPECT_FALSE(is_valid_utf8("\xe0\x9f\xbf"));              // overlong three-byte
  EXPECT_FALSE(is_valid_utf8("\xf0\x8f\xbf\xbf"));          // overlong four-byte
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));              // U+D800
  EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));              // U+DFFF
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));          // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xf8\x88\x80\x80\x80"));      // five-byte form
  EXPECT_FALSE(is_valid_utf8("\x80"));                      // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xc3"));                      // truncated
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));                  // truncated
  EXPECT_FALSE(is_valid_utf8("\xc3\x28"));                  // bad continuation
  EXPECT_FALSE(is_valid_utf8("\xff"));
}

TEST(MqttTopic, Names) {
  EXPECT_TRUE(is_valid_topic_name("a"));
  EXPECT_TRUE(is_valid_topic_name("/"));
  EXPECT_TRUE(is_valid_topic_name("a//b/"));
  EXPECT_TRUE(is_valid_topic_name("$SYS/broker"));
  EXPECT_TRUE(is_valid_topic_name(" "));
  EXPECT_FALSE(is_valid_topic_name(""));
  EXPECT_FALSE(is_valid_topic_name("a/+"));
  EXPECT_FALSE(is_valid_topic_name("#"));
  EXPECT_FALSE(is_valid_topic_name("a#"));
}

TEST(MqttTopic, Filters) {
  for (std::string_view ok : {"#", "+", "a/#", "+/+", "/+", "a/+/c", "+/tennis/#", "/", "a//b",
                              "$share/g/a/#", "$share/g/#", "$SYS/#"}) {
    EXPECT_TRUE(is_valid_topic_filter(ok)) << ok;
  }
  for (std::string_view bad :
       {"", "a#", "a/#/b", "#/", "a/b#", "a+", "+a", "a/+b/c", "##", "$share/", "$share/g",
        "$share//a", "$share/g+/a", "$share/g#/a", "$share/g/", "$share/g/a#"}) {
    EXPECT_FALSE(is_valid_topic_filter(bad)) << bad;
  }
  EXPECT_TRUE(is_valid_topic_filter("$share/g", false));  // not special in 3.1.1
  const SharedFilter shared = split_shared_filter("$share/workers/jobs/+");
  EXPECT_EQ(shared.share_name, "workers");
  EXPECT_EQ(shared.filter, "jobs/+");
  EXPECT_EQ(split_shared_filter("jobs/+").share_name, "");
}

TEST(MqttTopic, Matching) {
  // The examples of §4.7.1.
  EXPECT_TRUE(topic_matches("sport/tennis/player1/#", "sport/tennis/player1"));
  EXPECT_TRUE(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
  EXPECT_TRUE(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
  EXPECT_TRUE(topic_matches("sport/#", "sport"));
  EXPECT_TRUE(topic_matches("#", "sport/tennis"));
  EXPECT_TRUE(topic_matches("sport/tennis/+", "sport/tennis/player1"));
  EXPECT_FALSE(topic_matches("sport/tennis/+", "sport/tennis/player1/ranking"));
  EXPECT_FALSE(topic_matches("sport/+", "sport"));
  EXPECT_TRUE(topic_matches("sport/+", "sport/"));
  EXPECT_TRUE(topic_matches("+/+", "/finance"));
  EXPECT_TRUE(topic_matches("/+", "/finance"));
  EXPECT_FALSE(topic_matches("+", "/finance"));
  EXPECT_TRUE(topic_matches("a/b", "a/b"));
  EXPECT_FALSE(topic_matches("a/b", "a/bc"));
  EXPECT_FALSE(topic_matches("a/b", "a"));
  EXPECT_FALSE(topic_matches("a", "a/b"));
  // §4.7.2: '$' topics and leading wildcards.
  EXPECT_FALSE(topic_matches("#", "$SYS/x"));
  EXPECT_FALSE(topic_matches("+/monitor/Clients", "$SYS/monitor/Clients"));
  EXPECT_TRUE(topic_matches("$SYS/#", "$SYS/monitor/Clients"));
  EXPECT_TRUE(topic_matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
}

}  // namespace
}  // namespace mote::mqtt
