# BBC micro:bit v1: nRF51822, Cortex-M0 at 16 MHz. QEMU: -M microbit.
set(MOTE_BOARD_CPU cortex-m0)
set(MOTE_BOARD_CORE_CLOCK_HZ 16000000)
set(MOTE_BOARD_QEMU_MACHINE microbit)
# Board support (the static library mote_board_drivers): the interrupt-driven
# UART and the GPIO pins.
set(MOTE_BOARD_SOURCES ${CMAKE_CURRENT_LIST_DIR}/nrf51_uart.cpp ${CMAKE_CURRENT_LIST_DIR}/nrf51_gpio.cpp)
