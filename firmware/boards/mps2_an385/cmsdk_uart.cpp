#include "mote/firmware/cmsdk_uart.hpp"

#include "mote/async/sleep.hpp"
#include "mote/firmware/cortex_m.hpp"
#include "mote/hal/uart.hpp"

namespace mote::firmware {
namespace {

// ARM DDI0479C, 4.7 "UART": DATA, STATE, CTRL, INTSTATUS/INTCLEAR, BAUDDIV.
struct Registers {
  volatile std::uint32_t data;
  volatile std::uint32_t state;
  volatile std::uint32_t ctrl;
  volatile std::uint32_t intstatus;  // write 1 to clear (INTCLEAR)
  volatile std::uint32_t bauddiv;
};

constexpr std::uint32_t kStateTxFull = 1U << 0;
constexpr std::uint32_t kStateRxFull = 1U << 1;
constexpr std::uint32_t kStateRxOverrun = 1U << 3;
constexpr std::uint32_t kCtrlTxEnable = 1U << 0;
constexpr std::uint32_t kCtrlRxEnable = 1U << 1;
constexpr std::uint32_t kCtrlTxInterrupt = 1U << 2;
constexpr std::uint32_t kCtrlRxInterrupt = 1U << 3;
constexpr std::uint32_t kIntTx = 1U << 0;
constexpr std::uint32_t kIntRx = 1U << 1;

Registers& regs() {
  return *reinterpret_cast<Registers*>(CmsdkUart::kBase);  // NOLINT(performance-no-int-to-ptr)
}

}  // namespace

static_assert(hal::Uart<CmsdkUart>);

CmsdkUart* CmsdkUart::instance_ = nullptr;

CmsdkUart::CmsdkUart(async::Executor& executor, std::uint32_t baud, std::uint32_t core_clock_hz)
    : InterruptUart(executor),
      // 10 bits a character (start, 8 data, stop), rounded up.
      character_time_((10'000'000 + baud - 1) / baud) {
  MOTE_ASSERT(instance_ == nullptr && "one CmsdkUart at a time");
  instance_ = this;
  Registers& uart = regs();
  uart.ctrl = 0;
  uart.bauddiv = core_clock_hz / baud;  // at least 16
  uart.state = kStateRxOverrun;         // write 1 to clear
  uart.intstatus = kIntTx | kIntRx;
  uart.ctrl = kCtrlTxEnable | kCtrlRxEnable | kCtrlTxInterrupt | kCtrlRxInterrupt;
  cortex_m::nvic::clear_pending(kRxIrq);
  cortex_m::nvic::clear_pending(kTxIrq);
  cortex_m::nvic::enable(kRxIrq);
  cortex_m::nvic::enable(kTxIrq);
}

CmsdkUart::~CmsdkUart() {
  cortex_m::nvic::disable(kRxIrq);
  cortex_m::nvic::disable(kTxIrq);
  regs().ctrl = 0;
  instance_ = nullptr;
}

async::Task<Status> CmsdkUart::flush() {
  MOTE_CO_TRY(co_await InterruptUart::flush());
  co_await async::sleep_for(character_time_);
  co_return ok_status();
}

// The ring had no room: the RX handler masked its interrupt, leaving a byte
// in the holding register. Pending the interrupt makes it look again (the
// UART raises RX only when a byte arrives, not for one already waiting).
void CmsdkUart::resume_rx() {
  cortex_m::nvic::enable(kRxIrq);
  cortex_m::nvic::set_pending(kRxIrq);
}

void CmsdkUart::start_tx() { cortex_m::nvic::set_pending(kTxIrq); }

bool CmsdkUart::transmitter_idle() { return (regs().state & kStateTxFull) == 0; }

void CmsdkUart::on_rx_interrupt() {
  Registers& uart = regs();
  uart.intstatus = kIntRx;  // clear first: a byte arriving from here on sets it again
  bool woke = false;
  if ((uart.state & kStateRxOverrun) != 0) {
    uart.state = kStateRxOverrun;
    rx_error();
    woke = true;
  }
  while ((uart.state & kStateRxFull) != 0) {
    if (!rx_has_room()) {
      cortex_m::nvic::disable(kRxIrq);
      rx_throttle();
      break;
    }
    rx_store(static_cast<std::byte>(uart.data & 0xFFU));
    woke = true;
  }
  if (woke) rx_notify();
}

void CmsdkUart::on_tx_interrupt() {
  Registers& uart = regs();
  uart.intstatus = kIntTx;
  bool handed = false;
  while (tx_pending() && (uart.state & kStateTxFull) == 0) {
    uart.data = static_cast<std::uint32_t>(tx_next_byte());
    handed = true;
  }
  tx_notify(handed);
}

}  // namespace mote::firmware

extern "C" void UART0RX_IRQHandler() { mote::firmware::CmsdkUart::instance_->on_rx_interrupt(); }
extern "C" void UART0TX_IRQHandler() { mote::firmware::CmsdkUart::instance_->on_tx_interrupt(); }
