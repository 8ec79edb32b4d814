# Helpers that give every module the same shape:
#   mote_library(NAME <module> [SOURCES ...] [DEPS ...] [FREESTANDING])
#     -> target mote_<module>, alias mote::<module>, public headers in
#        <module>/include, installed and exported.
#   mote_test(NAME <test> SOURCES ... DEPS ...)   -> a GoogleTest binary under ctest
#   mote_fuzzer(NAME <fuzzer> SOURCES ... DEPS ...) -> a libFuzzer binary
#     (seed corpus, optional: corpus/<fuzzer>/ beside the CMakeLists.txt)

# Tests (target property MOTE_TEST_WARNINGS) skip -Wshadow and -Wconversion:
# test lambdas name their parameters after the locals they receive.
# -Wno-sign-conversion comes last: clang's -Wconversion turns it back on.
set(MOTE_WARNINGS -Wall -Wextra -Wpedantic
    -Wnon-virtual-dtor -Wcast-align -Wimplicit-fallthrough
    $<$<NOT:$<BOOL:$<TARGET_PROPERTY:MOTE_TEST_WARNINGS>>>:-Wshadow$<SEMICOLON>-Wconversion>
    -Wno-sign-conversion)

# Flags every mote target gets. Exceptions and RTTI are off everywhere in the
# library so host and firmware builds compile the same code the same way.
# Warnings are for mote's own build only; installed consumers get the language
# level and the -fno-exceptions -fno-rtti ABI choice.
add_library(mote_flags INTERFACE)
target_compile_features(mote_flags INTERFACE cxx_std_20)
target_compile_options(mote_flags INTERFACE
  $<BUILD_INTERFACE:$<$<COMPILE_LANGUAGE:CXX>:${MOTE_WARNINGS}>>
  $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti>)
if(MOTE_FREESTANDING)
  target_compile_options(mote_flags INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-ffreestanding -fno-threadsafe-statics -fno-use-cxa-atexit>
    -ffunction-sections -fdata-sections)
  target_compile_definitions(mote_flags INTERFACE MOTE_FREESTANDING=1)
endif()
install(TARGETS mote_flags EXPORT moteTargets)

set(MOTE_INSTALL_TARGETS "" CACHE INTERNAL "")

function(mote_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  set(target mote_${ARG_NAME})
  if(ARG_SOURCES)
    add_library(${target} STATIC ${ARG_SOURCES})
    target_include_directories(${target} PUBLIC
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:include>)
    target_link_libraries(${target} PUBLIC mote_flags ${ARG_DEPS})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:include>)
    target_link_libraries(${target} INTERFACE mote_flags ${ARG_DEPS})
  endif()
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${ARG_NAME})
  add_library(mote::${ARG_NAME} ALIAS ${target})
  install(TARGETS ${target} EXPORT moteTargets)
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION include)
  set(MOTE_INSTALL_TARGETS ${MOTE_INSTALL_TARGETS} ${target} CACHE INTERNAL "")
endfunction()

function(mote_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  if(MOTE_FREESTANDING OR NOT MOTE_BUILD_TESTS)
    return()
  endif()
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  set_target_properties(${ARG_NAME} PROPERTIES MOTE_TEST_WARNINGS ON)
  # "<binary>.<Suite>.<Test>", so `ctest -R base_test` selects a module.
  gtest_discover_tests(${ARG_NAME} DISCOVERY_TIMEOUT 60 TEST_PREFIX "${ARG_NAME}.")
endfunction()

function(mote_fuzzer)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  if(MOTE_FREESTANDING OR NOT MOTE_BUILD_FUZZERS)
    return()
  endif()
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  # The fuzz preset compiles everything (the libraries under test too) with
  # -fsanitize=fuzzer-no-link, so coverage guides the fuzzer through library
  # code, not only through the fuzzer's own file; the fuzzer binary adds the
  # libFuzzer runtime here.
  # -fno-sanitize=function: clang 14's check emits, for coroutine functions,
  # prologue data it then cannot assemble ("Cannot represent a difference
  # across sections"). The rest of UBSan stays on.
  set(sanitizers -fsanitize=fuzzer,address,undefined -fno-sanitize=function)
  target_compile_options(${ARG_NAME} PRIVATE ${sanitizers})
  target_link_options(${ARG_NAME} PRIVATE ${sanitizers})
  # scripts/test finds every fuzzer (and its seed corpus, a folder
  # corpus/<name> next to the CMakeLists.txt, if there is one) through these.
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/fuzzers/${ARG_NAME}.txt
    CONTENT "$<TARGET_FILE:${ARG_NAME}>\n${CMAKE_CURRENT_SOURCE_DIR}/corpus/${ARG_NAME}\n")
endfunction()
