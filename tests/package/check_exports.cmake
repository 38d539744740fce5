# cmake -DLIBRARY=<libhashmap.so> -DNM=<nm> -DINCLUDE_DIR=<include> -P check_exports.cmake
#
# The shared object exports exactly the public API: every defined dynamic
# symbol is a function that a public header declares with HM_API, and every
# such function is exported. Declarations are lines that start with HM_API
# (comments and #define lines never do).
cmake_minimum_required(VERSION 3.21)
foreach(var LIBRARY NM INCLUDE_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "check_exports.cmake needs -D${var}=...")
  endif()
endforeach()

file(GLOB_RECURSE headers "${INCLUDE_DIR}/*.h")
set(declared)
foreach(header ${headers})
  file(READ "${header}" text)
  string(REGEX MATCHALL "\nHM_API[^;(]*[^A-Za-z0-9_][A-Za-z_][A-Za-z0-9_]*[ \t\r\n]*\\("
         declarations "\n${text}")
  foreach(declaration ${declarations})
    string(REGEX REPLACE ".*[^A-Za-z0-9_]([A-Za-z_][A-Za-z0-9_]*)[ \t\r\n]*\\($" "\\1"
           name "${declaration}")
    list(APPEND declared ${name})
  endforeach()
endforeach()
list(REMOVE_DUPLICATES declared)
list(LENGTH declared n_declared)
if(n_declared EQUAL 0)
  message(FATAL_ERROR "no HM_API declaration found under ${INCLUDE_DIR}")
endif()

execute_process(COMMAND "${NM}" -D --defined-only "${LIBRARY}"
  OUTPUT_VARIABLE nm_output RESULT_VARIABLE status ERROR_VARIABLE nm_errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${NM} -D --defined-only ${LIBRARY} failed: ${nm_errors}")
endif()
# "0000000000001234 T hm_new", perhaps with a version: "hm_new@@V1".
string(REGEX MATCHALL "[^\n]+" lines "${nm_output}")
set(exported)
foreach(line ${lines})
  if(line MATCHES "^[0-9a-fA-F]* *[A-Za-z] ([^ @]+)")
    list(APPEND exported ${CMAKE_MATCH_1})
  endif()
endforeach()

set(undeclared ${exported})
list(REMOVE_ITEM undeclared ${declared})
set(missing ${declared})
list(REMOVE_ITEM missing ${exported})
list(LENGTH exported n_exported)
message(STATUS "${n_exported} exported symbols, ${n_declared} HM_API declarations")
if(undeclared OR missing)
  message(FATAL_ERROR "exported but in no public header: ${undeclared}\n"
                      "declared with HM_API but not exported: ${missing}")
endif()
