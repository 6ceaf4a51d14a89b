# SPDX-License-Identifier: MIT
# Run-time formats (fxp::qtensor kernels) beside the compile-time kernels of the same formats.
fxp_add_program(bench_dynamic bench_dynamic.cpp)
target_link_libraries(bench_dynamic PRIVATE benchmark::benchmark)

add_custom_target(run_bench_dynamic
  COMMAND bench_dynamic --benchmark_min_time=0.2
  USES_TERMINAL
  COMMENT "Running bench_dynamic")
