#pragma once
// What sensor drivers offer, so applications and the gateway can read any
// sensor of a kind the same way (a DS18B20 driver over a OneWireBus and the
// Linux kernel's w1 driver both give a TemperatureSensor).
//
// Readings are fixed-point integers: no floating point is needed on a
// Cortex-M0, and no precision is lost to it.
//
// read_*() starts a measurement if the device needs one, waits for it and
// yields the value.
//   Wakes: the driver's delay or the bus operations it awaits.
//   Cancels: destroying the awaiter; the device may finish its conversion
//   unobserved, and the next read starts afresh.
//   Errors: not_found (no device answered), data_loss (a reading failed its
//   CRC or came back out of range), unavailable (bus error),
//   deadline_exceeded (the device never finished its measurement). Never a
//   bogus value.

#include <compare>
#include <concepts>
#include <cstdint>

#include "mote/async/awaitable.hpp"
#include "mote/base/result.hpp"

namespace mote::hal {

// Thousandths of a degree Celsius (21.5 °C is 21500).
struct MilliCelsius {
  std::int32_t value = 0;
  friend constexpr auto operator<=>(MilliCelsius, MilliCelsius) = default;
};

// Thousandths of a pascal (1013.25 hPa is 101325000).
struct MilliPascal {
  std::int32_t value = 0;
  friend constexpr auto operator<=>(MilliPascal, MilliPascal) = default;
};

// Thousandths of a percent of relative humidity (45.5 %RH is 45500).
struct MilliPercentRh {
  std::int32_t value = 0;
  friend constexpr auto operator<=>(MilliPercentRh, MilliPercentRh) = default;
};

template <typename T>
concept TemperatureSensor = requires(T& sensor) {
  { sensor.read_temperature() } -> async::AwaitableOf<Result<MilliCelsius>>;
};

}  // namespace mote::hal
