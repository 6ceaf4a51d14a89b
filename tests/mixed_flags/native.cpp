// SPDX-License-Identifier: MIT
// kernels.inl for this processor (-march=native, its build option): the flags fix the kernels.
#define FXP_MIXED_ENTRY run_native
#include "kernels.inl"
