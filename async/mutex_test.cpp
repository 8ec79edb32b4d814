#include "mote/async/mutex.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mote/async/channel.hpp"
#include "mote/async/join.hpp"
#include "mote/async/sleep.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::async {
namespace {

using namespace std::chrono_literals;

class MutexTest : public ::testing::Test {
 protected:
  platform::SimDriver driver;
  Executor executor{driver};
};

// Locks, logs its id, holds the lock for `hold`, then releases it.
Task<void> lock_and_log(Mutex& mutex, std::vector<int>& log, int id, Duration hold) {
  Mutex::Guard guard = co_await mutex.lock();
  log.push_back(guard.owns_lock() ? id : -id);
  if (hold > Duration::zero()) co_await sleep_for(hold);
}

TEST_F(MutexTest, TryLockAndUnlock) {
  Mutex mutex;
  EXPECT_FALSE(mutex.locked());
  EXPECT_TRUE(mutex.try_lock());
  EXPECT_TRUE(mutex.locked());
  EXPECT_FALSE(mutex.try_lock());
  mutex.unlock();
  EXPECT_FALSE(mutex.locked());
  EXPECT_TRUE(mutex.try_lock());
  mutex.unlock();
}

TEST_F(MutexTest, GuardAdoptsMovesAndReleases) {
  Mutex a, b;
  ASSERT_TRUE(a.try_lock());
  {
    Mutex::Guard g1(a);
    EXPECT_TRUE(g1.owns_lock());
    Mutex::Guard g2(std::move(g1));
    EXPECT_FALSE(g1.owns_lock());
    EXPECT_TRUE(g2.owns_lock());
    EXPECT_TRUE(a.locked());
    g2.release();
    EXPECT_FALSE(g2.owns_lock());
    EXPECT_FALSE(a.locked());
    g2.release();  // no-op
    EXPECT_FALSE(a.locked());

    ASSERT_TRUE(a.try_lock());
    ASSERT_TRUE(b.try_lock());
    Mutex::Guard ga(a);
    Mutex::Guard gb(b);
    // Move-assigning releases what the target held.
    ga = std::move(gb);
    EXPECT_FALSE(a.locked());
    EXPECT_TRUE(b.locked());
    EXPECT_TRUE(ga.owns_lock());
    EXPECT_FALSE(gb.owns_lock());
    Mutex::Guard empty;
    EXPECT_FALSE(empty.owns_lock());
    ga = std::move(empty);
    EXPECT_FALSE(b.locked());
    EXPECT_FALSE(ga.owns_lock());
  }
  EXPECT_FALSE(a.locked());
  EXPECT_FALSE(b.locked());
}

TEST_F(MutexTest, LockOfAFreeMutexDoesNotWait) {
  Mutex mutex;
  std::vector<int> log;
  TaskStorage<1024> task;
  ASSERT_TRUE(executor.spawn(task, lock_and_log, std::ref(mutex), std::ref(log), 1, 0ms).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, std::vector<int>{1});
  EXPECT_EQ(task.state(), TaskState::finished);
  EXPECT_FALSE(mutex.locked());
}

Task<void> increment(Mutex& mutex, int& counter, std::vector<std::string>& log, std::string id,
                     int times) {
  for (int i = 0; i < times; ++i) {
    Mutex::Guard guard = co_await mutex.lock();
    log.push_back(id + "+");
    const int seen = counter;
    co_await sleep_for(1ms);
    co_await yield_now();
    counter = seen + 1;
    log.push_back(id + "-");
  }
}

TEST_F(MutexTest, MutualExclusionAcrossSuspensionPoints) {
  Mutex mutex;
  int counter = 0;
  std::vector<std::string> log;
  TaskStorage<2048> a, b;
  ASSERT_TRUE(executor
                  .spawn(a, increment, std::ref(mutex), std::ref(counter), std::ref(log),
                         std::string("a"), 3)
                  .ok());
  ASSERT_TRUE(executor
                  .spawn(b, increment, std::ref(mutex), std::ref(counter), std::ref(log),
                         std::string("b"), 3)
                  .ok());
  const Instant start = executor.now();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(counter, 6);
  // No interleaving, and the fair hand-off alternates the two.
  EXPECT_EQ(log, (std::vector<std::string>{"a+", "a-", "b+", "b-", "a+", "a-", "b+", "b-", "a+",
                                           "a-", "b+", "b-"}));
  EXPECT_EQ(executor.now() - start, 6ms);
  EXPECT_FALSE(mutex.locked());
}

TEST_F(MutexTest, UnlockHandsTheMutexToWaitersInFifoOrder) {
  Mutex mutex;
  ASSERT_TRUE(mutex.try_lock());
  std::vector<int> log;
  TaskStorage<1024> w1, w2, w3;
  ASSERT_TRUE(executor.spawn(w3, lock_and_log, std::ref(mutex), std::ref(log), 3, 1ms).ok());
  ASSERT_TRUE(executor.spawn(w1, lock_and_log, std::ref(mutex), std::ref(log), 1, 1ms).ok());
  ASSERT_TRUE(executor.spawn(w2, lock_and_log, std::ref(mutex), std::ref(log), 2, 1ms).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  mutex.unlock();
  // Handed straight to w3: still locked, and nobody can snatch it.
  EXPECT_TRUE(mutex.locked());
  EXPECT_FALSE(mutex.try_lock());
  executor.run_until_stalled();
  EXPECT_EQ(log, std::vector<int>{3});
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, (std::vector<int>{3, 1, 2}));
  EXPECT_FALSE(mutex.locked());
}

TEST_F(MutexTest, LaterLockerQueuesBehindEarlierWaiters) {
  Mutex mutex;
  std::vector<int> log;
  TaskStorage<1024> holder, w1, w2;
  ASSERT_TRUE(executor.spawn(holder, lock_and_log, std::ref(mutex), std::ref(log), 1, 5ms).ok());
  ASSERT_TRUE(executor.spawn(w1, lock_and_log, std::ref(mutex), std::ref(log), 2, 5ms).ok());
  executor.run_until_stalled();
  driver.advance(5ms);
  // The holder's timer is due, but the newcomer runs first: it queues behind w1.
  ASSERT_TRUE(executor.spawn(w2, lock_and_log, std::ref(mutex), std::ref(log), 3, 5ms).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE(mutex.locked());
}

TEST_F(MutexTest, GrantedWaiterCancelledBeforeRunningPassesTheLockOn) {
  Mutex mutex;
  ASSERT_TRUE(mutex.try_lock());
  std::vector<int> log;
  TaskStorage<1024> w1, w2, w3;
  ASSERT_TRUE(executor.spawn(w1, lock_and_log, std::ref(mutex), std::ref(log), 1, 1ms).ok());
  ASSERT_TRUE(executor.spawn(w2, lock_and_log, std::ref(mutex), std::ref(log), 2, 1ms).ok());
  ASSERT_TRUE(executor.spawn(w3, lock_and_log, std::ref(mutex), std::ref(log), 3, 1ms).ok());
  executor.run_until_stalled();
  mutex.unlock();  // granted to w1
  w1.cancel();     // passes to w2
  EXPECT_EQ(w1.exit_status(), Status::cancelled());
  EXPECT_TRUE(mutex.locked());
  EXPECT_FALSE(mutex.try_lock());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, (std::vector<int>{2, 3}));
  EXPECT_FALSE(mutex.locked());
}

TEST_F(MutexTest, GrantedWaiterCancelledWithNoOtherWaiterUnlocks) {
  Mutex mutex;
  ASSERT_TRUE(mutex.try_lock());
  std::vector<int> log;
  TaskStorage<1024> w1;
  ASSERT_TRUE(executor.spawn(w1, lock_and_log, std::ref(mutex), std::ref(log), 1, 1ms).ok());
  executor.run_until_stalled();
  mutex.unlock();
  EXPECT_TRUE(mutex.locked());
  w1.cancel();
  EXPECT_FALSE(mutex.locked());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  EXPECT_TRUE(mutex.try_lock());
  mutex.unlock();
}

TEST_F(MutexTest, WaitingWaiterCancelledLeavesTheQueue) {
  Mutex mutex;
  ASSERT_TRUE(mutex.try_lock());
  std::vector<int> log;
  TaskStorage<1024> w1, w2;
  ASSERT_TRUE(executor.spawn(w1, lock_and_log, std::ref(mutex), std::ref(log), 1, 1ms).ok());
  ASSERT_TRUE(executor.spawn(w2, lock_and_log, std::ref(mutex), std::ref(log), 2, 1ms).ok());
  executor.run_until_stalled();
  w1.cancel();
  EXPECT_TRUE(mutex.locked());
  mutex.unlock();  // straight to w2
  EXPECT_TRUE(mutex.locked());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, std::vector<int>{2});
  EXPECT_FALSE(mutex.locked());
}

TEST_F(MutexTest, CancelledHolderReleasesThroughItsGuard) {
  Mutex mutex;
  std::vector<int> log;
  TaskStorage<1024> holder, waiter;
  ASSERT_TRUE(executor.spawn(holder, lock_and_log, std::ref(mutex), std::ref(log), 1, 1h).ok());
  ASSERT_TRUE(executor.spawn(waiter, lock_and_log, std::ref(mutex), std::ref(log), 2, 1ms).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, std::vector<int>{1});
  holder.cancel();
  EXPECT_TRUE(mutex.locked());  // handed to the waiter
  const Instant start = executor.now();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
  EXPECT_EQ(executor.now() - start, 1ms);
  EXPECT_FALSE(mutex.locked());
}

Task<bool> lock_task(Mutex& mutex) {
  Mutex::Guard guard = co_await mutex.lock();
  co_return guard.owns_lock();
}
Task<std::optional<int>> recv(Channel<int, 1>& channel) { co_return co_await channel.receive(); }

Task<void> lock_or_receive(Mutex& mutex, Channel<int, 1>& channel, std::size_t& index) {
  auto result = co_await select(lock_task(mutex), recv(channel));
  index = result.index();
}

TEST_F(MutexTest, LockGrantedToALosingSelectBranchIsPassedOn) {
  Mutex mutex;
  Channel<int, 1> channel;
  ASSERT_TRUE(mutex.try_lock());
  std::size_t index = 99;
  std::vector<int> log;
  TaskStorage<4096> selector;
  TaskStorage<1024> other;
  ASSERT_TRUE(
      executor.spawn(selector, lock_or_receive, std::ref(mutex), std::ref(channel), std::ref(index))
          .ok());
  ASSERT_TRUE(executor.spawn(other, lock_and_log, std::ref(mutex), std::ref(log), 2, 1ms).ok());
  executor.run_until_stalled();
  ASSERT_EQ(channel.try_send(1), ok_status());  // the receive branch is ready first
  mutex.unlock();                               // then the lock branch is granted the mutex
  EXPECT_TRUE(mutex.locked());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(index, 1u);
  // The lock branch was cancelled holding a grant: it went to the next waiter.
  EXPECT_EQ(log, std::vector<int>{2});
  EXPECT_FALSE(mutex.locked());
  EXPECT_TRUE(channel.empty());
}

}  // namespace
}  // namespace mote::async
