// The SHT3x model against its datasheet, driven by hand at the bus level
// (drivers/sht3x_test.cpp tests the driver).
#include "mote/hal/sim/sht3x.hpp"

#include <array>
#include <gtest/gtest.h>

#include "mote/platform/sim_driver.hpp"

namespace mote::hal::sim {
namespace {

using namespace std::chrono_literals;

class SimSht3xTest : public ::testing::Test {
 protected:
  SimSht3xTest() { bus.attach(part); }
  ~SimSht3xTest() override { bus.detach(part); }
  Status command(std::uint8_t msb, std::uint8_t lsb) {
    const std::array<std::byte, 2> bytes{std::byte{msb}, std::byte{lsb}};
    return bus.write(0x44, bytes).await_resume();
  }
  Status read(std::span<std::byte> buffer) { return bus.read(0x44, buffer).await_resume(); }

  platform::SimDriver driver;
  SimI2cBus bus{driver};
  SimSht3x part;
};

TEST_F(SimSht3xTest, NacksTheReadUntilTheMeasurementIsDone) {
  part.set_raw(0x1234, 0xABCD);
  std::array<std::byte, 6> data{};
  EXPECT_EQ(read(data), Status::not_found()) << "nothing measured yet";
  ASSERT_TRUE(command(0x24, 0x00).ok());
  driver.advance(12ms);
  EXPECT_EQ(read(data), Status::not_found()) << "12.5 ms at high repeatability";
  driver.advance(500us);
  ASSERT_TRUE(read(data).ok());
  EXPECT_EQ(data[0], std::byte{0x12});
  EXPECT_EQ(data[1], std::byte{0x34});
  EXPECT_EQ(data[3], std::byte{0xAB});
  EXPECT_EQ(data[4], std::byte{0xCD});
  EXPECT_EQ(read(data), Status::not_found()) << "the data is read once";
  EXPECT_EQ(SimSht3x::measurement_time(0x2416), 2500us);
}

TEST_F(SimSht3xTest, RefusesUnknownCommandsAndFlagsThem) {
  EXPECT_EQ(command(0x12, 0x34), Status::data_loss());
  EXPECT_NE(part.status() & (1U << 1), 0u);
  const std::array<std::byte, 1> half{std::byte{0x24}};
  EXPECT_EQ(bus.write(0x44, half).await_resume(), Status::data_loss());
}

}  // namespace
}  // namespace mote::hal::sim
