# Cross toolchain for Cortex-M3 (ARMv7-M, Thumb): arm-none-eabi-gcc + picolibc.
#   cmake --preset cortex-m3     (or -DCMAKE_TOOLCHAIN_FILE=this file)
set(MOTE_ARM_CPU cortex-m3)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-common.cmake)
