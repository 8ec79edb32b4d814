# Cross toolchain for Cortex-M0 (ARMv6-M, Thumb): arm-none-eabi-gcc + picolibc.
#   cmake --preset cortex-m0     (or -DCMAKE_TOOLCHAIN_FILE=this file)
set(MOTE_ARM_CPU cortex-m0)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-common.cmake)
