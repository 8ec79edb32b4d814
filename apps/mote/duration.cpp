#include "duration.hpp"

#include <cstdint>
#include <limits>

namespace mote::cli {

std::optional<async::Duration> parse_duration(std::string_view text) {
  // The number: digits, optionally a '.' and more digits.
  std::size_t i = 0;
  std::int64_t whole = 0;
  std::int64_t fraction = 0;  // the digits after '.', as an integer
  std::int64_t fraction_scale = 1;
  bool any_digit = false;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const int digit = text[i] - '0';
    if (whole > (kMax - digit) / 10) return std::nullopt;
    whole = whole * 10 + digit;
    any_digit = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (fraction_scale >= 1'000'000'000) return std::nullopt;  // finer than any unit's µs
      fraction = fraction * 10 + (text[i] - '0');
      fraction_scale *= 10;
      any_digit = true;
    }
  }
  if (!any_digit) return std::nullopt;

  const std::string_view unit = text.substr(i);
  std::int64_t micros_per_unit = 0;
  if (unit.empty() || unit == "s") {
    micros_per_unit = 1'000'000;
  } else if (unit == "ms") {
    micros_per_unit = 1'000;
  } else if (unit == "us") {
    micros_per_unit = 1;
  } else if (unit == "m" || unit == "min") {
    micros_per_unit = 60'000'000;
  } else if (unit == "h") {
    micros_per_unit = 3'600'000'000;
  } else {
    return std::nullopt;
  }

  if (whole > kMax / micros_per_unit) return std::nullopt;
  const std::int64_t fraction_micros = fraction * micros_per_unit;  // < 10^9 * 3.6*10^9: fits
  if (fraction_micros % fraction_scale != 0) return std::nullopt;   // below a microsecond
  const std::int64_t micros = whole * micros_per_unit;
  if (micros > kMax - fraction_micros / fraction_scale) return std::nullopt;
  return async::Duration(micros + fraction_micros / fraction_scale);
}

std::string format_duration(async::Duration duration) {
  struct Unit {
    std::int64_t micros;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {
      {3'600'000'000, "h"}, {60'000'000, "m"}, {1'000'000, "s"}, {1'000, "ms"}};
  const std::int64_t micros = duration.count();
  if (micros != 0) {
    for (const Unit& unit : kUnits) {
      if (micros % unit.micros == 0) return std::to_string(micros / unit.micros) + unit.suffix;
    }
  }
  return std::to_string(micros) + (micros == 0 ? "s" : "us");
}

}  // namespace mote::cli
