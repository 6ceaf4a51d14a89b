# SPDX-License-Identifier: MIT
# Rounding policies: fxp's SIMD quantize kernel beside the scalar core, a memcpy of the same
# bytes and a hand-written std::mt19937 stochastic quantizer (Google Benchmark, one binary).
fxp_add_program(bench_rounding bench_rounding.cpp)
target_link_libraries(bench_rounding PRIVATE benchmark::benchmark)

# `cmake --build <dir> --target run_bench_rounding` builds and runs it (build Release first:
# a Debug build measures the compiler, not the library).
add_custom_target(run_bench_rounding
  COMMAND bench_rounding --benchmark_min_time=0.2
  USES_TERMINAL
  COMMENT "Running bench_rounding")
