#include "mote/base/inline_vector.hpp"

#include <cstddef>
#include <gtest/gtest.h>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "testing/counted.hpp"

namespace mote {
namespace {

using testing::Counted;

constinit InlineVector<int, 8> g_static_vector;
static_assert(std::is_trivially_destructible_v<InlineVector<int, 8>>);
static_assert(!std::is_trivially_destructible_v<InlineVector<Counted, 8>>);
static_assert(InlineVector<int, 8>::capacity() == 8);

template <typename T, std::size_t N>
std::vector<T> contents(const InlineVector<T, N>& vector) {
  return std::vector<T>(vector.begin(), vector.end());
}

TEST(InlineVector, StartsEmpty) {
  InlineVector<int, 4> vector;
  EXPECT_TRUE(vector.empty());
  EXPECT_FALSE(vector.full());
  EXPECT_EQ(vector.size(), 0u);
  EXPECT_EQ(vector.begin(), vector.end());
  EXPECT_TRUE(g_static_vector.empty());
}

TEST(InlineVector, PushAndAccess) {
  InlineVector<int, 4> vector;
  vector.push_back(1);
  vector.emplace_back(2);
  EXPECT_TRUE(vector.try_push_back(3));
  EXPECT_TRUE(vector.try_emplace_back(4));
  EXPECT_TRUE(vector.full());
  EXPECT_EQ(vector.size(), 4u);
  EXPECT_EQ(vector.front(), 1);
  EXPECT_EQ(vector.back(), 4);
  EXPECT_EQ(vector[2], 3);
  EXPECT_EQ(vector.data()[1], 2);
  EXPECT_EQ(contents(vector), (std::vector<int>{1, 2, 3, 4}));
}

TEST(InlineVector, TryPushOntoFullFailsAndChangesNothing) {
  InlineVector<int, 2> vector{1, 2};
  EXPECT_FALSE(vector.try_push_back(3));
  EXPECT_FALSE(vector.try_emplace_back(4));
  EXPECT_EQ(contents(vector), (std::vector<int>{1, 2}));
}

TEST(InlineVector, EmplaceBackReturnsTheNewElement) {
  InlineVector<std::pair<int, int>, 2> vector;
  auto& pair = vector.emplace_back(1, 2);
  EXPECT_EQ(&pair, &vector.back());
  EXPECT_EQ(pair.second, 2);
}

TEST(InlineVector, PopBack) {
  InlineVector<int, 3> vector{1, 2, 3};
  vector.pop_back();
  EXPECT_EQ(contents(vector), (std::vector<int>{1, 2}));
  vector.pop_back();
  vector.pop_back();
  EXPECT_TRUE(vector.empty());
}

TEST(InlineVector, EraseKeepsOrder) {
  InlineVector<int, 6> vector{0, 1, 2, 3, 4, 5};
  auto next = vector.erase(vector.begin() + 1);
  EXPECT_EQ(*next, 2);
  EXPECT_EQ(contents(vector), (std::vector<int>{0, 2, 3, 4, 5}));
  next = vector.erase(vector.begin() + 1, vector.begin() + 3);
  EXPECT_EQ(*next, 4);
  EXPECT_EQ(contents(vector), (std::vector<int>{0, 4, 5}));
  next = vector.erase(vector.end() - 1);
  EXPECT_EQ(next, vector.end());
  EXPECT_EQ(contents(vector), (std::vector<int>{0, 4}));
  next = vector.erase(vector.begin(), vector.begin());
  EXPECT_EQ(next, vector.begin());
  EXPECT_EQ(vector.size(), 2u);
  vector.erase(vector.begin(), vector.end());
  EXPECT_TRUE(vector.empty());
}

TEST(InlineVector, Resize) {
  InlineVector<int, 5> vector{7};
  vector.resize(3);
  EXPECT_EQ(contents(vector), (std::vector<int>{7, 0, 0}));
  vector.resize(5, 9);
  EXPECT_EQ(contents(vector), (std::vector<int>{7, 0, 0, 9, 9}));
  vector.resize(2);
  EXPECT_EQ(contents(vector), (std::vector<int>{7, 0}));
  vector.resize(0);
  EXPECT_TRUE(vector.empty());
}

TEST(InlineVector, ConvertsToSpan) {
  InlineVector<int, 4> vector{1, 2, 3};
  std::span<int> span = vector;
  EXPECT_EQ(span.data(), vector.data());
  EXPECT_EQ(span.size(), 3u);
  span[0] = 10;
  EXPECT_EQ(vector[0], 10);
  const InlineVector<int, 4>& view = vector;
  std::span<const int> const_span = view;
  EXPECT_EQ(const_span.size(), 3u);
  EXPECT_EQ(const_span[2], 3);

  InlineVector<std::byte, 4> bytes{std::byte{1}, std::byte{2}};
  std::span<const std::byte> byte_view = bytes;
  EXPECT_EQ(byte_view.size(), 2u);
}

TEST(InlineVector, EqualityComparesElements) {
  InlineVector<int, 4> a{1, 2};
  InlineVector<int, 4> b{1, 2};
  EXPECT_EQ(a, b);
  b.push_back(3);
  EXPECT_NE(a, b);
  b.pop_back();
  b[1] = 5;
  EXPECT_NE(a, b);
}

TEST(InlineVector, HoldsMoveOnlyTypes) {
  InlineVector<std::unique_ptr<int>, 3> vector;
  vector.push_back(std::make_unique<int>(1));
  vector.emplace_back(new int(2));
  vector.push_back(std::make_unique<int>(3));
  vector.erase(vector.begin());
  ASSERT_EQ(vector.size(), 2u);
  EXPECT_EQ(*vector[0], 2);
  EXPECT_EQ(*vector[1], 3);
  InlineVector<std::unique_ptr<int>, 3> moved(std::move(vector));
  EXPECT_EQ(*moved.back(), 3);
}

using InlineVectorLifetime = testing::CountedTest;

TEST_F(InlineVectorLifetime, EveryElementIsDestroyedExactlyOnce) {
  {
    InlineVector<Counted, 6> vector;
    for (int i = 0; i < 6; ++i) vector.emplace_back(i);
    EXPECT_EQ(Counted::live(), 6);
    vector.pop_back();
    EXPECT_EQ(Counted::live(), 5);
    vector.erase(vector.begin() + 1, vector.begin() + 3);
    EXPECT_EQ(Counted::live(), 3);
    EXPECT_EQ(vector[0].value, 0);
    EXPECT_EQ(vector[1].value, 3);
    EXPECT_EQ(vector[2].value, 4);
    vector.erase(vector.begin() + 1, vector.begin() + 1);
    EXPECT_EQ(vector[1].value, 3);  // an empty range moves nothing onto itself
    vector.resize(5);
    EXPECT_EQ(Counted::live(), 5);
    vector.resize(1);
    EXPECT_EQ(Counted::live(), 1);
    vector.emplace_back(8);
  }
  EXPECT_EQ(Counted::live(), 0);
}

TEST_F(InlineVectorLifetime, PushMovesOrCopiesAsAsked) {
  InlineVector<Counted, 4> vector;
  Counted item(5);
  vector.push_back(item);
  EXPECT_EQ(Counted::copies(), 1);
  EXPECT_EQ(Counted::moves(), 0);
  EXPECT_TRUE(vector.try_push_back(std::move(item)));
  EXPECT_EQ(Counted::copies(), 1);
  EXPECT_EQ(Counted::moves(), 1);
  vector.emplace_back(6);
  EXPECT_EQ(Counted::copies(), 1);
  EXPECT_EQ(Counted::moves(), 1);
  EXPECT_EQ(vector[1].value, 5);
}

TEST_F(InlineVectorLifetime, CopyAndMove) {
  InlineVector<Counted, 4> source;
  source.emplace_back(1);
  source.emplace_back(2);

  InlineVector<Counted, 4> copy(source);
  EXPECT_EQ(copy, source);
  EXPECT_EQ(Counted::live(), 4);

  InlineVector<Counted, 4> moved(std::move(source));
  EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move): documented
  EXPECT_EQ(moved, copy);
  EXPECT_EQ(Counted::live(), 4);

  InlineVector<Counted, 4> assigned;
  assigned.emplace_back(9);
  assigned = copy;
  EXPECT_EQ(assigned, copy);
  EXPECT_EQ(Counted::live(), 6);
  assigned = std::move(moved);
  EXPECT_TRUE(moved.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(assigned, copy);
  EXPECT_EQ(Counted::live(), 4);
  InlineVector<Counted, 4>& same = assigned;
  assigned = same;
  EXPECT_EQ(assigned.size(), 2u);
  EXPECT_EQ(Counted::live(), 4);
}

TEST(InlineVectorDeathTest, PushBackOntoFullAsserts) {
  InlineVector<int, 1> vector{1};
  EXPECT_DEATH(vector.push_back(2), "assertion failed");
}

TEST(InlineVectorDeathTest, PopBackOfEmptyAsserts) {
  InlineVector<int, 1> vector;
  EXPECT_DEATH(vector.pop_back(), "assertion failed");
}

TEST(InlineVectorDeathTest, ResizePastCapacityAsserts) {
  InlineVector<int, 2> vector;
  EXPECT_DEATH(vector.resize(3), "assertion failed");
}

TEST(InlineVectorDeathTest, IndexPastSizeAsserts) {
  InlineVector<int, 2> vector{1};
  EXPECT_DEATH(static_cast<void>(vector[1]), "assertion failed");
}

}  // namespace
}  // namespace mote
