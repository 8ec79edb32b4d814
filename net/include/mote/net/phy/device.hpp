#pragma once
// The link device interface: what the interface needs from a network driver
// (smoltcp's phy::Device, with caller-provided frame buffers instead of
// tokens). A device moves whole frames and nothing else: no parsing, no
// addresses, no queues beyond its own.
//
//   capabilities()        the medium and the largest frame, fixed for the
//                         device's life.
//   receive(now, buffer)  copies the next received frame into `buffer` and
//                         returns its length; `unavailable` when no frame is
//                         waiting. A frame longer than `buffer` is dropped
//                         and reported as `resource_exhausted` (the caller
//                         goes on receiving). Must not block.
//   can_transmit()        whether transmit() would take a frame now. The
//                         interface asks before it builds a frame, so a
//                         packet waiting in a socket stays there while the
//                         device is busy (smoltcp's transmit token).
//   transmit(now, frame)  sends one frame (the bytes are copied or sent
//                         before it returns). Errors drop the frame.
// `now` is the interface's time, for devices that model time (the fault
// injector's delays, the pcap writer's timestamps); others ignore it.
//
// An AsyncDevice adds wait_receive(): a leaf awaiter (await_suspend returns
// void and parks the awaiting coroutine) that is ready, or wakes it, when
// receive() may have a frame (a readable fd, an interrupt). Stack
// (stack.hpp) suspends in it together with a timer for the interface's
// deadline, all parked on the same coroutine, so no extra task frame is
// needed to wait for either.
// A device may also offer poll_at(): the time it next has something to do on
// its own (a delayed frame coming due); Stack then wakes up for it too.
//
// An InPlaceTransmitDevice lends its transmit queue, so the interface builds
// each frame where the device sends it from instead of copying it there
// (smoltcp's TxToken; a NIC's descriptor ring):
//   transmit_buffer()          room for one frame of up to max_frame_len()
//                              bytes, empty when the device cannot take a
//                              frame now (as can_transmit()). Valid until the
//                              next call on the device.
//   commit_transmit(now, len)  sends the first `len` bytes of that room.
//                              Not calling it leaves nothing sent.

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "mote/async/time.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"

namespace mote::net {

using async::Duration;
using async::Instant;

// What a frame on the device starts with.
enum class Medium : std::uint8_t {
  ethernet,  // Ethernet II frames: the interface speaks ARP
  ip,        // bare IP packets (TUN, point-to-point, loopback)
};

struct DeviceCapabilities {
  Medium medium = Medium::ethernet;
  // The largest IP packet the link carries (the IP MTU: 1500 on Ethernet).
  // A frame is at most this plus the link header (14 bytes on Ethernet).
  std::size_t mtu = 1500;

  [[nodiscard]] constexpr std::size_t link_header_len() const {
    return medium == Medium::ethernet ? 14 : 0;
  }
  [[nodiscard]] constexpr std::size_t max_frame_len() const { return mtu + link_header_len(); }
};

template <typename T>
concept Device = requires(T& device, const T& const_device, Instant now, ByteSpan buffer,
                          ConstByteSpan frame) {
  { const_device.capabilities() } -> std::same_as<DeviceCapabilities>;
  { device.receive(now, buffer) } -> std::same_as<Result<std::size_t>>;
  { const_device.can_transmit() } -> std::same_as<bool>;
  { device.transmit(now, frame) } -> std::same_as<Status>;
};

template <typename T>
concept AsyncDevice = Device<T> && requires(T& device, std::coroutine_handle<> handle) {
  { device.wait_receive().await_ready() } -> std::convertible_to<bool>;
  { device.wait_receive().await_suspend(handle) } -> std::same_as<void>;
};

template <typename T>
concept TimedDevice = requires(const T& device) {
  { device.poll_at() } -> std::same_as<Instant>;
};

template <typename T>
concept InPlaceTransmitDevice = Device<T> && requires(T& device, Instant now, std::size_t len) {
  { device.transmit_buffer() } -> std::same_as<ByteSpan>;
  { device.commit_transmit(now, len) } -> std::same_as<Status>;
};

}  // namespace mote::net
