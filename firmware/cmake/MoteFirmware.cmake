# mote_firmware_image(NAME <image> SOURCES ... [DEPS ...]
#                     [EXPECT <line>] [INPUT <file>] [EXPECT_UART <file>])
#   -> <image>.elf for the board selected by MOTE_BOARD, linked with the
#      board's memory map and the Cortex-M runtime, plus <image>.bin and
#      <image>.map. After linking: the forbidden-symbol check (fails the build
#      on heap/exception/RTTI symbols), a size report and the size budget
#      check (fails the build when the image outgrows its line in
#      firmware/size-budget.txt, or has none).
#   Also a ctest test `<image>` that runs the image under QEMU
#      (scripts/run-firmware) and expects exit status 0 and the line given by
#      EXPECT; INPUT is fed to the board's UART, and what the image writes to
#      the UART must equal EXPECT_UART.

find_program(MOTE_ARM_SIZE NAMES arm-none-eabi-size REQUIRED)
find_program(MOTE_ARM_NM NAMES arm-none-eabi-nm REQUIRED)
find_program(MOTE_ARM_OBJCOPY NAMES arm-none-eabi-objcopy REQUIRED)
cmake_path(SET MOTE_FIRMWARE_SIZE_BUDGET NORMALIZE "${CMAKE_CURRENT_LIST_DIR}/../size-budget.txt")

function(mote_firmware_image)
  cmake_parse_arguments(ARG "" "NAME;EXPECT;INPUT;EXPECT_UART" "SOURCES;DEPS" ${ARGN})
  set(target ${ARG_NAME})
  add_executable(${target} ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES SUFFIX ".elf")
  target_link_libraries(${target} PRIVATE mote_board ${ARG_DEPS})
  target_link_options(${target} PRIVATE
    -L${MOTE_FIRMWARE_RUNTIME_DIR}
    -T${MOTE_FIRMWARE_BOARD_DIR}/memory.ld
    -Wl,-Map=$<TARGET_FILE_DIR:${target}>/${target}.map
    -Wl,--no-warn-rwx-segments)
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS
    ${MOTE_FIRMWARE_BOARD_DIR}/memory.ld ${MOTE_FIRMWARE_RUNTIME_DIR}/cortex_m.ld
    ${MOTE_FIRMWARE_SIZE_BUDGET})

  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DNM=${MOTE_ARM_NM} -DELF=$<TARGET_FILE:${target}>
            -P ${MOTE_FIRMWARE_CMAKE_DIR}/check_forbidden_symbols.cmake
    COMMAND ${MOTE_ARM_OBJCOPY} -O binary $<TARGET_FILE:${target}>
            $<TARGET_FILE_DIR:${target}>/${target}.bin
    COMMAND ${CMAKE_COMMAND} -E echo "size of ${target} (${MOTE_BOARD}):"
    COMMAND ${MOTE_ARM_SIZE} -B -d $<TARGET_FILE:${target}>
    COMMAND ${CMAKE_COMMAND} -DSIZE=${MOTE_ARM_SIZE} -DELF=$<TARGET_FILE:${target}>
            -DIMAGE=${target} -DBOARD=${MOTE_BOARD} -DBUDGET=${MOTE_FIRMWARE_SIZE_BUDGET}
            -P ${MOTE_FIRMWARE_CMAKE_DIR}/check_size_budget.cmake
    VERBATIM)

  if(ARG_EXPECT OR ARG_EXPECT_UART)
    set(options "")
    if(ARG_INPUT)
      list(APPEND options --input ${ARG_INPUT})
    endif()
    if(ARG_EXPECT_UART)
      list(APPEND options --expect-uart ${ARG_EXPECT_UART})
    endif()
    add_test(NAME ${target}
      COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/run-firmware ${options}
              ${MOTE_BOARD_QEMU_MACHINE} $<TARGET_FILE:${target}> ${ARG_EXPECT})
    set_tests_properties(${target} PROPERTIES TIMEOUT 60 LABELS firmware)
  endif()
endfunction()
