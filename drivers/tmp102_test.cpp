#include "mote/drivers/tmp102.hpp"

#include <array>
#include <cmath>
#include <gtest/gtest.h>

#include "mote/async/executor.hpp"
#include "mote/hal/delay.hpp"
#include "mote/hal/sim/scripted_i2c.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::drivers {
namespace {

using namespace std::chrono_literals;
using async::Task;
using async::TaskStorage;
using hal::MilliCelsius;
using hal::sim::expect_write;
using hal::sim::expect_write_read;
using hal::sim::I2cTransaction;
using hal::sim::ScriptedI2c;
using Sensor = Tmp102<ScriptedI2c, hal::ExecutorDelay>;

static_assert(hal::TemperatureSensor<Sensor>);

Result<MilliCelsius> parse(std::uint16_t word) {
  const std::array<std::byte, 2> bytes{std::byte(word >> 8), std::byte(word & 0xFF)};
  return tmp102::parse_temperature(bytes);
}

// --- The temperature register ------------------------------------------------

TEST(Tmp102Parse, DatasheetTable) {
  // Datasheet tables 7-2 (12 bits, count << 4) and 7-3 (13 bits, count << 3 | 1).
  struct Row {
    std::uint16_t word;
    std::int32_t millicelsius;
  };
  const Row rows[] = {
      {0x7FF0, 127938},  // 127.9375 °C: a half, rounded away from zero
      {0x6400, 100000}, {0x5000, 80000},  {0x4B00, 75000},  {0x3200, 50000},
      {0x1900, 25000},  {0x0040, 250},    {0x0000, 0},      {0xFFC0, -250},
      {0xE700, -25000}, {0xC900, -55000}, {0x4B01, 150000},  // 2400 << 3 | EM
      {0x4001, 128000}, {0x0009, 63},     {0xFFF9, -63},     // ±0.0625 °C, extended
      {0xE481, -55000},                                      // 0x1C90 << 3 | EM
  };
  for (const Row& row : rows) {
    Result<MilliCelsius> t = parse(row.word);
    ASSERT_TRUE(t.ok()) << std::hex << row.word;
    EXPECT_EQ(t->value, row.millicelsius) << std::hex << row.word;
  }
}

TEST(Tmp102Parse, EveryWordAgainstTheFormula) {
  // The input space is 16 bits: checked whole, which a fuzzer could only sample.
  int accepted = 0;
  for (std::uint32_t word = 0; word <= 0xFFFF; ++word) {
    const bool extended = (word & 1U) != 0;
    const std::uint32_t clear_mask = extended ? 0x6U : 0xEU;
    const int count = static_cast<std::int16_t>(word) >> (extended ? 3 : 4);
    const double celsius = count * 0.0625;
    const bool in_range = celsius >= -55.0 && celsius <= 150.0;
    Result<MilliCelsius> t = parse(static_cast<std::uint16_t>(word));
    if ((word & clear_mask) != 0 || !in_range) {
      ASSERT_EQ(t.status(), Status::data_loss()) << std::hex << word;
      continue;
    }
    ASSERT_TRUE(t.ok()) << std::hex << word;
    // Nearest m°C, halves away from zero.
    const double expected = std::copysign(std::floor(std::fabs(celsius) * 1000.0 + 0.5), celsius);
    ASSERT_EQ(t->value, static_cast<std::int32_t>(expected)) << std::hex << word;
    ++accepted;
  }
  // 12 bits: -55..127.9375 °C is 880 + 2048 counts; 13 bits: -55..150 °C is 880 + 2401.
  EXPECT_EQ(accepted, (880 + 2048) + (880 + 2401));
}

TEST(Tmp102Parse, RejectsAFloatingBusAndShortInput) {
  EXPECT_EQ(parse(0xFFFF).status(), Status::data_loss()) << "a floating bus reads all ones";
  EXPECT_EQ(parse(0x1902).status(), Status::data_loss()) << "D1 is always 0";
  const std::array<std::byte, 1> one{};
  EXPECT_EQ(tmp102::parse_temperature(one).status(), Status::invalid_argument());
}

TEST(Tmp102Configuration, WordsForEachMode) {
  using tmp102::ConversionRate;
  using tmp102::Mode;
  // EM on, CR = 4 Hz (10), SD off: 0x0090.
  EXPECT_EQ(tmp102::configuration_for(Mode::continuous, ConversionRate::four_hz), 0x0090);
  EXPECT_EQ(tmp102::configuration_for(Mode::one_shot, ConversionRate::quarter_hz), 0x0110);
  EXPECT_EQ(tmp102::configuration_for(Mode::continuous, ConversionRate::eight_hz), 0x00D0);
}

// --- The driver, against a scripted bus ---------------------------------------

template <typename T, typename Operation>
T run(platform::SimDriver& driver, Sensor& sensor, Operation operation,
      async::Duration* elapsed = nullptr) {
  async::Executor executor(driver);
  T result = Status::unknown();
  TaskStorage<2048> task;
  auto body = [](Sensor& s, Operation op, T& out) -> Task<void> { out = co_await op(s); };
  const async::Instant start = driver.now();
  EXPECT_TRUE(executor.spawn(task, body, std::ref(sensor), operation, std::ref(result)).ok());
  EXPECT_TRUE(executor.run().ok());
  if (elapsed != nullptr) *elapsed = driver.now() - start;
  return result;
}

constexpr auto kRead = [](Sensor& s) { return s.read_temperature(); };
constexpr auto kConfigure = [](Sensor& s) { return s.configure(); };

TEST(Tmp102Script, ContinuousConfigureThenRead) {
  platform::SimDriver driver;
  const I2cTransaction script[] = {
      expect_write(0x49, {0x01, 0x00, 0x90}),         // configuration: EM, 4 Hz
      expect_write_read(0x49, {0x00}, {0x0C, 0x89}),  // 25.0625 °C: 401 << 3 | EM
      expect_write_read(0x49, {0x00}, {0xFF, 0xFF}),  // the part fell off the bus
      expect_write_read(0x49, {0x00}, {0x00, 0x00}, Status::not_found()),  // no ACK
  };
  ScriptedI2c i2c(script);
  hal::ExecutorDelay delay;
  Sensor sensor(i2c, delay, tmp102::kAddressVplus);
  async::Duration elapsed{};
  EXPECT_TRUE(run<Status>(driver, sensor, kConfigure, &elapsed).ok()) << i2c.problem();
  EXPECT_EQ(elapsed, 26ms) << "waits for the first conversion";
  Result<MilliCelsius> t = run<Result<MilliCelsius>>(driver, sensor, kRead, &elapsed);
  ASSERT_TRUE(t.ok()) << t.status().str() << " " << i2c.problem();
  EXPECT_EQ(t->value, 25063);
  EXPECT_EQ(elapsed, 0ms) << "continuous: the latest result, no waiting";
  EXPECT_EQ(run<Result<MilliCelsius>>(driver, sensor, kRead).status(), Status::data_loss());
  EXPECT_EQ(run<Result<MilliCelsius>>(driver, sensor, kRead).status(), Status::not_found());
  EXPECT_TRUE(i2c.finished()) << i2c.problem();
}

TEST(Tmp102Script, OneShotPollsUntilTheConversionIsDone) {
  platform::SimDriver driver;
  const I2cTransaction script[] = {
      expect_write(0x48, {0x01, 0x81, 0x90}),         // OS | SD, EM, 4 Hz
      expect_write_read(0x48, {0x01}, {0x61, 0xB0}),  // OS reads 0: converting
      expect_write_read(0x48, {0x01}, {0xE1, 0xB0}),  // OS reads 1: done
      expect_write_read(0x48, {0x00}, {0xF3, 0x80}),  // -12.5 °C, 12 bits
  };
  ScriptedI2c i2c(script);
  hal::ExecutorDelay delay;
  Sensor sensor(i2c, delay, tmp102::kAddressGnd, tmp102::Mode::one_shot);
  async::Duration elapsed{};
  Result<MilliCelsius> t = run<Result<MilliCelsius>>(driver, sensor, kRead, &elapsed);
  ASSERT_TRUE(t.ok()) << t.status().str() << " " << i2c.problem();
  EXPECT_EQ(t->value, -12500);
  EXPECT_EQ(elapsed, 29ms) << "26 ms, then one 3 ms poll";
  EXPECT_TRUE(i2c.finished()) << i2c.problem();
}

TEST(Tmp102Script, OneShotThatNeverFinishes) {
  platform::SimDriver driver;
  std::array<I2cTransaction, 1 + tmp102::kPollAttempts + 1> script{};
  script[0] = expect_write(0x48, {0x01, 0x81, 0x90});
  for (std::size_t i = 1; i < script.size(); ++i) {
    script[i] = expect_write_read(0x48, {0x01}, {0x61, 0xB0});  // OS stays 0
  }
  ScriptedI2c i2c(script);
  hal::ExecutorDelay delay;
  Sensor sensor(i2c, delay, tmp102::kAddressGnd, tmp102::Mode::one_shot);
  async::Duration elapsed{};
  EXPECT_EQ(run<Result<MilliCelsius>>(driver, sensor, kRead, &elapsed).status(),
            Status::deadline_exceeded());
  EXPECT_EQ(elapsed, 38ms) << "26 ms and four 3 ms polls: past the 35 ms maximum";
  EXPECT_TRUE(i2c.finished()) << i2c.problem();
}

}  // namespace
}  // namespace mote::drivers
