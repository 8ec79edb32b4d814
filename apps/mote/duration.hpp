#pragma once
// Durations on the command line: "300ms", "1.5s", "2m", "10" (seconds).

#include <optional>
#include <string>
#include <string_view>

#include "mote/async/time.hpp"

namespace mote::cli {

// A non-negative decimal number with an optional unit: us, ms, s (the
// default), m or h. Fractions are allowed down to a microsecond ("0.25s",
// "1.5ms"). std::nullopt for anything else, including negative numbers,
// finer fractions and values beyond ~292 thousand years.
std::optional<async::Duration> parse_duration(std::string_view text);

// The shortest exact spelling in the largest unit that divides it: "5s",
// "300ms", "2m", "1500us".
std::string format_duration(async::Duration duration);

}  // namespace mote::cli
