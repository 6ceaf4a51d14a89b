// SPDX-License-Identifier: MIT
// kernels.inl for baseline x86-64 (its build option): a build that chooses at run time.
#define FXP_MIXED_ENTRY run_baseline
#include "kernels.inl"
