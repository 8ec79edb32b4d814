#include "mote/async/timeout.hpp"

#include <gtest/gtest.h>
#include <vector>

#include "mote/async/sleep.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::async {
namespace {

using namespace std::chrono_literals;

class TimeoutTest : public ::testing::Test {
 protected:
  platform::SimDriver driver;
  Executor executor{driver};
};

Task<int> slow_value(Duration d, int value, bool& finished) {
  co_await sleep_for(d);
  finished = true;
  co_return value;
}

TEST_F(TimeoutTest, OnTimeYieldsTheValue) {
  TaskStorage<1024> storage;
  Result<int> result = Status::unknown();
  bool finished = false;
  auto main = [](Result<int>& result, bool& finished) -> Task<void> {
    result = co_await with_timeout(50ms, slow_value(10ms, 42, finished));
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(result), std::ref(finished)).ok());
  const Instant start = executor.now();
  EXPECT_TRUE(executor.run().ok());
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 42);
  EXPECT_TRUE(finished);
  EXPECT_EQ(executor.now() - start, 10ms);  // the timeout's timer was removed
}

TEST_F(TimeoutTest, LateIsDeadlineExceededAndCancelsAtTheDeadline) {
  TaskStorage<1024> storage;
  Result<int> result = 0;
  bool finished = false;
  auto main = [](Result<int>& result, bool& finished) -> Task<void> {
    result = co_await with_timeout(20ms, slow_value(1s, 42, finished));
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(result), std::ref(finished)).ok());
  const Instant start = executor.now();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(result.status(), Status::deadline_exceeded());
  EXPECT_FALSE(finished);
  EXPECT_EQ(executor.now() - start, 20ms);
}

Task<void> wait(Duration d) { co_await sleep_for(d); }
Task<Status> status_after(Duration d, Status s) {
  co_await sleep_for(d);
  co_return s;
}

TEST_F(TimeoutTest, VoidAndStatusTasksGiveAStatus) {
  TaskStorage<1024> storage;
  std::vector<Status> seen;
  auto main = [](std::vector<Status>& seen) -> Task<void> {
    seen.push_back(co_await with_timeout(10ms, wait(5ms)));
    seen.push_back(co_await with_timeout(10ms, wait(50ms)));
    seen.push_back(co_await with_timeout(10ms, status_after(1ms, Status::not_found())));
    seen.push_back(co_await with_deadline(now() + 1ms, status_after(5ms, ok_status())));
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(seen)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(seen, (std::vector<Status>{ok_status(), Status::deadline_exceeded(),
                                       Status::not_found(), Status::deadline_exceeded()}));
}

Task<int> immediate() { co_return 5; }

TEST_F(TimeoutTest, ImmediateCompletionNeedsNoTimer) {
  TaskStorage<1024> storage;
  Result<int> result = 0;
  auto main = [](Result<int>& result) -> Task<void> {
    result = co_await with_timeout(1ms, immediate());
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(result)).ok());
  executor.run_until_stalled();
  EXPECT_EQ(storage.state(), TaskState::finished);
  EXPECT_EQ(*result, 5);
}

TEST_F(TimeoutTest, CancellingTheWaiterRemovesTimerAndTask) {
  TaskStorage<1024> storage;
  bool finished = false;
  auto main = [](bool& finished) -> Task<void> {
    (void)co_await with_timeout(20ms, slow_value(10ms, 1, finished));
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(finished)).ok());
  executor.run_until_stalled();
  storage.cancel();
  driver.advance(1s);
  executor.run_until_stalled();
  EXPECT_FALSE(finished);
  EXPECT_EQ(storage.exit_status(), Status::cancelled());
}

TEST_F(TimeoutTest, NestedTimeoutsTheInnerFiresFirst) {
  TaskStorage<2048> storage;
  Status outer = Status::unknown();
  bool finished = false;
  auto inner = [](bool& finished) -> Task<Status> {
    Result<int> r = co_await with_timeout(5ms, slow_value(1s, 1, finished));
    co_return r.status();
  };
  auto main = [inner](Status& outer, bool& finished) -> Task<void> {
    outer = co_await with_timeout(50ms, inner(finished));
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(outer), std::ref(finished)).ok());
  const Instant start = executor.now();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(outer, Status::deadline_exceeded());  // the inner one's, returned on time
  EXPECT_EQ(executor.now() - start, 5ms);
  EXPECT_FALSE(finished);
}

}  // namespace
}  // namespace mote::async
