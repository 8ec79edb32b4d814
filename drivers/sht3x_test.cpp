#include "mote/drivers/sht3x.hpp"

#include <array>
#include <cmath>
#include <gtest/gtest.h>

#include "mote/async/executor.hpp"
#include "mote/hal/delay.hpp"
#include "mote/hal/sim/i2c_bus.hpp"
#include "mote/hal/sim/scripted_i2c.hpp"
#include "mote/hal/sim/sht3x.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::drivers {
namespace {

using namespace std::chrono_literals;
using async::Task;
using async::TaskStorage;
using hal::MilliCelsius;
using hal::MilliPercentRh;
using hal::sim::I2cTransaction;
using hal::sim::ScriptedI2c;
using hal::sim::SimI2cBus;
using hal::sim::SimSht3x;
using Sensor = Sht3x<SimI2cBus, hal::ExecutorDelay>;

static_assert(hal::TemperatureSensor<Sensor>);

std::array<std::byte, 3> word_bytes(std::uint16_t word) {
  std::array<std::byte, 3> bytes{std::byte(word >> 8), std::byte(word & 0xFF), std::byte{0}};
  bytes[2] = std::byte{sht3x::crc8(ConstByteSpan(bytes.data(), 2))};
  return bytes;
}

// --- Pure functions ----------------------------------------------------------

TEST(Sht3xCrc, DatasheetExample) {
  // Datasheet 4.12, table 19: CRC(0xBEEF) = 0x92.
  const std::array<std::byte, 2> beef{std::byte{0xBE}, std::byte{0xEF}};
  EXPECT_EQ(sht3x::crc8(beef), 0x92);
  EXPECT_EQ(sht3x::crc8({}), 0xFF) << "the initial value";
}

TEST(Sht3xConversion, EndpointsAndEveryCodeAgainstTheFormula) {
  EXPECT_EQ(sht3x::to_millicelsius(0).value, -45000);
  EXPECT_EQ(sht3x::to_millicelsius(0xFFFF).value, 130000);
  EXPECT_EQ(sht3x::to_millipercent_rh(0).value, 0);
  EXPECT_EQ(sht3x::to_millipercent_rh(0xFFFF).value, 100000);
  EXPECT_EQ(sht3x::to_millicelsius(0x6666).value, 25000);     // 0x6666 / 0xFFFF is 0.4 exactly
  EXPECT_EQ(sht3x::to_millipercent_rh(0x8000).value, 50001);  // 50000.76 m%RH
  for (std::uint32_t raw = 0; raw <= 0xFFFF; ++raw) {
    const double celsius = -45.0 + 175.0 * raw / 65535.0;
    const double percent = 100.0 * raw / 65535.0;
    ASSERT_EQ(sht3x::to_millicelsius(static_cast<std::uint16_t>(raw)).value,
              static_cast<std::int32_t>(std::floor(celsius * 1000.0 + 0.5)))
        << raw;
    ASSERT_EQ(sht3x::to_millipercent_rh(static_cast<std::uint16_t>(raw)).value,
              static_cast<std::int32_t>(std::floor(percent * 1000.0 + 0.5)))
        << raw;
  }
}

TEST(Sht3xParse, ChecksEachWordsCrc) {
  std::array<std::byte, 6> bytes{};
  const auto t = word_bytes(0x6666), h = word_bytes(0x8000);
  std::copy(t.begin(), t.end(), bytes.begin());
  std::copy(h.begin(), h.end(), bytes.begin() + 3);
  Result<sht3x::Reading> reading = sht3x::parse_measurement(bytes);
  ASSERT_TRUE(reading.ok());
  EXPECT_EQ(reading->temperature.value, 25000);
  EXPECT_EQ(reading->humidity.value, 50001);
  auto bad = bytes;
  bad[4] ^= std::byte{0x10};  // the humidity word
  EXPECT_EQ(sht3x::parse_measurement(bad).status(), Status::data_loss());
  bad = bytes;
  bad[2] ^= std::byte{0x01};  // the temperature CRC
  EXPECT_EQ(sht3x::parse_measurement(bad).status(), Status::data_loss());
  // A floating bus reads all ones: 0xFFFF's CRC is 0xAC, not 0xFF.
  std::array<std::byte, 6> floating{};
  floating.fill(std::byte{0xFF});
  EXPECT_EQ(sht3x::parse_measurement(floating).status(), Status::data_loss());
  EXPECT_EQ(sht3x::parse_measurement(ConstByteSpan(bytes.data(), 5)).status(),
            Status::invalid_argument());
  EXPECT_EQ(sht3x::parse_word(word_bytes(0x1234)).value(), 0x1234);
}

// --- The driver --------------------------------------------------------------

// Runs `operation` on `sensor` to completion and returns what it yields.
template <typename T, typename Sht, typename Operation>
T run(async::Executor& executor, Sht& sensor, Operation operation) {
  T result = Status::unknown();
  TaskStorage<2048> task;
  auto body = [](Sht& s, Operation op, T& out) -> Task<void> { out = co_await op(s); };
  EXPECT_TRUE(executor.spawn(task, body, std::ref(sensor), operation, std::ref(result)).ok());
  EXPECT_TRUE(executor.run().ok());
  return result;
}

constexpr auto kRead = [](auto& sensor) { return sensor.read(); };
constexpr auto kReadStatus = [](auto& sensor) { return sensor.read_status(); };

TEST(Sht3xScript, SingleShotTrafficAndTiming) {
  platform::SimDriver driver;
  async::Executor executor(driver);
  const auto t = word_bytes(0x6666), h = word_bytes(0x8000);
  const std::array<std::byte, 6> data{t[0], t[1], t[2], h[0], h[1], h[2]};
  const std::uint8_t kStatusCrc = std::to_integer<std::uint8_t>(word_bytes(0x8010)[2]);
  const I2cTransaction script[] = {
      hal::sim::expect_write(0x45, {0x24, 0x0B}),              // medium repeatability
      hal::sim::expect_read(0x45, data, Status::not_found()),  // not yet: NACK
      hal::sim::expect_read(0x45, data),                       // 1 ms later
      hal::sim::expect_write_read(0x45, {0xF3, 0x2D}, {0x80, 0x10, kStatusCrc}),  // status
  };
  ScriptedI2c i2c(script);
  hal::ExecutorDelay delay;
  Sht3x<ScriptedI2c, hal::ExecutorDelay> sensor(i2c, delay, sht3x::kAlternateAddress,
                                                sht3x::Repeatability::medium);
  const async::Instant start = driver.now();
  Result<sht3x::Reading> reading = run<Result<sht3x::Reading>>(executor, sensor, kRead);
  ASSERT_TRUE(reading.ok()) << reading.status().str() << " " << i2c.problem();
  EXPECT_EQ(driver.now() - start, 7ms) << "6 ms (medium, max) and one 1 ms poll";
  EXPECT_EQ(reading->temperature.value, 25000);
  EXPECT_EQ(reading->humidity.value, 50001);
  EXPECT_EQ(run<Result<std::uint16_t>>(executor, sensor, kReadStatus).value(), 0x8010);
  EXPECT_TRUE(i2c.finished()) << i2c.problem();
}

class Sht3xTest : public ::testing::Test {
 protected:
  Sht3xTest() { bus.attach(part); }
  ~Sht3xTest() override { bus.detach(part); }

  Result<sht3x::Reading> read(Sensor& sensor, async::Duration* elapsed = nullptr) {
    const async::Instant start = driver.now();
    Result<sht3x::Reading> result = run<Result<sht3x::Reading>>(executor, sensor, kRead);
    if (elapsed != nullptr) *elapsed = driver.now() - start;
    return result;
  }

  platform::SimDriver driver;
  async::Executor executor{driver};
  hal::ExecutorDelay delay;
  SimI2cBus bus{driver};
  SimSht3x part;
  Sensor sensor{bus, delay};
};

TEST_F(Sht3xTest, ReadsWhatThePartMeasures) {
  part.set_measurement(MilliCelsius{21500}, MilliPercentRh{45000});
  async::Duration elapsed{};
  Result<sht3x::Reading> reading = read(sensor, &elapsed);
  ASSERT_TRUE(reading.ok()) << reading.status().str();
  // One raw step is 2.67 m°C and 1.53 m%RH: the round trip is within a step.
  EXPECT_NEAR(reading->temperature.value, 21500, 2);
  EXPECT_NEAR(reading->humidity.value, 45000, 1);
  EXPECT_EQ(elapsed, 15ms) << "high repeatability: the maximum time, no poll needed";
  EXPECT_EQ(part.measurements(), 1u);
  part.set_measurement(MilliCelsius{-40000}, MilliPercentRh{100000});
  Sensor low(bus, delay, sht3x::kDefaultAddress, sht3x::Repeatability::low);
  reading = read(low, &elapsed);
  ASSERT_TRUE(reading.ok());
  EXPECT_NEAR(reading->temperature.value, -40000, 2);
  EXPECT_EQ(reading->humidity.value, 100000);
  EXPECT_EQ(elapsed, 4ms);
  Result<MilliCelsius> t =
      run<Result<MilliCelsius>>(executor, sensor, [](Sensor& s) { return s.read_temperature(); });
  EXPECT_NEAR(t.value().value, -40000, 2);
}

TEST_F(Sht3xTest, FaultsMapToTheirErrors) {
  part.set_corrupt_crc(true);
  EXPECT_EQ(read(sensor).status(), Status::data_loss());
  part.set_corrupt_crc(false);

  part.set_stuck_measuring(true);
  async::Duration elapsed{};
  EXPECT_EQ(read(sensor, &elapsed).status(), Status::deadline_exceeded());
  EXPECT_EQ(elapsed, 20ms) << "15 ms, then five 1 ms polls";
  part.set_stuck_measuring(false);

  part.set_responding(false);
  EXPECT_EQ(read(sensor).status(), Status::not_found()) << "the command was not acknowledged";
  part.set_responding(true);

  bus.set_stuck(true);
  EXPECT_EQ(read(sensor).status(), Status::deadline_exceeded());
  bus.set_stuck(false);
  EXPECT_TRUE(read(sensor).ok());
}

TEST_F(Sht3xTest, StatusHeaterAndSoftReset) {
  EXPECT_EQ(run<Result<std::uint16_t>>(executor, sensor, kReadStatus).value(),
            sht3x::kStatusAlertPending | sht3x::kStatusResetDetected);
  EXPECT_TRUE(run<Status>(executor, sensor, [](Sensor& s) { return s.clear_status(); }).ok());
  EXPECT_EQ(run<Result<std::uint16_t>>(executor, sensor, kReadStatus).value(), 0);
  EXPECT_TRUE(run<Status>(executor, sensor, [](Sensor& s) { return s.set_heater(true); }).ok());
  EXPECT_TRUE(part.heater_on());
  EXPECT_EQ(run<Result<std::uint16_t>>(executor, sensor, kReadStatus).value(),
            sht3x::kStatusHeaterOn);
  const async::Instant start = driver.now();
  EXPECT_TRUE(run<Status>(executor, sensor, [](Sensor& s) { return s.soft_reset(); }).ok());
  EXPECT_EQ(driver.now() - start, 1500us);
  EXPECT_FALSE(part.heater_on());
  EXPECT_EQ(part.resets(), 1u);
  EXPECT_EQ(run<Result<std::uint16_t>>(executor, sensor, kReadStatus).value(), 0x8010);
}

Task<void> read_into(Sensor& sensor, Result<sht3x::Reading>& out) { out = co_await sensor.read(); }

TEST_F(Sht3xTest, ACancelledReadLeavesThePartUsable) {
  Result<sht3x::Reading> first = Status::unknown();
  TaskStorage<2048> task;
  ASSERT_TRUE(executor.spawn(task, read_into, std::ref(sensor), std::ref(first)).ok());
  executor.run_until_stalled();  // waiting out the measurement
  task.cancel();
  EXPECT_EQ(first.status(), Status::unknown());
  part.set_measurement(MilliCelsius{30000}, MilliPercentRh{20000});
  Result<sht3x::Reading> second = read(sensor);
  ASSERT_TRUE(second.ok());
  EXPECT_NEAR(second->temperature.value, 30000, 2);
  EXPECT_EQ(part.measurements(), 2u);
}

}  // namespace
}  // namespace mote::drivers
