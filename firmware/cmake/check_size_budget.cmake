# Fails when a linked firmware image is bigger than its budget in
# firmware/size-budget.txt (lines "image board max_text max_data_bss", '#'
# starts a comment). text is code + read-only data (flash; .data's initial
# values take flash too), data + bss is the static RAM (the stack comes on
# top, see the board's memory.ld). Run after linking:
#   cmake -DSIZE=arm-none-eabi-size -DELF=image.elf -DIMAGE=name -DBOARD=board
#         -DBUDGET=size-budget.txt -P check_size_budget.cmake

foreach(variable SIZE ELF IMAGE BOARD BUDGET)
  if(NOT ${variable})
    message(FATAL_ERROR "usage: cmake -DSIZE=<size> -DELF=<image.elf> -DIMAGE=<name> "
                        "-DBOARD=<board> -DBUDGET=<file> -P ${CMAKE_CURRENT_LIST_FILE}")
  endif()
endforeach()

execute_process(COMMAND "${SIZE}" -B -d "${ELF}"
  OUTPUT_VARIABLE report RESULT_VARIABLE result ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${SIZE} ${ELF} failed: ${errors}")
endif()
# "   text    data     bss     dec     hex filename" then the numbers.
if(NOT report MATCHES "\n[ \t]*([0-9]+)[ \t]+([0-9]+)[ \t]+([0-9]+)[ \t]")
  message(FATAL_ERROR "cannot read the output of ${SIZE}:\n${report}")
endif()
set(text ${CMAKE_MATCH_1})
math(EXPR ram "${CMAKE_MATCH_2} + ${CMAKE_MATCH_3}")

file(STRINGS "${BUDGET}" lines)
set(max_text "")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "#.*" "" line "${line}")
  if(line MATCHES "^[ \t]*([^ \t]+)[ \t]+([^ \t]+)[ \t]+([0-9]+)[ \t]+([0-9]+)[ \t]*$")
    if(CMAKE_MATCH_1 STREQUAL IMAGE AND CMAKE_MATCH_2 STREQUAL BOARD)
      set(max_text ${CMAKE_MATCH_3})
      set(max_ram ${CMAKE_MATCH_4})
    endif()
  endif()
endforeach()

if(max_text STREQUAL "")
  file(REMOVE "${ELF}")  # so the next build links and checks again
  message(FATAL_ERROR "${IMAGE} (${BOARD}) has no size budget: add a line\n"
                      "  ${IMAGE} ${BOARD} <max text> <max data+bss>\n"
                      "to ${BUDGET} (scripts/firmware-size prints the current sizes)")
endif()
set(over "")
if(text GREATER max_text)
  math(EXPR excess "${text} - ${max_text}")
  string(APPEND over "\n  text ${text} B > budget ${max_text} B (+${excess} B)")
endif()
if(ram GREATER max_ram)
  math(EXPR excess "${ram} - ${max_ram}")
  string(APPEND over "\n  data+bss ${ram} B > budget ${max_ram} B (+${excess} B)")
endif()
if(over)
  file(REMOVE "${ELF}")  # so no one runs it and the next build links again
  message(FATAL_ERROR "${IMAGE} (${BOARD}) is over its size budget:${over}\n"
                      "Shrink it (the map file next to the image says who takes the space), "
                      "or raise the budget in ${BUDGET} on purpose.")
endif()
message(STATUS "${IMAGE} (${BOARD}): text ${text}/${max_text} B, data+bss ${ram}/${max_ram} B "
               "(budget ${BUDGET})")
