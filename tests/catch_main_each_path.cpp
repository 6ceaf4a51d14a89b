// SPDX-License-Identifier: MIT
// Catch2's main for the tests of code that picks its instruction set at run time: the
// whole session once per path this build can take and this processor runs, forced in turn
// (fxp::simd::force_isa), so that every test case checks every path in one binary. The
// exit code counts the failures of all runs.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <fxp/simd/isa.hpp>

#include <iostream>
#include <stdexcept>

int main(int argc, char** argv) {
  namespace simd = fxp::simd;
  Catch::Session session;
  if (const int status = session.applyCommandLine(argc, argv); status != 0) return status;
  int failures = 0;
  int runs = 0;
  for (const simd::isa path : {simd::isa::portable, simd::isa::avx2, simd::isa::avx512}) {
    if (!simd::isa_supported(path)) continue;
    try {
      simd::force_isa(path);
    } catch (const std::invalid_argument&) {
      continue;  // a build whose flags fix the path takes no other
    }
    std::cout << "-- every test case on the " << simd::isa_name(path) << " path\n";
    failures += session.run();
    ++runs;
  }
  return runs == 0 ? 1 : failures;
}
