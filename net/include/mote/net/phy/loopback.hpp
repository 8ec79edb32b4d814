#pragma once
// Loopback: a device whose transmitted frames come back as received ones, in
// order, from a queue in caller-provided bytes. With Medium::ip it is the
// classic loopback interface (bare IPv4 packets, no ARP); with
// Medium::ethernet it hands an interface its own frames, which tests use to
// watch what the interface sends.
//
//   StaticLoopback<8192> link;                 // 8 KiB of queued frames
//   StaticInterface<> iface(link.capabilities(), config);

#include <array>
#include <coroutine>
#include <cstddef>

#include "mote/base/bytes.hpp"
#include "mote/net/phy/device.hpp"
#include "mote/net/storage/packet_ring.hpp"

namespace mote::net {

class Loopback {
 public:
  Loopback(ByteSpan storage, DeviceCapabilities capabilities)
      : ring_(storage), capabilities_(capabilities) {}
  explicit Loopback(ByteSpan storage) : Loopback(storage, {Medium::ip, 1500}) {}

  [[nodiscard]] DeviceCapabilities capabilities() const { return capabilities_; }
  Result<std::size_t> receive(Instant now, ByteSpan buffer);
  [[nodiscard]] bool can_transmit() const {
    return ring_.can_enqueue(capabilities_.max_frame_len());
  }
  Status transmit(Instant now, ConstByteSpan frame);

  // Ready while frames are queued. Frames only arrive from transmit(), which
  // the waiting stack itself calls, so there is nothing else to wake for.
  class [[nodiscard]] ReceiveAwaiter {
   public:
    explicit ReceiveAwaiter(const Loopback& loopback) : loopback_(loopback) {}
    [[nodiscard]] bool await_ready() const { return !loopback_.ring_.empty(); }
    void await_suspend(std::coroutine_handle<> /*suspended*/) const {}
    void await_resume() const {}

   private:
    const Loopback& loopback_;
  };
  ReceiveAwaiter wait_receive() const { return ReceiveAwaiter(*this); }

  [[nodiscard]] std::size_t queued_frames() const { return ring_.packet_count(); }

 private:
  PacketRing ring_;
  DeviceCapabilities capabilities_;
};

// A Loopback with its queue inside.
template <std::size_t kQueueBytes>
class StaticLoopback : private std::array<std::byte, kQueueBytes>, public Loopback {
 public:
  explicit StaticLoopback(DeviceCapabilities capabilities = {Medium::ip, 1500})
      : std::array<std::byte, kQueueBytes>{}, Loopback(ByteSpan(*this), capabilities) {}
};

}  // namespace mote::net
