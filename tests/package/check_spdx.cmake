# SPDX-License-Identifier: MIT
# cmake -DSOURCE_DIR=<fxp> -P check_spdx.cmake: fails, naming them, when source files lack
# the SPDX line that says which license they are under (LICENSE: MIT).
file(GLOB_RECURSE files RELATIVE "${SOURCE_DIR}"
     "${SOURCE_DIR}/include/*" "${SOURCE_DIR}/tests/*" "${SOURCE_DIR}/examples/*"
     "${SOURCE_DIR}/benchmarks/*" "${SOURCE_DIR}/cmake/*")
list(APPEND files CMakeLists.txt .ci/run)
set(missing)
set(checked 0)
foreach(file IN LISTS files)
  if(NOT file MATCHES "(\\.(hpp|inl|cpp|cmake|py|sh|in)|CMakeLists\\.txt|/run)$")
    continue()
  endif()
  file(STRINGS "${SOURCE_DIR}/${file}" head LIMIT_COUNT 3)
  if(NOT head MATCHES "SPDX-License-Identifier: MIT")
    list(APPEND missing "${file}")
  endif()
  math(EXPR checked "${checked} + 1")
endforeach()
if(checked LESS 100)
  message(FATAL_ERROR "check_spdx: only ${checked} source files found under ${SOURCE_DIR}")
endif()
if(missing)
  list(JOIN missing "\n  " text)
  message(FATAL_ERROR "no SPDX-License-Identifier line in its first 3 lines:\n  ${text}")
endif()
message(STATUS "check_spdx: ${checked} files carry the SPDX line")
