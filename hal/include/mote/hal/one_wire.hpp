#pragma once
// 1-Wire bus masters (Maxim/Analog Devices' one-data-line bus: DS18B20 and
// friends). Bit timing is the backend's business (a UART trick, a timer
// peripheral, bit-banging with interrupts masked); drivers see these steps:
//
// reset() sends the reset pulse and yields whether any device answered with
// a presence pulse. write_bit / read_bit run one time slot; write_byte /
// read_byte eight, least significant bit first (as the 1-Wire protocol sends
// them).
//   Wakes: the backend's timer or UART interrupt at the end of the slot(s).
//   Cancels: destroying the awaiter finishes the current time slot and stops;
//   the bus is then in an undefined protocol state until the next reset().
//   Errors: unavailable (the bus is shorted: the line stays low).

#include <cstdint>

#include "mote/async/awaitable.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"

namespace mote::hal {

template <typename T>
concept OneWireBus = requires(T& bus, bool bit, std::uint8_t byte) {
  { bus.reset() } -> async::AwaitableOf<Result<bool>>;
  { bus.write_bit(bit) } -> async::AwaitableOf<Status>;
  { bus.read_bit() } -> async::AwaitableOf<Result<bool>>;
  { bus.write_byte(byte) } -> async::AwaitableOf<Status>;
  { bus.read_byte() } -> async::AwaitableOf<Result<std::uint8_t>>;
};

// A master that can power parasite-powered devices (a DS18B20 wired with
// only DQ and GND draws its conversion current from the data line):
// write_byte_then_pull_up(byte) writes the byte and then switches the line to
// a strong pull-up (a MOSFET to VCC, the DS2482's SPU bit) within 10 µs of the
// byte's last slot, as the DS18B20 datasheet asks after CONVERT T and COPY
// SCRATCHPAD; end_pull_up() returns the line to its pull-up resistor. Any
// other bus operation ends the strong pull-up first, so a cancelled driver
// leaves it on at most until the bus is used again.
//   Errors: unavailable (the bus is shorted).
template <typename T>
concept OneWireStrongPullUp = OneWireBus<T> && requires(T& bus, std::uint8_t byte) {
  { bus.write_byte_then_pull_up(byte) } -> async::AwaitableOf<Status>;
  { bus.end_pull_up() } -> async::AwaitableOf<Status>;
};

}  // namespace mote::hal
