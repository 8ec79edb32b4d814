#pragma once
// Nrf51Uart: the nRF51822's UART (0x40002000) on the BBC micro:bit,
// interrupt-driven, a mote::hal::Uart.
//
//   mote::firmware::Nrf51Uart uart(executor);          // 115200 8N1, P0.24/P0.25
//   auto n = co_await uart.read(buffer);               // >= 1 byte
//   co_await uart.write(data);
//
// One interrupt, UART0 (IRQ 2), for the RXDRDY, TXDRDY and ERROR events. The
// UART has a six-byte receive FIFO (RXD) and a one-byte TXD register: TXDRDY
// says the byte has been sent, so the next one may be written and flush()
// needs nothing more. See interrupt_uart.hpp for the handoff between the
// handler and the tasks.

#include <cstdint>

#include "mote/async/executor.hpp"
#include "mote/firmware/interrupt_uart.hpp"

extern "C" void UART0_IRQHandler();

namespace mote::firmware {

class Nrf51Uart final : public InterruptUart<Nrf51Uart> {
 public:
  static constexpr std::uintptr_t kBase = 0x40002000U;
  static constexpr unsigned kIrq = 2;
  // The micro:bit's interface chip (USB serial): TXD on P0.24, RXD on P0.25.
  static constexpr std::uint32_t kTxPin = 24;
  static constexpr std::uint32_t kRxPin = 25;

  // One instance at a time (the interrupt handler finds it through a static).
  // `baudrate` is the BAUDRATE register value (0x01D7E000: 115200).
  explicit Nrf51Uart(async::Executor& executor, std::uint32_t baudrate = 0x01D7E000U);
  ~Nrf51Uart();

 private:
  friend class InterruptUart<Nrf51Uart>;
  friend void ::UART0_IRQHandler();

  void resume_rx();
  void start_tx() { cortex_m::nvic::set_pending(kIrq); }
  bool transmitter_idle() const { return !tx_in_flight_; }
  void on_interrupt();

  static Nrf51Uart* instance_;
  volatile bool tx_in_flight_ = false;  // TXD written, TXDRDY not seen yet
};

}  // namespace mote::firmware
