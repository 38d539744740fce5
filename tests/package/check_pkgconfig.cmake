# cmake -DSOURCE_DIR=<libhashmap> -DWORK=<scratch dir> [-DPKG_CONFIG=<pkg-config>]
#       -P check_pkgconfig.cmake
#
# hashmap.pc's paths: a relative libdir or includedir hangs off ${prefix}; an
# absolute one (a distribution's -DCMAKE_INSTALL_LIBDIR=/usr/lib/<triplet>)
# stays as it is instead of being glued onto the prefix. When pkg-config is
# there, it reads the files back.
cmake_minimum_required(VERSION 3.21)
include("${SOURCE_DIR}/cmake/hashmapPkgConfig.cmake")
set(template "${SOURCE_DIR}/cmake/hashmap.pc.in")
file(REMOVE_RECURSE "${WORK}")

# <case> <libdir> <includedir> <expected libdir line> <expected includedir line>
# <libdir as pkg-config expands it>
function(check case libdir includedir libdir_line includedir_line expanded_libdir)
  set(pc "${WORK}/${case}/hashmap.pc")
  hashmap_write_pc("${template}" "${pc}" "/opt/hm" "${libdir}" "${includedir}" 1.2.3 "test")
  file(STRINGS "${pc}" lines)
  foreach(expected "prefix=/opt/hm" "${libdir_line}" "${includedir_line}" "Version: 1.2.3")
    if(NOT expected IN_LIST lines)
      message(FATAL_ERROR "${case}: no line '${expected}' in\n${lines}")
    endif()
  endforeach()
  if(PKG_CONFIG)
    execute_process(COMMAND ${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${WORK}/${case}"
                            "${PKG_CONFIG}" --variable=libdir hashmap
      OUTPUT_VARIABLE got OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE status)
    if(NOT status EQUAL 0 OR NOT got STREQUAL expanded_libdir)
      message(FATAL_ERROR "${case}: pkg-config says libdir is '${got}' (status ${status}), "
                          "not '${expanded_libdir}'")
    endif()
  endif()
endfunction()

check(relative lib include
  "libdir=\${prefix}/lib" "includedir=\${prefix}/include" /opt/hm/lib)
check(absolute /usr/lib/x86_64-linux-gnu /usr/include/hm
  "libdir=/usr/lib/x86_64-linux-gnu" "includedir=/usr/include/hm" /usr/lib/x86_64-linux-gnu)
message(STATUS "hashmap.pc paths are right for relative and absolute directories")
