#include "mote/base/ring_buffer.hpp"

#include <cstdint>
#include <deque>
#include <gtest/gtest.h>
#include <memory>
#include <type_traits>
#include <vector>

#include "testing/counted.hpp"

namespace mote {
namespace {

using testing::Counted;

// A static byte buffer must need neither run-time construction nor an
// exit-time destructor on firmware.
constinit RingBuffer<std::uint8_t, 16> g_static_buffer;
static_assert(std::is_trivially_destructible_v<RingBuffer<std::uint8_t, 16>>);
static_assert(!std::is_trivially_destructible_v<RingBuffer<Counted, 4>>);
static_assert(RingBuffer<int, 5>::capacity() == 5);
static_assert(std::bidirectional_iterator<RingBuffer<int, 3>::iterator>);
static_assert(std::bidirectional_iterator<RingBuffer<int, 3>::const_iterator>);

template <typename T, std::size_t N>
std::vector<T> contents(const RingBuffer<T, N>& buffer) {
  return std::vector<T>(buffer.begin(), buffer.end());
}

TEST(RingBuffer, StartsEmpty) {
  RingBuffer<int, 3> buffer;
  EXPECT_TRUE(buffer.empty());
  EXPECT_FALSE(buffer.full());
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.begin(), buffer.end());
  EXPECT_TRUE(g_static_buffer.empty());
}

TEST(RingBuffer, FirstInFirstOut) {
  RingBuffer<int, 3> buffer;
  EXPECT_TRUE(buffer.try_push_back(1));
  EXPECT_TRUE(buffer.try_push_back(2));
  EXPECT_EQ(buffer.size(), 2u);
  EXPECT_EQ(buffer.front(), 1);
  EXPECT_EQ(buffer.back(), 2);
  EXPECT_EQ(buffer.pop_front(), 1);
  EXPECT_EQ(buffer.pop_front(), 2);
  EXPECT_TRUE(buffer.empty());
}

TEST(RingBuffer, PushOntoFullFailsAndChangesNothing) {
  RingBuffer<int, 3> buffer;
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(buffer.try_push_back(i));
  EXPECT_TRUE(buffer.full());
  EXPECT_FALSE(buffer.try_push_back(4));
  EXPECT_FALSE(buffer.try_emplace_back(5));
  EXPECT_EQ(contents(buffer), (std::vector<int>{1, 2, 3}));
}

// N = 3 is not a power of two; go around many times so every head position
// and every fill level is seen.
TEST(RingBuffer, WrapsAroundForAnyCapacity) {
  RingBuffer<int, 3> buffer;
  std::deque<int> model;
  int next = 0;
  for (int round = 0; round < 50; ++round) {
    int pushes = round % 4;
    for (int i = 0; i < pushes; ++i) {
      bool pushed = buffer.try_push_back(next);
      EXPECT_EQ(pushed, model.size() < 3);
      if (pushed) model.push_back(next);
      ++next;
    }
    ASSERT_EQ(buffer.size(), model.size());
    for (std::size_t i = 0; i < model.size(); ++i) EXPECT_EQ(buffer[i], model[i]);
    EXPECT_EQ(contents(buffer), std::vector<int>(model.begin(), model.end()));
    int pops = (round * 7) % 3;
    for (int i = 0; i < pops && !model.empty(); ++i) {
      EXPECT_EQ(buffer.pop_front(), model.front());
      model.pop_front();
    }
  }
}

TEST(RingBuffer, CapacityOne) {
  RingBuffer<int, 1> buffer;
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(buffer.try_push_back(i));
    EXPECT_TRUE(buffer.full());
    EXPECT_FALSE(buffer.try_push_back(100));
    EXPECT_EQ(buffer.front(), i);
    EXPECT_EQ(buffer.back(), i);
    EXPECT_EQ(buffer.pop_front(), i);
  }
}

TEST(RingBuffer, IndexAndIterateFromTheFrontAfterWrapping) {
  RingBuffer<int, 4> buffer;
  for (int i = 0; i < 4; ++i) buffer.push_back(i);
  EXPECT_EQ(buffer.pop_front(), 0);
  EXPECT_EQ(buffer.pop_front(), 1);
  buffer.push_back(4);
  buffer.push_back(5);  // stored at the physical start again
  EXPECT_EQ(buffer[0], 2);
  EXPECT_EQ(buffer[3], 5);
  EXPECT_EQ(buffer.front(), 2);
  EXPECT_EQ(buffer.back(), 5);
  EXPECT_EQ(contents(buffer), (std::vector<int>{2, 3, 4, 5}));

  for (int& value : buffer) value *= 10;
  EXPECT_EQ(contents(buffer), (std::vector<int>{20, 30, 40, 50}));
  auto last = buffer.end();
  --last;
  EXPECT_EQ(*last, 50);
  const RingBuffer<int, 4>& view = buffer;
  RingBuffer<int, 4>::const_iterator it = buffer.begin();  // iterator -> const_iterator
  EXPECT_EQ(it, view.begin());
  EXPECT_EQ(*it, 20);
}

TEST(RingBuffer, ClearEmptiesAndAllowsReuse) {
  RingBuffer<int, 3> buffer;
  buffer.push_back(1);
  buffer.push_back(2);
  static_cast<void>(buffer.pop_front());
  buffer.clear();
  EXPECT_TRUE(buffer.empty());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(buffer.try_push_back(i));
  EXPECT_EQ(contents(buffer), (std::vector<int>{0, 1, 2}));
}

TEST(RingBuffer, HoldsMoveOnlyTypes) {
  RingBuffer<std::unique_ptr<int>, 2> buffer;
  EXPECT_TRUE(buffer.try_push_back(std::make_unique<int>(7)));
  EXPECT_TRUE(buffer.try_emplace_back(new int(8)));
  std::unique_ptr<int> first = buffer.pop_front();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(*first, 7);
  EXPECT_EQ(*buffer.front(), 8);
}

using RingBufferLifetime = testing::CountedTest;

TEST_F(RingBufferLifetime, EveryElementIsDestroyedExactlyOnce) {
  {
    RingBuffer<Counted, 3> buffer;
    int expected_front = 0;
    int next = 0;
    for (int round = 0; round < 20; ++round) {
      // Two pushes (the second often finds the buffer full), one pop on most
      // rounds, so the head wraps at every fill level.
      for (int i = 0; i < 2; ++i) {
        if (buffer.try_emplace_back(next)) ++next;
      }
      if (round % 3 != 0) {
        Counted popped = buffer.pop_front();
        EXPECT_EQ(popped.value, expected_front++);
      }
      EXPECT_EQ(Counted::live(), static_cast<int>(buffer.size()));
    }
    EXPECT_EQ(buffer.size(), 2u);
  }
  EXPECT_EQ(Counted::live(), 0);
}

TEST_F(RingBufferLifetime, ClearDestroysTheElements) {
  RingBuffer<Counted, 4> buffer;
  buffer.emplace_back(1);
  buffer.emplace_back(2);
  EXPECT_EQ(Counted::live(), 2);
  buffer.clear();
  EXPECT_EQ(Counted::live(), 0);
}

TEST_F(RingBufferLifetime, PushMovesOrCopiesAsAsked) {
  RingBuffer<Counted, 4> buffer;
  Counted item(5);
  EXPECT_TRUE(buffer.try_push_back(item));
  EXPECT_EQ(Counted::copies(), 1);
  EXPECT_EQ(Counted::moves(), 0);
  EXPECT_TRUE(buffer.try_push_back(std::move(item)));
  EXPECT_EQ(Counted::copies(), 1);
  EXPECT_EQ(Counted::moves(), 1);
  EXPECT_EQ(buffer[1].value, 5);
  buffer.emplace_back(6);
  EXPECT_EQ(Counted::copies(), 1);
  EXPECT_EQ(Counted::moves(), 1);
}

TEST_F(RingBufferLifetime, CopyAndMove) {
  RingBuffer<Counted, 3> source;
  source.emplace_back(0);
  source.emplace_back(1);
  source.emplace_back(2);
  static_cast<void>(source.pop_front());
  source.emplace_back(3);  // wrapped: 1 2 3

  RingBuffer<Counted, 3> copy(source);
  EXPECT_EQ(contents(copy), contents(source));
  EXPECT_EQ(copy.front().value, 1);
  EXPECT_EQ(Counted::live(), 6);

  RingBuffer<Counted, 3> moved(std::move(source));
  EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move): documented
  EXPECT_EQ(moved.back().value, 3);
  EXPECT_EQ(Counted::live(), 6);

  RingBuffer<Counted, 3> assigned;
  assigned.emplace_back(9);
  assigned = copy;
  EXPECT_EQ(contents(assigned), contents(copy));
  EXPECT_EQ(Counted::live(), 9);
  assigned = std::move(moved);
  EXPECT_TRUE(moved.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(Counted::live(), 6);
  RingBuffer<Counted, 3>& same = assigned;
  assigned = same;
  EXPECT_EQ(assigned.size(), 3u);
  EXPECT_EQ(Counted::live(), 6);
}

TEST(RingBufferDeathTest, PopFromEmptyAsserts) {
  RingBuffer<int, 2> buffer;
  EXPECT_DEATH(static_cast<void>(buffer.pop_front()), "assertion failed");
}

TEST(RingBufferDeathTest, PushBackOntoFullAsserts) {
  RingBuffer<int, 1> buffer;
  buffer.push_back(1);
  EXPECT_DEATH(buffer.push_back(2), "assertion failed");
}

TEST(RingBufferDeathTest, IndexPastSizeAsserts) {
  RingBuffer<int, 4> buffer;
  buffer.push_back(1);
  EXPECT_DEATH(static_cast<void>(buffer[1]), "assertion failed");
  EXPECT_DEATH(static_cast<void>(RingBuffer<int, 2>().back()), "assertion failed");
}

}  // namespace
}  // namespace mote
