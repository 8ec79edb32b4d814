#include "mote/async/join.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "mote/async/channel.hpp"
#include "mote/async/sleep.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::async {
namespace {

using namespace std::chrono_literals;

class JoinTest : public ::testing::Test {
 protected:
  platform::SimDriver driver;
  Executor executor{driver};
};

Task<int> after(Duration d, int value, std::vector<int>* log = nullptr) {
  co_await sleep_for(d);
  if (log != nullptr) log->push_back(value);
  co_return value;
}

Task<void> nothing() { co_return; }

TEST_F(JoinTest, JoinWaitsForAllAndKeepsArgumentOrder) {
  TaskStorage<2048> storage;
  std::tuple<int, int, std::monostate> result{};
  std::vector<int> log;
  auto main = [](std::tuple<int, int, std::monostate>& out, std::vector<int>& log) -> Task<void> {
    out = co_await join(after(30ms, 1, &log), after(10ms, 2, &log), nothing());
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(result), std::ref(log)).ok());
  const Instant start = executor.now();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(std::get<0>(result), 1);
  EXPECT_EQ(std::get<1>(result), 2);
  EXPECT_EQ(log, (std::vector<int>{2, 1}));
  EXPECT_EQ(executor.now() - start, 30ms);  // concurrent, not 40 ms
}

TEST_F(JoinTest, JoinOfReadyTasksDoesNotSuspend) {
  TaskStorage<1024> storage;
  int sum = 0;
  auto main = [](int& sum) -> Task<void> {
    auto [a, b] = co_await join(after(0ms, 3), after(0ms, 4));
    sum = a + b;
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(sum)).ok());
  executor.run_until_stalled();
  EXPECT_EQ(sum, 7);
  EXPECT_EQ(storage.state(), TaskState::finished);
}

TEST_F(JoinTest, SelectReturnsTheFirstAndCancelsTheRest) {
  TaskStorage<2048> storage;
  std::vector<int> log;
  std::size_t index = 99;
  int value = 0;
  auto main = [](std::vector<int>& log, std::size_t& index, int& value) -> Task<void> {
    auto r = co_await select(after(30ms, 1, &log), after(10ms, 2, &log), after(20ms, 3, &log));
    index = r.index();
    value = std::get<1>(r);
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(log), std::ref(index), std::ref(value)).ok());
  const Instant start = executor.now();
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(index, 1u);
  EXPECT_EQ(value, 2);
  // The losers never completed: their timers were removed.
  EXPECT_EQ(log, std::vector<int>{2});
  EXPECT_EQ(executor.now() - start, 10ms);
}

TEST_F(JoinTest, SelectWithAReadyFirstBranchNeverStartsTheOthers) {
  TaskStorage<2048> storage;
  std::vector<int> log;
  auto main = [](std::vector<int>& log) -> Task<void> {
    auto r = co_await select(after(0ms, 1, &log), after(0ms, 2, &log));
    log.push_back(100 + static_cast<int>(r.index()));
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(log)).ok());
  executor.run_until_stalled();
  EXPECT_EQ(log, (std::vector<int>{1, 100}));
}

Task<std::optional<int>> receive_from(Channel<int, 2>& channel) {
  co_return co_await channel.receive();
}

TEST_F(JoinTest, SelectLoserTakesNothingFromItsChannel) {
  TaskStorage<2048> storage;
  Channel<int, 2> a, b;
  std::size_t index = 99;
  auto main = [](Channel<int, 2>& a, Channel<int, 2>& b, std::size_t& index) -> Task<void> {
    auto r = co_await select(receive_from(a), receive_from(b));
    index = r.index();
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(a), std::ref(b), std::ref(index)).ok());
  executor.run_until_stalled();
  // Both values arrive before the task runs again: b's is promised to the
  // losing branch, which is cancelled before it can take it.
  ASSERT_TRUE(a.try_send(1).ok());
  ASSERT_TRUE(b.try_send(2).ok());
  executor.run_until_stalled();
  EXPECT_EQ(index, 0u);
  EXPECT_EQ(b.try_receive(), std::optional<int>(2));
  EXPECT_TRUE(a.empty());
}

TEST_F(JoinTest, CancellingTheTaskCancelsEveryBranch) {
  TaskStorage<2048> storage;
  std::vector<int> log;
  auto main = [](std::vector<int>& log) -> Task<void> {
    (void)co_await join(after(10ms, 1, &log), after(20ms, 2, &log));
    log.push_back(3);
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(log)).ok());
  executor.run_until_stalled();
  storage.cancel();
  EXPECT_EQ(storage.exit_status(), Status::cancelled());
  driver.advance(1s);
  executor.run_until_stalled();
  EXPECT_TRUE(log.empty());
}

TEST_F(JoinTest, CancellingAWokenBranchTakesItOffTheRunQueue) {
  TaskStorage<2048> storage;
  Channel<int, 2> a, b;
  bool joined = false;
  auto main = [](Channel<int, 2>& a, Channel<int, 2>& b, bool& joined) -> Task<void> {
    (void)co_await join(receive_from(a), receive_from(b));
    joined = true;
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(a), std::ref(b), std::ref(joined)).ok());
  executor.run_until_stalled();
  // Wakes the first branch: it is now on the run queue, inside the task's frames.
  ASSERT_TRUE(a.try_send(1).ok());
  storage.cancel();
  executor.run_until_stalled();  // would resume a destroyed frame if still queued
  EXPECT_FALSE(joined);
  EXPECT_EQ(executor.live_tasks(), 0u);
  // The promised value was never taken: it is still in the channel.
  EXPECT_EQ(a.try_receive(), std::optional<int>(1));
}

Task<int> nested_select(std::vector<int>& log) {
  auto inner = co_await select(after(50ms, 1, &log), after(5ms, 2, &log));
  co_return static_cast<int>(inner.index());
}

TEST_F(JoinTest, NestedJoinAndSelect) {
  TaskStorage<4096> storage;
  std::vector<int> log;
  int inner = -1, other = -1;
  auto main = [](std::vector<int>& log, int& inner, int& other) -> Task<void> {
    auto [i, o] = co_await join(nested_select(log), after(20ms, 7, &log));
    inner = i;
    other = o;
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(log), std::ref(inner), std::ref(other)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(inner, 1);
  EXPECT_EQ(other, 7);
  EXPECT_EQ(log, (std::vector<int>{2, 7}));
}

Task<void> huge() {
  volatile char buffer[8192] = {};
  buffer[0] = 1;
  co_await yield_now();
  buffer[1] = buffer[0];
}

TEST_F(JoinTest, BranchThatDoesNotFitEndsTheTask) {
  TaskStorage<1024> storage;
  bool after_join = false;
  auto main = [](bool& after_join) -> Task<void> {
    (void)co_await join(after(1ms, 1), huge());
    after_join = true;
  };
  ASSERT_TRUE(executor.spawn(storage, main, std::ref(after_join)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_FALSE(after_join);
  EXPECT_EQ(storage.exit_status(), Status::resource_exhausted());
  EXPECT_GT(storage.bytes_needed(), 8192u);
}

}  // namespace
}  // namespace mote::async
