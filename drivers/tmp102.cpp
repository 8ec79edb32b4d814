#include "mote/drivers/tmp102.hpp"

namespace mote::drivers::tmp102 {

Result<hal::MilliCelsius> parse_temperature(ConstByteSpan bytes) {
  if (bytes.size() != 2) return Status::invalid_argument();
  const std::uint16_t word = load_be16(bytes.data());
  const bool extended = (word & 1U) != 0;
  // Below the count: D2..D1 (extended) or D3..D1 (normal) always read 0.
  const std::uint16_t always_clear = extended ? 0x0006 : 0x000E;
  if ((word & always_clear) != 0) return Status::data_loss();
  // The count, sign-extended: an arithmetic shift of the word as signed.
  const auto count =
      static_cast<std::int32_t>(static_cast<std::int16_t>(word)) >> (extended ? 3 : 4);
  // 0.0625 °C is 62.5 m°C: count x 125 / 2, halves rounded away from zero.
  const std::int32_t millicelsius = (count * 125 + (count < 0 ? -1 : 1)) / 2;
  const hal::MilliCelsius temperature{millicelsius};
  // Compared by value: clang-tidy 14 reads the 0 in a synthesized `(a <=> b) < 0` as a null
  // pointer.
  if (millicelsius < kMinimum.value || millicelsius > kMaximum.value) return Status::data_loss();
  return temperature;
}

std::uint16_t configuration_for(Mode mode, ConversionRate rate) {
  std::uint16_t word = kExtendedMode;
  word |= static_cast<std::uint16_t>(static_cast<std::uint16_t>(rate) << kRateShift);
  if (mode == Mode::one_shot) word |= kShutdown;
  return word;
}

}  // namespace mote::drivers::tmp102
