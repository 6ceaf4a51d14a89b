// SPDX-License-Identifier: MIT
// fxp::tensor and fxp::tensor_view: storage, indexing, views, errors.
#include <fxp/core/core.hpp>
#include <fxp/tensor/tensor.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using fxp::shape;
using fxp::tensor;
using fxp::tensor_view;

static_assert(!std::is_constructible_v<tensor_view<float>, tensor_view<const float>>);
static_assert(std::is_convertible_v<tensor_view<float>, tensor_view<const float>>);
static_assert(shape{2, 3, 4}.size() == 24 && shape{2, 3, 4}.stride(0) == 12);
static_assert(shape{2, 3, 4}.stride(2) == 1 && shape{5}.rank() == 1);

TEMPLATE_TEST_CASE("tensors are zeroed, 64-byte aligned and row-major", "[tensor]", float,
                   double, (fxp::fixed<1, 7>), (fxp::ufixed<4, 12>), (fxp::fixed<16, 16>)) {
  for (const shape s : {shape{7}, shape{3, 5}, shape{2, 3, 5}, shape{2, 3, 4, 5}, shape{0, 3}}) {
    tensor<TestType> t(s);
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
    CHECK(t.size() == s.size());
    for (const auto& x : t) CHECK(x == TestType{});
  }
  // Each element's flat offset is sum(index[axis] * stride(axis)), checked by writing the
  // offset through operator() and reading it back flat.
  tensor<TestType> t(shape{2, 3, 4, 5});
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t h = 0; h < 4; ++h)
        for (std::size_t w = 0; w < 5; ++w)
          t(n, c, h, w) = TestType(static_cast<int>(((n * 3 + c) * 4 + h) * 5 + w) % 100);
  for (std::size_t i = 0; i < t.size(); ++i) REQUIRE(t[i] == TestType(static_cast<int>(i % 100)));
}

TEMPLATE_TEST_CASE("tensors for overwrite have their shape and alignment and keep what is written",
                   "[tensor]", float, (fxp::fixed<1, 7>), (fxp::ufixed<4, 12>)) {
  for (const shape s : {shape{7}, shape{3, 5}, shape{2, 3, 4, 5}, shape{0, 3}}) {
    tensor<TestType> t(s, fxp::for_overwrite);
    CHECK(t.shape() == s);
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = TestType(static_cast<int>(i % 7));
    for (std::size_t i = 0; i < t.size(); ++i) REQUIRE(t[i] == TestType(static_cast<int>(i % 7)));
  }
  const fxp::qtensor q(shape{4, 6}, fxp::dynamic_format{12, 3, false}, fxp::for_overwrite);
  CHECK(q.shape() == (shape{4, 6}));
  CHECK(q.format() == (fxp::dynamic_format{12, 3, false}));
  CHECK(q.visit([](const auto* p) { return sizeof(*p); }) == 2);  // a 16-bit carrier
}

TEST_CASE("slices and reshapes are views of the same storage", "[tensor]") {
  tensor<float> t(shape{4, 3});
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(i);
  auto rows = t.slice(1, 3);
  CHECK(rows.shape() == shape{2, 3});
  CHECK(rows.data() == t.data() + 3);
  CHECK(rows(1, 2) == 8.0f);
  rows(0, 0) = -1.0f;
  CHECK(t(1, 0) == -1.0f);
  auto flat = t.reshape(shape{12});
  CHECK(flat[3] == -1.0f);
  auto cube = rows.reshape(shape{3, 2});
  CHECK(cube(2, 1) == 8.0f);
  const tensor<float>& ct = t;
  tensor_view<const float> cv = ct.slice(0, 4);
  CHECK(cv.size() == 12);
}

TEST_CASE("copies are deep, moves steal, assignment is strong", "[tensor]") {
  tensor<fxp::fixed<8, 8>> a(shape{3, 3}, fxp::fixed<8, 8>(1.5));
  tensor<fxp::fixed<8, 8>> b = a;
  CHECK(b.data() != a.data());
  b(0, 0) = fxp::fixed<8, 8>(2);
  CHECK(a(0, 0) == fxp::fixed<8, 8>(1.5));
  const auto* storage = b.data();
  tensor<fxp::fixed<8, 8>> c = std::move(b);
  CHECK(c.data() == storage);
  a = c;
  CHECK(a(0, 0) == 2);
  CHECK(a.data() != c.data());
  tensor<fxp::fixed<8, 8>> d(a.slice(1, 2));
  CHECK(d.shape() == shape{1, 3});
  CHECK(d(0, 1) == fxp::fixed<8, 8>(1.5));
}

TEST_CASE("a moved-from tensor is empty, not a shape without storage", "[tensor]") {
  tensor<float> a(shape{4, 5}, 2.0f);
  tensor<float> b = std::move(a);
  CHECK(b.size() == 20);
  CHECK(a.size() == 0);  // NOLINT(bugprone-use-after-move): the state after a move is the test
  CHECK(a.shape() == shape{});
  CHECK(a.begin() == a.end());
  tensor<float> c(shape{3}, 1.0f);
  c = std::move(b);
  CHECK(c.shape() == shape{4, 5});
  CHECK(b.size() == 0);  // NOLINT(bugprone-use-after-move)
  a = c;                 // a moved-from tensor takes assignments
  CHECK(a.size() == 20);
  CHECK(a(3, 4) == 2.0f);
}

TEST_CASE("tensors from values: an initializer list or any range, row-major", "[tensor]") {
  const tensor<float> m(shape{2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK(m(0, 2) == 3.0f);
  CHECK(m(1, 0) == 4.0f);
  using q = fxp::fixed<4, 4>;
  const tensor<q> w(shape{2}, {q(0.5), q(-1.25)});
  CHECK(w[1].raw() == -20);
  const std::vector<double> values = {0.25, 0.5, 0.75, 1.0};
  const tensor<double> v(shape{2, 2}, values);
  CHECK(v(1, 1) == 1.0);
  const tensor<float> r(shape{3}, std::views::iota(1, 4));
  CHECK(r[0] == 1.0f);
  CHECK(r[2] == 3.0f);
  const auto message = [](auto&& make) {
    try {
      make();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  CHECK(message([] { (void)tensor<float>(shape{2, 3}, {1, 2, 3}); }) ==
        "fxp::tensor: 3 values for a tensor of shape [2, 3] (6 elements)");
  CHECK(message([&] { (void)tensor<double>(shape{5}, values); }) ==
        "fxp::tensor: 4 values for a tensor of shape [5] (5 elements)");
}

TEST_CASE("bad shapes and indices throw, naming what was wrong", "[tensor]") {
  CHECK_THROWS_WITH(shape({1, 2, 3, 4, 5}), Catch::Contains("rank must be between 1 and 4; got 5"));
  tensor<float> t(shape{2, 3});
  CHECK_THROWS_WITH(t.reshape(shape{4, 2}),
                    Catch::Contains("cannot view [2, 3] (6 elements) as [4, 2] (8 elements)"));
  CHECK_THROWS_AS(t.slice(1, 3), std::out_of_range);
  CHECK_THROWS_AS(t.slice(2, 1), std::out_of_range);
  CHECK_THROWS_WITH(t.at(1, 3), Catch::Contains("index 3 on axis 1 of shape [2, 3]"));
  CHECK_THROWS_WITH(t.at(1), Catch::Contains("1 indices for a tensor of shape [2, 3]"));
  CHECK_NOTHROW(t.at(1, 2) = 5.0f);
  CHECK(t(1, 2) == 5.0f);
}
