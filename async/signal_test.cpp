#include "mote/async/signal.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <ostream>
#include <utility>
#include <variant>
#include <vector>

#include "mote/async/sleep.hpp"
#include "mote/async/timeout.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::async {
namespace {

using namespace std::chrono_literals;

class SignalTest : public ::testing::Test {
 protected:
  platform::SimDriver driver;
  Executor executor{driver};
};

struct Got {
  int who;
  int value;
  friend bool operator==(const Got&, const Got&) = default;
  friend void PrintTo(const Got& got, std::ostream* os) {
    *os << "{who " << got.who << ", value " << got.value << "}";
  }
};

Task<void> wait_n(Signal<int>& signal, std::vector<Got>& log, int who, int count) {
  for (int i = 0; i < count; ++i) {
    int value = co_await signal.wait();
    log.push_back({who, value});
  }
}

Task<void> wait_void(Signal<>& signal, int& wakes, int count) {
  for (int i = 0; i < count; ++i) {
    std::monostate value = co_await signal.wait();
    (void)value;
    ++wakes;
  }
}

TEST_F(SignalTest, ValueIsStoredWithoutAWaiterAndTheLatestWins) {
  Signal<int> signal;
  EXPECT_FALSE(signal.signaled());
  EXPECT_EQ(signal.try_take(), std::nullopt);
  signal.signal(1);
  EXPECT_TRUE(signal.signaled());
  signal.signal(2);
  signal.signal(3);
  EXPECT_TRUE(signal.signaled());
  EXPECT_EQ(signal.try_take(), 3);
  EXPECT_FALSE(signal.signaled());
  EXPECT_EQ(signal.try_take(), std::nullopt);
}

TEST_F(SignalTest, ResetDropsTheStoredValue) {
  Signal<int> signal;
  signal.signal(4);
  signal.reset();
  EXPECT_FALSE(signal.signaled());
  EXPECT_EQ(signal.try_take(), std::nullopt);
}

TEST_F(SignalTest, WaitTakesAStoredValueWithoutWaiting) {
  Signal<int> signal;
  signal.signal(3);
  signal.signal(4);
  std::vector<Got> log;
  TaskStorage<1024> waiter;
  ASSERT_TRUE(executor.spawn(waiter, wait_n, std::ref(signal), std::ref(log), 1, 1).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Got>{{1, 4}}));
  EXPECT_EQ(waiter.state(), TaskState::finished);
  EXPECT_FALSE(signal.signaled());
}

TEST_F(SignalTest, WaiterWokenBySignalGetsThatValue) {
  Signal<int> signal;
  std::vector<Got> log;
  TaskStorage<1024> waiter;
  ASSERT_TRUE(executor.spawn(waiter, wait_n, std::ref(signal), std::ref(log), 1, 2).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  signal.signal(7);
  // Handed to the waiter, not stored.
  EXPECT_FALSE(signal.signaled());
  EXPECT_TRUE(log.empty());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Got>{{1, 7}}));
  signal.signal(8);
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, (std::vector<Got>{{1, 7}, {1, 8}}));
  EXPECT_FALSE(signal.signaled());
}

TEST_F(SignalTest, EachSignalGoesToTheNextWaiterInOrder) {
  Signal<int> signal;
  std::vector<Got> log;
  TaskStorage<1024> w1, w2, w3;
  ASSERT_TRUE(executor.spawn(w2, wait_n, std::ref(signal), std::ref(log), 2, 1).ok());
  ASSERT_TRUE(executor.spawn(w1, wait_n, std::ref(signal), std::ref(log), 1, 1).ok());
  ASSERT_TRUE(executor.spawn(w3, wait_n, std::ref(signal), std::ref(log), 3, 1).ok());
  executor.run_until_stalled();
  signal.signal(10);
  signal.signal(20);
  EXPECT_FALSE(signal.signaled());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Got>{{2, 10}, {1, 20}}));
  EXPECT_EQ(w3.state(), TaskState::running);
  signal.signal(30);
  signal.signal(40);  // no waiter left: stored
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Got>{{2, 10}, {1, 20}, {3, 30}}));
  EXPECT_EQ(signal.try_take(), 40);
}

TEST_F(SignalTest, ValueHandedToAWaiterIsNotReplacedByALaterSignal) {
  Signal<int> signal;
  std::vector<Got> log;
  TaskStorage<1024> waiter;
  ASSERT_TRUE(executor.spawn(waiter, wait_n, std::ref(signal), std::ref(log), 1, 2).ok());
  executor.run_until_stalled();
  signal.signal(1);  // handed to the waiter
  signal.signal(2);  // stored
  EXPECT_TRUE(signal.signaled());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Got>{{1, 1}, {1, 2}}));
  EXPECT_FALSE(signal.signaled());
}

TEST_F(SignalTest, VoidSignalWakesAndIsStored) {
  Signal<> signal;
  // Signals without a waiter collapse into one.
  signal.signal();
  signal.signal();
  signal.signal();
  EXPECT_TRUE(signal.signaled());
  int wakes = 0;
  TaskStorage<1024> waiter;
  ASSERT_TRUE(executor.spawn(waiter, wait_void, std::ref(signal), std::ref(wakes), 2).ok());
  executor.run_until_stalled();
  EXPECT_EQ(wakes, 1);
  EXPECT_FALSE(signal.signaled());
  EXPECT_EQ(waiter.state(), TaskState::running);
  signal.signal();
  EXPECT_FALSE(signal.signaled());  // handed to the waiter
  executor.run_until_stalled();
  EXPECT_EQ(wakes, 2);
  EXPECT_EQ(waiter.state(), TaskState::finished);
  signal.signal();
  EXPECT_TRUE(signal.try_take().has_value());
  EXPECT_FALSE(signal.try_take().has_value());
}

// --- Cancellation ------------------------------------------------------------------

TEST_F(SignalTest, WaiterCancelledWhileWaitingTakesNothing) {
  Signal<int> signal;
  std::vector<Got> log;
  TaskStorage<1024> waiter;
  ASSERT_TRUE(executor.spawn(waiter, wait_n, std::ref(signal), std::ref(log), 1, 1).ok());
  executor.run_until_stalled();
  waiter.cancel();
  signal.signal(4);
  EXPECT_TRUE(signal.signaled());
  EXPECT_EQ(signal.try_take(), 4);
  EXPECT_TRUE(log.empty());
}

TEST_F(SignalTest, CancelledWaiterGivesAHandedValueBack) {
  Signal<int> signal;
  std::vector<Got> log;
  TaskStorage<1024> waiter;
  ASSERT_TRUE(executor.spawn(waiter, wait_n, std::ref(signal), std::ref(log), 1, 1).ok());
  executor.run_until_stalled();
  signal.signal(5);
  EXPECT_FALSE(signal.signaled());
  waiter.cancel();
  EXPECT_EQ(waiter.exit_status(), Status::cancelled());
  EXPECT_TRUE(signal.signaled());
  // A later wait gets it.
  TaskStorage<1024> later;
  ASSERT_TRUE(executor.spawn(later, wait_n, std::ref(signal), std::ref(log), 2, 1).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Got>{{2, 5}}));
  EXPECT_FALSE(signal.signaled());
}

TEST_F(SignalTest, CancelledWaiterPassesAHandedValueToTheNextWaiter) {
  Signal<int> signal;
  std::vector<Got> log;
  TaskStorage<1024> w1, w2;
  ASSERT_TRUE(executor.spawn(w1, wait_n, std::ref(signal), std::ref(log), 1, 1).ok());
  ASSERT_TRUE(executor.spawn(w2, wait_n, std::ref(signal), std::ref(log), 2, 1).ok());
  executor.run_until_stalled();
  signal.signal(5);
  w1.cancel();
  EXPECT_FALSE(signal.signaled());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Got>{{2, 5}}));
  EXPECT_FALSE(signal.signaled());
}

TEST_F(SignalTest, CancelledWaiterDoesNotOverwriteANewerStoredValue) {
  Signal<int> signal;
  std::vector<Got> log;
  TaskStorage<1024> waiter;
  ASSERT_TRUE(executor.spawn(waiter, wait_n, std::ref(signal), std::ref(log), 1, 1).ok());
  executor.run_until_stalled();
  signal.signal(5);  // handed to the waiter
  signal.signal(6);  // stored
  waiter.cancel();
  EXPECT_EQ(signal.try_take(), 6);
  EXPECT_EQ(signal.try_take(), std::nullopt);
  EXPECT_TRUE(log.empty());
}

// 6 arrived after 5 and went to w2; the cancelled w1 must not bring back the
// older 5 for a later wait (the latest wins).
TEST_F(SignalTest, CancelledWaiterDoesNotRestoreAValueOlderThanOneAlreadyHandedOut) {
  Signal<int> signal;
  std::vector<Got> log;
  TaskStorage<1024> w1, w2;
  ASSERT_TRUE(executor.spawn(w1, wait_n, std::ref(signal), std::ref(log), 1, 1).ok());
  ASSERT_TRUE(executor.spawn(w2, wait_n, std::ref(signal), std::ref(log), 2, 1).ok());
  executor.run_until_stalled();
  signal.signal(5);  // handed to w1
  signal.signal(6);  // handed to w2
  w1.cancel();
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Got>{{2, 6}}));
  EXPECT_FALSE(signal.signaled());
  EXPECT_EQ(signal.try_take(), std::nullopt);
}

Task<void> wait_with_timeout(Signal<int>& signal, std::vector<Status>& statuses,
                             std::vector<Got>& log) {
  auto wait_task = [](Signal<int>& s) -> Task<int> { co_return co_await s.wait(); };
  Result<int> first = co_await with_timeout(10ms, wait_task(signal));
  statuses.push_back(first.status());
  if (first.ok()) log.push_back({1, *first});
  int second = co_await signal.wait();
  log.push_back({2, second});
}

TEST_F(SignalTest, TimedOutWaitLeavesTheSignalUsable) {
  Signal<int> signal;
  std::vector<Status> statuses;
  std::vector<Got> log;
  TaskStorage<4096> task;
  ASSERT_TRUE(
      executor.spawn(task, wait_with_timeout, std::ref(signal), std::ref(statuses), std::ref(log))
          .ok());
  executor.run_until_stalled();
  driver.advance(10ms);
  executor.run_until_stalled();
  EXPECT_EQ(statuses, std::vector<Status>{Status::deadline_exceeded()});
  EXPECT_TRUE(log.empty());
  signal.signal(9);
  EXPECT_FALSE(signal.signaled());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Got>{{2, 9}}));
  EXPECT_EQ(task.state(), TaskState::finished);
}

}  // namespace
}  // namespace mote::async
