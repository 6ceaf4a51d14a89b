// SPDX-License-Identifier: MIT
#pragma once
// What each of the two translation units of test_mixed_flags computes: named lists of raw
// values (fixed-point raws, float bit patterns), compared bit for bit.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fxp_mixed {

using results = std::map<std::string, std::vector<std::int64_t>>;

/// kernels.inl built with -march=x86-64: the build dispatches at run time.
results run_baseline();
/// kernels.inl built with -march=native: the flags fix the instruction set.
results run_native();

}  // namespace fxp_mixed
