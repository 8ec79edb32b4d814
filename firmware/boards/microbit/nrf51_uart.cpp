#include "mote/firmware/nrf51_uart.hpp"

#include "mote/firmware/cortex_m.hpp"
#include "mote/hal/uart.hpp"

namespace mote::firmware {
namespace {

// nRF51 Series Reference Manual v3.0, 29 "UART".
enum Offset : std::uintptr_t {
  kTasksStartRx = 0x000,
  kTasksStartTx = 0x008,
  kEventsRxdRdy = 0x108,
  kEventsTxdRdy = 0x11C,
  kEventsError = 0x124,
  kIntenSet = 0x304,
  kIntenClr = 0x308,
  kErrorSrc = 0x480,
  kEnable = 0x500,
  kPselTxd = 0x50C,
  kPselRxd = 0x514,
  kRxd = 0x518,
  kTxd = 0x51C,
  kBaudrate = 0x524,
  kConfig = 0x56C,
};

constexpr std::uint32_t kIntRxdRdy = 1U << 2;
constexpr std::uint32_t kIntTxdRdy = 1U << 7;
constexpr std::uint32_t kIntError = 1U << 9;
constexpr std::uint32_t kEnableUart = 4;

volatile std::uint32_t& reg(Offset offset) {
  return *reinterpret_cast<volatile std::uint32_t*>(  // NOLINT(performance-no-int-to-ptr)
      Nrf51Uart::kBase + offset);
}

}  // namespace

static_assert(hal::Uart<Nrf51Uart>);

Nrf51Uart* Nrf51Uart::instance_ = nullptr;

Nrf51Uart::Nrf51Uart(async::Executor& executor, std::uint32_t baudrate) : InterruptUart(executor) {
  MOTE_ASSERT(instance_ == nullptr && "one Nrf51Uart at a time");
  instance_ = this;
  // Pins and speed first, then enable (QEMU ignores writes to a disabled
  // UART, but it does not model pins or baud rate either).
  reg(kPselTxd) = kTxPin;
  reg(kPselRxd) = kRxPin;
  reg(kBaudrate) = baudrate;
  reg(kConfig) = 0;  // no parity, no flow control
  reg(kEnable) = kEnableUart;
  reg(kEventsRxdRdy) = 0;
  reg(kEventsTxdRdy) = 0;
  reg(kEventsError) = 0;
  reg(kErrorSrc) = reg(kErrorSrc);  // write 1 to clear
  reg(kIntenSet) = kIntRxdRdy | kIntTxdRdy | kIntError;
  reg(kTasksStartRx) = 1;
  reg(kTasksStartTx) = 1;
  cortex_m::nvic::clear_pending(kIrq);
  cortex_m::nvic::enable(kIrq);
}

Nrf51Uart::~Nrf51Uart() {
  cortex_m::nvic::disable(kIrq);
  reg(kIntenClr) = kIntRxdRdy | kIntTxdRdy | kIntError;
  instance_ = nullptr;
}

// The ring had no room and the handler masked RXDRDY, leaving bytes in the
// FIFO. The event is still set, so unmasking it interrupts at once.
void Nrf51Uart::resume_rx() { reg(kIntenSet) = kIntRxdRdy; }

void Nrf51Uart::on_interrupt() {
  // Receive: the event first, then RXD (reading RXD with more bytes in the
  // FIFO sets RXDRDY again).
  bool woke = false;
  if (reg(kEventsError) != 0) {
    reg(kEventsError) = 0;
    reg(kErrorSrc) = reg(kErrorSrc);  // overrun, parity, framing, break
    rx_error();
    woke = true;
  }
  while (reg(kEventsRxdRdy) != 0) {
    if (!rx_has_room()) {
      reg(kIntenClr) = kIntRxdRdy;
      rx_throttle();
      break;
    }
    reg(kEventsRxdRdy) = 0;
    rx_store(static_cast<std::byte>(reg(kRxd) & 0xFFU));
    woke = true;
  }
  if (woke) rx_notify();

  // Transmit: TXDRDY ends the byte in flight; then the next one, if any.
  if (reg(kEventsTxdRdy) != 0) {
    reg(kEventsTxdRdy) = 0;
    tx_in_flight_ = false;
  }
  bool handed = false;
  if (!tx_in_flight_ && tx_pending()) {
    tx_in_flight_ = true;
    reg(kTxd) = static_cast<std::uint32_t>(tx_next_byte());
    handed = true;
  }
  tx_notify(handed);
}

}  // namespace mote::firmware

extern "C" void UART0_IRQHandler() { mote::firmware::Nrf51Uart::instance_->on_interrupt(); }
