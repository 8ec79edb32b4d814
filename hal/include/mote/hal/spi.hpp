#pragma once
// SPI devices: one peripheral on a bus, its chip select owned by the backend
// (asserted for the whole of each operation), as embedded-hal's SpiDevice.
//
// transfer(data, buffer) clocks max(|data|, |buffer|) bytes: it sends `data`
// (then 0xFF once `data` runs out) while receiving into `buffer` (dropping
// what does not fit). write and read are the one-way forms.
//   Wakes: the SPI interrupt or DMA completion (or the spidev ioctl).
//   Cancels: destroying the awaiter stops at a byte boundary and releases
//   chip select.
//   Buffers: valid until the operation completes or is cancelled.
//   Errors: unavailable (the controller failed or went away).

#include "mote/async/awaitable.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/status.hpp"

namespace mote::hal {

template <typename T>
concept SpiDevice = requires(T& device, ConstByteSpan data, ByteSpan buffer) {
  { device.transfer(data, buffer) } -> async::AwaitableOf<Status>;
  { device.write(data) } -> async::AwaitableOf<Status>;
  { device.read(buffer) } -> async::AwaitableOf<Status>;
};

}  // namespace mote::hal
