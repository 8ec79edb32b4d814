#pragma once
// A monotonic microsecond clock on SysTick: a 1 kHz interrupt counts
// milliseconds, the counter's current value gives the microseconds within.

#include <cstdint>

namespace mote::firmware::systick {

// Starts the 1 kHz tick; SysTick counts processor clock cycles, so this must
// be the core clock (a whole number of MHz).
void start(std::uint32_t core_clock_hz);

// Microseconds since start(). Callable with interrupts masked.
std::uint64_t microseconds();

}  // namespace mote::firmware::systick
