#include "mote/base/result.hpp"

#include <gtest/gtest.h>
#include <string>
#include <utility>

namespace mote {
namespace {

static_assert(Result<int>(7).ok());
static_assert(*Result<int>(7) == 7);
static_assert(!Result<int>(Status::not_found()).ok());
static_assert(Result<int>(StatusCode::aborted).status() == Status::aborted());
static_assert(Result<int>(Status::internal()).value_or(3) == 3);

// Live Tracked instances, so a leaked or doubly destroyed value shows up.
int g_tracked_live = 0;

struct Tracked {
  explicit Tracked(int v) : value(v) { ++g_tracked_live; }
  Tracked(const Tracked& other) : value(other.value) { ++g_tracked_live; }
  Tracked(Tracked&& other) noexcept : value(other.value) {
    other.value = -1;
    ++g_tracked_live;
  }
  Tracked& operator=(const Tracked&) = default;
  Tracked& operator=(Tracked&&) = default;
  ~Tracked() { --g_tracked_live; }
  int value;
};

TEST(Result, HoldsAValue) {
  Result<int> result = 42;
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(static_cast<bool>(result));
  EXPECT_TRUE(result.status().ok());
  EXPECT_EQ(result.value(), 42);
  EXPECT_EQ(*result, 42);
  EXPECT_EQ(result.value_or(7), 42);
}

TEST(Result, HoldsAnError) {
  Result<int> result = Status::not_found();
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(static_cast<bool>(result));
  EXPECT_EQ(result.status(), Status::not_found());
  EXPECT_EQ(result.value_or(7), 7);

  Result<int> from_code = StatusCode::data_loss;
  EXPECT_EQ(from_code.status(), Status::data_loss());
}

TEST(Result, ArrowAndInPlace) {
  Result<std::pair<int, int>> result(std::in_place, 3, 4);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->first, 3);
  EXPECT_EQ(result->second, 4);
  result->first = 5;
  EXPECT_EQ(result.value().first, 5);
}

TEST(Result, MovesOutAValue) {
  Result<std::string> result = std::string(100, 'x');
  std::string taken = std::move(result).value();
  EXPECT_EQ(taken.size(), 100u);
}

TEST(Result, ValueLifetimeIsManaged) {
  g_tracked_live = 0;
  {
    Result<Tracked> a = Tracked(1);
    EXPECT_EQ(g_tracked_live, 1);
    Result<Tracked> b = a;
    EXPECT_EQ(g_tracked_live, 2);
    EXPECT_EQ(b->value, 1);
    Result<Tracked> c = std::move(a);
    EXPECT_EQ(g_tracked_live, 3);
    EXPECT_EQ(c->value, 1);

    Result<Tracked> error = Status::aborted();
    EXPECT_EQ(g_tracked_live, 3);
    b = error;  // destroys b's value
    EXPECT_EQ(g_tracked_live, 2);
    EXPECT_EQ(b.status(), Status::aborted());
    error = c;  // error becomes a value
    EXPECT_EQ(g_tracked_live, 3);
    ASSERT_TRUE(error.ok());
    EXPECT_EQ(error->value, 1);
    error = std::move(b);
    EXPECT_EQ(g_tracked_live, 2);
    EXPECT_FALSE(error.ok());
    Result<Tracked>& same = c;
    c = same;  // self-assignment keeps the value
    EXPECT_EQ(c->value, 1);
    EXPECT_EQ(g_tracked_live, 2);
  }
  EXPECT_EQ(g_tracked_live, 0);
}

TEST(ResultDeathTest, ValueOfAnErrorAsserts) {
  Result<int> result = Status::unavailable();
  EXPECT_DEATH(static_cast<void>(result.value()), "assertion failed");
}

TEST(ResultDeathTest, ConstructingFromOkAsserts) {
  EXPECT_DEATH(static_cast<void>(Result<int>{ok_status()}), "assertion failed");
}

// --- MOTE_TRY / MOTE_TRY_ASSIGN ------------------------------------------------

int g_calls = 0;

Status step(Status outcome) {
  ++g_calls;
  return outcome;
}

Result<int> parse(int input) {
  ++g_calls;
  if (input < 0) return Status::invalid_argument();
  return input * 2;
}

Status two_steps(Status first, Status second) {
  MOTE_TRY(step(first));
  MOTE_TRY(step(second));
  return ok_status();
}

Status try_on_result(int input) {
  MOTE_TRY(parse(input));
  return ok_status();
}

Result<int> sum_of_parsed(int a, int b) {
  MOTE_TRY_ASSIGN(int x, parse(a));
  MOTE_TRY_ASSIGN(const int y, parse(b));
  return x + y;
}

Status assign_existing(int input, int& out) {
  MOTE_TRY_ASSIGN(out, parse(input));
  return ok_status();
}

Result<std::string> move_only_path(int input) {
  MOTE_TRY_ASSIGN(auto value, parse(input));
  MOTE_TRY(step(ok_status()));
  return std::to_string(value);
}

TEST(MoteTry, PassesOkThrough) {
  g_calls = 0;
  EXPECT_EQ(two_steps(ok_status(), ok_status()), ok_status());
  EXPECT_EQ(g_calls, 2);
}

TEST(MoteTry, ReturnsTheFirstError) {
  g_calls = 0;
  EXPECT_EQ(two_steps(Status::aborted(), Status::internal()), Status::aborted());
  EXPECT_EQ(g_calls, 1);  // the second step never ran
  g_calls = 0;
  EXPECT_EQ(two_steps(ok_status(), Status::internal()), Status::internal());
  EXPECT_EQ(g_calls, 2);
}

TEST(MoteTry, AcceptsAResult) {
  EXPECT_EQ(try_on_result(1), ok_status());
  EXPECT_EQ(try_on_result(-1), Status::invalid_argument());
}

TEST(MoteTryAssign, DeclaresFromTheValue) {
  Result<int> sum = sum_of_parsed(2, 3);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(*sum, 10);
}

TEST(MoteTryAssign, ReturnsTheErrorAndStops) {
  g_calls = 0;
  Result<int> sum = sum_of_parsed(-1, 3);
  EXPECT_EQ(sum.status(), Status::invalid_argument());
  EXPECT_EQ(g_calls, 1);
  EXPECT_EQ(sum_of_parsed(1, -3).status(), Status::invalid_argument());
}

TEST(MoteTryAssign, AssignsAnExistingVariable) {
  int out = 0;
  EXPECT_EQ(assign_existing(21, out), ok_status());
  EXPECT_EQ(out, 42);
  out = 5;
  EXPECT_EQ(assign_existing(-21, out), Status::invalid_argument());
  EXPECT_EQ(out, 5);
}

TEST(MoteTryAssign, WorksInAFunctionReturningAnotherResultType) {
  Result<std::string> text = move_only_path(4);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "8");
  EXPECT_EQ(move_only_path(-4).status(), Status::invalid_argument());
}

}  // namespace
}  // namespace mote
