# ARM MPS2 + AN385: Cortex-M3 at 25 MHz, CMSDK UART0 at 0x40004000, LAN9118.
# QEMU: -M mps2-an385.
set(MOTE_BOARD_CPU cortex-m3)
set(MOTE_BOARD_CORE_CLOCK_HZ 25000000)
set(MOTE_BOARD_QEMU_MACHINE mps2-an385)
# Board support (the static library mote_board_drivers): the interrupt-driven
# UART0 and the FPGA I/O user LEDs.
set(MOTE_BOARD_SOURCES ${CMAKE_CURRENT_LIST_DIR}/cmsdk_uart.cpp ${CMAKE_CURRENT_LIST_DIR}/fpgaio_led.cpp)
# The LAN9118 Ethernet driver (a mote::net device): the static library
# mote_board_net, for images that use mote's IP stack.
set(MOTE_BOARD_NET_SOURCES ${CMAKE_CURRENT_LIST_DIR}/lan9118.cpp)
