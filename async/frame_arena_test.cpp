#include "mote/async/frame_arena.hpp"

#include <gtest/gtest.h>

namespace mote::async {
namespace {

constexpr std::size_t A = FrameArena::kAlignment;

struct ArenaTest : ::testing::Test {
  alignas(A) std::byte storage[16 * A];
  FrameArena arena{storage, sizeof storage};
};

TEST_F(ArenaTest, AllocatesAlignedFramesBottomUp) {
  void* a = arena.allocate(1);
  void* b = arena.allocate(A + 1);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a, storage);
  EXPECT_EQ(b, storage + A);
  EXPECT_EQ(arena.used(), 3 * A);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b) % A, 0u);
}

TEST_F(ArenaTest, LifoFreesLowerTheTop) {
  void* a = arena.allocate(A);
  void* b = arena.allocate(2 * A);
  arena.deallocate(b, 2 * A);
  EXPECT_EQ(arena.used(), A);
  arena.deallocate(a, A);
  EXPECT_TRUE(arena.empty());
  EXPECT_EQ(arena.high_water_mark(), 3 * A);
}

TEST_F(ArenaTest, OutOfOrderFreesAreReclaimedWhenTheTopGoes) {
  void* a = arena.allocate(A);
  void* b = arena.allocate(A);
  void* c = arena.allocate(A);
  void* d = arena.allocate(A);
  arena.deallocate(b, A);  // below the top: remembered
  EXPECT_EQ(arena.used(), 4 * A);
  arena.deallocate(c, A);
  EXPECT_EQ(arena.used(), 4 * A);
  arena.deallocate(d, A);  // top: d, c and b all go
  EXPECT_EQ(arena.used(), A);
  void* e = arena.allocate(2 * A);  // reuses the reclaimed space
  EXPECT_EQ(e, b);
  arena.deallocate(a, A);
  EXPECT_EQ(arena.used(), 3 * A);
  arena.deallocate(e, 2 * A);
  EXPECT_TRUE(arena.empty());
}

TEST_F(ArenaTest, FreedFramesAreReclaimedInAnyOrder) {
  void* f[6];
  for (auto& p : f) p = arena.allocate(A);
  for (int i : {2, 0, 4, 1, 3}) arena.deallocate(f[i], A);
  EXPECT_EQ(arena.used(), 6 * A);
  arena.deallocate(f[5], A);
  EXPECT_TRUE(arena.empty());
}

TEST_F(ArenaTest, ExhaustionReturnsNullAndSaysWhatWasNeeded) {
  void* a = arena.allocate(10 * A);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(arena.bytes_needed(), 0u);
  EXPECT_EQ(arena.allocate(7 * A), nullptr);
  EXPECT_EQ(arena.bytes_needed(), 17 * A);
  EXPECT_EQ(arena.used(), 10 * A);  // a failed allocation takes nothing
  void* b = arena.allocate(6 * A);  // what is left still works
  EXPECT_NE(b, nullptr);
  arena.deallocate(b, 6 * A);
  arena.deallocate(a, 10 * A);
}

TEST_F(ArenaTest, ResetForgetsEverything) {
  (void)arena.allocate(A);
  EXPECT_EQ(arena.allocate(100 * A), nullptr);
  arena.reset(storage, sizeof storage);
  EXPECT_TRUE(arena.empty());
  EXPECT_EQ(arena.high_water_mark(), 0u);
  EXPECT_EQ(arena.bytes_needed(), 0u);
}

}  // namespace
}  // namespace mote::async
