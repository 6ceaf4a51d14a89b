# SPDX-License-Identifier: MIT
# Compile settings for fxp's own targets (tests, benchmarks, examples). The library target
# never carries them: users choose their own flags and instruction set.
include_guard(GLOBAL)

option(FXP_WARNINGS_AS_ERRORS "Treat warnings as errors in fxp's own targets" ON)
option(FXP_NATIVE "Compile fxp's own targets for the host's instruction set (-march=native)" ON)
option(FXP_SANITIZE "Build fxp's tests with AddressSanitizer and UBSan" OFF)

# How fxp's own code is built: instruction set. Third-party code compiled into the project
# (Catch2's main) uses this alone, without fxp's warnings.
add_library(fxp_project_build INTERFACE)
# Tests compare SIMD lanes with scalar code bit for bit; a fused multiply-add on one side
# only (GCC contracts a*b+c by default in GNU mode) would round differently.
target_compile_options(fxp_project_build INTERFACE -ffp-contract=off)
if(FXP_NATIVE)
  target_compile_options(fxp_project_build INTERFACE -march=native)
endif()
target_link_libraries(fxp_project_build INTERFACE fxp::fxp)

# The tests' instrumentation (FXP_SANITIZE): benchmarks and examples are never instrumented.
# UBSan's checks of every pointer use (null, alignment, pointer-overflow, object-size) are
# left to ASan, which reports a null or out-of-bounds access itself: in the SIMD and GEMM
# tests, whose code is mostly loads, stores and address arithmetic, they doubled UBSan's
# compile time (test_conv: 38 -> 21 CPU-s for UBSan alone, 51 -> 32 with ASan; 19 without
# either). Every arithmetic check (shifts, signed overflow, division, bool/enum loads,
# unreachable, vptr) stays.
add_library(fxp_sanitizers INTERFACE)
if(FXP_SANITIZE)
  target_compile_options(fxp_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-sanitize=null,alignment,pointer-overflow,object-size
    -fno-sanitize-recover=all -fno-omit-frame-pointer -g1)
  target_link_options(fxp_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

# fxp's own code: the build settings plus warnings.
add_library(fxp_project_options INTERFACE)
target_compile_options(fxp_project_options INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow)
if(FXP_WARNINGS_AS_ERRORS)
  target_compile_options(fxp_project_options INTERFACE -Werror)
endif()
# GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsic headers
# (_mm512_undefined_* placeholders, GCC bug 105593, fixed in GCC 13), so any SIMD code built
# with -march=native on an AVX-512 host trips it. -Wuninitialized stays on.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(fxp_project_options INTERFACE -Wno-maybe-uninitialized)
endif()
target_link_libraries(fxp_project_options INTERFACE fxp_project_build)

# fxp_add_program(name sources...): an executable of the project with its warnings on.
function(fxp_add_program name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE fxp_project_options)
endfunction()
