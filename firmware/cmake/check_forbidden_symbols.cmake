# Fails when a linked firmware image contains anything that needs a heap,
# exceptions or RTTI at run time. Run after linking:
#   cmake -DNM=arm-none-eabi-nm -DELF=image.elf -P check_forbidden_symbols.cmake

if(NOT NM OR NOT ELF)
  message(FATAL_ERROR "usage: cmake -DNM=<nm> -DELF=<image> -P ${CMAKE_CURRENT_LIST_FILE}")
endif()

# Mangled names: operator new/delete for 32-bit targets are _Znwj/_Znaj and
# _ZdlPv*/_ZdaPv*; __cxa_* is the C++ ABI runtime (throw, guards, atexit,
# pure virtual, RTTI casts); _Unwind_*, __gxx_personality* and
# __aeabi_unwind_cpp_pr* are the unwinder.
set(forbidden
  "malloc" "free" "calloc" "realloc" "reallocarray" "memalign" "aligned_alloc"
  "posix_memalign" "_sbrk" "sbrk" "_malloc_r" "_free_r"
  "_Znwj.*" "_Znaj.*" "_ZdlPv.*" "_ZdaPv.*"
  "__cxa_.*" "_Unwind_.*" "__gxx_personality.*" "__aeabi_unwind_cpp_pr.*"
  "_ZTI.*" "_ZTS.*")
list(JOIN forbidden "|" pattern)
set(pattern "^(${pattern})$")

execute_process(COMMAND "${NM}" "${ELF}"
  OUTPUT_VARIABLE symbols RESULT_VARIABLE result ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${NM} ${ELF} failed: ${errors}")
endif()

string(REPLACE "\n" ";" lines "${symbols}")
set(found "")
foreach(line IN LISTS lines)
  # "<address> <type> <name>" or, for undefined symbols, "<spaces> U <name>"
  if(line MATCHES "^[0-9a-fA-F ]* [A-Za-z] ([^ ]+)$")
    set(name "${CMAKE_MATCH_1}")
    if(name MATCHES "${pattern}")
      list(APPEND found "${name}")
    endif()
  endif()
endforeach()

get_filename_component(image "${ELF}" NAME)
if(found)
  list(REMOVE_DUPLICATES found)
  list(JOIN found "\n  " listing)
  file(REMOVE "${ELF}")  # so no one runs it and the next build links again
  message(FATAL_ERROR
    "${image} links forbidden symbols (heap, exceptions or RTTI):\n  ${listing}\n"
    "Find who pulls them in with: arm-none-eabi-gcc ... -Wl,--trace-symbol=<name>, "
    "or look at the map file next to the image.")
endif()
message(STATUS "${image}: no heap, exception or RTTI symbols")
