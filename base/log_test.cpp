// Messages below this level must compile away, arguments included.
#define MOTE_LOG_LEVEL 1  // info
#define MOTE_LOG_MODULE "log_test"
#include "mote/base/log.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "mote/platform/log_sink.hpp"

namespace mote {
namespace {

struct Line {
  log::Level level;
  std::string module;
  std::string message;
};

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_level_ = log::runtime_level();
    platform::set_log_sink(&LogTest::capture, &lines_);
  }
  void TearDown() override {
    platform::set_log_sink(nullptr, nullptr);
    log::set_runtime_level(saved_level_);
  }

  static void capture(log::Level level, const char* module, const char* message, void* context) {
    static_cast<std::vector<Line>*>(context)->push_back({level, module, message});
  }

  std::vector<Line> lines_;
  log::Level saved_level_ = log::Level::info;
};

int g_evaluations = 0;
int counted(int value) {
  ++g_evaluations;
  return value;
}

TEST_F(LogTest, FormatsAndTagsTheMessage) {
  log::set_runtime_level(log::Level::info);
  MOTE_LOG_INFO("listening on port %u (%s)", 1883u, "mqtt");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].level, log::Level::info);
  EXPECT_EQ(lines_[0].module, "log_test");
  EXPECT_EQ(lines_[0].message, "listening on port 1883 (mqtt)");
}

TEST_F(LogTest, DefaultRuntimeLevelIsInfo) { EXPECT_EQ(saved_level_, log::Level::info); }

TEST_F(LogTest, RuntimeLevelFilters) {
  log::set_runtime_level(log::Level::warn);
  EXPECT_EQ(log::runtime_level(), log::Level::warn);
  MOTE_LOG_INFO("dropped %d", 1);
  MOTE_LOG_WARN("kept %d", 2);
  MOTE_LOG_ERROR("kept %d", 3);
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_EQ(lines_[0].level, log::Level::warn);
  EXPECT_EQ(lines_[0].message, "kept 2");
  EXPECT_EQ(lines_[1].level, log::Level::error);
  EXPECT_EQ(lines_[1].message, "kept 3");
}

TEST_F(LogTest, OffDropsEverything) {
  log::set_runtime_level(log::Level::off);
  MOTE_LOG_ERROR("dropped");
  EXPECT_TRUE(lines_.empty());
}

TEST_F(LogTest, FilteredAtRunTimeStillEvaluatesArguments) {
  // Runtime filtering happens inside write(): the call, and so its arguments,
  // still happen. Only the compile-time level removes them.
  log::set_runtime_level(log::Level::error);
  g_evaluations = 0;
  MOTE_LOG_INFO("%d", counted(1));
  EXPECT_EQ(g_evaluations, 1);
  EXPECT_TRUE(lines_.empty());
}

TEST_F(LogTest, BelowCompileTimeLevelIsNotEvaluated) {
  log::set_runtime_level(log::Level::debug);
  g_evaluations = 0;
  MOTE_LOG_DEBUG("%d", counted(1));
  EXPECT_EQ(g_evaluations, 0);
  EXPECT_TRUE(lines_.empty());
  // The same call one level up is compiled in, so the counter does move.
  MOTE_LOG_INFO("%d", counted(2));
  EXPECT_EQ(g_evaluations, 1);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].message, "2");
}

TEST_F(LogTest, WriteCanBeCalledDirectly) {
  log::write(log::Level::warn, "direct", "%s=%d", "x", 5);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].module, "direct");
  EXPECT_EQ(lines_[0].message, "x=5");
}

TEST(LogLevel, Names) {
  EXPECT_STREQ(log::to_string(log::Level::debug), "debug");
  EXPECT_STREQ(log::to_string(log::Level::info), "info");
  EXPECT_STREQ(log::to_string(log::Level::warn), "warn");
  EXPECT_STREQ(log::to_string(log::Level::error), "error");
  EXPECT_STREQ(log::to_string(log::Level::off), "off");
}

}  // namespace
}  // namespace mote
