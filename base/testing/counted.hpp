#pragma once
// Counted: an element type for container tests. It counts live instances,
// copies and moves, and flags destroying an object that is not alive, so a
// container that leaks, double-destroys or forgets to construct fails a test.

#include <gtest/gtest.h>

namespace mote::testing {

class Counted {
 public:
  static int live() { return counts().live; }
  static int copies() { return counts().copies; }
  static int moves() { return counts().moves; }
  static void reset() { counts() = {}; }

  Counted() : Counted(0) {}
  explicit Counted(int v) : value(v) { ++counts().live; }
  Counted(const Counted& other) : value(other.check().value) {
    ++counts().live;
    ++counts().copies;
  }
  Counted(Counted&& other) noexcept : value(other.check().value) {
    other.value = -1;
    ++counts().live;
    ++counts().moves;
  }
  Counted& operator=(const Counted& other) {
    check();
    value = other.check().value;
    ++counts().copies;
    return *this;
  }
  Counted& operator=(Counted&& other) noexcept {
    check();
    value = other.check().value;
    other.value = -1;
    ++counts().moves;
    return *this;
  }
  ~Counted() {
    check();
    state_ = kDead;
    --counts().live;
  }

  friend bool operator==(const Counted& a, const Counted& b) { return a.value == b.value; }

  int value;

 private:
  struct Counts {
    int live = 0;
    int copies = 0;
    int moves = 0;
  };
  static Counts& counts() {
    static Counts counts;
    return counts;
  }

  static constexpr unsigned kAlive = 0xa11e;
  static constexpr unsigned kDead = 0xdead;

  const Counted& check() const {
    if (state_ != kAlive) ADD_FAILURE() << "use of a Counted that is not alive";
    return *this;
  }

  unsigned state_ = kAlive;
};

// Checks, on tear-down, that every Counted a test created was destroyed.
class CountedTest : public ::testing::Test {
 protected:
  void SetUp() override { Counted::reset(); }
  void TearDown() override { EXPECT_EQ(Counted::live(), 0) << "Counted objects leaked"; }
};

}  // namespace mote::testing
