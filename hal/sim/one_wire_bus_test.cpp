// The simulated bus's slot semantics, driven by hand: simulated operations
// complete without suspending, so a test can run them directly through
// await_resume() (see immediate.hpp) and check the wire bit by bit.
#include "mote/hal/sim/one_wire_bus.hpp"

#include <gtest/gtest.h>

#include "mote/hal/sim/ds18b20.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::hal::sim {
namespace {

template <typename Awaiter>
auto complete(Awaiter&& awaiter) {
  return awaiter.await_resume();
}

class SimOneWireBusTest : public ::testing::Test {
 protected:
  std::uint64_t read_rom() {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= std::uint64_t{*complete(bus.read_byte())} << (8 * i);
    return value;
  }
  void write_rom(OneWireRom rom) {
    for (int i = 0; i < 8; ++i) EXPECT_TRUE(complete(bus.write_byte(rom.byte(i))).ok());
  }

  platform::SimDriver driver;
  SimOneWireBus bus{driver};
};

TEST_F(SimOneWireBusTest, EmptyBusHasNoPresenceAndReadsOnes) {
  EXPECT_FALSE(*complete(bus.reset()));
  EXPECT_TRUE(*complete(bus.read_bit()));
  EXPECT_EQ(*complete(bus.read_byte()), 0xFF);
}

TEST_F(SimOneWireBusTest, ReadRomSendsTheRomCodeLsbFirst) {
  SimDs18b20 device(0x0000'1234'5678'9ABCull);
  bus.attach(device);
  EXPECT_TRUE(*complete(bus.reset()));
  EXPECT_TRUE(complete(bus.write_byte(kOneWireReadRom)).ok());
  const OneWireRom rom(read_rom());
  EXPECT_EQ(rom, device.rom());
  EXPECT_EQ(rom.family(), 0x28);
  EXPECT_EQ(rom.serial(), 0x1234'5678'9ABCull);
  EXPECT_TRUE(rom.valid());
  EXPECT_TRUE(device.selected());
}

TEST_F(SimOneWireBusTest, TwoDevicesAnsweringAtOnceAreWiredAnd) {
  SimDs18b20 a(OneWireRom(0xF0F0'F0F0'F0F0'F0F0ull));
  SimDs18b20 b(OneWireRom(0xFF00'FF00'FF00'FF00ull));
  bus.attach(a);
  bus.attach(b);
  EXPECT_TRUE(*complete(bus.reset()));
  EXPECT_TRUE(complete(bus.write_byte(kOneWireReadRom)).ok());
  EXPECT_EQ(read_rom(), 0xF000'F000'F000'F000ull);
}

TEST_F(SimOneWireBusTest, SearchTripletsReadBitAndComplementThenSelectADirection) {
  // Bit 0 differs (a: 0, b: 1); bit 1 is 1 in both.
  SimDs18b20 a(OneWireRom(0x0000'0000'0000'0002ull));
  SimDs18b20 b(OneWireRom(0x0000'0000'0000'0003ull));
  bus.attach(a);
  bus.attach(b);
  EXPECT_TRUE(*complete(bus.reset()));
  EXPECT_TRUE(complete(bus.write_byte(kOneWireSearchRom)).ok());
  // Bit 0: a sends 0/1, b sends 1/0: the AND is 0/0, a discrepancy.
  EXPECT_FALSE(*complete(bus.read_bit()));
  EXPECT_FALSE(*complete(bus.read_bit()));
  EXPECT_TRUE(complete(bus.write_bit(true)).ok());  // b's way: a drops out
  // Bit 1: only b is left, and so is its bit: 1/0.
  EXPECT_TRUE(*complete(bus.read_bit()));
  EXPECT_FALSE(*complete(bus.read_bit()));
  EXPECT_TRUE(complete(bus.write_bit(true)).ok());
  for (int bit = 2; bit < 64; ++bit) {
    const bool value = b.rom().bit(bit);
    EXPECT_EQ(*complete(bus.read_bit()), value);
    EXPECT_EQ(*complete(bus.read_bit()), !value);
    EXPECT_TRUE(complete(bus.write_bit(value)).ok());
  }
  EXPECT_TRUE(b.selected());
  EXPECT_FALSE(a.selected());
}

TEST_F(SimOneWireBusTest, MatchRomSelectsOneDeviceAndSkipRomAll) {
  SimDs18b20 a(0x0000'0000'0001ull);
  SimDs18b20 b(0x0000'0000'0002ull);
  bus.attach(a);
  bus.attach(b);
  EXPECT_TRUE(*complete(bus.reset()));
  EXPECT_TRUE(complete(bus.write_byte(kOneWireMatchRom)).ok());
  write_rom(b.rom());
  EXPECT_FALSE(a.selected());
  EXPECT_TRUE(b.selected());

  EXPECT_TRUE(*complete(bus.reset()));
  EXPECT_FALSE(b.selected()) << "a reset ends the selection";
  EXPECT_TRUE(complete(bus.write_byte(kOneWireSkipRom)).ok());
  EXPECT_TRUE(a.selected());
  EXPECT_TRUE(b.selected());
}

TEST_F(SimOneWireBusTest, ShortedBusFailsEveryOperation) {
  SimDs18b20 device(1);
  bus.attach(device);
  bus.set_shorted(true);
  EXPECT_EQ(complete(bus.reset()).status().code(), StatusCode::unavailable);
  EXPECT_EQ(complete(bus.write_bit(true)).code(), StatusCode::unavailable);
  EXPECT_EQ(complete(bus.read_bit()).status().code(), StatusCode::unavailable);
  EXPECT_EQ(complete(bus.write_byte(0x33)).code(), StatusCode::unavailable);
  EXPECT_EQ(complete(bus.read_byte()).status().code(), StatusCode::unavailable);
  bus.set_shorted(false);
  EXPECT_TRUE(*complete(bus.reset()));
}

TEST_F(SimOneWireBusTest, SilentDeviceGivesNoPresenceAndNeverPullsTheLine) {
  SimDs18b20 device(1);
  bus.attach(device);
  device.set_responding(false);
  EXPECT_FALSE(*complete(bus.reset()));
  EXPECT_TRUE(complete(bus.write_byte(kOneWireReadRom)).ok());
  EXPECT_EQ(read_rom(), ~std::uint64_t{0});
}

TEST_F(SimOneWireBusTest, OperationsRunWhenAwaitedNotWhenCreated) {
  SimDs18b20 device(1);
  bus.attach(device);
  {
    auto unused = bus.reset();
    (void)unused;
  }
  EXPECT_EQ(bus.resets(), 0u);
  EXPECT_TRUE(*complete(bus.reset()));
  EXPECT_EQ(bus.resets(), 1u);
}

}  // namespace
}  // namespace mote::hal::sim
