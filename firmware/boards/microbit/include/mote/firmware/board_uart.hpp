#pragma once
// The board's console UART, for board-independent images (uart_echo).

#include "mote/firmware/nrf51_uart.hpp"

namespace mote::firmware {

using BoardUart = Nrf51Uart;  // QEMU's serial0 (-serial)

}  // namespace mote::firmware
