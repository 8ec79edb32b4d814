#pragma once
// What the firmware knows about the board it was built for (set by
// firmware/boards/<board>/board.cmake).

#include <cstdint>

namespace mote::firmware::board {

inline constexpr const char* kName = MOTE_BOARD_NAME;
inline constexpr std::uint32_t kCoreClockHz = MOTE_BOARD_CORE_CLOCK_HZ;

}  // namespace mote::firmware::board
