#include "mote/hal/sim/bme280.hpp"

#include <algorithm>

namespace mote::hal::sim {
namespace {

constexpr std::uint8_t kRegChipId = 0xD0;
constexpr std::uint8_t kRegReset = 0xE0;
constexpr std::uint8_t kRegCtrlHum = 0xF2;
constexpr std::uint8_t kRegStatus = 0xF3;
constexpr std::uint8_t kRegCtrlMeas = 0xF4;
constexpr std::uint8_t kRegConfig = 0xF5;
constexpr std::uint8_t kRegData = 0xF7;
constexpr std::uint8_t kResetCommand = 0xB6;

constexpr std::array<std::uint8_t, 26> kDefaultCalibration0 = {
    // dig_T1 27504, dig_T2 26435, dig_T3 -1000 (BMP280 datasheet, section 3.12)
    0x70, 0x6B, 0x43, 0x67, 0x18, 0xFC,
    // dig_P1 36477, P2 -10685, P3 3024, P4 2855, P5 140, P6 -7, P7 15500,
    // P8 -14600, P9 6000
    0x7D, 0x8E, 0x43, 0xD6, 0xD0, 0x0B, 0x27, 0x0B, 0x8C, 0x00, 0xF9, 0xFF, 0x8C, 0x3C, 0xF8, 0xC6,
    0x70, 0x17,
    // 0xA0 unused, dig_H1 75
    0x00, 0x4B};
constexpr std::array<std::uint8_t, 7> kDefaultCalibration1 = {
    // dig_H2 362, dig_H3 0, dig_H4 313 (0x13 << 4 | 0x9), dig_H5 50 (0x03 << 4 | 0x2),
    // dig_H6 30
    0x6A, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1E};

int samples(unsigned code) { return code == 0 ? 0 : 1 << (std::min(code, 5u) - 1); }

}  // namespace

SimBme280::SimBme280(I2cAddress address)
    : SimI2cDevice(address),
      calibration0_(kDefaultCalibration0),
      calibration1_(kDefaultCalibration1) {
  soft_reset();
  resets_ = 0;
}

void SimBme280::set_raw(std::int32_t adc_p, std::int32_t adc_t, std::int32_t adc_h) {
  adc_p_ = adc_p & 0xFFFFF;
  adc_t_ = adc_t & 0xFFFFF;
  adc_h_ = adc_h & 0xFFFF;
}

void SimBme280::set_calibration(ConstByteSpan block0, ConstByteSpan block1) {
  MOTE_ASSERT(block0.size() == calibration0_.size() && block1.size() == calibration1_.size());
  for (std::size_t i = 0; i < block0.size(); ++i) {
    calibration0_[i] = std::to_integer<std::uint8_t>(block0[i]);
  }
  for (std::size_t i = 0; i < block1.size(); ++i) {
    calibration1_[i] = std::to_integer<std::uint8_t>(block1[i]);
  }
  std::copy(calibration0_.begin(), calibration0_.end(), registers_.begin() + 0x88);
  std::copy(calibration1_.begin(), calibration1_.end(), registers_.begin() + 0xE1);
}

async::Duration SimBme280::typical_measurement_time(std::uint8_t ctrl_hum, std::uint8_t ctrl_meas) {
  // Datasheet 9.1, typical: 1 + 2 T + (2 P + 0.5) + (2 H + 0.5) ms.
  const int t = samples((ctrl_meas >> 5) & 0x7u);
  const int p = samples((ctrl_meas >> 2) & 0x7u);
  const int h = samples(ctrl_hum & 0x7u);
  std::int64_t micros = 1000 + 2000 * std::int64_t{t};
  if (p != 0) micros += 2000 * std::int64_t{p} + 500;
  if (h != 0) micros += 2000 * std::int64_t{h} + 500;
  return async::Duration(micros);
}

void SimBme280::soft_reset() {
  ++resets_;
  registers_.fill(0);
  registers_[kRegChipId] = 0x60;
  std::copy(calibration0_.begin(), calibration0_.end(), registers_.begin() + 0x88);
  std::copy(calibration1_.begin(), calibration1_.end(), registers_.begin() + 0xE1);
  // Data registers after reset: 0x80000 (pressure, temperature), 0x8000 (humidity).
  registers_[kRegData] = 0x80;
  registers_[0xFA] = 0x80;
  registers_[0xFD] = 0x80;
  measuring_ = false;
  ctrl_hum_latched_ = 0;
  if (attached()) {
    updating_ = true;
    update_done_ = now() + std::chrono::milliseconds(1);
  }
}

void SimBme280::update() {
  if (updating_ && now() >= update_done_) updating_ = false;
  if (measuring_ && !stuck_measuring_ && now() >= measurement_done_) {
    measuring_ = false;
    const unsigned ctrl_meas = registers_[kRegCtrlMeas];
    const bool t = ((ctrl_meas >> 5) & 0x7u) != 0;
    const bool p = ((ctrl_meas >> 2) & 0x7u) != 0;
    const bool h = (ctrl_hum_latched_ & 0x7u) != 0;
    const std::int32_t adc_p = p ? adc_p_ : 0x80000;
    const std::int32_t adc_t = t ? adc_t_ : 0x80000;
    const std::int32_t adc_h = h ? adc_h_ : 0x8000;
    registers_[kRegData] = static_cast<std::uint8_t>(adc_p >> 12);
    registers_[0xF8] = static_cast<std::uint8_t>(adc_p >> 4);
    registers_[0xF9] = static_cast<std::uint8_t>((adc_p & 0xF) << 4);
    registers_[0xFA] = static_cast<std::uint8_t>(adc_t >> 12);
    registers_[0xFB] = static_cast<std::uint8_t>(adc_t >> 4);
    registers_[0xFC] = static_cast<std::uint8_t>((adc_t & 0xF) << 4);
    registers_[0xFD] = static_cast<std::uint8_t>(adc_h >> 8);
    registers_[0xFE] = static_cast<std::uint8_t>(adc_h);
    registers_[kRegCtrlMeas] = static_cast<std::uint8_t>(ctrl_meas & ~0x3u);  // back to sleep
  }
  registers_[kRegStatus] =
      static_cast<std::uint8_t>((measuring_ ? 0x08 : 0) | (updating_ ? 0x01 : 0));
}

std::uint8_t SimBme280::register_value(std::uint8_t reg) {
  update();
  return registers_[reg];
}

void SimBme280::write_register(std::uint8_t reg, std::uint8_t value) {
  switch (reg) {
    case kRegReset:
      if (value == kResetCommand) soft_reset();
      return;
    case kRegCtrlHum: registers_[reg] = value & 0x07; return;
    case kRegConfig: registers_[reg] = value & 0xFD; return;
    case kRegCtrlMeas: {
      registers_[reg] = value;
      ctrl_hum_latched_ = registers_[kRegCtrlHum];  // ctrl_hum applies from here
      const unsigned mode = value & 0x3u;
      if (mode == 0x1 || mode == 0x2) {
        ++measurements_;
        measuring_ = true;
        measurement_done_ = now() + typical_measurement_time(ctrl_hum_latched_, value);
      }
      return;
    }
    default: return;  // read-only
  }
}

Status SimBme280::on_write(ConstByteSpan data) {
  update();
  if (data.empty()) return ok_status();
  pointer_ = std::to_integer<std::uint8_t>(data[0]);
  // Register/value pairs (no auto-increment on writes).
  for (std::size_t i = 0; i + 1 < data.size(); i += 2) {
    write_register(std::to_integer<std::uint8_t>(data[i]),
                   std::to_integer<std::uint8_t>(data[i + 1]));
  }
  update();
  return ok_status();
}

Status SimBme280::on_read(ByteSpan buffer) {
  update();
  for (std::byte& b : buffer) b = std::byte{registers_[pointer_++]};
  return ok_status();
}

}  // namespace mote::hal::sim
