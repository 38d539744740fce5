# cmake -DPROGRAM=<exe> [-DARGS=<a|b>] [-DEMULATOR=<c|d>] -DEXPECTED=<file> -P check_output.cmake
#
# Runs PROGRAM (through EMULATOR, a cross build's CMAKE_CROSSCOMPILING_EMULATOR,
# when there is one) and passes when it exits with 0 and its standard output has
# exactly as many lines as EXPECTED, each matching EXPECTED's line of the same
# number as a whole. The expected lines are CMake regular expressions: most are
# plain text; numbers that depend on the platform (table sizes) are patterns.
cmake_minimum_required(VERSION 3.21)
string(REPLACE "|" ";" ARGS "${ARGS}")
string(REPLACE "|" ";" EMULATOR "${EMULATOR}")
execute_process(COMMAND ${EMULATOR} ${PROGRAM} ${ARGS}
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${status}\n${output}${errors}")
endif()
file(STRINGS "${EXPECTED}" want)
string(REGEX REPLACE "\n$" "" output "${output}")
string(REPLACE ";" "\\;" output "${output}")
string(REPLACE "\n" ";" got "${output}")
list(LENGTH want nwant)
list(LENGTH got ngot)
if(NOT nwant EQUAL ngot)
  message(FATAL_ERROR "${ngot} lines of output, ${nwant} expected:\n${output}")
endif()
math(EXPR last "${nwant} - 1")
foreach(i RANGE ${last})
  list(GET want ${i} pattern)
  list(GET got ${i} line)
  if(NOT line MATCHES "^${pattern}$")
    math(EXPR lineno "${i} + 1")
    message(FATAL_ERROR "line ${lineno}: '${line}' does not match '${pattern}'\n${output}")
  endif()
endforeach()
message(STATUS "${ngot} lines as expected")
