#include "mote/drivers/bme280.hpp"

namespace mote::drivers {
namespace bme280 {
namespace {

std::int16_t load_s16(const std::byte* p) { return static_cast<std::int16_t>(load_le16(p)); }
std::uint8_t u8(std::byte b) { return std::to_integer<std::uint8_t>(b); }

int samples(Oversampling oversampling) {
  const auto code = static_cast<unsigned>(oversampling);
  return code == 0 ? 0 : 1 << (code - 1);
}

// The part's operating range (datasheet, table 1).
constexpr std::int32_t kMinCentiCelsius = -4000;
constexpr std::int32_t kMaxCentiCelsius = 8500;
constexpr std::uint32_t kMinPressure = 30000u * 256u;   // 300 hPa in Q24.8
constexpr std::uint32_t kMaxPressure = 110000u * 256u;  // 1100 hPa in Q24.8

}  // namespace

Result<Calibration> parse_calibration(ConstByteSpan block0, ConstByteSpan block1) {
  if (block0.size() != kCalibration0Size || block1.size() != kCalibration1Size) {
    return Status::invalid_argument();
  }
  const std::byte* p = block0.data();
  Calibration c;
  c.dig_t1 = load_le16(p + 0);
  c.dig_t2 = load_s16(p + 2);
  c.dig_t3 = load_s16(p + 4);
  c.dig_p1 = load_le16(p + 6);
  c.dig_p2 = load_s16(p + 8);
  c.dig_p3 = load_s16(p + 10);
  c.dig_p4 = load_s16(p + 12);
  c.dig_p5 = load_s16(p + 14);
  c.dig_p6 = load_s16(p + 16);
  c.dig_p7 = load_s16(p + 18);
  c.dig_p8 = load_s16(p + 20);
  c.dig_p9 = load_s16(p + 22);
  c.dig_h1 = u8(p[25]);  // 0xA1 (0xA0 is unused)
  const std::byte* h = block1.data();
  c.dig_h2 = load_s16(h + 0);
  c.dig_h3 = u8(h[2]);
  // 0xE4 and 0xE6 are the signed high bytes of 12-bit values; 0xE5 holds the
  // low nibble of dig_H4 (bits 3:0) and of dig_H5 (bits 7:4).
  const auto e4 = static_cast<std::int8_t>(u8(h[3]));
  const auto e6 = static_cast<std::int8_t>(u8(h[5]));
  c.dig_h4 = static_cast<std::int16_t>(e4 * 16 + (u8(h[4]) & 0x0F));
  c.dig_h5 = static_cast<std::int16_t>(e6 * 16 + (u8(h[4]) >> 4));
  c.dig_h6 = static_cast<std::int8_t>(u8(h[6]));
  if (c.dig_t1 == 0 || c.dig_t1 == 0xFFFF || c.dig_p1 == 0 || c.dig_p1 == 0xFFFF) {
    return Status::data_loss();
  }
  return c;
}

RawSample parse_sample(ConstByteSpan data) {
  MOTE_ASSERT(data.size() == kDataSize);
  auto twenty_bits = [&](std::size_t i) {
    return static_cast<std::int32_t>(u8(data[i]) << 12 | u8(data[i + 1]) << 4 |
                                     u8(data[i + 2]) >> 4);
  };
  RawSample sample;
  sample.pressure = twenty_bits(0);
  sample.temperature = twenty_bits(3);
  sample.humidity = static_cast<std::int32_t>(u8(data[6]) << 8 | u8(data[7]));
  return sample;
}

// The formulas below are the datasheet's (section 4.2.3) with its right
// shifts of signed values kept (arithmetic on every target mote supports,
// and defined as such since C++20) and its left shifts written as products,
// which mean the same for negative values without relying on that.

std::int32_t compensate_temperature(const Calibration& c, std::int32_t adc_t,
                                    std::int32_t& t_fine) {
  const std::int32_t var1 =
      (((adc_t >> 3) - (std::int32_t{c.dig_t1} * 2)) * std::int32_t{c.dig_t2}) >> 11;
  const std::int32_t delta = (adc_t >> 4) - std::int32_t{c.dig_t1};
  const std::int32_t var2 = (((delta * delta) >> 12) * std::int32_t{c.dig_t3}) >> 14;
  t_fine = var1 + var2;
  return (t_fine * 5 + 128) >> 8;
}

std::uint32_t compensate_pressure(const Calibration& c, std::int32_t adc_p, std::int32_t t_fine) {
  std::int64_t var1 = std::int64_t{t_fine} - 128000;
  std::int64_t var2 = var1 * var1 * std::int64_t{c.dig_p6};
  var2 = var2 + var1 * std::int64_t{c.dig_p5} * (std::int64_t{1} << 17);
  var2 = var2 + std::int64_t{c.dig_p4} * (std::int64_t{1} << 35);
  var1 = ((var1 * var1 * std::int64_t{c.dig_p3}) >> 8) +
         var1 * std::int64_t{c.dig_p2} * (std::int64_t{1} << 12);
  var1 = (((std::int64_t{1} << 47) + var1) * std::int64_t{c.dig_p1}) >> 33;
  if (var1 == 0) return 0;  // would divide by zero
  std::int64_t p = 1048576 - std::int64_t{adc_p};
  p = ((p * (std::int64_t{1} << 31) - var2) * 3125) / var1;
  var1 = (std::int64_t{c.dig_p9} * (p >> 13) * (p >> 13)) >> 25;
  var2 = (std::int64_t{c.dig_p8} * p) >> 19;
  p = ((p + var1 + var2) >> 8) + std::int64_t{c.dig_p7} * 16;
  return static_cast<std::uint32_t>(p);
}

std::uint32_t compensate_humidity(const Calibration& c, std::int32_t adc_h, std::int32_t t_fine) {
  std::int32_t v = t_fine - 76800;
  v = ((((adc_h * 16384) - (std::int32_t{c.dig_h4} * 1048576) - (std::int32_t{c.dig_h5} * v)) +
        16384) >>
       15) *
      (((((((v * std::int32_t{c.dig_h6}) >> 10) * (((v * std::int32_t{c.dig_h3}) >> 11) + 32768)) >>
          10) +
         2097152) *
            std::int32_t{c.dig_h2} +
        8192) >>
       14);
  v = v - (((((v >> 15) * (v >> 15)) >> 7) * std::int32_t{c.dig_h1}) >> 4);
  v = v < 0 ? 0 : v;
  v = v > 419430400 ? 419430400 : v;
  return static_cast<std::uint32_t>(v >> 12);
}

async::Duration max_measurement_time(const Settings& settings) {
  // In µs: 1250 + 2300 T + (2300 P + 575) + (2300 H + 575).
  std::int64_t micros = 1250 + 2300 * std::int64_t{samples(settings.temperature)};
  if (settings.pressure != Oversampling::skipped) {
    micros += 2300 * std::int64_t{samples(settings.pressure)} + 575;
  }
  if (settings.humidity != Oversampling::skipped) {
    micros += 2300 * std::int64_t{samples(settings.humidity)} + 575;
  }
  return async::Duration(micros);
}

}  // namespace bme280

Result<Bme280Reading> bme280_reading(const bme280::Calibration& calibration,
                                     const bme280::Settings& settings,
                                     const bme280::RawSample& sample) {
  if (sample.temperature == bme280::kSkipped20) return Status::data_loss();
  std::int32_t t_fine = 0;
  const std::int32_t centi_celsius =
      bme280::compensate_temperature(calibration, sample.temperature, t_fine);
  if (centi_celsius < bme280::kMinCentiCelsius || centi_celsius > bme280::kMaxCentiCelsius) {
    return Status::data_loss();
  }
  Bme280Reading reading;
  reading.temperature = hal::MilliCelsius{centi_celsius * 10};
  if (settings.pressure != bme280::Oversampling::skipped) {
    if (sample.pressure == bme280::kSkipped20) return Status::data_loss();
    const std::uint32_t q24_8 = bme280::compensate_pressure(calibration, sample.pressure, t_fine);
    if (q24_8 < bme280::kMinPressure || q24_8 > bme280::kMaxPressure) {
      return Status::data_loss();
    }
    // Pa * 256 to mPa: * 1000 / 256, in 64 bits (1100 hPa is 2^24.7 in Q24.8).
    reading.pressure =
        hal::MilliPascal{static_cast<std::int32_t>(std::uint64_t{q24_8} * 1000 / 256)};
  }
  if (settings.humidity != bme280::Oversampling::skipped) {
    if (sample.humidity == bme280::kSkipped16) return Status::data_loss();
    const std::uint32_t q22_10 = bme280::compensate_humidity(calibration, sample.humidity, t_fine);
    // %RH * 1024 to m%RH; the formula clamps to 0..100 %RH.
    reading.humidity = hal::MilliPercentRh{static_cast<std::int32_t>(q22_10 * 1000 / 1024)};
  }
  return reading;
}

}  // namespace mote::drivers
