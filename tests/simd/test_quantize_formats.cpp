// SPDX-License-Identifier: MIT
// fxp::quantize (float -> fixed) against the scalar core, bit for bit, on the formats of the
// issue: every rounding policy x every overflow policy, every size around the chunk, unaligned
// inputs and outputs, element indices that carry and wrap, random data from fixed seeds
// plus the special values (see support.hpp).
#include "quantize_checks.hpp"

TEMPLATE_TEST_CASE("quantize matches the scalar core on common formats", "[simd][quantize]",
                   (fxp::fixed<1, 7>), (fxp::fixed<4, 12>), (fxp::ufixed<8, 8>),
                   (fxp::fixed<-2, 10>), (fxp::fixed<12, -4>), (fxp::fixed<1, 15>),
                   (fxp::fixed<16, 16>), (fxp::ufixed<0, 8>), (fxp::fixed<2, 30>),
                   (fxp::fixed<8, 0>)) {
  fxp_test::check_quantize_all_policies<TestType>(20261128u + TestType::width);
}
