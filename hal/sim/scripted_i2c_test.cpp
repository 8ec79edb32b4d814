#include "mote/hal/sim/scripted_i2c.hpp"

#include <array>
#include <gtest/gtest.h>
#include <string>

#include "mote/async/executor.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::hal::sim {
namespace {

using async::Task;
using async::TaskStorage;

class ScriptedI2cTest : public ::testing::Test {
 protected:
  platform::SimDriver driver;
  async::Executor executor{driver};
};

// Reads register 0xD0 of the device at 0x76, then writes 0xB6 to 0xE0.
Task<void> probe_and_reset(ScriptedI2c& i2c, std::array<Status, 3>& results,
                           std::uint8_t& chip_id) {
  const auto reg = make_bytes(0xD0);
  std::array<std::byte, 1> value{};
  results[0] = co_await i2c.write_read(0x76, reg, value);
  chip_id = std::to_integer<std::uint8_t>(value[0]);
  const auto reset = make_bytes(0xE0, 0xB6);
  results[1] = co_await i2c.write(0x76, reset);
  std::array<std::byte, 2> two{};
  results[2] = co_await i2c.read(0x76, two);
}

TEST_F(ScriptedI2cTest, MatchingScriptPasses) {
  const I2cTransaction script[] = {
      expect_write_read(0x76, {0xD0}, {0x60}),
      expect_write(0x76, {0xE0, 0xB6}),
      expect_read(0x76, {0x12, 0x34}),
  };
  ScriptedI2c i2c(script);
  std::array<Status, 3> results;
  std::uint8_t chip_id = 0;
  TaskStorage<512> task;
  ASSERT_TRUE(
      executor.spawn(task, probe_and_reset, std::ref(i2c), std::ref(results), std::ref(chip_id))
          .ok());
  EXPECT_TRUE(executor.run().ok());
  for (Status s : results) EXPECT_TRUE(s.ok()) << s.str();
  EXPECT_EQ(chip_id, 0x60);
  EXPECT_TRUE(i2c.finished()) << i2c.problem();
  EXPECT_TRUE(i2c.problem().empty());
}

TEST_F(ScriptedI2cTest, ScriptedErrorIsReturned) {
  const I2cTransaction script[] = {
      expect_write_read(0x76, {0xD0}, {0x00}, Status::not_found()),
      expect_write(0x76, {0xE0, 0xB6}, Status::data_loss()),
      expect_read(0x76, {0x00, 0x00}),
  };
  ScriptedI2c i2c(script);
  std::array<Status, 3> results;
  std::uint8_t chip_id = 0xAA;
  TaskStorage<512> task;
  ASSERT_TRUE(
      executor.spawn(task, probe_and_reset, std::ref(i2c), std::ref(results), std::ref(chip_id))
          .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(results[0].code(), StatusCode::not_found);
  EXPECT_EQ(results[1].code(), StatusCode::data_loss);
  EXPECT_EQ(chip_id, 0x00) << "a failed read leaves the buffer alone";
  EXPECT_TRUE(i2c.finished()) << i2c.problem();
}

TEST_F(ScriptedI2cTest, WrongBytesAreReportedAsAMismatch) {
  const I2cTransaction script[] = {
      expect_write_read(0x76, {0xD0}, {0x60}),
      expect_write(0x76, {0xE0, 0xB7}),  // the code writes B6
      expect_read(0x76, {0x12, 0x34}),
  };
  ScriptedI2c i2c(script);
  std::array<Status, 3> results;
  std::uint8_t chip_id = 0;
  TaskStorage<512> task;
  ASSERT_TRUE(
      executor.spawn(task, probe_and_reset, std::ref(i2c), std::ref(results), std::ref(chip_id))
          .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(results[1].code(), StatusCode::internal);
  EXPECT_EQ(results[2].code(), StatusCode::internal) << "after a mismatch everything fails";
  EXPECT_FALSE(i2c.finished());
  EXPECT_TRUE(i2c.mismatched());
  EXPECT_EQ(i2c.consumed(), 1u);
  EXPECT_EQ(std::string(i2c.problem()),
            "transaction 2 of 3: wrong bytes written: got write(0x76, [e0 b6]), "
            "expected write(0x76, [e0 b7])");
}

TEST_F(ScriptedI2cTest, WrongAddressKindAndSizeAreMismatches) {
  struct Case {
    I2cTransaction expected;
    const char* problem;
  };
  const Case cases[] = {
      {expect_write_read(0x77, {0xD0}, {0x60}),
       "transaction 1 of 1: wrong address: got write_read(0x76, [d0], read 1), "
       "expected write_read(0x77, [d0], read 1)"},
      {expect_read(0x76, {0x60}),
       "transaction 1 of 1: wrong kind: got write_read(0x76, [d0], read 1), "
       "expected read(0x76, read 1)"},
      {expect_write_read(0x76, {0xD0}, {0x60, 0x61}),
       "transaction 1 of 1: wrong read size: got write_read(0x76, [d0], read 1), "
       "expected write_read(0x76, [d0], read 2)"},
  };
  for (const Case& c : cases) {
    const I2cTransaction script[] = {c.expected};
    ScriptedI2c i2c(script);
    std::array<Status, 3> results;
    std::uint8_t chip_id = 0;
    TaskStorage<512> task;
    ASSERT_TRUE(
        executor.spawn(task, probe_and_reset, std::ref(i2c), std::ref(results), std::ref(chip_id))
            .ok());
    EXPECT_TRUE(executor.run().ok());
    EXPECT_EQ(results[0].code(), StatusCode::internal);
    EXPECT_EQ(std::string(i2c.problem()), c.problem);
  }
}

TEST_F(ScriptedI2cTest, TransactionsBeyondTheScriptAndLeftoversAreReported) {
  {
    const I2cTransaction script[] = {expect_write_read(0x76, {0xD0}, {0x60})};
    ScriptedI2c i2c(script);
    std::array<Status, 3> results;
    std::uint8_t chip_id = 0;
    TaskStorage<512> task;
    ASSERT_TRUE(
        executor.spawn(task, probe_and_reset, std::ref(i2c), std::ref(results), std::ref(chip_id))
            .ok());
    EXPECT_TRUE(executor.run().ok());
    EXPECT_TRUE(i2c.all_consumed());
    EXPECT_FALSE(i2c.finished());
    EXPECT_EQ(std::string(i2c.problem()),
              "transaction 2 of 1: the script has ended: got write(0x76, [e0 b6])");
  }
  {
    const I2cTransaction script[] = {expect_write(0x76, {0xF4, 0x25}),
                                     expect_write_read(0x76, {0xF7}, {1, 2, 3})};
    ScriptedI2c i2c(script);
    EXPECT_FALSE(i2c.all_consumed());
    EXPECT_EQ(std::string(i2c.problem()),
              "transaction 1 of 2 never happened: expected write(0x76, [f4 25])");
  }
}

}  // namespace
}  // namespace mote::hal::sim
