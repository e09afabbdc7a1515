# Compiles calls.cpp with -D${CASE} (cmake -P; variables: CXX, INCLUDE, SOURCE, CASE, EXPECT).
# CASE=CORRECT_CALLS must compile. Any other case must fail with exactly one error, whose text
# contains EXPECT: the static_assert, not a cascade from inside the header.
execute_process(
  COMMAND ${CXX} -std=c++20 -fsyntax-only -fdiagnostics-color=never -I${INCLUDE} -D${CASE} ${SOURCE}
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out)
if(CASE STREQUAL "CORRECT_CALLS")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the correct calls do not compile:\n${out}")
  endif()
  return()
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "${CASE} compiled, but must be rejected")
endif()
string(REGEX MATCHALL "error: [^\n]*" errors "${out}")
list(LENGTH errors count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "${CASE}: expected exactly one error, got ${count}:\n${out}")
endif()
string(FIND "${errors}" "${EXPECT}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${CASE}: the error does not say \"${EXPECT}\":\n${out}")
endif()
message(STATUS "${CASE}: ${errors}")
