// The DS18B20 model against its datasheet, driven by hand at the bus level
// (no driver code involved: drivers/ds18b20_test.cpp tests the driver).
#include "mote/hal/sim/ds18b20.hpp"

#include <array>
#include <gtest/gtest.h>

#include "mote/platform/sim_driver.hpp"

namespace mote::hal::sim {
namespace {

using namespace std::chrono_literals;

template <typename Awaiter>
auto complete(Awaiter&& awaiter) {
  return awaiter.await_resume();
}

class SimDs18b20Test : public ::testing::Test {
 protected:
  SimDs18b20Test() { bus.attach(device); }

  void command(std::uint8_t function) {
    ASSERT_TRUE(*complete(bus.reset()));
    ASSERT_TRUE(complete(bus.write_byte(kOneWireSkipRom)).ok());
    ASSERT_TRUE(complete(bus.write_byte(function)).ok());
  }
  std::array<std::uint8_t, 9> read_scratchpad() {
    command(0xBE);
    std::array<std::uint8_t, 9> bytes{};
    for (std::uint8_t& b : bytes) b = *complete(bus.read_byte());
    return bytes;
  }
  void write_scratchpad(std::uint8_t th, std::uint8_t tl, std::uint8_t config) {
    command(0x4E);
    for (std::uint8_t b : {th, tl, config}) ASSERT_TRUE(complete(bus.write_byte(b)).ok());
  }
  static std::int16_t temperature_of(const std::array<std::uint8_t, 9>& scratchpad) {
    return static_cast<std::int16_t>(scratchpad[0] | scratchpad[1] << 8);
  }
  static std::uint8_t crc_over(const std::array<std::uint8_t, 9>& scratchpad) {
    return one_wire_crc8(bytes_of(scratchpad));
  }

  platform::SimDriver driver;
  SimOneWireBus bus{driver};
  SimDs18b20 device{0x0000'00A1'B2C3ull};
};

TEST_F(SimDs18b20Test, PowerOnScratchpadReads85DegreesWithAValidCrc) {
  const auto scratchpad = read_scratchpad();
  // Datasheet, "Memory": 0x0550, TH, TL, config 0x7F, FFh, reserved, 10h, CRC.
  EXPECT_EQ(temperature_of(scratchpad), 0x0550);
  EXPECT_EQ(scratchpad[4], 0x7F);
  EXPECT_EQ(scratchpad[5], 0xFF);
  EXPECT_EQ(scratchpad[7], 0x10);
  EXPECT_EQ(crc_over(scratchpad), 0);
}

TEST_F(SimDs18b20Test, ConversionTimeFollowsTheResolution) {
  struct Case {
    std::uint8_t config;
    async::Duration t_conv;
    std::int16_t expected;  // +25.0625 °C (0x0191) at that resolution
  };
  const Case cases[] = {{0x1F, 93750us, 0x0190},
                        {0x3F, 187500us, 0x0190},
                        {0x5F, 375000us, 0x0190},
                        {0x7F, 750000us, 0x0191}};
  device.set_temperature_sixteenths(0x0191);
  for (const Case& c : cases) {
    write_scratchpad(75, 70, c.config);
    EXPECT_EQ(device.resolution_bits(), 9 + (c.config >> 5));
    EXPECT_EQ(SimDs18b20::conversion_time(device.resolution_bits()), c.t_conv);
    command(0x44);
    EXPECT_FALSE(*complete(bus.read_bit())) << "converting: read slots return 0";
    driver.advance(c.t_conv - 1us);
    EXPECT_FALSE(*complete(bus.read_bit()));
    driver.advance(1us);
    EXPECT_TRUE(*complete(bus.read_bit())) << "done: read slots return 1";
    const auto scratchpad = read_scratchpad();
    EXPECT_EQ(temperature_of(scratchpad), c.expected);
    EXPECT_EQ(scratchpad[4], c.config);
    EXPECT_EQ(crc_over(scratchpad), 0);
  }
  EXPECT_EQ(device.conversions(), 4u);
}

TEST_F(SimDs18b20Test, ScratchpadKeepsTheOldValueDuringAConversion) {
  device.set_temperature(MilliCelsius{-10125});
  command(0x44);
  EXPECT_EQ(temperature_of(read_scratchpad()), 0x0550);
  driver.advance(750ms);
  EXPECT_EQ(temperature_of(read_scratchpad()), static_cast<std::int16_t>(0xFF5E));
}

TEST_F(SimDs18b20Test, SetTemperatureRoundsDownAndClamps) {
  const std::pair<std::int32_t, std::int16_t> cases[] = {
      {25100, 0x0191},
      {-10100, static_cast<std::int16_t>(0xFF5E)},  // floor(-161.6) = -162
      {200000, 0x07D0},
      {-80000, static_cast<std::int16_t>(0xFC90)}};
  for (auto [millicelsius, raw] : cases) {
    device.set_temperature(MilliCelsius{millicelsius});
    command(0x44);
    driver.advance(750ms);
    EXPECT_EQ(temperature_of(read_scratchpad()), raw) << millicelsius;
  }
}

TEST_F(SimDs18b20Test, WriteScratchpadStoresThAndTlAndOnlyTheResolutionBits) {
  write_scratchpad(0x19, 0xF6, 0xFF);  // +25 °C, -10 °C; junk outside R1 R0
  const auto scratchpad = read_scratchpad();
  EXPECT_EQ(scratchpad[2], 0x19);
  EXPECT_EQ(scratchpad[3], 0xF6);
  EXPECT_EQ(scratchpad[4], 0x7F);
}

TEST_F(SimDs18b20Test, CopyAndRecallUseTheEeprom) {
  write_scratchpad(1, 2, 0x1F);
  command(0x48);  // COPY SCRATCHPAD
  write_scratchpad(3, 4, 0x7F);
  command(0xB8);  // RECALL E2
  auto scratchpad = read_scratchpad();
  EXPECT_EQ(scratchpad[2], 1);
  EXPECT_EQ(scratchpad[4], 0x1F);
  write_scratchpad(5, 6, 0x5F);
  device.power_cycle();
  scratchpad = read_scratchpad();
  EXPECT_EQ(temperature_of(scratchpad), 0x0550);
  EXPECT_EQ(scratchpad[3], 2);
  EXPECT_EQ(scratchpad[4], 0x1F);
}

TEST_F(SimDs18b20Test, ReadPowerSupplyAnswersExternallyPowered) {
  command(0xB4);
  EXPECT_TRUE(*complete(bus.read_bit()));
}

TEST_F(SimDs18b20Test, FaultsCorruptScratchpadAndBrownOut) {
  device.set_corrupt_scratchpad(true);
  EXPECT_NE(crc_over(read_scratchpad()), 0);
  device.set_corrupt_scratchpad(false);

  device.set_temperature(MilliCelsius{20000});
  device.set_brown_out_on_convert(true);
  command(0x44);
  EXPECT_TRUE(*complete(bus.read_bit())) << "a reset part does not convert";
  EXPECT_FALSE(device.converting());
  EXPECT_EQ(temperature_of(read_scratchpad()), 0x0550);
}

TEST_F(SimDs18b20Test, ParasitePowerConvertsOnlyUnderAHeldStrongPullUp) {
  device.set_parasite_power(true);
  command(0xB4);
  EXPECT_FALSE(*complete(bus.read_bit())) << "a parasite-powered part pulls the slot low";
  device.set_temperature(MilliCelsius{21500});

  // Datasheet: strong pull-up within 10 µs of CONVERT T, held for t_CONV.
  ASSERT_TRUE(*complete(bus.reset()));
  ASSERT_TRUE(complete(bus.write_byte(kOneWireSkipRom)).ok());
  ASSERT_TRUE(complete(bus.write_byte_then_pull_up(0x44)).ok());
  EXPECT_TRUE(bus.strong_pull_up());
  EXPECT_EQ(bus.pull_ups(), 1u);
  driver.advance(750ms);
  ASSERT_TRUE(complete(bus.end_pull_up()).ok());
  EXPECT_FALSE(bus.strong_pull_up());
  EXPECT_EQ(temperature_of(read_scratchpad()), 21500 * 16 / 1000);
  EXPECT_EQ(device.brown_outs(), 0u);
}

TEST_F(SimDs18b20Test, ParasitePowerLostMidConversionBrownsOut) {
  device.set_parasite_power(true);
  device.set_temperature(MilliCelsius{30000});
  // Released too early.
  ASSERT_TRUE(*complete(bus.reset()));
  ASSERT_TRUE(complete(bus.write_byte(kOneWireSkipRom)).ok());
  ASSERT_TRUE(complete(bus.write_byte_then_pull_up(0x44)).ok());
  driver.advance(700ms);
  ASSERT_TRUE(complete(bus.end_pull_up()).ok());
  EXPECT_EQ(device.brown_outs(), 1u);
  EXPECT_EQ(temperature_of(read_scratchpad()), 0x0550);
  // No strong pull-up at all: a poll slot finds the part without power.
  command(0x44);
  EXPECT_TRUE(*complete(bus.read_bit()));
  EXPECT_EQ(device.brown_outs(), 2u);
  // No strong pull-up, no slot: the part cannot have converted either.
  command(0x44);
  driver.advance(750ms);
  EXPECT_EQ(temperature_of(read_scratchpad()), 0x0550);
  EXPECT_EQ(device.brown_outs(), 3u);
  // A slot ends the pull-up (any other operation does): brown-out again.
  ASSERT_TRUE(*complete(bus.reset()));
  ASSERT_TRUE(complete(bus.write_byte(kOneWireSkipRom)).ok());
  ASSERT_TRUE(complete(bus.write_byte_then_pull_up(0x44)).ok());
  driver.advance(10ms);
  complete(bus.read_bit()).status().ignore_error();
  EXPECT_FALSE(bus.strong_pull_up());
  EXPECT_EQ(device.brown_outs(), 4u);
  EXPECT_EQ(device.conversions(), 4u);
}

}  // namespace
}  // namespace mote::hal::sim
