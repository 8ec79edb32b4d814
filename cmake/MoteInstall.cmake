# The installable package (host builds):
#   cmake --install build/default --prefix <dir>
# gives <dir>/include/mote/..., the static libraries, a CMake package
# (find_package(mote) -> mote::<module> targets) and a pkg-config file
# (pkg-config --cflags --libs mote).

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MOTE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/mote)

install(EXPORT moteTargets
  NAMESPACE mote::
  FILE moteTargets.cmake
  DESTINATION ${MOTE_INSTALL_CMAKEDIR})

# Resolves an alias (mote::base) to its real target (mote_base).
function(_mote_real_target name out)
  set(real "")
  if(TARGET ${name})
    get_target_property(aliased ${name} ALIASED_TARGET)
    if(aliased)
      set(real ${aliased})
    else()
      set(real ${name})
    endif()
  endif()
  set(${out} ${real} PARENT_SCOPE)
endfunction()

# The installed targets in link order (every library before the ones it
# depends on), plus the external libraries they link. State lives in global
# properties because CMake functions cannot return values up a recursion.
set_property(GLOBAL PROPERTY _MOTE_LINK_ORDER "")
set_property(GLOBAL PROPERTY _MOTE_VISITING "")
set_property(GLOBAL PROPERTY _MOTE_EXTERNAL_LIBS "")
set_property(GLOBAL PROPERTY _MOTE_REPEAT "")
function(_mote_visit target)
  get_property(order GLOBAL PROPERTY _MOTE_LINK_ORDER)
  get_property(visiting GLOBAL PROPERTY _MOTE_VISITING)
  if(target IN_LIST order)
    return()
  endif()
  if(target IN_LIST visiting)
    # A cycle (base <-> the platform runtime that implements its hooks): the
    # static library is named again after the others.
    set_property(GLOBAL APPEND PROPERTY _MOTE_REPEAT ${target})
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY _MOTE_VISITING ${target})
  get_target_property(deps ${target} INTERFACE_LINK_LIBRARIES)
  if(NOT deps)
    set(deps "")
  endif()
  foreach(dep IN LISTS deps)
    if(dep MATCHES "^\\$<")  # generator expressions: not resolvable here
      continue()
    endif()
    _mote_real_target(${dep} real)
    if(real)
      if(real IN_LIST MOTE_INSTALL_TARGETS)
        _mote_visit(${real})
      elseif(real STREQUAL "Threads::Threads")
        set_property(GLOBAL APPEND PROPERTY _MOTE_EXTERNAL_LIBS -pthread)
      elseif(NOT real STREQUAL "mote_flags")
        set_property(GLOBAL APPEND PROPERTY _MOTE_EXTERNAL_LIBS ${real})
      endif()
    elseif(dep MATCHES "^-")
      set_property(GLOBAL APPEND PROPERTY _MOTE_EXTERNAL_LIBS ${dep})
    else()
      set_property(GLOBAL APPEND PROPERTY _MOTE_EXTERNAL_LIBS -l${dep})
    endif()
  endforeach()
  # Post-order, prepended: a library lands before everything it depends on.
  get_property(order GLOBAL PROPERTY _MOTE_LINK_ORDER)
  list(PREPEND order ${target})
  set_property(GLOBAL PROPERTY _MOTE_LINK_ORDER ${order})
endfunction()

set(_mote_targets ${MOTE_INSTALL_TARGETS})
list(REMOVE_DUPLICATES _mote_targets)
foreach(target IN LISTS _mote_targets)
  _mote_visit(${target})
endforeach()
get_property(_mote_link_order GLOBAL PROPERTY _MOTE_LINK_ORDER)
get_property(_mote_repeat GLOBAL PROPERTY _MOTE_REPEAT)
get_property(_mote_external_libs GLOBAL PROPERTY _MOTE_EXTERNAL_LIBS)

set(MOTE_PC_LIBS "")
set(MOTE_PC_TARGETS "")
function(_mote_pc_lib target out)
  set(flag "")
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "STATIC_LIBRARY")
    get_target_property(output_name ${target} OUTPUT_NAME)
    if(NOT output_name)
      set(output_name ${target})
    endif()
    set(flag " -l${output_name}")
  endif()
  set(${out} "${flag}" PARENT_SCOPE)
endfunction()
foreach(target IN LISTS _mote_link_order)
  get_target_property(export_name ${target} EXPORT_NAME)
  list(APPEND MOTE_PC_TARGETS mote::${export_name})
  _mote_pc_lib(${target} flag)
  string(APPEND MOTE_PC_LIBS "${flag}")
endforeach()
if(_mote_repeat)
  # A cycle between static libraries. pkg-config drops repeated -l flags, so
  # the linker is told to rescan the group instead (GNU ld, gold and lld).
  set(MOTE_PC_LIBS " -Wl,--start-group${MOTE_PC_LIBS} -Wl,--end-group")
endif()
list(REMOVE_DUPLICATES _mote_external_libs)
foreach(lib IN LISTS _mote_external_libs)
  if(lib MATCHES "::")
    message(WARNING "mote.pc: cannot express the imported target ${lib}; add it by hand")
  else()
    string(APPEND MOTE_PC_LIBS " ${lib}")
  endif()
endforeach()
string(STRIP "${MOTE_PC_LIBS}" MOTE_PC_LIBS)
list(JOIN MOTE_PC_TARGETS " " MOTE_PC_TARGETS)

# What the package config must find first: the imported targets the
# installed targets link.
set(MOTE_PACKAGE_FIND_DEPENDENCIES "")
if("-pthread" IN_LIST _mote_external_libs)
  string(APPEND MOTE_PACKAGE_FIND_DEPENDENCIES "find_dependency(Threads)\n")
endif()

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/moteConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/moteConfig.cmake
  INSTALL_DESTINATION ${MOTE_INSTALL_CMAKEDIR})
# 0.x: minor versions may break compatibility.
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/moteConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/moteConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/moteConfigVersion.cmake
  DESTINATION ${MOTE_INSTALL_CMAKEDIR})

# pkg-config: the prefix is found relative to the .pc file, so the installed
# tree can be moved.
set(_mote_pcdir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(MOTE_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _mote_up /prefix/${_mote_pcdir} /prefix)
  set(MOTE_PC_PREFIX "\${pcfiledir}/${_mote_up}")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/mote.pc.in ${CMAKE_CURRENT_BINARY_DIR}/mote.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mote.pc DESTINATION ${_mote_pcdir})
message(STATUS "mote.pc: Libs: ${MOTE_PC_LIBS}")
