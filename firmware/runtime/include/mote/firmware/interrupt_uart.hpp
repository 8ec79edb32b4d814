#pragma once
// InterruptUart<Port, kRxBytes>: the hardware-independent half of an
// interrupt-driven mote::hal::Uart (see hal/include/mote/hal/uart.hpp for the
// contract). A board's UART class derives from it (CRTP) and adds the register
// work: its interrupt handler calls the rx_*/tx_* hooks below, and it provides
//
//   void resume_rx();          // re-enable the RX interrupt after rx_throttle()
//   void start_tx();           // make the TX interrupt handler run (pend it)
//   bool transmitter_idle();   // the last byte has left the transmitter
//
// Receive: the RX interrupt moves bytes from the data register into a
// single-producer/single-consumer ring (SpscByteRing) and raise()s rx_event_.
// read()'s awaiter copies out of the ring on the executor's side, only when
// it completes, so cancelling a read loses nothing. When the ring is full
// the handler leaves the byte in the hardware and masks its RX interrupt
// (rx_throttle()); the next read re-enables it after making room. The
// sender then meets the hardware's own buffer: QEMU holds the input back, a
// real line overruns, which the handler reports with rx_error() and the next
// read returns as data_loss, once.
//
// Transmit: write() publishes [tx_next_, tx_end_) with interrupts masked and
// pends the TX interrupt; the handler feeds the data register from the span
// and raise()s tx_event_ when it has handed over the last byte. Cancelling
// (destroying the awaiter) sets tx_end_ = tx_next_ with interrupts masked, so
// the handler stops at a byte boundary and never touches the buffer again.
//
// A raise() can be stale (its bytes already consumed by a read that did not
// need to wait), so every awaiter re-checks its condition after consuming one
// instead of trusting it (suspend_until).
//
// One reader and one writer at a time (each InterruptEvent takes one waiter).

#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "mote/async/executor.hpp"
#include "mote/async/interrupt_event.hpp"
#include "mote/base/assert.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/base/status.hpp"
#include "mote/firmware/cortex_m.hpp"
#include "mote/firmware/spsc_ring.hpp"

namespace mote::firmware {
namespace internal {

// Suspends on `wait` unless `ready()`; consumes stale raises on the way.
// The result is await_suspend's: false resumes the coroutine at once.
template <typename Ready>
bool suspend_until(async::InterruptEvent::WaitAwaiter& wait, std::coroutine_handle<> suspended,
                   Ready ready) {
  for (;;) {
    if (ready()) return false;
    if (!wait.await_ready()) {  // no raise pending: wait for the next one
      wait.await_suspend(suspended);
      return true;
    }
    // A raise was pending: it may or may not be about what we wait for.
  }
}

}  // namespace internal

template <typename Port, std::size_t kRxBytes = 64>
class InterruptUart {
 public:
  InterruptUart(const InterruptUart&) = delete;
  InterruptUart& operator=(const InterruptUart&) = delete;

  class [[nodiscard]] ReadAwaiter {
   public:
    ReadAwaiter(InterruptUart& uart, ByteSpan buffer) : uart_(uart), buffer_(buffer) {}
    ReadAwaiter(const ReadAwaiter&) = delete;
    ReadAwaiter& operator=(const ReadAwaiter&) = delete;

    bool await_ready() const { return buffer_.empty() || uart_.rx_available(); }
    bool await_suspend(std::coroutine_handle<> suspended) {
      return internal::suspend_until(wait_, suspended, [this] { return uart_.rx_available(); });
    }
    Result<std::size_t> await_resume() {
      if (buffer_.empty()) return std::size_t{0};
      return uart_.rx_take(buffer_);
    }

   private:
    InterruptUart& uart_;
    ByteSpan buffer_;
    async::InterruptEvent::WaitAwaiter wait_{uart_.rx_event_};
  };

  class [[nodiscard]] WriteAwaiter {
   public:
    WriteAwaiter(InterruptUart& uart, ConstByteSpan data) : uart_(uart), data_(data) {}
    WriteAwaiter(const WriteAwaiter&) = delete;
    WriteAwaiter& operator=(const WriteAwaiter&) = delete;
    // Cancellation: stop at the byte boundary; bytes handed over stay sent.
    ~WriteAwaiter() {
      if (started_) uart_.tx_stop();
    }

    bool await_ready() {
      if (data_.empty()) return true;
      uart_.tx_start(data_);
      started_ = true;
      return uart_.tx_handed_over();  // QEMU may take it all at once
    }
    bool await_suspend(std::coroutine_handle<> suspended) {
      return internal::suspend_until(wait_, suspended, [this] { return uart_.tx_handed_over(); });
    }
    Status await_resume() {
      started_ = false;
      return ok_status();
    }

   private:
    InterruptUart& uart_;
    ConstByteSpan data_;
    bool started_ = false;
    async::InterruptEvent::WaitAwaiter wait_{uart_.tx_event_};
  };

  class [[nodiscard]] FlushAwaiter {
   public:
    explicit FlushAwaiter(InterruptUart& uart) : uart_(uart) {}
    FlushAwaiter(const FlushAwaiter&) = delete;
    FlushAwaiter& operator=(const FlushAwaiter&) = delete;
    ~FlushAwaiter() { uart_.flush_waiting_ = false; }

    bool await_ready() {
      // Set before looking, so a TX interrupt in between raises tx_event_.
      uart_.flush_waiting_ = true;
      return uart_.tx_drained();
    }
    bool await_suspend(std::coroutine_handle<> suspended) {
      return internal::suspend_until(wait_, suspended, [this] { return uart_.tx_drained(); });
    }
    Status await_resume() {
      uart_.flush_waiting_ = false;
      return ok_status();
    }

   private:
    InterruptUart& uart_;
    async::InterruptEvent::WaitAwaiter wait_{uart_.tx_event_};
  };

  // hal::Uart. `buffer` / `data` must outlive the operation (see uart.hpp).
  ReadAwaiter read(ByteSpan buffer) { return ReadAwaiter(*this, buffer); }
  WriteAwaiter write(ConstByteSpan data) { return WriteAwaiter(*this, data); }
  FlushAwaiter flush() { return FlushAwaiter(*this); }

  // Bytes received and not read yet.
  [[nodiscard]] std::size_t rx_buffered() const { return rx_ring_.size(); }
  // How often the receive ring filled up and the RX interrupt was masked.
  [[nodiscard]] std::uint32_t rx_throttle_count() const { return rx_throttles_; }

 protected:
  explicit InterruptUart(async::Executor& executor) : rx_event_(executor), tx_event_(executor) {}
  ~InterruptUart() = default;

  // --- for the port's interrupt handler ---
  // Room for one more byte? If not, the handler masks its RX interrupt and
  // calls rx_throttle() instead of reading the data register.
  [[nodiscard]] bool rx_has_room() const { return !rx_ring_.full(); }
  void rx_store(std::byte byte) { (void)rx_ring_.push(byte); }
  void rx_throttle() {
    rx_throttled_ = true;
    rx_throttles_ = rx_throttles_ + 1;
  }
  void rx_error() { rx_lost_ = true; }  // overrun, framing, parity, break
  void rx_notify() { rx_event_.raise(); }

  [[nodiscard]] bool tx_pending() const { return tx_next_ != tx_end_; }
  std::byte tx_next_byte() {
    const std::byte* next = tx_next_;
    tx_next_ = next + 1;
    return *next;
  }
  // At the end of each TX interrupt: `handed` says whether it wrote bytes.
  void tx_notify(bool handed) {
    if ((handed && !tx_pending()) || flush_waiting_) tx_event_.raise();
  }

 private:
  Port& port() { return static_cast<Port&>(*this); }

  // --- the executor's side ---
  bool rx_available() const { return !rx_ring_.empty() || rx_lost_; }
  Result<std::size_t> rx_take(ByteSpan buffer) {
    if (rx_lost_) {
      rx_lost_ = false;
      return Status::data_loss();
    }
    const std::size_t count = rx_ring_.pop(buffer);
    MOTE_ASSERT(count > 0);
    if (rx_throttled_) {  // the RX interrupt is masked: nothing races with us
      rx_throttled_ = false;
      port().resume_rx();
    }
    return count;
  }

  void tx_start(ConstByteSpan data) {
    MOTE_ASSERT(!tx_pending() && "one write at a time");
    {
      cortex_m::InterruptLock lock;  // the handler sees both ends or neither
      tx_next_ = data.data();
      tx_end_ = data.data() + data.size();
    }
    port().start_tx();
  }
  void tx_stop() {
    cortex_m::InterruptLock lock;
    tx_end_ = tx_next_;
  }
  bool tx_handed_over() const { return !tx_pending(); }
  bool tx_drained() { return !tx_pending() && port().transmitter_idle(); }

  SpscByteRing<kRxBytes> rx_ring_;
  async::InterruptEvent rx_event_;
  async::InterruptEvent tx_event_;
  const std::byte* volatile tx_next_ = nullptr;
  const std::byte* volatile tx_end_ = nullptr;
  volatile bool rx_lost_ = false;
  volatile bool rx_throttled_ = false;
  volatile std::uint32_t rx_throttles_ = 0;
  volatile bool flush_waiting_ = false;
};

}  // namespace mote::firmware
