// The concepts accept the simulated backends and reject what does not fit.
#include <gtest/gtest.h>

#include "mote/hal/delay.hpp"
#include "mote/hal/gpio.hpp"
#include "mote/hal/i2c.hpp"
#include "mote/hal/one_wire.hpp"
#include "mote/hal/one_wire_rom.hpp"
#include "mote/hal/sim/i2c_bus.hpp"
#include "mote/hal/sim/one_wire_bus.hpp"
#include "mote/hal/sim/pin.hpp"
#include "mote/hal/sim/scripted_i2c.hpp"

namespace mote::hal {
namespace {

static_assert(DigitalInput<sim::SimPin> && DigitalOutput<sim::SimPin>);
static_assert(I2cBus<sim::ScriptedI2c> && I2cBus<sim::SimI2cBus>);
static_assert(OneWireBus<sim::SimOneWireBus>);
static_assert(Delay<ExecutorDelay>);
static_assert(!I2cBus<sim::SimPin>);
static_assert(!OneWireBus<sim::SimI2cBus>);

// A bus whose read_bit yields a bare bool is not a OneWireBus: errors must be
// reportable.
struct BoolOnlyOneWire {
  sim::Immediate<Result<bool> (*)()> reset();
  sim::Immediate<Status (*)()> write_bit(bool);
  sim::Immediate<bool (*)()> read_bit();
  sim::Immediate<Status (*)()> write_byte(std::uint8_t);
  sim::Immediate<Result<std::uint8_t> (*)()> read_byte();
};
static_assert(!OneWireBus<BoolOnlyOneWire>);

TEST(OneWireCrc8, MatchesMaximApplicationNote27) {
  // AN27's worked example: ROM 02 1C B8 01 00 00 00 with CRC A2.
  constexpr auto rom = make_bytes(0x02, 0x1C, 0xB8, 0x01, 0x00, 0x00, 0x00);
  EXPECT_EQ(one_wire_crc8(rom), 0xA2);
  constexpr auto with_crc = make_bytes(0x02, 0x1C, 0xB8, 0x01, 0x00, 0x00, 0x00, 0xA2);
  EXPECT_EQ(one_wire_crc8(with_crc), 0);
  EXPECT_EQ(one_wire_crc8(ConstByteSpan{}), 0);
}

TEST(OneWireRom, FromSerialComputesTheCrcAndBusOrder) {
  constexpr OneWireRom rom = OneWireRom::from_serial(0x02, 0x000001B81C);
  EXPECT_EQ(rom.family(), 0x02);
  EXPECT_EQ(rom.serial(), 0x000001B81Cu);
  EXPECT_EQ(rom.crc(), 0xA2);
  EXPECT_EQ(rom.value(), 0xA2000000'01B81C02u);
  EXPECT_TRUE(rom.valid());
  EXPECT_FALSE(OneWireRom(rom.value() ^ (std::uint64_t{1} << 60)).valid());
  EXPECT_FALSE(OneWireRom(0).valid());  // all zeros passes the CRC but is no device
  EXPECT_TRUE(rom.bit(1));              // family 0x02: bit 1 is the first 1 on the wire
  EXPECT_FALSE(rom.bit(0));
}

}  // namespace
}  // namespace mote::hal
