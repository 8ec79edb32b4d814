#include "mote/hal/sampled_input.hpp"

#include <gtest/gtest.h>

#include "mote/async/executor.hpp"
#include "mote/hal/sim/pin.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::hal {
namespace {

using namespace std::chrono_literals;
using async::Task;
using async::TaskState;
using async::TaskStorage;
using sim::SimPin;

static_assert(DigitalInput<SampledInput<SimPin>>);

class SampledInputTest : public ::testing::Test {
 protected:
  platform::SimDriver driver;
  async::Executor executor{driver};
  SimPin pin;
  SampledInput<SimPin> input{pin, 1ms};
};

Task<Status> wait_edge(SampledInput<SimPin>& input, Edge edge) {
  co_return co_await input.wait_for_edge(edge);
}
Task<Status> wait_level(SampledInput<SimPin>& input, bool high) {
  co_return co_await input.wait_for_level(high);
}

TEST_F(SampledInputTest, SeesAnEdgeAtTheNextSample) {
  TaskStorage<512> task;
  ASSERT_TRUE(executor.spawn(task, wait_edge, std::ref(input), Edge::rising).ok());
  executor.run_until_stalled();
  driver.advance(5ms);  // five samples of a low pin
  executor.run_until_stalled();
  EXPECT_EQ(task.state(), TaskState::running);
  pin.drive(true);
  const async::Instant driven = driver.now();
  driver.advance(1ms);
  executor.run_until_stalled();
  EXPECT_EQ(task.state(), TaskState::finished);
  EXPECT_TRUE(task.exit_status().ok());
  EXPECT_LE(driver.now() - driven, 1ms) << "seen within one period";
}

TEST_F(SampledInputTest, WaitsForTheWantedDirection) {
  TaskStorage<512> falling, any;
  ASSERT_TRUE(executor.spawn(falling, wait_edge, std::ref(input), Edge::falling).ok());
  ASSERT_TRUE(executor.spawn(any, wait_edge, std::ref(input), Edge::any).ok());
  executor.run_until_stalled();
  pin.drive(true);
  driver.advance(1ms);
  executor.run_until_stalled();
  EXPECT_EQ(any.state(), TaskState::finished);
  EXPECT_EQ(falling.state(), TaskState::running);
  pin.drive(false);
  driver.advance(1ms);
  executor.run_until_stalled();
  EXPECT_EQ(falling.state(), TaskState::finished);
  EXPECT_TRUE(falling.exit_status().ok());
}

TEST_F(SampledInputTest, WaitForLevelCompletesAtOnceWhenThere) {
  pin.drive(true);
  TaskStorage<512> high, low;
  ASSERT_TRUE(executor.spawn(high, wait_level, std::ref(input), true).ok());
  ASSERT_TRUE(executor.spawn(low, wait_level, std::ref(input), false).ok());
  executor.run_until_stalled();
  EXPECT_EQ(high.state(), TaskState::finished);
  EXPECT_EQ(low.state(), TaskState::running);
  pin.drive(false);
  EXPECT_TRUE(executor.run().ok());  // the virtual clock runs to the next sample
  EXPECT_TRUE(low.exit_status().ok());
}

TEST_F(SampledInputTest, APulseBetweenTwoSamplesIsMissed) {
  // The documented limit: sampling cannot see what it does not sample.
  TaskStorage<512> task;
  ASSERT_TRUE(executor.spawn(task, wait_edge, std::ref(input), Edge::rising).ok());
  executor.run_until_stalled();
  pin.drive(true);
  pin.drive(false);
  driver.advance(1ms);
  executor.run_until_stalled();
  EXPECT_EQ(task.state(), TaskState::running);
  task.cancel();
  EXPECT_EQ(task.exit_status(), Status::cancelled());
}

TEST_F(SampledInputTest, ReadErrorsEndTheWait) {
  TaskStorage<512> task;
  ASSERT_TRUE(executor.spawn(task, wait_edge, std::ref(input), Edge::any).ok());
  executor.run_until_stalled();
  pin.fail(Status::unavailable());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(task.exit_status(), Status::unavailable());
  EXPECT_EQ(input.read().status(), Status::unavailable());
}

}  // namespace
}  // namespace mote::hal
