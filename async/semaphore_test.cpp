#include "mote/async/semaphore.hpp"

#include <algorithm>
#include <cstddef>
#include <gtest/gtest.h>
#include <vector>

#include "mote/async/sleep.hpp"
#include "mote/async/timeout.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::async {
namespace {

using namespace std::chrono_literals;

class SemaphoreTest : public ::testing::Test {
 protected:
  platform::SimDriver driver;
  Executor executor{driver};
};

// Acquires `count` permits and logs its id; keeps the permits (the test
// releases them) unless `give_back` is set.
Task<void> acquire_and_log(Semaphore& semaphore, std::size_t count, std::vector<int>& log, int id,
                           bool give_back) {
  co_await semaphore.acquire(count);
  log.push_back(id);
  if (give_back) semaphore.release(count);
}

TEST_F(SemaphoreTest, TryAcquireCountsPermits) {
  Semaphore semaphore(3);
  EXPECT_EQ(semaphore.available(), 3u);
  EXPECT_TRUE(semaphore.try_acquire(2));
  EXPECT_EQ(semaphore.available(), 1u);
  EXPECT_FALSE(semaphore.try_acquire(2));
  EXPECT_EQ(semaphore.available(), 1u);
  EXPECT_TRUE(semaphore.try_acquire());
  EXPECT_EQ(semaphore.available(), 0u);
  EXPECT_FALSE(semaphore.try_acquire());
  semaphore.release(3);
  EXPECT_EQ(semaphore.available(), 3u);
  EXPECT_TRUE(semaphore.try_acquire(3));
  semaphore.release();
  EXPECT_EQ(semaphore.available(), 1u);
}

TEST_F(SemaphoreTest, AcquireWithPermitsAvailableDoesNotWait) {
  Semaphore semaphore(2);
  std::vector<int> log;
  TaskStorage<1024> a, b;
  ASSERT_TRUE(
      executor.spawn(a, acquire_and_log, std::ref(semaphore), 1, std::ref(log), 1, false).ok());
  ASSERT_TRUE(
      executor.spawn(b, acquire_and_log, std::ref(semaphore), 1, std::ref(log), 2, false).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
  EXPECT_EQ(semaphore.available(), 0u);
  EXPECT_EQ(executor.live_tasks(), 0u);
}

TEST_F(SemaphoreTest, AcquireWaitsUntilPermitsAreReleased) {
  Semaphore semaphore(0);
  std::vector<int> log;
  TaskStorage<1024> waiter;
  ASSERT_TRUE(
      executor.spawn(waiter, acquire_and_log, std::ref(semaphore), 2, std::ref(log), 1, false)
          .ok());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  semaphore.release();
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(semaphore.available(), 1u);
  semaphore.release();
  // Granted at once: the permits are taken before the waiter runs.
  EXPECT_EQ(semaphore.available(), 0u);
  executor.run_until_stalled();
  EXPECT_EQ(log, std::vector<int>{1});
  EXPECT_EQ(semaphore.available(), 0u);
}

TEST_F(SemaphoreTest, LargeRequestIsNotOvertakenByALaterSmallOne) {
  Semaphore semaphore(0);
  std::vector<int> log;
  TaskStorage<1024> big, small;
  ASSERT_TRUE(
      executor.spawn(big, acquire_and_log, std::ref(semaphore), 3, std::ref(log), 3, false).ok());
  ASSERT_TRUE(
      executor.spawn(small, acquire_and_log, std::ref(semaphore), 1, std::ref(log), 1, false).ok());
  executor.run_until_stalled();
  semaphore.release();
  semaphore.release();
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(semaphore.available(), 2u);
  semaphore.release();
  executor.run_until_stalled();
  EXPECT_EQ(log, std::vector<int>{3});
  EXPECT_EQ(semaphore.available(), 0u);
  semaphore.release();
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<int>{3, 1}));
  EXPECT_EQ(semaphore.available(), 0u);
}

TEST_F(SemaphoreTest, ReleaseWakesAsManyWaitersAsFitInOrder) {
  Semaphore semaphore(0);
  std::vector<int> log;
  TaskStorage<1024> w1, w2, w3, w4, w5;
  ASSERT_TRUE(
      executor.spawn(w1, acquire_and_log, std::ref(semaphore), 1, std::ref(log), 1, false).ok());
  ASSERT_TRUE(
      executor.spawn(w2, acquire_and_log, std::ref(semaphore), 2, std::ref(log), 2, false).ok());
  ASSERT_TRUE(
      executor.spawn(w3, acquire_and_log, std::ref(semaphore), 1, std::ref(log), 3, false).ok());
  ASSERT_TRUE(
      executor.spawn(w4, acquire_and_log, std::ref(semaphore), 5, std::ref(log), 4, false).ok());
  ASSERT_TRUE(
      executor.spawn(w5, acquire_and_log, std::ref(semaphore), 1, std::ref(log), 5, false).ok());
  executor.run_until_stalled();
  semaphore.release(5);  // 1 + 2 + 1 fit; w4 needs 5 and holds back w5
  EXPECT_EQ(semaphore.available(), 1u);
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));
  semaphore.release(4);
  EXPECT_EQ(semaphore.available(), 0u);
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3, 4}));
  semaphore.release();
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(semaphore.available(), 0u);
  EXPECT_EQ(executor.live_tasks(), 0u);
}

TEST_F(SemaphoreTest, TryAcquireDoesNotOvertakeAWaiter) {
  Semaphore semaphore(1);
  std::vector<int> log;
  TaskStorage<1024> waiter;
  ASSERT_TRUE(
      executor.spawn(waiter, acquire_and_log, std::ref(semaphore), 2, std::ref(log), 1, false)
          .ok());
  executor.run_until_stalled();
  EXPECT_EQ(semaphore.available(), 1u);
  EXPECT_FALSE(semaphore.try_acquire(1));
  EXPECT_EQ(semaphore.available(), 1u);
  semaphore.release();
  EXPECT_EQ(semaphore.available(), 0u);
  executor.run_until_stalled();
  EXPECT_EQ(log, std::vector<int>{1});
  semaphore.release(2);
  EXPECT_TRUE(semaphore.try_acquire(1));
  EXPECT_EQ(semaphore.available(), 1u);
}

TEST_F(SemaphoreTest, CancelledGrantedWaiterReturnsItsPermitsToTheNextWaiter) {
  Semaphore semaphore(0);
  std::vector<int> log;
  TaskStorage<1024> w1, w2;
  ASSERT_TRUE(
      executor.spawn(w1, acquire_and_log, std::ref(semaphore), 2, std::ref(log), 1, false).ok());
  ASSERT_TRUE(
      executor.spawn(w2, acquire_and_log, std::ref(semaphore), 2, std::ref(log), 2, false).ok());
  executor.run_until_stalled();
  semaphore.release(2);  // granted to w1
  EXPECT_EQ(semaphore.available(), 0u);
  w1.cancel();  // its permits go to w2
  EXPECT_EQ(w1.exit_status(), Status::cancelled());
  EXPECT_EQ(semaphore.available(), 0u);
  executor.run_until_stalled();
  EXPECT_EQ(log, std::vector<int>{2});
  EXPECT_EQ(executor.live_tasks(), 0u);
}

TEST_F(SemaphoreTest, CancelledGrantedWaiterReturnsItsPermits) {
  Semaphore semaphore(0);
  std::vector<int> log;
  TaskStorage<1024> w1;
  ASSERT_TRUE(
      executor.spawn(w1, acquire_and_log, std::ref(semaphore), 3, std::ref(log), 1, false).ok());
  executor.run_until_stalled();
  semaphore.release(4);
  EXPECT_EQ(semaphore.available(), 1u);
  w1.cancel();
  EXPECT_EQ(semaphore.available(), 4u);
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
}

TEST_F(SemaphoreTest, CancelledWaitingHeadLetsTheNextThrough) {
  Semaphore semaphore(1);
  std::vector<int> log;
  TaskStorage<1024> head, next, last;
  ASSERT_TRUE(
      executor.spawn(head, acquire_and_log, std::ref(semaphore), 3, std::ref(log), 1, false).ok());
  ASSERT_TRUE(
      executor.spawn(next, acquire_and_log, std::ref(semaphore), 1, std::ref(log), 2, false).ok());
  ASSERT_TRUE(
      executor.spawn(last, acquire_and_log, std::ref(semaphore), 1, std::ref(log), 3, false).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(semaphore.available(), 1u);
  head.cancel();
  // `next` gets the one permit; `last` still waits.
  EXPECT_EQ(semaphore.available(), 0u);
  executor.run_until_stalled();
  EXPECT_EQ(log, std::vector<int>{2});
  EXPECT_EQ(last.state(), TaskState::running);
  semaphore.release();
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<int>{2, 3}));
}

TEST_F(SemaphoreTest, CancelledWaiterBehindTheHeadChangesNothing) {
  Semaphore semaphore(0);
  std::vector<int> log;
  TaskStorage<1024> w1, w2, w3;
  ASSERT_TRUE(
      executor.spawn(w1, acquire_and_log, std::ref(semaphore), 2, std::ref(log), 1, false).ok());
  ASSERT_TRUE(
      executor.spawn(w2, acquire_and_log, std::ref(semaphore), 1, std::ref(log), 2, false).ok());
  ASSERT_TRUE(
      executor.spawn(w3, acquire_and_log, std::ref(semaphore), 1, std::ref(log), 3, false).ok());
  executor.run_until_stalled();
  w2.cancel();
  semaphore.release(3);  // w1 (2) then w3 (1)
  EXPECT_EQ(semaphore.available(), 0u);
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<int>{1, 3}));
}

Task<void> acquire_with_timeout(Semaphore& semaphore, std::size_t count, Status& status) {
  auto acquire_task = [](Semaphore& s, std::size_t n) -> Task<void> { co_await s.acquire(n); };
  status = co_await with_timeout(10ms, acquire_task(semaphore, count));
}

TEST_F(SemaphoreTest, TimedOutHeadLetsTheNextThrough) {
  Semaphore semaphore(1);
  Status status = Status::unknown();
  std::vector<int> log;
  TaskStorage<4096> head;
  TaskStorage<1024> next;
  ASSERT_TRUE(
      executor.spawn(head, acquire_with_timeout, std::ref(semaphore), 3, std::ref(status)).ok());
  ASSERT_TRUE(
      executor.spawn(next, acquire_and_log, std::ref(semaphore), 1, std::ref(log), 2, false).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  driver.advance(10ms);
  executor.run_until_stalled();
  EXPECT_EQ(status, Status::deadline_exceeded());
  EXPECT_EQ(log, std::vector<int>{2});
  EXPECT_EQ(semaphore.available(), 0u);
}

Task<void> worker(Semaphore& semaphore, int& inside, int& most_inside, std::vector<int>& log,
                  int id) {
  co_await semaphore.acquire();
  log.push_back(id);  // the order of entry is the FIFO order of waiting
  ++inside;
  most_inside = std::max(most_inside, inside);
  co_await sleep_for(10ms);
  --inside;
  semaphore.release();
}

TEST_F(SemaphoreTest, LimitsConcurrencyOfWorkers) {
  Semaphore semaphore(2);
  int inside = 0, most_inside = 0;
  std::vector<int> log;
  TaskStorage<1024> tasks[5];
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(executor
                    .spawn(tasks[i], worker, std::ref(semaphore), std::ref(inside),
                           std::ref(most_inside), std::ref(log), i)
                    .ok());
  }
  const Instant start = executor.now();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(most_inside, 2);
  EXPECT_EQ(inside, 0);
  EXPECT_EQ(log, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(executor.now() - start, 30ms);
  EXPECT_EQ(semaphore.available(), 2u);
}

Task<void> hold_with_guard(Semaphore& semaphore, std::size_t count) {
  co_await semaphore.acquire(count);
  Semaphore::Guard held(semaphore, count);
  co_await sleep_for(1s);
}

TEST_F(SemaphoreTest, GuardReleasesOnScopeExitAndOnCancellation) {
  Semaphore semaphore(3);
  TaskStorage<1024> finishes, cancelled;
  ASSERT_TRUE(executor.spawn(finishes, hold_with_guard, std::ref(semaphore), 1).ok());
  ASSERT_TRUE(executor.spawn(cancelled, hold_with_guard, std::ref(semaphore), 2).ok());
  executor.run_until_stalled();
  EXPECT_EQ(semaphore.available(), 0u);
  cancelled.cancel();
  EXPECT_EQ(semaphore.available(), 2u);
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(semaphore.available(), 3u);
}

}  // namespace
}  // namespace mote::async
