#pragma once
// Lan9118: the SMSC LAN9118 / LAN9220 Ethernet controller of the MPS2 AN385
// (at 0x40200000, interrupt 13 in QEMU's hw/arm/mps2.c), a mote::net
// AsyncDevice: `Stack<Lan9118>` runs mote's IP stack over it.
//
//   mote::firmware::Lan9118 nic(executor);
//   MOTE_TRY(nic.open({}));                          // reset, MAC, PHY, RX/TX on
//   StaticInterface<> iface(nic.capabilities(), {.hardware_address = nic.mac_address()});
//   Stack<Lan9118> stack(iface, nic);                 // run() in a task
//
// Frames move through the chip's FIFOs by programmed I/O, one 32-bit word
// at a time (no DMA on this board):
//   receive   RX_FIFO_INF says whether a status word waits; the status gives
//             the frame's length (with its 4-byte CRC) and error bits; the
//             frame's words follow in the RX data FIFO. A frame with errors
//             is read and dropped (counted), a frame longer than the
//             caller's buffer is read, dropped and reported as
//             resource_exhausted, as the Device concept asks.
//   transmit  TX command A (first and last segment, the length), command B
//             (a tag and the length), then the frame's words. can_transmit()
//             is true when the TX data FIFO has room for a whole frame.
// The receive interrupt (RSFL: the RX status FIFO holds more than 0 words)
// raises an InterruptEvent; wait_receive() is that event's leaf awaiter, so
// the stack sleeps until a frame arrives or its own deadline comes. The
// handler only clears the interrupt status and raises the event; the FIFOs
// are read by the task.
//
// One instance at a time (the interrupt handler finds it through a static).
// Not interrupt-safe beyond that: receive/transmit belong to one task.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "mote/async/executor.hpp"
#include "mote/async/interrupt_event.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/net/phy/device.hpp"
#include "mote/net/wire/address.hpp"

extern "C" void ETHERNET_IRQHandler();

namespace mote::firmware {

struct Lan9118Config {
  // The station address. nullopt: keep the one the chip loaded from its
  // EEPROM (QEMU: its -nic ...,mac= option, 52:54:00:12:34:56 by default).
  std::optional<net::wire::MacAddress> mac_address;
  // Take every frame, not only those to our address and broadcast.
  bool promiscuous = false;
  // Pass multicast frames (the interface ignores what it does not join).
  bool all_multicast = false;
};

// What the driver has seen since open().
struct Lan9118Counters {
  std::uint32_t rx_frames = 0;
  std::uint32_t rx_errors = 0;    // status word with the error bit: dropped
  std::uint32_t rx_too_long = 0;  // longer than the caller's buffer: dropped
  std::uint32_t tx_frames = 0;
  std::uint32_t tx_errors = 0;  // TX status with the error bit
  // Written by the interrupt handler only.
  std::uint32_t interrupts = 0;
  std::uint32_t fifo_errors = 0;  // RXE/TXE: a FIFO read past its end or overfilled
};

class Lan9118 {
 public:
  static constexpr std::uintptr_t kBase = 0x40200000U;
  static constexpr unsigned kIrq = 13;
  // The chip takes frames up to 1514 bytes without the CRC (no jumbo frames).
  static constexpr std::size_t kMtu = 1500;

  // Touches no register: open() does.
  explicit Lan9118(async::Executor& executor) : rx_event_(executor) {}
  ~Lan9118();
  Lan9118(const Lan9118&) = delete;
  Lan9118& operator=(const Lan9118&) = delete;

  // Checks the chip is there (BYTE_TEST, ID_REV), soft-resets it, sets the
  // MAC address, resets the PHY and starts auto-negotiation, enables the
  // transmitter and receiver and the receive interrupt. Errors: not_found
  // (no LAN9118-family chip answers at kBase), deadline_exceeded (a reset
  // or a register access did not complete), failed_precondition (already
  // open, or another instance is).
  Status open(const Lan9118Config& config);
  // Stops TX/RX and the interrupt; open() may be called again.
  void close();
  [[nodiscard]] bool is_open() const { return open_; }

  [[nodiscard]] net::wire::MacAddress mac_address() const { return mac_; }
  // The PHY's link status (BMSR "link status"; auto-negotiation done).
  [[nodiscard]] bool link_up() const;
  [[nodiscard]] const Lan9118Counters& counters() const { return counters_; }
  // The chip's ID_REV register (0x0118xxxx for a LAN9118, 0x9220xxxx for a LAN9220).
  [[nodiscard]] std::uint32_t chip_id() const { return chip_id_; }

  // --- net::AsyncDevice ------------------------------------------------------
  [[nodiscard]] net::DeviceCapabilities capabilities() const {
    return {net::Medium::ethernet, kMtu};
  }
  Result<std::size_t> receive(net::Instant now, ByteSpan buffer);
  [[nodiscard]] bool can_transmit() const;
  Status transmit(net::Instant now, ConstByteSpan frame);
  // Ready when the receive interrupt has fired since the last wait; raises
  // coalesce, and receive() drains every waiting frame.
  async::InterruptEvent::WaitAwaiter wait_receive() { return rx_event_.wait(); }

 private:
  friend void ::ETHERNET_IRQHandler();
  void on_interrupt();
  void drain_tx_status();

  static Lan9118* instance_;
  async::InterruptEvent rx_event_;
  net::wire::MacAddress mac_;
  Lan9118Counters counters_;
  std::uint32_t chip_id_ = 0;
  std::uint16_t tx_tag_ = 0;
  bool open_ = false;
};

static_assert(net::AsyncDevice<Lan9118>);

}  // namespace mote::firmware
