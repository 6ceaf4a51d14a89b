# SPDX-License-Identifier: MIT
# GEMM: fxp's fixed-point and float kernels beside OpenBLAS sgemm and gemmlowp, each peer
# only when it is installed (Debian: libopenblas-dev, libgemmlowp-dev).
fxp_add_program(bench_gemm bench_gemm.cpp)
target_link_libraries(bench_gemm PRIVATE benchmark::benchmark)

# OpenBLAS: pkg-config's `openblas` names the OpenBLAS cblas.h (Debian puts it under
# /usr/include/x86_64-linux-gnu/openblas-pthread/); OpenBLAS's own CMake package otherwise.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(FXP_OPENBLAS QUIET IMPORTED_TARGET openblas)
endif()
if(FXP_OPENBLAS_FOUND)
  target_link_libraries(bench_gemm PRIVATE PkgConfig::FXP_OPENBLAS)
  target_compile_definitions(bench_gemm PRIVATE FXP_HAVE_OPENBLAS=1)
else()
  find_package(OpenBLAS CONFIG QUIET)
  if(OpenBLAS_FOUND AND OpenBLAS_INCLUDE_DIRS AND OpenBLAS_LIBRARIES)
    target_include_directories(bench_gemm SYSTEM PRIVATE ${OpenBLAS_INCLUDE_DIRS})
    target_link_libraries(bench_gemm PRIVATE ${OpenBLAS_LIBRARIES})
    target_compile_definitions(bench_gemm PRIVATE FXP_HAVE_OPENBLAS=1)
  else()
    message(STATUS "bench_gemm: OpenBLAS not found, benchmarking without it")
  endif()
endif()

# gemmlowp: header library plus its eight_bit_int_gemm archive. Its AVX2 kernel is opt-in
# (GEMMLOWP_ENABLE_AVX2, used only when the compiler targets AVX2): ask for the best it has.
find_package(gemmlowp CONFIG QUIET)
if(gemmlowp_FOUND AND TARGET gemmlowp::gemmlowp)
  target_link_libraries(bench_gemm PRIVATE gemmlowp::gemmlowp)
  target_compile_definitions(bench_gemm PRIVATE FXP_HAVE_GEMMLOWP=1 GEMMLOWP_ENABLE_AVX2=1)
else()
  message(STATUS "bench_gemm: gemmlowp not found, benchmarking without it")
endif()

# `cmake --build <dir> --target run_bench_gemm` builds and runs it (build Release first).
add_custom_target(run_bench_gemm
  COMMAND bench_gemm --benchmark_min_time=0.2
  USES_TERMINAL
  COMMENT "Running bench_gemm")
