#include "mote/async/interrupt_event.hpp"

#include <gtest/gtest.h>
#include <thread>

#include "mote/async/timeout.hpp"
#include "mote/platform/epoll_driver.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::async {
namespace {

using namespace std::chrono_literals;

class InterruptEventTest : public ::testing::Test {
 protected:
  platform::SimDriver driver;
  Executor executor{driver};
};

Task<void> count_wakes(InterruptEvent& event, int& wakes, int limit) {
  while (wakes < limit) {
    co_await event.wait();
    ++wakes;
  }
}

TEST_F(InterruptEventTest, RaiseWakesTheWaitingTask) {
  InterruptEvent event(executor);
  int wakes = 0;
  TaskStorage<256> task;
  ASSERT_TRUE(executor.spawn(task, count_wakes, std::ref(event), std::ref(wakes), 2).ok());
  executor.run_until_stalled();
  EXPECT_EQ(wakes, 0);
  event.raise();  // as an interrupt handler would
  EXPECT_TRUE(event.pending());
  executor.run_until_stalled();
  EXPECT_EQ(wakes, 1);
  EXPECT_FALSE(event.pending());
  event.raise();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(wakes, 2);
}

TEST_F(InterruptEventTest, RaisesBeforeTheTaskRunsCoalesce) {
  InterruptEvent event(executor);
  int wakes = 0;
  TaskStorage<256> task;
  ASSERT_TRUE(executor.spawn(task, count_wakes, std::ref(event), std::ref(wakes), 5).ok());
  executor.run_until_stalled();
  event.raise();
  event.raise();
  event.raise();
  executor.run_until_stalled();
  EXPECT_EQ(wakes, 1);
  task.cancel();
}

TEST_F(InterruptEventTest, RaiseBeforeTheWaitCompletesItAtOnce) {
  InterruptEvent event(executor);
  event.raise();
  int wakes = 0;
  TaskStorage<256> task;
  ASSERT_TRUE(executor.spawn(task, count_wakes, std::ref(event), std::ref(wakes), 1).ok());
  executor.run_until_stalled();
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(task.state(), TaskState::finished);
}

TEST_F(InterruptEventTest, CancelledWaiterLeavesTheEventRaisedForTheNext) {
  InterruptEvent event(executor);
  int first = 0, second = 0;
  TaskStorage<256> a, b;
  ASSERT_TRUE(executor.spawn(a, count_wakes, std::ref(event), std::ref(first), 1).ok());
  executor.run_until_stalled();
  a.cancel();  // unwatched: a raise must not touch its destroyed frame
  event.raise();
  executor.run_until_stalled();
  EXPECT_EQ(first, 0);
  EXPECT_TRUE(event.pending());
  ASSERT_TRUE(executor.spawn(b, count_wakes, std::ref(event), std::ref(second), 1).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(second, 1);
}

Task<Status> wait_with_guard(InterruptEvent& event) {
  co_return co_await with_timeout(
      10s, [](InterruptEvent& e) -> Task<void> { co_await e.wait(); }(event));
}

TEST(InterruptEventThreadTest, AnotherThreadWakesAnExecutorBlockedInEpoll) {
  platform::EpollDriver driver;
  Executor executor(driver);
  InterruptEvent event(executor);
  TaskStorage<1024> task;
  ASSERT_TRUE(executor.spawn(task, wait_with_guard, std::ref(event)).ok());
  std::thread raiser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    event.raise();
  });
  EXPECT_TRUE(executor.run().ok());
  raiser.join();
  // ok, not deadline_exceeded: the raise woke it, the 10 s guard did not.
  EXPECT_TRUE(task.exit_status().ok());
}

}  // namespace
}  // namespace mote::async
