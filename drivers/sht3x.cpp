#include "mote/drivers/sht3x.hpp"

namespace mote::drivers::sht3x {
namespace {

// round(scale * raw / 65535) for raw, scale >= 0.
std::int32_t scaled(std::uint16_t raw, std::int64_t scale) {
  return static_cast<std::int32_t>((scale * raw + 65535 / 2) / 65535);
}

}  // namespace

std::uint16_t measure_command(Repeatability repeatability) {
  switch (repeatability) {
    case Repeatability::low: return kMeasureLow;
    case Repeatability::medium: return kMeasureMedium;
    case Repeatability::high: return kMeasureHigh;
  }
  return kMeasureHigh;
}

async::Duration measurement_time(Repeatability repeatability) {
  switch (repeatability) {
    case Repeatability::low: return std::chrono::milliseconds(4);
    case Repeatability::medium: return std::chrono::milliseconds(6);
    case Repeatability::high: return std::chrono::milliseconds(15);
  }
  return std::chrono::milliseconds(15);
}

std::uint8_t crc8(ConstByteSpan bytes) {
  std::uint8_t crc = 0xFF;
  for (std::byte b : bytes) {
    crc = static_cast<std::uint8_t>(crc ^ std::to_integer<std::uint8_t>(b));
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint8_t>((crc & 0x80) != 0 ? (crc << 1) ^ 0x31 : crc << 1);
    }
  }
  return crc;
}

hal::MilliCelsius to_millicelsius(std::uint16_t raw) {
  return hal::MilliCelsius{-45000 + scaled(raw, 175000)};
}

hal::MilliPercentRh to_millipercent_rh(std::uint16_t raw) {
  return hal::MilliPercentRh{scaled(raw, 100000)};
}

Result<std::uint16_t> parse_word(ConstByteSpan bytes) {
  if (bytes.size() != 3) return Status::invalid_argument();
  if (crc8(bytes.first(2)) != std::to_integer<std::uint8_t>(bytes[2])) return Status::data_loss();
  return load_be16(bytes.data());
}

Result<Reading> parse_measurement(ConstByteSpan bytes) {
  if (bytes.size() != 6) return Status::invalid_argument();
  MOTE_TRY_ASSIGN(const std::uint16_t temperature, parse_word(bytes.first(3)));
  MOTE_TRY_ASSIGN(const std::uint16_t humidity, parse_word(bytes.subspan(3)));
  return Reading{to_millicelsius(temperature), to_millipercent_rh(humidity)};
}

}  // namespace mote::drivers::sht3x
