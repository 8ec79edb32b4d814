#include "mote/base/inline_string.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <string_view>
#include <type_traits>

namespace mote {
namespace {

using namespace std::string_view_literals;

constinit InlineString<8> g_static_name = "node";
static_assert(std::is_trivially_copyable_v<InlineString<8>>);
static_assert(InlineString<8>("abc").size() == 3);
static_assert(InlineString<8>("abc") == "abc"sv);
static_assert(InlineString<3>::capacity() == 3);

TEST(InlineString, StartsEmptyAndTerminated) {
  InlineString<4> text;
  EXPECT_TRUE(text.empty());
  EXPECT_EQ(text.size(), 0u);
  EXPECT_STREQ(text.c_str(), "");
  EXPECT_EQ(g_static_name, "node");
}

TEST(InlineString, FromLiteral) {
  InlineString<6> text = "sensor";  // exactly full
  EXPECT_EQ(text.size(), 6u);
  EXPECT_EQ(text.view(), "sensor");
  EXPECT_STREQ(text.c_str(), "sensor");
  EXPECT_EQ(text.c_str()[6], '\0');
}

TEST(InlineString, AppendWhatFits) {
  InlineString<8> text;
  EXPECT_EQ(text.append("temp"), ok_status());
  EXPECT_EQ(text.append('/'), ok_status());
  EXPECT_EQ(text.append("ab"), ok_status());
  EXPECT_EQ(text.view(), "temp/ab");
  EXPECT_STREQ(text.c_str(), "temp/ab");
  EXPECT_EQ(text.append(""), ok_status());
  EXPECT_EQ(text.append("c"), ok_status());
  EXPECT_EQ(text.size(), 8u);
  EXPECT_STREQ(text.c_str(), "temp/abc");
}

TEST(InlineString, AppendThatDoesNotFitChangesNothing) {
  InlineString<6> text = "abc";
  EXPECT_EQ(text.append("defg"), Status::resource_exhausted());
  EXPECT_EQ(text.view(), "abc");
  EXPECT_STREQ(text.c_str(), "abc");
  EXPECT_EQ(text.append("def"), ok_status());
  EXPECT_EQ(text.append('x'), Status::resource_exhausted());
  EXPECT_EQ(text.view(), "abcdef");
}

TEST(InlineString, ZeroCapacity) {
  InlineString<0> text;
  EXPECT_EQ(text.append(""), ok_status());
  EXPECT_EQ(text.append("a"), Status::resource_exhausted());
  EXPECT_STREQ(text.c_str(), "");
}

TEST(InlineString, Assign) {
  InlineString<5> text = "hello";
  EXPECT_EQ(text.assign("hi"), ok_status());
  EXPECT_STREQ(text.c_str(), "hi");
  EXPECT_EQ(text.assign("too long"), Status::resource_exhausted());
  EXPECT_EQ(text.view(), "hi");
}

TEST(InlineString, AssignFromItself) {
  InlineString<8> text = "abcdef";
  EXPECT_EQ(text.assign(text.view().substr(2)), ok_status());
  EXPECT_STREQ(text.c_str(), "cdef");
  EXPECT_EQ(text.append(text.view()), ok_status());
  EXPECT_STREQ(text.c_str(), "cdefcdef");
}

TEST(InlineString, Clear) {
  InlineString<5> text = "hello";
  text.clear();
  EXPECT_TRUE(text.empty());
  EXPECT_STREQ(text.c_str(), "");
}

TEST(InlineString, Compares) {
  InlineString<8> a = "abc";
  InlineString<16> b = "abc";
  InlineString<8> c = "abd";
  EXPECT_TRUE(a == b);
  EXPECT_TRUE(a == "abc");
  EXPECT_TRUE("abc" == a);
  EXPECT_TRUE(a == "abc"sv);
  EXPECT_FALSE(a == c);
  EXPECT_TRUE(a != c);
  EXPECT_TRUE(a != "ab");
  EXPECT_FALSE(a == "abcd");
}

TEST(InlineString, ViewsAndIterates) {
  InlineString<8> text = "xyz";
  std::string_view view = text;  // implicit
  EXPECT_EQ(view.data(), text.data());
  EXPECT_EQ(text[1], 'y');
  std::string copy(text.begin(), text.end());
  EXPECT_EQ(copy, "xyz");
}

TEST(InlineString, CharArrayStopsAtNul) {
  const char buffer[8] = {'a', 'b', '\0', 'z', 'z', 'z', 'z', 'z'};
  InlineString<7> text = buffer;
  EXPECT_EQ(text.view(), "ab");
}

TEST(InlineStringDeathTest, IndexPastSizeAsserts) {
  InlineString<4> text = "ab";
  EXPECT_DEATH(static_cast<void>(text[2]), "assertion failed");
}

}  // namespace
}  // namespace mote
