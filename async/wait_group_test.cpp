#include "mote/async/wait_group.hpp"

#include <gtest/gtest.h>
#include <ostream>
#include <vector>

#include "mote/async/sleep.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::async {
namespace {

using namespace std::chrono_literals;

class WaitGroupTest : public ::testing::Test {
 protected:
  platform::SimDriver driver;
  Executor executor{driver};
};

struct Woke {
  int who;
  std::size_t count;  // the group's count when the waiter ran
  friend bool operator==(const Woke&, const Woke&) = default;
  friend void PrintTo(const Woke& w, std::ostream* os) {
    *os << "{who " << w.who << ", count " << w.count << "}";
  }
};

Task<void> wait_and_log(WaitGroup& group, std::vector<Woke>& log, int who) {
  co_await group.wait();
  log.push_back({who, group.count()});
}

TEST_F(WaitGroupTest, AddAndDoneCount) {
  WaitGroup group;
  EXPECT_EQ(group.count(), 0u);
  group.add();
  group.add(3);
  EXPECT_EQ(group.count(), 4u);
  group.done();
  EXPECT_EQ(group.count(), 3u);
  group.done();
  group.done();
  group.done();
  EXPECT_EQ(group.count(), 0u);
}

TEST_F(WaitGroupTest, WaitWithCountZeroIsImmediate) {
  WaitGroup group;
  std::vector<Woke> log;
  TaskStorage<1024> waiter;
  ASSERT_TRUE(executor.spawn(waiter, wait_and_log, std::ref(group), std::ref(log), 1).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Woke>{{1, 0}}));
  EXPECT_EQ(waiter.state(), TaskState::finished);
}

TEST_F(WaitGroupTest, WaitResumesWhenTheCountReachesZero) {
  WaitGroup group;
  group.add(2);
  std::vector<Woke> log;
  TaskStorage<1024> waiter;
  ASSERT_TRUE(executor.spawn(waiter, wait_and_log, std::ref(group), std::ref(log), 1).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  group.done();
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(waiter.state(), TaskState::running);
  group.done();
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Woke>{{1, 0}}));
  EXPECT_EQ(waiter.state(), TaskState::finished);
}

TEST_F(WaitGroupTest, AddWhileWaitingDefersTheWake) {
  WaitGroup group;
  group.add(1);
  std::vector<Woke> log;
  TaskStorage<1024> waiter;
  ASSERT_TRUE(executor.spawn(waiter, wait_and_log, std::ref(group), std::ref(log), 1).ok());
  executor.run_until_stalled();
  group.add(2);
  group.done();
  group.done();
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  group.done();
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Woke>{{1, 0}}));
}

TEST_F(WaitGroupTest, EveryWaiterWakesInOrder) {
  WaitGroup group;
  group.add(1);
  std::vector<Woke> log;
  TaskStorage<1024> w1, w2, w3;
  ASSERT_TRUE(executor.spawn(w2, wait_and_log, std::ref(group), std::ref(log), 2).ok());
  ASSERT_TRUE(executor.spawn(w1, wait_and_log, std::ref(group), std::ref(log), 1).ok());
  ASSERT_TRUE(executor.spawn(w3, wait_and_log, std::ref(group), std::ref(log), 3).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  group.done();
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Woke>{{2, 0}, {1, 0}, {3, 0}}));
  EXPECT_EQ(executor.live_tasks(), 0u);
}

TEST_F(WaitGroupTest, CancelledWaiterLeavesTheGroup) {
  WaitGroup group;
  group.add(1);
  std::vector<Woke> log;
  TaskStorage<1024> w1, w2;
  ASSERT_TRUE(executor.spawn(w1, wait_and_log, std::ref(group), std::ref(log), 1).ok());
  ASSERT_TRUE(executor.spawn(w2, wait_and_log, std::ref(group), std::ref(log), 2).ok());
  executor.run_until_stalled();
  w1.cancel();
  EXPECT_EQ(w1.exit_status(), Status::cancelled());
  group.done();
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Woke>{{2, 0}}));
}

TEST_F(WaitGroupTest, GroupCanBeReusedAfterReachingZero) {
  WaitGroup group;
  std::vector<Woke> log;
  TaskStorage<1024> w1, w2;
  group.add(1);
  ASSERT_TRUE(executor.spawn(w1, wait_and_log, std::ref(group), std::ref(log), 1).ok());
  executor.run_until_stalled();
  group.done();
  executor.run_until_stalled();
  group.add(1);
  ASSERT_TRUE(executor.spawn(w2, wait_and_log, std::ref(group), std::ref(log), 2).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Woke>{{1, 0}}));
  group.done();
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<Woke>{{1, 0}, {2, 0}}));
}

struct Finished {
  int who;
  Duration at;
  friend bool operator==(const Finished&, const Finished&) = default;
  friend void PrintTo(const Finished& f, std::ostream* os) {
    *os << "{who " << f.who << ", at " << f.at.count() << "us}";
  }
};

Task<void> job(WaitGroup& group, std::vector<Finished>& log, int who, Duration work,
               Instant start) {
  co_await sleep_for(work);
  log.push_back({who, now() - start});
  group.done();
}

Task<void> supervisor(Executor& executor, WaitGroup& group, TaskStorage<1024> (&storages)[3],
                      std::vector<Finished>& log, Instant start) {
  // Three workers: 30ms, 10ms and 20ms of work.
  const Duration work[3] = {30ms, 10ms, 20ms};
  group.add(3);
  for (int i = 0; i < 3; ++i) {
    Status status =
        executor.spawn(storages[i], job, std::ref(group), std::ref(log), i + 1, work[i], start);
    if (!status.ok()) co_return;
  }
  co_await group.wait();
  log.push_back({0, now() - start});
}

TEST_F(WaitGroupTest, WaitsForSpawnedTasksCallingDone) {
  WaitGroup group;
  std::vector<Finished> log;
  TaskStorage<1024> workers[3];
  TaskStorage<1024> main;
  const Instant start = executor.now();
  ASSERT_TRUE(executor
                  .spawn(main, supervisor, std::ref(executor), std::ref(group), std::ref(workers),
                         std::ref(log), start)
                  .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, (std::vector<Finished>{{2, 10ms}, {3, 20ms}, {1, 30ms}, {0, 30ms}}));
  EXPECT_EQ(group.count(), 0u);
  for (auto& worker : workers) EXPECT_EQ(worker.state(), TaskState::finished);
}

}  // namespace
}  // namespace mote::async
