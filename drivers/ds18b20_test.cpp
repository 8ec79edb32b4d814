#include "mote/drivers/ds18b20.hpp"

#include <array>
#include <gtest/gtest.h>

#include "mote/async/executor.hpp"
#include "mote/hal/delay.hpp"
#include "mote/hal/sim/ds18b20.hpp"
#include "mote/hal/sim/one_wire_bus.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::drivers {
namespace {

using namespace std::chrono_literals;
using async::Task;
using async::TaskStorage;
using hal::MilliCelsius;
using hal::OneWireRom;
using hal::sim::SimDs18b20;
using hal::sim::SimOneWireBus;
using Sensor = Ds18b20<SimOneWireBus, hal::ExecutorDelay>;

static_assert(hal::TemperatureSensor<Sensor>);

// --- Pure conversions --------------------------------------------------------

TEST(Ds18b20Conversion, DatasheetTemperatureTable) {
  // Datasheet, table 1 "Temperature/data relationship" (12-bit codes).
  struct Row {
    std::uint16_t code;
    std::int32_t millicelsius;
  };
  const Row table[] = {
      {0x07D0, 125000}, {0x0550, 85000},  {0x0191, 25062},  // 25.0625: half m°C dropped
      {0x00A2, 10125},  {0x0008, 500},    {0x0000, 0},      {0xFFF8, -500},
      {0xFF5E, -10125}, {0xFE6F, -25062}, {0xFC90, -55000},
  };
  for (const Row& row : table) {
    EXPECT_EQ(ds18b20::to_millicelsius(static_cast<std::int16_t>(row.code)).value, row.millicelsius)
        << std::hex << row.code;
  }
}

TEST(Ds18b20Conversion, ResolutionConfigAndTimes) {
  EXPECT_EQ(ds18b20::config_for_resolution(9), 0x1F);
  EXPECT_EQ(ds18b20::config_for_resolution(10), 0x3F);
  EXPECT_EQ(ds18b20::config_for_resolution(11), 0x5F);
  EXPECT_EQ(ds18b20::config_for_resolution(12), 0x7F);
  EXPECT_EQ(ds18b20::resolution_of_config(0x5F), 11);
  EXPECT_EQ(ds18b20::conversion_time(9), 93750us);
  EXPECT_EQ(ds18b20::conversion_time(10), 187500us);
  EXPECT_EQ(ds18b20::conversion_time(11), 375000us);
  EXPECT_EQ(ds18b20::conversion_time(12), 750000us);
  EXPECT_EQ(ds18b20::conversion_timeout(12), 937500us);
}

std::array<std::byte, 9> scratchpad_bytes(std::uint16_t raw, std::uint8_t config) {
  std::array<std::byte, 9> bytes = {std::byte(raw & 0xFF), std::byte(raw >> 8), std::byte{75},
                                    std::byte{70},         std::byte{config},   std::byte{0xFF},
                                    std::byte{0x0C},       std::byte{0x10},     std::byte{0}};
  bytes[8] = std::byte{hal::one_wire_crc8(ConstByteSpan(bytes.data(), 8))};
  return bytes;
}

TEST(Ds18b20Scratchpad, ParsesAndChecks) {
  auto good = scratchpad_bytes(0x0191, 0x7F);
  auto parsed = ds18b20::parse_scratchpad(good);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->raw_temperature, 0x0191);
  EXPECT_EQ(parsed->th, 75);
  EXPECT_EQ(parsed->resolution_bits(), 12);

  // At 9 bits the low three bits are undefined: cleared.
  auto nine = scratchpad_bytes(0x0197, 0x1F);
  EXPECT_EQ(ds18b20::parse_scratchpad(nine)->raw_temperature, 0x0190);

  auto bad_crc = good;
  bad_crc[8] ^= std::byte{0x01};
  EXPECT_EQ(ds18b20::parse_scratchpad(bad_crc).status().code(), StatusCode::data_loss);

  std::array<std::byte, 9> zeros{};  // passes the CRC
  EXPECT_EQ(ds18b20::parse_scratchpad(zeros).status().code(), StatusCode::data_loss);

  std::array<std::byte, 9> ones;
  ones.fill(std::byte{0xFF});
  EXPECT_EQ(ds18b20::parse_scratchpad(ones).status().code(), StatusCode::not_found);

  auto too_hot = scratchpad_bytes(0x07E0, 0x7F);  // +126 °C
  EXPECT_EQ(ds18b20::parse_scratchpad(too_hot).status().code(), StatusCode::data_loss);

  EXPECT_EQ(ds18b20::parse_scratchpad(ConstByteSpan(good.data(), 8)).status().code(),
            StatusCode::invalid_argument);
}

// --- The driver against the simulated bus -----------------------------------

class Ds18b20Test : public ::testing::Test {
 protected:
  ~Ds18b20Test() override {
    bus.detach(a);
    if (b_attached) bus.detach(b);
  }
  void attach_second() {
    bus.attach(b);
    b_attached = true;
  }

  // Reads one temperature; `elapsed` is the virtual time it took.
  Result<MilliCelsius> read(Sensor& sensor, async::Duration* elapsed = nullptr) {
    Result<MilliCelsius> result = Status::unknown();
    const async::Instant start = driver.now();
    TaskStorage<2048> task;
    auto run = [](Sensor& sensor, Result<MilliCelsius>& result) -> Task<void> {
      result = co_await sensor.read_temperature();
    };
    EXPECT_TRUE(executor.spawn(task, run, std::ref(sensor), std::ref(result)).ok());
    EXPECT_TRUE(executor.run().ok());
    if (elapsed != nullptr) *elapsed = driver.now() - start;
    return result;
  }
  Status set_resolution(Sensor& sensor, int bits) {
    Status result = Status::unknown();
    TaskStorage<2048> task;
    auto run = [](Sensor& sensor, int bits, Status& result) -> Task<void> {
      result = co_await sensor.set_resolution(bits);
    };
    EXPECT_TRUE(executor.spawn(task, run, std::ref(sensor), bits, std::ref(result)).ok());
    EXPECT_TRUE(executor.run().ok());
    return result;
  }

  platform::SimDriver driver;
  async::Executor executor{driver};
  hal::ExecutorDelay delay;
  SimOneWireBus bus{driver};
  SimDs18b20 a{0x0000'0000'0A0Aull};
  SimDs18b20 b{0x0000'0000'0B0Bull};
  bool b_attached = false;

  Ds18b20Test() { bus.attach(a); }
};

TEST_F(Ds18b20Test, ReadsTheDatasheetTableThroughTheBus) {
  const std::pair<std::uint16_t, std::int32_t> table[] = {
      {0x07D0, 125000}, {0x0550, 85000}, {0x0191, 25062},  {0x00A2, 10125},  {0x0008, 500},
      {0x0000, 0},      {0xFFF8, -500},  {0xFF5E, -10125}, {0xFE6F, -25062}, {0xFC90, -55000},
  };
  auto sensor = Sensor::alone_on_bus(bus, delay);
  for (auto [code, millicelsius] : table) {
    a.set_temperature_sixteenths(static_cast<std::int16_t>(code));
    auto t = read(sensor);
    ASSERT_TRUE(t.ok()) << t.status().str() << " for " << std::hex << code;
    EXPECT_EQ(t->value, millicelsius) << std::hex << code;
  }
}

TEST_F(Ds18b20Test, ConversionWaitFollowsTheResolutionOnTheVirtualClock) {
  Sensor sensor(bus, delay, a.rom());
  a.set_temperature(MilliCelsius{21500});
  // Polls every 10 ms: done at the first poll at or after t_CONV.
  const std::pair<int, async::Duration> cases[] = {
      {12, 750ms}, {9, 100ms}, {10, 190ms}, {11, 380ms}};
  for (auto [bits, expected] : cases) {
    if (bits != 12) {
      ASSERT_TRUE(set_resolution(sensor, bits).ok());
    }
    EXPECT_EQ(a.resolution_bits(), bits);
    EXPECT_EQ(sensor.resolution_bits(), bits);
    async::Duration elapsed{};
    auto t = read(sensor, &elapsed);
    ASSERT_TRUE(t.ok()) << t.status().str();
    EXPECT_EQ(elapsed, expected) << bits << " bits";
    // 21.5 °C is exact at every resolution (0x0158).
    EXPECT_EQ(t->value, 21500);
  }
}

TEST_F(Ds18b20Test, LowerResolutionRoundsDown) {
  Sensor sensor(bus, delay, a.rom());
  ASSERT_TRUE(set_resolution(sensor, 9).ok());
  a.set_temperature_sixteenths(0x0197);  // 25.4375 °C
  auto t = read(sensor);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->value, 25000);  // 9 bits: 0.5 °C steps
}

TEST_F(Ds18b20Test, SetResolutionKeepsThAndTl) {
  Sensor sensor(bus, delay, a.rom());
  ASSERT_TRUE(set_resolution(sensor, 10).ok());
  const auto scratchpad = a.scratchpad();
  EXPECT_EQ(std::to_integer<int>(scratchpad[2]), 75);
  EXPECT_EQ(std::to_integer<int>(scratchpad[3]), 70);
  EXPECT_EQ(std::to_integer<int>(scratchpad[4]), 0x3F);
  EXPECT_EQ(set_resolution(sensor, 8).code(), StatusCode::invalid_argument);
  EXPECT_EQ(set_resolution(sensor, 13).code(), StatusCode::invalid_argument);
}

TEST_F(Ds18b20Test, MatchRomReadsTheRightDeviceAmongSeveral) {
  attach_second();
  a.set_temperature(MilliCelsius{-5000});
  b.set_temperature(MilliCelsius{30000});
  Sensor sensor_a(bus, delay, a.rom());
  Sensor sensor_b(bus, delay, b.rom());
  EXPECT_EQ(read(sensor_a)->value, -5000);
  EXPECT_EQ(read(sensor_b)->value, 30000);
  EXPECT_EQ(a.conversions(), 1u);
  EXPECT_EQ(b.conversions(), 1u);
}

TEST_F(Ds18b20Test, BadScratchpadCrcIsDataLoss) {
  auto sensor = Sensor::alone_on_bus(bus, delay);
  a.set_corrupt_scratchpad(true);
  EXPECT_EQ(read(sensor).status().code(), StatusCode::data_loss);
  a.set_corrupt_scratchpad(false);
  EXPECT_TRUE(read(sensor).ok());
}

TEST_F(Ds18b20Test, MissingDeviceIsNotFound) {
  auto sensor = Sensor::alone_on_bus(bus, delay);
  a.set_responding(false);
  EXPECT_EQ(read(sensor).status().code(), StatusCode::not_found);
}

TEST_F(Ds18b20Test, MissingDeviceAmongOthersIsNotFound) {
  attach_second();
  Sensor sensor(bus, delay, a.rom());
  a.set_responding(false);  // b still gives the presence pulse
  EXPECT_EQ(read(sensor).status().code(), StatusCode::not_found);
  EXPECT_EQ(b.conversions(), 0u) << "MATCH ROM addressed a, not b";
}

TEST_F(Ds18b20Test, ShortedBusIsUnavailable) {
  auto sensor = Sensor::alone_on_bus(bus, delay);
  bus.set_shorted(true);
  EXPECT_EQ(read(sensor).status().code(), StatusCode::unavailable);
}

TEST_F(Ds18b20Test, PowerOnValueWithoutAConversionIsDataLoss) {
  auto sensor = Sensor::alone_on_bus(bus, delay);
  a.set_temperature(MilliCelsius{20000});
  a.set_brown_out_on_convert(true);
  async::Duration elapsed{};
  EXPECT_EQ(read(sensor, &elapsed).status().code(), StatusCode::data_loss);
  EXPECT_EQ(elapsed, 0us) << "the device answered done at once";
  EXPECT_EQ(a.conversions(), 1u);
}

TEST_F(Ds18b20Test, Genuine85DegreesAfterAConversionIsAReading) {
  auto sensor = Sensor::alone_on_bus(bus, delay);
  a.set_temperature(MilliCelsius{85000});
  auto t = read(sensor);
  ASSERT_TRUE(t.ok()) << t.status().str();
  EXPECT_EQ(t->value, 85000);
}

// A device that never finishes converting (held by a test model).
class StuckDs18b20 final : public hal::sim::SimOneWireDevice {
 public:
  StuckDs18b20() : SimOneWireDevice(OneWireRom::from_serial(0x28, 0x5757)) {}

 private:
  void on_function_command(std::uint8_t command) override {
    if (command == ds18b20::kConvertT) answer_polls();
  }
  bool poll_bit() override { return false; }
};

TEST_F(Ds18b20Test, ConversionThatNeverEndsTimesOut) {
  bus.detach(a);
  StuckDs18b20 stuck;
  bus.attach(stuck);
  auto sensor = Sensor::alone_on_bus(bus, delay);
  async::Duration elapsed{};
  EXPECT_EQ(read(sensor, &elapsed).status().code(), StatusCode::deadline_exceeded);
  EXPECT_EQ(elapsed, 940ms) << "1.25 x 750 ms, in 10 ms polls";
  bus.detach(stuck);
  bus.attach(a);
}

Task<void> read_then_cancel(Sensor& sensor, Result<MilliCelsius>& result) {
  result = co_await sensor.read_temperature();
}

TEST_F(Ds18b20Test, CancelledReadLeavesTheBusUsable) {
  auto sensor = Sensor::alone_on_bus(bus, delay);
  a.set_temperature(MilliCelsius{12500});
  Result<MilliCelsius> result = Status::unknown();
  TaskStorage<2048> task;
  ASSERT_TRUE(executor.spawn(task, read_then_cancel, std::ref(sensor), std::ref(result)).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(a.converting());
  task.cancel();
  EXPECT_EQ(result.status().code(), StatusCode::unknown) << "no value after cancellation";
  auto t = read(sensor);
  ASSERT_TRUE(t.ok()) << t.status().str();
  EXPECT_EQ(t->value, 12500);
}

// --- Parasite power ----------------------------------------------------------

TEST_F(Ds18b20Test, ExternallyPoweredPartsArePolled) {
  auto sensor = Sensor::alone_on_bus(bus, delay);
  a.set_temperature(MilliCelsius{19000});
  EXPECT_FALSE(sensor.power_supply().has_value());
  ASSERT_TRUE(read(sensor).ok());
  EXPECT_EQ(sensor.power_supply(), ds18b20::PowerSupply::external);
  EXPECT_EQ(bus.pull_ups(), 0u);
}

TEST_F(Ds18b20Test, ParasitePoweredPartConvertsUnderTheStrongPullUp) {
  a.set_parasite_power(true);
  Sensor sensor(bus, delay, a.rom());
  a.set_temperature(MilliCelsius{21500});
  async::Duration elapsed{};
  auto t = read(sensor, &elapsed);
  ASSERT_TRUE(t.ok()) << t.status().str();
  EXPECT_EQ(t->value, 21500);
  EXPECT_EQ(sensor.power_supply(), ds18b20::PowerSupply::parasite);
  EXPECT_EQ(elapsed, 750ms) << "t_CONV at 12 bits: no polling in parasite mode";
  EXPECT_EQ(bus.pull_ups(), 1u);
  EXPECT_FALSE(bus.strong_pull_up()) << "released before READ SCRATCHPAD";
  EXPECT_EQ(a.brown_outs(), 0u);
  // The wait follows the resolution the driver last read from the part.
  ASSERT_TRUE(set_resolution(sensor, 9).ok());
  a.set_temperature(MilliCelsius{-3500});
  t = read(sensor, &elapsed);
  ASSERT_TRUE(t.ok()) << t.status().str();
  EXPECT_EQ(t->value, -3500);
  EXPECT_EQ(elapsed, 93750us);
}

TEST_F(Ds18b20Test, ParasitePowerOnValueIsDataLoss) {
  a.set_parasite_power(true);
  auto sensor = Sensor::alone_on_bus(bus, delay);
  a.set_temperature(MilliCelsius{85000});
  EXPECT_EQ(read(sensor).status().code(), StatusCode::data_loss)
      << "without seeing the conversion run, 85 °C cannot be told from a brown-out";
}

// A bus that has no strong pull-up: the five OneWireBus operations only.
class PlainBus {
 public:
  explicit PlainBus(SimOneWireBus& bus) : bus_(bus) {}
  auto reset() { return bus_.reset(); }
  auto write_bit(bool bit) { return bus_.write_bit(bit); }
  auto read_bit() { return bus_.read_bit(); }
  auto write_byte(std::uint8_t byte) { return bus_.write_byte(byte); }
  auto read_byte() { return bus_.read_byte(); }

 private:
  SimOneWireBus& bus_;
};
static_assert(hal::OneWireBus<PlainBus> && !hal::OneWireStrongPullUp<PlainBus>);

Task<void> read_plain(Ds18b20<PlainBus, hal::ExecutorDelay>& sensor, Result<MilliCelsius>& out) {
  out = co_await sensor.read_temperature();
}

TEST_F(Ds18b20Test, ParasitePartWithoutAStrongPullUpIsFailedPrecondition) {
  a.set_parasite_power(true);
  PlainBus plain(bus);
  auto sensor = Ds18b20<PlainBus, hal::ExecutorDelay>::alone_on_bus(plain, delay);
  Result<MilliCelsius> result = Status::unknown();
  TaskStorage<2048> task;
  ASSERT_TRUE(executor.spawn(task, read_plain, std::ref(sensor), std::ref(result)).ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(result.status().code(), StatusCode::failed_precondition);
  EXPECT_EQ(a.conversions(), 0u) << "no conversion started that nothing could power";
}

TEST_F(Ds18b20Test, CancelledParasiteReadLeavesThePullUpUntilTheNextOperation) {
  a.set_parasite_power(true);
  auto sensor = Sensor::alone_on_bus(bus, delay);
  a.set_temperature(MilliCelsius{12500});
  Result<MilliCelsius> result = Status::unknown();
  TaskStorage<2048> task;
  ASSERT_TRUE(executor.spawn(task, read_then_cancel, std::ref(sensor), std::ref(result)).ok());
  executor.run_until_stalled();
  EXPECT_TRUE(bus.strong_pull_up());
  task.cancel();
  EXPECT_TRUE(bus.strong_pull_up()) << "nothing can run a bus operation from a destructor";
  auto t = read(sensor);  // its reset ends the old pull-up and the old conversion
  ASSERT_TRUE(t.ok()) << t.status().str();
  EXPECT_EQ(t->value, 12500);
  EXPECT_EQ(a.brown_outs(), 1u);
  EXPECT_FALSE(bus.strong_pull_up());
}

}  // namespace
}  // namespace mote::drivers
