# Shared part of the arm-none-eabi toolchain files. The including file sets
# MOTE_ARM_CPU (cortex-m0, cortex-m3, ...) first.
#
# Toolchain: Debian's gcc-arm-none-eabi with picolibc as the C library
# (picolibc-arm-none-eabi) and the libstdc++ built against it
# (libstdc++-arm-none-eabi-picolibc). `--specs=picolibc.specs` puts picolibc's
# headers first on the include path and its per-multilib libraries (libc,
# libstdc++, libsupc++) first on the library path. Firmware images bring their
# own linker script (-T) and startup code (-nostartfiles), so neither
# picolibc.ld nor picolibc's crt0 is used.
#
# Only header-only, non-allocating parts of the C++ standard library are usable:
# the prebuilt libstdc++ was built with exceptions (see firmware/README.md).

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
# ar, ranlib, nm, objcopy and size are found from the compiler's prefix
# (CMAKE_NM, CMAKE_OBJCOPY, ...; firmware/ looks up arm-none-eabi-size).

# Compiler checks build a static library: nothing can be linked without a
# linker script and startup code.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(MOTE_ARM_CPU_FLAGS "-mcpu=${MOTE_ARM_CPU} -mthumb")
set(_mote_arm_flags "${MOTE_ARM_CPU_FLAGS} --specs=picolibc.specs")

set(CMAKE_C_FLAGS_INIT "${_mote_arm_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_mote_arm_flags}")
set(CMAKE_ASM_FLAGS_INIT "${_mote_arm_flags}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles -Wl,--gc-sections")

# Size first, with debug info (it costs no flash).
foreach(lang C CXX ASM)
  set(CMAKE_${lang}_FLAGS_MINSIZEREL_INIT "-Os -g -DNDEBUG")
  set(CMAKE_${lang}_FLAGS_RELEASE_INIT "-Os -g -DNDEBUG")
  set(CMAKE_${lang}_FLAGS_RELWITHDEBINFO_INIT "-Os -g")
  set(CMAKE_${lang}_FLAGS_DEBUG_INIT "-Og -g")
endforeach()
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE MinSizeRel CACHE STRING "Build type")
endif()

# Never pick up host libraries or packages.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
