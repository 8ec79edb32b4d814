#pragma once
// The board's console UART, for board-independent images (uart_echo).

#include "mote/firmware/cmsdk_uart.hpp"

namespace mote::firmware {

using BoardUart = CmsdkUart;  // UART0: QEMU's serial0 (-serial)

}  // namespace mote::firmware
