#pragma once
// Cable: two devices joined back to back, in memory: a frame transmitted on
// one end is received on the other, in order. Two interfaces on a cable are
// two hosts on one Ethernet segment (or a point-to-point IP link), the
// setup for tests between two stacks; a FaultInjector on an end makes the
// cable lossy.
//
//   StaticCable<16384> cable({Medium::ethernet, 1500});
//   StaticInterface<> a(cable.end_a().capabilities(), config_a);
//   StaticInterface<> b(cable.end_b().capabilities(), config_b);

#include <array>
#include <coroutine>
#include <cstddef>

#include "mote/async/executor.hpp"
#include "mote/base/bytes.hpp"
#include "mote/net/phy/device.hpp"
#include "mote/net/storage/packet_ring.hpp"

namespace mote::net {

class Cable {
 public:
  class End {
   public:
    [[nodiscard]] DeviceCapabilities capabilities() const { return cable_->capabilities_; }
    Result<std::size_t> receive(Instant now, ByteSpan buffer);
    [[nodiscard]] bool can_transmit() const {
      return outgoing_->can_enqueue(cable_->capabilities_.max_frame_len());
    }
    Status transmit(Instant now, ConstByteSpan frame);
    // In place (InPlaceTransmitDevice): the frame is built in the queue to
    // the other end.
    [[nodiscard]] ByteSpan transmit_buffer() const {
      return outgoing_->writable(cable_->capabilities_.max_frame_len());
    }
    Status commit_transmit(Instant now, std::size_t len);

    // Ready while frames wait at this end. A frame arriving wakes the task
    // parked here (the other end's stack transmitted it).
    class [[nodiscard]] ReceiveAwaiter {
     public:
      explicit ReceiveAwaiter(End& end) : end_(end) {}
      ReceiveAwaiter(const ReceiveAwaiter&) = delete;
      ReceiveAwaiter& operator=(const ReceiveAwaiter&) = delete;
      ~ReceiveAwaiter() {
        if (parked_) end_.waker_ = async::Waker();
      }
      [[nodiscard]] bool await_ready() const { return !end_.incoming_->empty(); }
      void await_suspend(std::coroutine_handle<> suspended) {
        end_.waker_ = async::Waker(async::park(suspended));
        parked_ = true;
      }
      void await_resume() {
        end_.waker_ = async::Waker();
        parked_ = false;
      }

     private:
      End& end_;
      bool parked_ = false;
    };
    ReceiveAwaiter wait_receive() { return ReceiveAwaiter(*this); }

   private:
    friend class Cable;
    Cable* cable_ = nullptr;
    PacketRing* incoming_ = nullptr;
    PacketRing* outgoing_ = nullptr;
    End* peer_ = nullptr;
    async::Waker waker_;
  };

  // `storage` is split between the two directions.
  Cable(ByteSpan storage, DeviceCapabilities capabilities);
  Cable(const Cable&) = delete;
  Cable& operator=(const Cable&) = delete;

  End& end_a() { return a_; }
  End& end_b() { return b_; }

 private:
  DeviceCapabilities capabilities_;
  PacketRing a_to_b_;
  PacketRing b_to_a_;
  End a_;
  End b_;
};

template <std::size_t kBytes>
class StaticCable : private std::array<std::byte, kBytes>, public Cable {
 public:
  explicit StaticCable(DeviceCapabilities capabilities = {Medium::ethernet, 1500})
      : std::array<std::byte, kBytes>{}, Cable(ByteSpan(*this), capabilities) {}
};

static_assert(AsyncDevice<Cable::End>);
static_assert(InPlaceTransmitDevice<Cable::End>);

}  // namespace mote::net
