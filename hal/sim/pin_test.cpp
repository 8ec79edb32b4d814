#include "mote/hal/sim/pin.hpp"

#include <gtest/gtest.h>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/async/timeout.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::hal::sim {
namespace {

using namespace std::chrono_literals;
using async::Task;
using async::TaskStorage;

class SimPinTest : public ::testing::Test {
 protected:
  platform::SimDriver driver;
  async::Executor executor{driver};
};

Task<void> wait_edge(SimPin& pin, Edge edge, std::vector<Status>& log) {
  log.push_back(co_await pin.wait_for_edge(edge));
}

Task<void> wait_level(SimPin& pin, bool high, std::vector<Status>& log) {
  log.push_back(co_await pin.wait_for_level(high));
}

TEST_F(SimPinTest, ReadFollowsDriveAndSet) {
  SimPin pin;
  EXPECT_FALSE(*pin.read());
  pin.drive(true);
  EXPECT_TRUE(*pin.read());
  EXPECT_TRUE(pin.set(false).ok());
  EXPECT_FALSE(*pin.read());
  EXPECT_EQ(pin.edge_count(), 2u);
}

TEST_F(SimPinTest, RisingEdgeWakesOnlyRisingAndAnyWaiters) {
  SimPin pin;
  std::vector<Status> rising, falling, any;
  TaskStorage<256> a, b, c;
  ASSERT_TRUE(executor.spawn(a, wait_edge, std::ref(pin), Edge::rising, std::ref(rising)).ok());
  ASSERT_TRUE(executor.spawn(b, wait_edge, std::ref(pin), Edge::falling, std::ref(falling)).ok());
  ASSERT_TRUE(executor.spawn(c, wait_edge, std::ref(pin), Edge::any, std::ref(any)).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(rising.empty() && falling.empty() && any.empty());
  EXPECT_EQ(pin.waiter_count(), 3u);

  pin.drive(true);
  executor.run_until_stalled();
  EXPECT_EQ(rising.size(), 1u);
  EXPECT_TRUE(falling.empty());
  EXPECT_EQ(any.size(), 1u);

  pin.drive(true);  // no change, no edge
  executor.run_until_stalled();
  EXPECT_TRUE(falling.empty());

  pin.drive(false);
  EXPECT_TRUE(executor.run().ok());
  ASSERT_EQ(falling.size(), 1u);
  EXPECT_TRUE(falling[0].ok());
  EXPECT_FALSE(pin.watching());
}

TEST_F(SimPinTest, EdgeWaitDoesNotCompleteForTheCurrentLevel) {
  SimPin pin(true);
  std::vector<Status> log;
  TaskStorage<256> a;
  ASSERT_TRUE(executor.spawn(a, wait_edge, std::ref(pin), Edge::rising, std::ref(log)).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty()) << "already high is not a rising edge";
  pin.drive(false);
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  pin.drive(true);
  executor.run_until_stalled();
  EXPECT_EQ(log.size(), 1u);
}

TEST_F(SimPinTest, LevelWaitCompletesAtOnceWhenAlreadyThere) {
  SimPin pin(true);
  std::vector<Status> log;
  TaskStorage<256> a, b;
  ASSERT_TRUE(executor.spawn(a, wait_level, std::ref(pin), true, std::ref(log)).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log.size(), 1u);
  EXPECT_FALSE(pin.watching()) << "a wait that completed at once never registered";

  ASSERT_TRUE(executor.spawn(b, wait_level, std::ref(pin), false, std::ref(log)).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log.size(), 1u);
  EXPECT_TRUE(pin.watching());
  pin.drive(false);
  executor.run_until_stalled();
  EXPECT_EQ(log.size(), 2u);
}

TEST_F(SimPinTest, WaiterCancelledBeforeTheEdgeLeavesNothingBehind) {
  SimPin pin;
  std::vector<Status> log;
  TaskStorage<256> waiter;
  ASSERT_TRUE(executor.spawn(waiter, wait_edge, std::ref(pin), Edge::rising, std::ref(log)).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(pin.watching());
  waiter.cancel();
  EXPECT_EQ(waiter.exit_status().code(), StatusCode::cancelled);
  EXPECT_FALSE(pin.watching()) << "the cancelled waiter must leave the pin's list";
  pin.drive(true);  // must not touch the destroyed awaiter (ASan would catch it)
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
}

Task<Status> falling_edge(SimPin& pin) { co_return co_await pin.wait_for_edge(Edge::falling); }

Task<void> edge_or_timeout(SimPin& pin, Status& result) {
  result = co_await async::with_timeout(5ms, falling_edge(pin));
}

TEST_F(SimPinTest, TimeoutCancelsTheEdgeWait) {
  SimPin pin(true);
  Status result;
  TaskStorage<1024> task;
  ASSERT_TRUE(executor.spawn(task, edge_or_timeout, std::ref(pin), std::ref(result)).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(pin.watching());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(result.code(), StatusCode::deadline_exceeded);
  EXPECT_EQ(driver.now(), async::Instant(5ms));
  EXPECT_FALSE(pin.watching());
}

Task<void> blink(SimPin& led, int times) {
  for (int i = 0; i < times; ++i) {
    MOTE_ASSERT(led.toggle().ok());
    co_await async::sleep_for(100ms);
  }
}

TEST_F(SimPinTest, RecordsOutputHistory) {
  SimPin led;
  TaskStorage<512> task;
  ASSERT_TRUE(executor.spawn(task, blink, std::ref(led), 4).ok());
  EXPECT_TRUE(executor.run().ok());
  const std::vector<bool> history(led.history().begin(), led.history().end());
  EXPECT_EQ(history, (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(led.write_count(), 4u);
  EXPECT_EQ(driver.now(), async::Instant(400ms));
}

TEST_F(SimPinTest, LostLineFailsWaitersAndLaterCalls) {
  SimPin pin;
  std::vector<Status> log;
  TaskStorage<256> a, b;
  ASSERT_TRUE(executor.spawn(a, wait_edge, std::ref(pin), Edge::any, std::ref(log)).ok());
  executor.run_until_stalled();
  pin.fail(Status::unavailable());
  executor.run_until_stalled();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].code(), StatusCode::unavailable);
  EXPECT_EQ(pin.read().status().code(), StatusCode::unavailable);
  EXPECT_EQ(pin.set(true).code(), StatusCode::unavailable);
  pin.restore();
  pin.set_edge_detection(false);
  ASSERT_TRUE(executor.spawn(b, wait_edge, std::ref(pin), Edge::any, std::ref(log)).ok());
  executor.run_until_stalled();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].code(), StatusCode::failed_precondition);
}

}  // namespace
}  // namespace mote::hal::sim
