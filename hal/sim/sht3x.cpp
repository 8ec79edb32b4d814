#include "mote/hal/sim/sht3x.hpp"

#include <algorithm>

namespace mote::hal::sim {
namespace {

constexpr std::uint16_t kMeasureHigh = 0x2400;
constexpr std::uint16_t kMeasureMedium = 0x240B;
constexpr std::uint16_t kMeasureLow = 0x2416;
constexpr std::uint16_t kSoftReset = 0x30A2;
constexpr std::uint16_t kHeaterOn = 0x306D;
constexpr std::uint16_t kHeaterOff = 0x3066;
constexpr std::uint16_t kReadStatus = 0xF32D;
constexpr std::uint16_t kClearStatus = 0x3041;

constexpr std::uint16_t kPowerOnStatus = 0x8010;
constexpr std::uint16_t kHeaterBit = 1U << 13;
constexpr std::uint16_t kCommandFailedBit = 1U << 1;

// Sensirion's CRC-8 (0x31, init 0xFF), written out again here so the model
// does not trust the driver's.
std::uint8_t crc8(std::uint16_t word) {
  std::uint8_t crc = 0xFF;
  for (std::uint8_t byte :
       {static_cast<std::uint8_t>(word >> 8), static_cast<std::uint8_t>(word)}) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint8_t>((crc & 0x80) != 0 ? (crc << 1) ^ 0x31 : crc << 1);
    }
  }
  return crc;
}

std::uint16_t to_raw(std::int64_t value, std::int64_t offset, std::int64_t span) {
  const std::int64_t raw = ((value - offset) * 65535 + span / 2) / span;
  return static_cast<std::uint16_t>(std::clamp<std::int64_t>(raw, 0, 65535));
}

}  // namespace

void SimSht3x::set_measurement(MilliCelsius temperature, MilliPercentRh humidity) {
  raw_temperature_ = to_raw(temperature.value, -45000, 175000);
  raw_humidity_ = to_raw(humidity.value, 0, 100000);
}

async::Duration SimSht3x::measurement_time(std::uint16_t command) {
  switch (command) {
    case kMeasureHigh: return async::Duration(12500);
    case kMeasureMedium: return async::Duration(4500);
    case kMeasureLow: return async::Duration(2500);
    default: return async::Duration(0);
  }
}

void SimSht3x::queue_word(std::uint16_t word) {
  output_.push_back(std::byte(word >> 8));
  output_.push_back(std::byte(word & 0xFF));
  output_.push_back(std::byte(crc8(word)));
}

Status SimSht3x::on_write(ConstByteSpan data) {
  if (data.size() != 2) {
    status_ |= kCommandFailedBit;
    return Status::data_loss();
  }
  const auto command = load_be16(data.data());
  output_.clear();  // a new command discards unread data
  switch (command) {
    case kMeasureHigh:
    case kMeasureMedium:
    case kMeasureLow:
      ++measurements_;
      measuring_ = true;
      measurement_done_ = now() + measurement_time(command);
      return ok_status();
    case kSoftReset:
      ++resets_;
      measuring_ = false;
      status_ = kPowerOnStatus;
      return ok_status();
    case kHeaterOn: status_ |= kHeaterBit; return ok_status();
    case kHeaterOff: status_ &= static_cast<std::uint16_t>(~kHeaterBit); return ok_status();
    case kClearStatus: status_ &= kHeaterBit; return ok_status();  // the heater bit is a state
    case kReadStatus: queue_word(status_); return ok_status();
    default: status_ |= kCommandFailedBit; return Status::data_loss();
  }
}

Status SimSht3x::on_read(ByteSpan buffer) {
  if (measuring_) {
    if (stuck_measuring_ || now() < measurement_done_) return Status::not_found();  // NACK
    measuring_ = false;
    queue_word(raw_temperature_);
    queue_word(raw_humidity_);
    if (corrupt_crc_) output_[3] ^= std::byte{0x01};  // after the CRC was computed
  }
  if (output_.empty()) return Status::not_found();  // nothing to send: NACK
  std::fill(buffer.begin(), buffer.end(), std::byte{0xFF});
  std::copy_n(output_.begin(), std::min(buffer.size(), output_.size()), buffer.begin());
  output_.clear();
  return ok_status();
}

}  // namespace mote::hal::sim
