#pragma once
// CmsdkUart: UART0 of the MPS2 AN385 (the Cortex-M System Design Kit's APB
// UART at 0x40004000), interrupt-driven, a mote::hal::Uart.
//
//   mote::firmware::CmsdkUart uart(executor);          // 115200 8N1 (BAUDDIV from the core clock)
//   auto n = co_await uart.read(buffer);               // >= 1 byte
//   co_await uart.write(data);
//
// Interrupts (QEMU hw/arm/mps2.c): UART0 RX is IRQ 0, TX is IRQ 1; the
// combined overrun line (IRQ 12) is not used: the RX handler reads the
// overrun bit itself. The UART has a one-byte holding register in each
// direction and no FIFO; see interrupt_uart.hpp for the handoff between the
// handlers and the tasks. flush() waits for the holding register to empty
// and then one character time, as the UART has no "shift register empty"
// flag.

#include <cstdint>

#include "mote/async/executor.hpp"
#include "mote/async/task.hpp"
#include "mote/base/status.hpp"
#include "mote/firmware/board.hpp"
#include "mote/firmware/interrupt_uart.hpp"

extern "C" void UART0RX_IRQHandler();
extern "C" void UART0TX_IRQHandler();

namespace mote::firmware {

class CmsdkUart final : public InterruptUart<CmsdkUart> {
 public:
  static constexpr std::uintptr_t kBase = 0x40004000U;
  static constexpr unsigned kRxIrq = 0;
  static constexpr unsigned kTxIrq = 1;

  // One instance at a time (the interrupt handlers find it through a static).
  explicit CmsdkUart(async::Executor& executor, std::uint32_t baud = 115200,
                     std::uint32_t core_clock_hz = board::kCoreClockHz);
  ~CmsdkUart();

  // Hides InterruptUart::flush: the holding register empty, then the
  // character in the shift register.
  async::Task<Status> flush();

 private:
  friend class InterruptUart<CmsdkUart>;
  friend void ::UART0RX_IRQHandler();
  friend void ::UART0TX_IRQHandler();

  void resume_rx();
  void start_tx();
  bool transmitter_idle();
  void on_rx_interrupt();
  void on_tx_interrupt();

  static CmsdkUart* instance_;
  async::Duration character_time_;
};

}  // namespace mote::firmware
