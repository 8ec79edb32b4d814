#pragma once
// Serial ports.
//
// One read and one write may be in progress at a time (a reader task and a
// writer task); flush() waits for what earlier writes handed over.
//
// read(buffer) completes as soon as at least one byte is available and
// yields how many it copied into `buffer` (up to its size); an empty buffer
// completes at once with 0. Bytes that arrive while nobody reads wait in the
// backend's receive buffer; when that overflows the next read reports
// data_loss once (and then goes on with what follows). The report may come
// before bytes received ahead of the loss are read: data_loss says "a gap is
// somewhere here", not exactly where.
//   Wakes: the receive interrupt (or fd readiness on Linux).
//   Cancels: destroying the awaiter; no byte is lost, since bytes are copied
//   into `buffer` only when the read completes.
//   Buffer: must stay valid until the read completes or is cancelled.
//   Errors: data_loss (overrun, framing or parity error), unavailable (the
//   port went away).
//
// write(data) completes when every byte of `data` has been handed to the
// transmitter (it may still be leaving the wire); flush() completes when the
// last byte has left it.
//   Wakes: transmit-ready interrupts. Cancels: destroying the awaiter stops
//   sending at a byte boundary; bytes already sent stay sent.
//   Buffer: `data` must stay valid until the write completes or is cancelled.

#include <cstddef>

#include "mote/async/awaitable.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"

namespace mote::hal {

template <typename T>
concept UartRead = requires(T& uart, ByteSpan buffer) {
  { uart.read(buffer) } -> async::AwaitableOf<Result<std::size_t>>;
};

template <typename T>
concept UartWrite = requires(T& uart, ConstByteSpan data) {
  { uart.write(data) } -> async::AwaitableOf<Status>;
  { uart.flush() } -> async::AwaitableOf<Status>;
};

template <typename T>
concept Uart = UartRead<T> && UartWrite<T>;

}  // namespace mote::hal
