#pragma once
// I2C controllers (the bus side; devices are addressed per transaction).
//
// write(address, data), read(address, buffer) and write_read(address, data,
// buffer) each run one transaction: START, the 7-bit address, the bytes,
// STOP; write_read turns round with a repeated START (the usual "select a
// register, then read it").
//   Wakes: the controller's interrupt (or the kernel's i2c-dev ioctl).
//   Cancels: destroying the awaiter ends the transaction at the next byte
//   with a STOP, leaving the bus idle for the next one.
//   Buffers: valid until the transaction completes or is cancelled.
//   Errors:
//     not_found          no device acknowledged the address
//     data_loss          the device refused (NACKed) a data byte
//     unavailable        bus error or arbitration lost
//     deadline_exceeded  the bus is stuck (SDA or SCL held low)
//     invalid_argument   an address outside 0x08..0x77

#include <cstdint>

#include "mote/async/awaitable.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/status.hpp"

namespace mote::hal {

// A 7-bit I2C address (0x08..0x77; the rest is reserved by the I2C spec).
using I2cAddress = std::uint8_t;

template <typename T>
concept I2cBus = requires(T& bus, I2cAddress address, ConstByteSpan data, ByteSpan buffer) {
  { bus.write(address, data) } -> async::AwaitableOf<Status>;
  { bus.read(address, buffer) } -> async::AwaitableOf<Status>;
  { bus.write_read(address, data, buffer) } -> async::AwaitableOf<Status>;
};

}  // namespace mote::hal
