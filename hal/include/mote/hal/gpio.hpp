#pragma once
// Digital pins.
//
// DigitalOutput: set(high) drives the pin; toggle() inverts it. Both complete
// at once (a pin write never waits), and report a Status only because some
// backends (Linux's GPIO character device) can fail.
//
// DigitalInput: read() samples the level. wait_for_edge(edge) completes on the
// first such edge after the call; wait_for_level(high) completes at once if
// the pin is already there, else on the edge that brings it there.
//   Wakes: the pin's edge interrupt (or the kernel's line event).
//   Cancels: destroying the awaiter; the backend stops watching for the edge
//   when no waiter is left.
//   Errors: unavailable when the backend lost the line (e.g. the GPIO chip
//   went away); failed_precondition when the pin has no edge detection.

#include <concepts>
#include <cstdint>

#include "mote/async/awaitable.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"

namespace mote::hal {

enum class Edge : std::uint8_t { rising, falling, any };

template <typename T>
concept DigitalOutput = requires(T& pin, bool high) {
  { pin.set(high) } -> std::same_as<Status>;
  { pin.toggle() } -> std::same_as<Status>;
};

template <typename T>
concept DigitalInput = requires(T& pin, Edge edge, bool high) {
  { pin.read() } -> std::same_as<Result<bool>>;
  { pin.wait_for_edge(edge) } -> async::AwaitableOf<Status>;
  { pin.wait_for_level(high) } -> async::AwaitableOf<Status>;
};

}  // namespace mote::hal
