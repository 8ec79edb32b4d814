#include "mote/broker/topic.hpp"

#include <gtest/gtest.h>

namespace mote::broker {
namespace {

TEST(Topic, SplitKeepsEmptyLevels) {
  std::vector<std::string_view> levels;
  split_levels("/a//b/", levels);
  EXPECT_EQ(levels, (std::vector<std::string_view>{"", "a", "", "b", ""}));
  split_levels("x", levels);
  EXPECT_EQ(levels, (std::vector<std::string_view>{"x"}));
  split_levels("$share/g/a", levels);
  EXPECT_EQ(levels, (std::vector<std::string_view>{"$share", "g", "a"}));
}

}  // namespace
}  // namespace mote::broker
