#include "mote/drivers/bme280.hpp"

#include <array>
#include <cmath>
#include <gtest/gtest.h>

#include "mote/async/executor.hpp"
#include "mote/hal/delay.hpp"
#include "mote/hal/sim/bme280.hpp"
#include "mote/hal/sim/i2c_bus.hpp"
#include "mote/hal/sim/scripted_i2c.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::drivers {
namespace {

using namespace std::chrono_literals;
using async::Task;
using async::TaskStorage;
using hal::sim::I2cTransaction;
using hal::sim::ScriptedI2c;
using hal::sim::SimBme280;
using hal::sim::SimI2cBus;

// The BMP280 datasheet's worked example (section 3.12; the BME280 shares the
// temperature and pressure formulas) plus typical humidity trimming values.
constexpr std::array<std::uint8_t, 26> kCalibration0 = {
    0x70, 0x6B, 0x43, 0x67, 0x18, 0xFC, 0x7D, 0x8E, 0x43, 0xD6, 0xD0, 0x0B, 0x27,
    0x0B, 0x8C, 0x00, 0xF9, 0xFF, 0x8C, 0x3C, 0xF8, 0xC6, 0x70, 0x17, 0x00, 0x4B};
constexpr std::array<std::uint8_t, 7> kCalibration1 = {0x6A, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1E};
constexpr std::int32_t kAdcT = 519888;  // -> 25.08 °C, t_fine 128422
constexpr std::int32_t kAdcP = 415148;  // -> 100653.27 Pa (floating-point formula)
constexpr std::int32_t kAdcH = 30000;

bme280::Calibration example_calibration() {
  auto c = bme280::parse_calibration(bytes_of(kCalibration0), bytes_of(kCalibration1));
  MOTE_ASSERT(c.ok());
  return *c;
}

// The datasheet's floating-point formulas (section 4.2.3 / 8.1), as an
// independent check of the integer ones.
struct Reference {
  double t_fine, celsius, pascal, percent;
};
Reference reference(const bme280::Calibration& c, double adc_t, double adc_p, double adc_h) {
  Reference r{};
  double var1 = (adc_t / 16384.0 - c.dig_t1 / 1024.0) * c.dig_t2;
  double var2 =
      (adc_t / 131072.0 - c.dig_t1 / 8192.0) * (adc_t / 131072.0 - c.dig_t1 / 8192.0) * c.dig_t3;
  r.t_fine = var1 + var2;
  r.celsius = r.t_fine / 5120.0;
  var1 = r.t_fine / 2.0 - 64000.0;
  var2 = var1 * var1 * c.dig_p6 / 32768.0;
  var2 = var2 + var1 * c.dig_p5 * 2.0;
  var2 = var2 / 4.0 + c.dig_p4 * 65536.0;
  var1 = (c.dig_p3 * var1 * var1 / 524288.0 + c.dig_p2 * var1) / 524288.0;
  var1 = (1.0 + var1 / 32768.0) * c.dig_p1;
  double p = 1048576.0 - adc_p;
  p = (p - var2 / 4096.0) * 6250.0 / var1;
  var1 = c.dig_p9 * p * p / 2147483648.0;
  var2 = p * c.dig_p8 / 32768.0;
  r.pascal = p + (var1 + var2 + c.dig_p7) / 16.0;
  double h = r.t_fine - 76800.0;
  h = (adc_h - (c.dig_h4 * 64.0 + c.dig_h5 / 16384.0 * h)) *
      (c.dig_h2 / 65536.0 * (1.0 + c.dig_h6 / 67108864.0 * h * (1.0 + c.dig_h3 / 67108864.0 * h)));
  h = h * (1.0 - c.dig_h1 * h / 524288.0);
  r.percent = std::fmin(100.0, std::fmax(0.0, h));
  return r;
}

// --- Pure functions ----------------------------------------------------------

TEST(Bme280Calibration, ParsesEveryField) {
  const auto c = example_calibration();
  EXPECT_EQ(c.dig_t1, 27504);
  EXPECT_EQ(c.dig_t2, 26435);
  EXPECT_EQ(c.dig_t3, -1000);
  EXPECT_EQ(c.dig_p1, 36477);
  EXPECT_EQ(c.dig_p2, -10685);
  EXPECT_EQ(c.dig_p3, 3024);
  EXPECT_EQ(c.dig_p4, 2855);
  EXPECT_EQ(c.dig_p5, 140);
  EXPECT_EQ(c.dig_p6, -7);
  EXPECT_EQ(c.dig_p7, 15500);
  EXPECT_EQ(c.dig_p8, -14600);
  EXPECT_EQ(c.dig_p9, 6000);
  EXPECT_EQ(c.dig_h1, 75);
  EXPECT_EQ(c.dig_h2, 362);
  EXPECT_EQ(c.dig_h3, 0);
  EXPECT_EQ(c.dig_h4, 313);
  EXPECT_EQ(c.dig_h5, 50);
  EXPECT_EQ(c.dig_h6, 30);
}

TEST(Bme280Calibration, NegativeH4AndH5AreSignExtended) {
  // dig_H4 = -300 = 0xED4: 0xE4 = 0xED, 0xE5 low nibble 4; dig_H5 = -2 = 0xFFE:
  // 0xE6 = 0xFF, 0xE5 high nibble 0xE.
  const std::array<std::uint8_t, 7> block1 = {0x6A, 0x01, 0x00, 0xED, 0xE4, 0xFF, 0x1E};
  auto c = bme280::parse_calibration(bytes_of(kCalibration0), bytes_of(block1));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->dig_h4, -300);
  EXPECT_EQ(c->dig_h5, -2);
}

TEST(Bme280Calibration, AllZerosOrOnesIsDataLoss) {
  std::array<std::uint8_t, 26> zeros{};
  std::array<std::uint8_t, 26> ones;
  ones.fill(0xFF);
  EXPECT_EQ(bme280::parse_calibration(bytes_of(zeros), bytes_of(kCalibration1)).status().code(),
            StatusCode::data_loss);
  EXPECT_EQ(bme280::parse_calibration(bytes_of(ones), bytes_of(kCalibration1)).status().code(),
            StatusCode::data_loss);
}

TEST(Bme280Compensation, DatasheetWorkedExample) {
  const auto c = example_calibration();
  std::int32_t t_fine = 0;
  // By hand (datasheet integer formula): var1 = ((519888 >> 3) - 2 * 27504) *
  // 26435 >> 11 = 9978 * 26435 >> 11 = 128793; var2 = ((4989^2 >> 12) *
  // -1000) >> 14 = (6076 * -1000) >> 14 = -371 (arithmetic shift);
  // t_fine = 128422; T = (128422 * 5 + 128) >> 8 = 2508 (25.08 °C).
  EXPECT_EQ(bme280::compensate_temperature(c, kAdcT, t_fine), 2508);
  EXPECT_EQ(t_fine, 128422);
  // The 64-bit formula gives 25767233 / 256 = 100653.25 Pa; the datasheet's
  // floating-point result is 100653.27 Pa.
  const std::uint32_t q24_8 = bme280::compensate_pressure(c, kAdcP, t_fine);
  EXPECT_EQ(q24_8, 25767233u);
  EXPECT_NEAR(q24_8 / 256.0, 100653.27, 0.05);
  // Humidity: 56317 / 1024 = 54.997 %RH.
  const std::uint32_t q22_10 = bme280::compensate_humidity(c, kAdcH, t_fine);
  EXPECT_EQ(q22_10, 56317u);

  const Reference r = reference(c, kAdcT, kAdcP, kAdcH);
  EXPECT_NEAR(r.celsius, 25.08, 0.01);
  EXPECT_NEAR(q24_8 / 256.0, r.pascal, 0.05);
  EXPECT_NEAR(q22_10 / 1024.0, r.percent, 0.01);
}

TEST(Bme280Compensation, IntegerFormulasTrackTheFloatingPointOnes) {
  const auto c = example_calibration();
  for (std::int32_t adc_t : {400000, 480000, 519888, 560000}) {
    for (std::int32_t adc_p : {300000, 415148, 500000}) {
      for (std::int32_t adc_h : {20000, 30000, 40000}) {
        std::int32_t t_fine = 0;
        const std::int32_t centi = bme280::compensate_temperature(c, adc_t, t_fine);
        const Reference r = reference(c, adc_t, adc_p, adc_h);
        EXPECT_NEAR(centi / 100.0, r.celsius, 0.01);
        EXPECT_NEAR(bme280::compensate_pressure(c, adc_p, t_fine) / 256.0, r.pascal, 1.0);
        EXPECT_NEAR(bme280::compensate_humidity(c, adc_h, t_fine) / 1024.0, r.percent, 0.05);
      }
    }
  }
}

TEST(Bme280Compensation, MaxMeasurementTime) {
  // Datasheet 9.1: 1.25 + 2.3 + (2.3 + 0.575) + (2.3 + 0.575) = 9.3 ms at x1.
  EXPECT_EQ(bme280::max_measurement_time({}), 9300us);
  bme280::Settings s;
  s.temperature = bme280::Oversampling::x2;
  s.pressure = bme280::Oversampling::x16;
  s.humidity = bme280::Oversampling::skipped;
  EXPECT_EQ(bme280::max_measurement_time(s), 1250us + 4600us + 36800us + 575us);
}

TEST(Bme280Reading, ConvertsUnitsAndRejectsSkippedOrImplausibleValues) {
  const auto c = example_calibration();
  auto r = bme280_reading(c, {}, {kAdcP, kAdcT, kAdcH});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->temperature.value, 25080);
  EXPECT_EQ(r->pressure->value, 100653253);  // 25767233 * 1000 / 256
  EXPECT_EQ(r->humidity->value, 54997);      // 56317 * 1000 / 1024

  EXPECT_EQ(bme280_reading(c, {}, {kAdcP, bme280::kSkipped20, kAdcH}).status().code(),
            StatusCode::data_loss);
  EXPECT_EQ(bme280_reading(c, {}, {bme280::kSkipped20, kAdcT, kAdcH}).status().code(),
            StatusCode::data_loss);
  EXPECT_EQ(bme280_reading(c, {}, {kAdcP, kAdcT, bme280::kSkipped16}).status().code(),
            StatusCode::data_loss);
  // adc_T 0xFFFFF: far above 85 °C.
  EXPECT_EQ(bme280_reading(c, {}, {kAdcP, 0xFFFFF, kAdcH}).status().code(), StatusCode::data_loss);

  bme280::Settings temperature_only;
  temperature_only.pressure = bme280::Oversampling::skipped;
  temperature_only.humidity = bme280::Oversampling::skipped;
  auto t = bme280_reading(c, temperature_only, {bme280::kSkipped20, kAdcT, bme280::kSkipped16});
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->pressure.has_value());
  EXPECT_FALSE(t->humidity.has_value());
}

// --- The driver, with a script: the exact register traffic -------------------

template <typename Bus>
class Bme280Harness {
 public:
  explicit Bme280Harness(platform::SimDriver& driver) : executor_(driver) {}

  Result<Bme280Reading> read(Bme280<Bus, hal::ExecutorDelay>& sensor) {
    Result<Bme280Reading> result = Status::unknown();
    TaskStorage<2048> task;
    auto run = [](Bme280<Bus, hal::ExecutorDelay>& sensor,
                  Result<Bme280Reading>& result) -> Task<void> { result = co_await sensor.read(); };
    EXPECT_TRUE(executor_.spawn(task, run, std::ref(sensor), std::ref(result)).ok());
    EXPECT_TRUE(executor_.run().ok());
    return result;
  }

 private:
  async::Executor executor_;
};

TEST(Bme280Script, InitAndForcedMeasurementRegisterTraffic) {
  platform::SimDriver driver;
  const I2cTransaction script[] = {
      hal::sim::expect_write_read(0x76, {0xD0}, {0x60}),  // chip id
      hal::sim::expect_write(0x76, {0xE0, 0xB6}),         // soft reset
      hal::sim::expect_write_read(0x76, {0xF3}, {0x01}),  // NVM still copying
      hal::sim::expect_write_read(0x76, {0xF3}, {0x00}),  // done
      hal::sim::expect_write_read(0x76, make_bytes(0x88), bytes_of(kCalibration0)),
      hal::sim::expect_write_read(0x76, make_bytes(0xE1), bytes_of(kCalibration1)),
      hal::sim::expect_write(0x76, {0xF2, 0x01, 0xF5, 0x00}),  // ctrl_hum x1, config
      hal::sim::expect_write(0x76, {0xF4, 0x25}),              // T x1, P x1, forced
      hal::sim::expect_write_read(0x76, {0xF3}, {0x00}),       // not measuring
      hal::sim::expect_write_read(0x76, {0xF7}, {0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00, 0x75, 0x30}),
  };
  ScriptedI2c i2c(script);
  hal::ExecutorDelay delay;
  Bme280<ScriptedI2c, hal::ExecutorDelay> sensor(i2c, delay);
  Bme280Harness<ScriptedI2c> harness(driver);
  auto reading = harness.read(sensor);
  EXPECT_TRUE(i2c.finished()) << i2c.problem();
  ASSERT_TRUE(reading.ok()) << reading.status().str();
  EXPECT_EQ(reading->temperature.value, 25080);
  EXPECT_EQ(reading->pressure->value, 100653253);
  EXPECT_EQ(reading->humidity->value, 54997);
  // 2 ms start-up + 1 ms status poll + 9.3 ms measurement.
  EXPECT_EQ(driver.now(), async::Instant(2ms + 1ms + 9300us));
}

TEST(Bme280Script, SettingsReachTheRegisters) {
  platform::SimDriver driver;
  const I2cTransaction script[] = {
      hal::sim::expect_write_read(0x77, {0xD0}, {0x60}),
      hal::sim::expect_write(0x77, {0xE0, 0xB6}),
      hal::sim::expect_write_read(0x77, {0xF3}, {0x00}),
      hal::sim::expect_write_read(0x77, make_bytes(0x88), bytes_of(kCalibration0)),
      hal::sim::expect_write_read(0x77, make_bytes(0xE1), bytes_of(kCalibration1)),
      hal::sim::expect_write(0x77, {0xF2, 0x05, 0xF5, 0x10}),  // H x16, filter 16
      hal::sim::expect_write(0x77, {0xF4, 0x49}),              // T x2 (010), P x2 (010), forced
      hal::sim::expect_write_read(0x77, {0xF3}, {0x08}),       // still measuring
      hal::sim::expect_write_read(0x77, {0xF3}, {0x00}),
      hal::sim::expect_write_read(0x77, {0xF7}, {0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00, 0x75, 0x30}),
  };
  ScriptedI2c i2c(script);
  hal::ExecutorDelay delay;
  bme280::Settings settings;
  settings.temperature = bme280::Oversampling::x2;
  settings.pressure = bme280::Oversampling::x2;
  settings.humidity = bme280::Oversampling::x16;
  settings.filter = bme280::Filter::x16;
  Bme280<ScriptedI2c, hal::ExecutorDelay> sensor(i2c, delay, bme280::kSecondaryAddress, settings);
  Bme280Harness<ScriptedI2c> harness(driver);
  auto reading = harness.read(sensor);
  EXPECT_TRUE(i2c.finished()) << i2c.problem();
  EXPECT_TRUE(reading.ok()) << reading.status().str();
}

TEST(Bme280Script, WrongChipIdIsFailedPrecondition) {
  platform::SimDriver driver;
  const I2cTransaction script[] = {
      hal::sim::expect_write_read(0x76, {0xD0}, {0x58}),  // a BMP280
  };
  ScriptedI2c i2c(script);
  hal::ExecutorDelay delay;
  Bme280<ScriptedI2c, hal::ExecutorDelay> sensor(i2c, delay);
  Bme280Harness<ScriptedI2c> harness(driver);
  EXPECT_EQ(harness.read(sensor).status().code(), StatusCode::failed_precondition);
  EXPECT_TRUE(i2c.finished()) << i2c.problem();
  EXPECT_FALSE(sensor.initialized());
}

TEST(Bme280Script, NoAcknowledgeIsNotFound) {
  platform::SimDriver driver;
  const I2cTransaction script[] = {
      hal::sim::expect_write_read(0x76, {0xD0}, {0x00}, Status::not_found()),
  };
  ScriptedI2c i2c(script);
  hal::ExecutorDelay delay;
  Bme280<ScriptedI2c, hal::ExecutorDelay> sensor(i2c, delay);
  Bme280Harness<ScriptedI2c> harness(driver);
  EXPECT_EQ(harness.read(sensor).status().code(), StatusCode::not_found);
  EXPECT_TRUE(i2c.finished()) << i2c.problem();
}

// --- The driver against the simulated part -----------------------------------

class Bme280SimTest : public ::testing::Test {
 protected:
  Bme280SimTest() {
    bus.attach(part);
    part.set_raw(kAdcP, kAdcT, kAdcH);
  }

  platform::SimDriver driver;
  SimI2cBus bus{driver};
  SimBme280 part{0x76};
  hal::ExecutorDelay delay;
  Bme280Harness<SimI2cBus> harness{driver};
};

TEST_F(Bme280SimTest, ReadsTheExampleValues) {
  Bme280<SimI2cBus, hal::ExecutorDelay> sensor(bus, delay);
  auto reading = harness.read(sensor);
  ASSERT_TRUE(reading.ok()) << reading.status().str();
  EXPECT_EQ(reading->temperature.value, 25080);
  EXPECT_EQ(reading->pressure->value, 100653253);
  EXPECT_EQ(reading->humidity->value, 54997);
  EXPECT_EQ(part.resets(), 1u);
  EXPECT_EQ(part.measurements(), 1u);

  // A second read measures again without re-initialising.
  part.set_raw(kAdcP, 480000, 40000);
  reading = harness.read(sensor);
  ASSERT_TRUE(reading.ok());
  std::int32_t t_fine = 0;
  EXPECT_EQ(reading->temperature.value,
            bme280::compensate_temperature(example_calibration(), 480000, t_fine) * 10);
  EXPECT_NEAR(reading->temperature.value / 1000.0,
              reference(example_calibration(), 480000, kAdcP, 40000).celsius, 0.01);
  EXPECT_EQ(part.resets(), 1u);
  EXPECT_EQ(part.measurements(), 2u);
}

TEST_F(Bme280SimTest, SatisfiesTemperatureSensor) {
  Bme280<SimI2cBus, hal::ExecutorDelay> sensor(bus, delay);
  static_assert(hal::TemperatureSensor<decltype(sensor)>);
  Result<hal::MilliCelsius> t = Status::unknown();
  async::Executor executor(driver);
  TaskStorage<2048> task;
  auto run = [](Bme280<SimI2cBus, hal::ExecutorDelay>& sensor,
                Result<hal::MilliCelsius>& t) -> Task<void> {
    t = co_await sensor.read_temperature();
  };
  ASSERT_TRUE(executor.spawn(task, run, std::ref(sensor), std::ref(t)).ok());
  EXPECT_TRUE(executor.run().ok());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->value, 25080);
}

TEST_F(Bme280SimTest, MissingDeviceIsNotFound) {
  part.set_responding(false);
  Bme280<SimI2cBus, hal::ExecutorDelay> sensor(bus, delay);
  EXPECT_EQ(harness.read(sensor).status().code(), StatusCode::not_found);
  Bme280<SimI2cBus, hal::ExecutorDelay> elsewhere(bus, delay, bme280::kSecondaryAddress);
  EXPECT_EQ(harness.read(elsewhere).status().code(), StatusCode::not_found);
}

TEST_F(Bme280SimTest, OtherChipIsFailedPrecondition) {
  part.set_chip_id(0x58);
  Bme280<SimI2cBus, hal::ExecutorDelay> sensor(bus, delay);
  EXPECT_EQ(harness.read(sensor).status().code(), StatusCode::failed_precondition);
}

TEST_F(Bme280SimTest, StuckMeasurementIsDeadlineExceeded) {
  part.set_stuck_measuring(true);
  Bme280<SimI2cBus, hal::ExecutorDelay> sensor(bus, delay);
  EXPECT_EQ(harness.read(sensor).status().code(), StatusCode::deadline_exceeded);
}

TEST_F(Bme280SimTest, SkippedTemperatureIsInvalidArgument) {
  bme280::Settings settings;
  settings.temperature = bme280::Oversampling::skipped;
  Bme280<SimI2cBus, hal::ExecutorDelay> sensor(bus, delay, bme280::kPrimaryAddress, settings);
  EXPECT_EQ(harness.read(sensor).status().code(), StatusCode::invalid_argument);
}

TEST_F(Bme280SimTest, SkippedPressureAndHumidityAreAbsent) {
  bme280::Settings settings;
  settings.pressure = bme280::Oversampling::skipped;
  settings.humidity = bme280::Oversampling::skipped;
  Bme280<SimI2cBus, hal::ExecutorDelay> sensor(bus, delay, bme280::kPrimaryAddress, settings);
  auto reading = harness.read(sensor);
  ASSERT_TRUE(reading.ok()) << reading.status().str();
  EXPECT_EQ(reading->temperature.value, 25080);
  EXPECT_FALSE(reading->pressure.has_value());
  EXPECT_FALSE(reading->humidity.has_value());
}

}  // namespace
}  // namespace mote::drivers
