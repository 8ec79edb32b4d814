// SimI2cBus routing and the BME280 model at the register level, driven by
// hand (simulated operations complete when await_resume() runs them).
#include "mote/hal/sim/i2c_bus.hpp"

#include <array>
#include <gtest/gtest.h>

#include "mote/hal/sim/bme280.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::hal::sim {
namespace {

using namespace std::chrono_literals;

template <typename Awaiter>
auto complete(Awaiter&& awaiter) {
  return awaiter.await_resume();
}

class SimI2cBusTest : public ::testing::Test {
 protected:
  SimI2cBusTest() { bus.attach(bme); }

  Result<std::uint8_t> read_register(std::uint8_t reg) {
    const std::array<std::byte, 1> request = {std::byte{reg}};
    std::array<std::byte, 1> value{};
    Status status = complete(bus.write_read(0x76, request, value));
    if (!status.ok()) return status;
    return std::to_integer<std::uint8_t>(value[0]);
  }
  Status write(std::initializer_list<std::uint8_t> bytes) {
    std::array<std::byte, 8> buffer{};
    std::size_t n = 0;
    for (std::uint8_t b : bytes) buffer[n++] = std::byte{b};
    return complete(bus.write(0x76, ConstByteSpan(buffer.data(), n)));
  }

  platform::SimDriver driver;
  SimI2cBus bus{driver};
  SimBme280 bme{0x76};
};

TEST_F(SimI2cBusTest, RoutesByAddress) {
  EXPECT_EQ(*read_register(0xD0), 0x60);
  std::array<std::byte, 1> value{};
  const auto reg = make_bytes(0xD0);
  EXPECT_EQ(complete(bus.write_read(0x77, reg, value)).code(), StatusCode::not_found);
  EXPECT_EQ(complete(bus.read(0x05, value)).code(), StatusCode::invalid_argument);
  EXPECT_EQ(complete(bus.write(0x78, reg)).code(), StatusCode::invalid_argument);
  bme.set_responding(false);
  EXPECT_EQ(read_register(0xD0).status().code(), StatusCode::not_found);
  bme.set_responding(true);
  bus.set_stuck(true);
  EXPECT_EQ(read_register(0xD0).status().code(), StatusCode::deadline_exceeded);
}

TEST_F(SimI2cBusTest, CalibrationIsTheBmp280DatasheetExample) {
  const auto reg = make_bytes(0x88);
  std::array<std::byte, 26> block{};
  ASSERT_TRUE(complete(bus.write_read(0x76, reg, block)).ok());
  EXPECT_EQ(load_le16(&block[0]), 27504);                             // dig_T1
  EXPECT_EQ(static_cast<std::int16_t>(load_le16(&block[2])), 26435);  // dig_T2
  EXPECT_EQ(static_cast<std::int16_t>(load_le16(&block[4])), -1000);  // dig_T3
  EXPECT_EQ(load_le16(&block[6]), 36477);                             // dig_P1
  EXPECT_EQ(static_cast<std::int16_t>(load_le16(&block[8])), -10685);
  EXPECT_EQ(static_cast<std::int16_t>(load_le16(&block[22])), 6000);  // dig_P9
  EXPECT_EQ(std::to_integer<int>(block[25]), 75);                     // dig_H1
}

TEST_F(SimI2cBusTest, ForcedMeasurementTakesTimeThenFillsTheDataRegisters) {
  bme.set_raw(415148, 519888, 30000);
  ASSERT_TRUE(write({0xF2, 0x01}).ok());  // humidity x1
  ASSERT_TRUE(write({0xF4, 0x25}).ok());  // T x1, P x1, forced
  EXPECT_EQ(*read_register(0xF3) & 0x08, 0x08) << "measuring";
  // Typical time, x1 everywhere: 1 + 2 + 2.5 + 2.5 = 8 ms.
  EXPECT_EQ(SimBme280::typical_measurement_time(0x01, 0x25), 8ms);
  driver.advance(8ms - 1us);
  EXPECT_EQ(*read_register(0xF3) & 0x08, 0x08);
  driver.advance(1us);
  EXPECT_EQ(*read_register(0xF3), 0x00);
  EXPECT_EQ(*read_register(0xF4), 0x24) << "back to sleep mode";
  const auto reg = make_bytes(0xF7);
  std::array<std::byte, 8> data{};
  ASSERT_TRUE(complete(bus.write_read(0x76, reg, data)).ok());
  // 415148 = 0x655AC, 519888 = 0x7EED0, 30000 = 0x7530.
  EXPECT_EQ(data, make_bytes(0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00, 0x75, 0x30));
  EXPECT_EQ(bme.measurements(), 1u);
}

TEST_F(SimI2cBusTest, SkippedQuantitiesReadTheirSkipValues) {
  bme.set_raw(415148, 519888, 30000);
  ASSERT_TRUE(write({0xF2, 0x00, 0xF4, 0x21}).ok());  // pairs: no humidity, T x1, P skipped
  driver.advance(10ms);
  const auto reg = make_bytes(0xF7);
  std::array<std::byte, 8> data{};
  ASSERT_TRUE(complete(bus.write_read(0x76, reg, data)).ok());
  EXPECT_EQ(data, make_bytes(0x80, 0x00, 0x00, 0x7E, 0xED, 0x00, 0x80, 0x00));
}

TEST_F(SimI2cBusTest, CtrlHumAppliesOnlyFromTheNextCtrlMeasWrite) {
  bme.set_raw(415148, 519888, 30000);
  ASSERT_TRUE(write({0xF4, 0x25}).ok());  // ctrl_hum still 0: humidity skipped
  ASSERT_TRUE(write({0xF2, 0x01}).ok());
  driver.advance(10ms);
  EXPECT_EQ(*read_register(0xFD), 0x80);
}

TEST_F(SimI2cBusTest, SoftResetRestoresDefaultsAndCopiesTheNvm) {
  ASSERT_TRUE(write({0xF2, 0x05, 0xF5, 0x10}).ok());
  EXPECT_EQ(*read_register(0xF2), 0x05);
  ASSERT_TRUE(write({0xE0, 0xB6}).ok());
  EXPECT_EQ(bme.resets(), 1u);
  EXPECT_EQ(*read_register(0xF3), 0x01) << "im_update while the NVM is copied";
  driver.advance(1ms);
  EXPECT_EQ(*read_register(0xF3), 0x00);
  EXPECT_EQ(*read_register(0xF2), 0x00);
  EXPECT_EQ(*read_register(0xF5), 0x00);
  EXPECT_EQ(*read_register(0xD0), 0x60);
  ASSERT_TRUE(write({0xE0, 0xB5}).ok());  // anything but B6 is ignored
  EXPECT_EQ(bme.resets(), 1u);
}

TEST_F(SimI2cBusTest, StuckMeasurementNeverClears) {
  bme.set_stuck_measuring(true);
  ASSERT_TRUE(write({0xF4, 0x25}).ok());
  driver.advance(1s);
  EXPECT_EQ(*read_register(0xF3) & 0x08, 0x08);
}

}  // namespace
}  // namespace mote::hal::sim
