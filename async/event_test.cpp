#include "mote/async/event.hpp"

#include <gtest/gtest.h>
#include <vector>

#include "mote/async/join.hpp"
#include "mote/async/sleep.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::async {
namespace {

using namespace std::chrono_literals;

class EventTest : public ::testing::Test {
 protected:
  platform::SimDriver driver;
  Executor executor{driver};
};

Task<void> wait_then_log(Event& event, std::vector<int>& log, int id) {
  co_await event.wait();
  log.push_back(id);
}

TEST_F(EventTest, SetWakesEveryWaiterInOrder) {
  Event event;
  std::vector<int> log;
  TaskStorage<256> a, b, c;
  ASSERT_TRUE(executor.spawn(a, wait_then_log, std::ref(event), std::ref(log), 1).ok());
  ASSERT_TRUE(executor.spawn(b, wait_then_log, std::ref(event), std::ref(log), 2).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  event.set();
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
  // Still set: a later wait does not suspend.
  ASSERT_TRUE(executor.spawn(c, wait_then_log, std::ref(event), std::ref(log), 3).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));
}

TEST_F(EventTest, ResetMakesWaitersWaitAgain) {
  Event event;
  std::vector<int> log;
  event.set();
  EXPECT_TRUE(event.is_set());
  event.reset();
  EXPECT_FALSE(event.is_set());
  TaskStorage<256> a;
  ASSERT_TRUE(executor.spawn(a, wait_then_log, std::ref(event), std::ref(log), 1).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  event.set();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, std::vector<int>{1});
}

Task<void> tick_until(Event& stop, int& ticks) {
  for (;;) {
    co_await sleep_for(10ms);
    ++ticks;
    if (stop.is_set()) co_return;
  }
}

Task<void> wait_for(Event& stop) { co_await stop.wait(); }

TEST_F(EventTest, CancelledWaiterLeavesTheQueue) {
  Event event;
  int ticks = 0;
  TaskStorage<1024> storage;
  auto main = [](Event& event, int& ticks) -> Task<void> {
    // The tick loop wins; the waiter on `never` is cancelled and must leave
    // that event's queue (the Event's destructor checks it is empty).
    Event never;
    (void)co_await select(wait_for(never), tick_until(event, ticks));
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(event), std::ref(ticks)).ok());
  executor.run_until_stalled();
  driver.advance(25ms);
  executor.run_until_stalled();
  EXPECT_EQ(ticks, 1);  // at 25 ms; the next tick is due at 35 ms
  event.set();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(ticks, 2);
}

}  // namespace
}  // namespace mote::async
