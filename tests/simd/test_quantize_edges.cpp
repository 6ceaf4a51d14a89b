// SPDX-License-Identifier: MIT
// fxp::quantize against the scalar core on formats at the edges of the lane paths: 32-bit
// words (signed and unsigned), the widths on either side of the cheap clamping path (22, 23,
// 24 bits), fractional bits so large that subnormals shift left (F > 149) or so negative that
// infinities need flagging (F < -73), the narrowest formats, and a 40-bit format, which
// falls back to the scalar core.
#include "quantize_checks.hpp"

TEMPLATE_TEST_CASE("quantize matches the scalar core on edge formats", "[simd][quantize]",
                   (fxp::ufixed<32, 0>), (fxp::ufixed<1, 31>), (fxp::fixed<32, 0>),
                   (fxp::fixed<24, 0>), (fxp::fixed<2, 21>), (fxp::ufixed<1, 21>),
                   (fxp::ufixed<-2, 25>), (fxp::fixed<2, 20>), (fxp::fixed<-140, 150>),
                   (fxp::fixed<-130, 160>), (fxp::fixed<150, -130>), (fxp::fixed<90, -80>),
                   (fxp::fixed<40, -30>), (fxp::fixed<2, 0>), (fxp::ufixed<1, 0>),
                   (fxp::ufixed<0, 1>), (fxp::fixed<20, 20>)) {
  fxp_test::check_quantize_main_policies<TestType>(7u + TestType::width);
}
