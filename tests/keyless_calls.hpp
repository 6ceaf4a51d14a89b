// SPDX-License-Identifier: MIT
#pragma once
// What a kernel or a cast called without a key must do (fxp::resolve_key): a random policy
// draws one fresh key per call from the calling thread's default generator, exactly the key
// fxp::draw_key makes from it; a deterministic policy draws nothing. Shared by the tests of
// the raw-array kernels, the GEMM and convolution, and the tensor kernels.

#include <fxp/core/random.hpp>

#include <catch2/catch.hpp>

#include <cstdint>

namespace fxp_test {

/// `keyless()` makes a stochastic call without a key and `keyed(key)` the same call with
/// one; both return the raw results (anything with ==). Checks that after fxp::seed(s) two
/// keyless calls differ, re-seeding repeats the first bit for bit, the results are those of
/// the keys fxp::draw_key takes from philox(s) in turn, and each call took one key's words.
template <class Keyless, class Keyed>
void check_keyless_draws(Keyless&& keyless, Keyed&& keyed) {
  constexpr std::uint64_t s = 20261128;
  fxp::seed(s);
  const auto first = keyless();
  fxp::philox after_one(s);
  after_one.discard(4);  // one key: 64-bit seed, tensor id, step
  CHECK(fxp::default_generator() == after_one);
  const auto second = keyless();
  CHECK_FALSE(first == second);
  fxp::seed(s);
  CHECK(keyless() == first);
  fxp::philox gen(s);
  const fxp::random_key k1 = fxp::draw_key(gen);
  const fxp::random_key k2 = fxp::draw_key(gen);
  CHECK(keyed(k1) == first);
  CHECK(keyed(k2) == second);
}

/// `call()` makes a keyless call with a deterministic policy: it must leave the default
/// generator where it was, so that later scalar stochastic roundings keep their bits.
template <class Call>
void check_draws_nothing(Call&& call) {
  fxp::seed(77);
  call();
  CHECK(fxp::default_generator() == fxp::philox(77));
}

}  // namespace fxp_test
