// SPDX-License-Identifier: MIT
#pragma once
// <immintrin.h> for the hand-written x86 paths. GCC 12's AVX-512 intrinsics build their
// "undefined" operands from self-initialised variables, which -Wuninitialized reports
// wherever they are inlined (GCC bug 105593, fixed in GCC 13; see also lanes.hpp). The
// warning is located in the intrinsic header, so it is silenced around its inclusion only.

#if defined(__x86_64__) || defined(__i386__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
