#include "mote/async/executor.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "mote/async/sleep.hpp"
#include "mote/platform/log_sink.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::async {
namespace {

using namespace std::chrono_literals;

class ExecutorTest : public ::testing::Test {
 protected:
  platform::SimDriver driver;
  Executor executor{driver};
};

Task<void> record(std::vector<int>& log, int value) {
  log.push_back(value);
  co_return;
}

TEST_F(ExecutorTest, SpawnedTaskRunsOnlyWhenTheExecutorRuns) {
  std::vector<int> log;
  TaskStorage<256> storage;
  EXPECT_EQ(storage.state(), TaskState::idle);
  ASSERT_TRUE(executor.spawn(storage, record, std::ref(log), 7).ok());
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(storage.state(), TaskState::running);
  EXPECT_EQ(executor.live_tasks(), 1u);
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, std::vector<int>{7});
  EXPECT_EQ(storage.state(), TaskState::finished);
  EXPECT_TRUE(storage.exit_status().ok());
  EXPECT_EQ(executor.live_tasks(), 0u);
}

TEST_F(ExecutorTest, ReadyTasksRunInSpawnOrder) {
  std::vector<int> log;
  TaskStorage<256> a, b, c;
  ASSERT_TRUE(executor.spawn(a, record, std::ref(log), 1).ok());
  ASSERT_TRUE(executor.spawn(b, record, std::ref(log), 2).ok());
  ASSERT_TRUE(executor.spawn(c, record, std::ref(log), 3).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));
}

Task<int> add(int a, int b) { co_return a + b; }
Task<int> nested_sum(int depth) {
  if (depth == 0) co_return 0;
  const int below = co_await nested_sum(depth - 1);
  co_return co_await add(below, depth);
}

TEST_F(ExecutorTest, NestedTasksReturnValuesAndFreeTheirFrames) {
  TaskStorage<4096> storage;
  int result = -1;
  auto main = [](int& out) -> Task<void> { out = co_await nested_sum(10); };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(result)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(result, 55);
  // Eleven nested frames were alive at once at the deepest point.
  EXPECT_GT(storage.high_water_mark(), 11 * FrameArena::kAlignment);
  EXPECT_LE(storage.high_water_mark(), storage.capacity());
}

Task<Status> fails() { co_return Status::not_found(); }

TEST_F(ExecutorTest, TaskReturningStatusSetsTheExitStatus) {
  TaskStorage<256> storage;
  ASSERT_TRUE(executor.spawn(storage, fails).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(storage.exit_status(), Status::not_found());
}

TEST_F(ExecutorTest, SpawningIntoARunningStorageIsRefused) {
  std::vector<int> log;
  TaskStorage<256> storage;
  ASSERT_TRUE(executor.spawn(storage, record, std::ref(log), 1).ok());
  EXPECT_EQ(executor.spawn(storage, record, std::ref(log), 2), Status::failed_precondition());
  EXPECT_TRUE(executor.run().ok());
  // Finished storage can be reused.
  ASSERT_TRUE(executor.spawn(storage, record, std::ref(log), 3).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, (std::vector<int>{1, 3}));
}

struct LogCapture {
  LogCapture() { platform::set_log_sink(&LogCapture::sink, this); }
  ~LogCapture() { platform::set_log_sink(nullptr, nullptr); }
  static void sink(log::Level, const char*, const char* message, void* self) {
    static_cast<LogCapture*>(self)->lines.emplace_back(message);
  }
  std::vector<std::string> lines;
};

Task<void> big_frame() {
  volatile char buffer[2048] = {};
  buffer[0] = 1;
  co_await yield_now();
  buffer[1] = buffer[0];
}

TEST_F(ExecutorTest, RootFrameTooLargeIsRefusedWithTheSizeNeeded) {
  LogCapture capture;
  TaskStorage<256> storage;
  EXPECT_EQ(executor.spawn(storage, big_frame), Status::resource_exhausted());
  EXPECT_EQ(storage.state(), TaskState::finished);
  EXPECT_EQ(storage.exit_status(), Status::resource_exhausted());
  EXPECT_GT(storage.bytes_needed(), 2048u);
  EXPECT_EQ(executor.live_tasks(), 0u);
  ASSERT_EQ(capture.lines.size(), 1u);
  EXPECT_NE(capture.lines[0].find("needs " + std::to_string(storage.bytes_needed()) + " bytes"),
            std::string::npos)
      << capture.lines[0];
}

Task<void> calls_big_frame(bool& after) {
  co_await big_frame();
  after = true;
}

TEST_F(ExecutorTest, NestedFrameTooLargeEndsTheTaskNotTheProgram) {
  LogCapture capture;
  TaskStorage<512> storage;
  bool after = false;
  ASSERT_TRUE(executor.spawn(storage, calls_big_frame, std::ref(after)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_FALSE(after);
  EXPECT_EQ(storage.exit_status(), Status::resource_exhausted());
  EXPECT_GT(storage.bytes_needed(), 2048u);
  EXPECT_LE(storage.high_water_mark(), storage.capacity());
  // The same storage, big enough, runs the same code.
  TaskStorage<4096> bigger;
  ASSERT_TRUE(executor.spawn(bigger, calls_big_frame, std::ref(after)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(after);
  EXPECT_TRUE(bigger.exit_status().ok());
  EXPECT_GE(bigger.capacity(), storage.bytes_needed());
}

Task<void> sleeper(std::vector<int>& log, int id, Duration d) {
  co_await sleep_for(d);
  log.push_back(id);
}

TEST_F(ExecutorTest, TimersFireInDeadlineOrderOnTheVirtualClock) {
  std::vector<int> log;
  TaskStorage<256> a, b, c;
  ASSERT_TRUE(executor.spawn(a, sleeper, std::ref(log), 1, 30ms).ok());
  ASSERT_TRUE(executor.spawn(b, sleeper, std::ref(log), 2, 10ms).ok());
  ASSERT_TRUE(executor.spawn(c, sleeper, std::ref(log), 3, 20ms).ok());
  const Instant start = executor.now();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, (std::vector<int>{2, 3, 1}));
  EXPECT_EQ(executor.now() - start, 30ms);
}

TEST_F(ExecutorTest, RunUntilStalledNeverMovesTheClock) {
  std::vector<int> log;
  TaskStorage<256> a;
  ASSERT_TRUE(executor.spawn(a, sleeper, std::ref(log), 1, 10ms).ok());
  const Instant start = executor.now();
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(executor.now(), start);
  driver.advance(9ms);
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
  driver.advance(1ms);
  executor.run_until_stalled();
  EXPECT_EQ(log, std::vector<int>{1});
}

TEST_F(ExecutorTest, RunForStopsAtItsDeadline) {
  std::vector<int> log;
  TaskStorage<256> a;
  ASSERT_TRUE(executor.spawn(a, sleeper, std::ref(log), 1, 100ms).ok());
  EXPECT_EQ(executor.run_for(40ms), Status::deadline_exceeded());
  EXPECT_TRUE(log.empty());
  EXPECT_TRUE(executor.run_for(100ms).ok());
  EXPECT_EQ(log, std::vector<int>{1});
}

TEST_F(ExecutorTest, ZeroSleepDoesNotSuspend) {
  std::vector<int> log;
  TaskStorage<256> a;
  ASSERT_TRUE(executor.spawn(a, sleeper, std::ref(log), 1, 0ms).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, std::vector<int>{1});
}

Task<void> wait_forever(TaskStorageBase& other) { (void)co_await other.join(); }

TEST_F(ExecutorTest, DeadlockIsReportedNotHung) {
  LogCapture capture;
  TaskStorage<256> a, b;
  ASSERT_TRUE(executor.spawn(a, wait_forever, std::ref(b)).ok());
  ASSERT_TRUE(executor.spawn(b, wait_forever, std::ref(a)).ok());
  EXPECT_EQ(executor.run(), Status::failed_precondition());
  EXPECT_EQ(executor.live_tasks(), 2u);
  a.cancel();
  EXPECT_EQ(a.state(), TaskState::finished);
  EXPECT_EQ(a.exit_status(), Status::cancelled());
  // b's join on a completes with a's status.
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(b.exit_status().ok());
}

TEST_F(ExecutorTest, CancelDestroysFramesAndDisarmsTimers) {
  std::vector<int> log;
  TaskStorage<256> a;
  ASSERT_TRUE(executor.spawn(a, sleeper, std::ref(log), 1, 10ms).ok());
  executor.run_until_stalled();
  EXPECT_GT(a.high_water_mark(), 0u);
  a.cancel();
  EXPECT_EQ(a.exit_status(), Status::cancelled());
  EXPECT_EQ(executor.live_tasks(), 0u);
  driver.advance(20ms);
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
}

TEST_F(ExecutorTest, CancelOfAReadyTaskTakesItOffTheRunQueue) {
  std::vector<int> log;
  TaskStorage<256> a, b;
  ASSERT_TRUE(executor.spawn(a, record, std::ref(log), 1).ok());
  ASSERT_TRUE(executor.spawn(b, record, std::ref(log), 2).ok());
  a.cancel();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, std::vector<int>{2});
}

Task<void> cancels_itself(TaskStorageBase& self, bool& after_cancel, bool& after_yield) {
  self.cancel();
  after_cancel = true;  // still running: the end comes at the next suspension
  co_await yield_now();
  after_yield = true;
}

TEST_F(ExecutorTest, SelfCancelEndsAtTheNextSuspension) {
  TaskStorage<256> a;
  bool after_cancel = false, after_yield = false;
  ASSERT_TRUE(
      executor.spawn(a, cancels_itself, std::ref(a), std::ref(after_cancel), std::ref(after_yield))
          .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(after_cancel);
  EXPECT_FALSE(after_yield);
  EXPECT_EQ(a.exit_status(), Status::cancelled());
}

Task<void> joiner(TaskStorageBase& other, Status& seen) { seen = co_await other.join(); }

TEST_F(ExecutorTest, JoinWaitsForTheOtherTaskAndSeesItsStatus) {
  TaskStorage<256> worker, waiter;
  Status seen = Status::unknown();
  ASSERT_TRUE(executor.spawn(worker, fails).ok());
  ASSERT_TRUE(executor.spawn(waiter, joiner, std::ref(worker), std::ref(seen)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(seen, Status::not_found());
}

Task<void> yielder(std::vector<int>& log, int id) {
  for (int i = 0; i < 3; ++i) {
    log.push_back(id);
    co_await yield_now();
  }
}

TEST_F(ExecutorTest, YieldLetsOthersRun) {
  std::vector<int> log;
  TaskStorage<256> a, b;
  ASSERT_TRUE(executor.spawn(a, yielder, std::ref(log), 1).ok());
  ASSERT_TRUE(executor.spawn(b, yielder, std::ref(log), 2).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, (std::vector<int>{1, 2, 1, 2, 1, 2}));
}

Task<void> spawner(Executor& executor, TaskStorageBase& child, std::vector<int>& log) {
  Status s = executor.spawn(child, record, std::ref(log), 2);
  log.push_back(s.ok() ? 1 : -1);
  co_return;
}

TEST_F(ExecutorTest, TaskCanSpawnAnotherTask) {
  std::vector<int> log;
  TaskStorage<256> parent, child;
  ASSERT_TRUE(
      executor.spawn(parent, spawner, std::ref(executor), std::ref(child), std::ref(log)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
  EXPECT_EQ(parent.exit_status(), ok_status());
}

TEST(TaskOutsideAnyTask, HasNoFrameStorage) {
  LogCapture capture;
  Task<int> t = add(1, 2);
  EXPECT_TRUE(t.frame_allocation_failed());
  EXPECT_EQ(capture.lines.size(), 1u);
}

}  // namespace
}  // namespace mote::async
