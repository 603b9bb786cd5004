// RoPE (core/sdk/src/rope.cpp): the rotation of each pairing and the scalings' frequencies
// against values worked out by hand from the formulas of docs/components.md, "RoPE", and the
// relative-position property that follows from them.
#include "catch_torch.h"

#include <cmath>

#include <ATen/ATen.h>

#include "ablate/sdk/rope.h"

using ablate::sdk::RopeConfig;

namespace {
// Score between a query at position p and a key at position q after rotating both.
double rotated_score(const at::Tensor& qv, const at::Tensor& kv, std::int64_t p, std::int64_t q,
                     const RopeConfig& config) {
  const std::int64_t D = qv.size(0), T = std::max(p, q) + 1;
  const auto tables = ablate::sdk::rope_tables(config, D, T, at::kCPU);
  auto qs = at::zeros({1, 1, T, D}, at::kDouble), ks = at::zeros({1, 1, T, D}, at::kDouble);
  qs[0][0][p] = qv;
  ks[0][0][q] = kv;
  const auto qr = ablate::sdk::apply_rope(qs, tables, config.pairing);
  const auto kr = ablate::sdk::apply_rope(ks, tables, config.pairing);
  return (qr[0][0][p] * kr[0][0][q]).sum().item<double>();
}
}  // namespace

TEST_CASE("apply_rope turns each pair of dims by t * theta_i, pairing (2i, 2i+1) or (i, i + D/2)", "[rope]") {
  // The relative-position property below holds for ANY fixed pairing of the dims, so it cannot tell
  // interleaved from half: this checks the rotation element by element against the formula.
  const std::string pairing = GENERATE("interleaved", "half");
  CAPTURE(pairing);
  RopeConfig config;
  config.pairing = pairing;
  const std::int64_t D = 8, T = 5;
  const auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const auto x = at::randn({2, 3, T, D}, gen).to(at::kDouble);
  const auto y = ablate::sdk::apply_rope(x, ablate::sdk::rope_tables(config, D, T, at::kCPU), pairing);
  REQUIRE(y.sizes() == x.sizes());
  REQUIRE(y.scalar_type() == at::kDouble);
  const auto xa = x.accessor<double, 4>();
  const auto ya = y.accessor<double, 4>();
  for (std::int64_t b = 0; b < 2; ++b)
    for (std::int64_t h = 0; h < 3; ++h)
      for (std::int64_t t = 0; t < T; ++t)
        for (std::int64_t i = 0; i < D / 2; ++i) {
          // the pair (a, c) -> (a cos - c sin, a sin + c cos) at angle t * base^(-2i/D)
          const std::int64_t first = pairing == "interleaved" ? 2 * i : i;
          const std::int64_t second = pairing == "interleaved" ? 2 * i + 1 : i + D / 2;
          const double angle = static_cast<double>(t) * std::pow(10000.0, -2.0 * static_cast<double>(i) / D);
          const double a = xa[b][h][t][first], c = xa[b][h][t][second];
          CAPTURE(b, h, t, i);
          // fp32 tables and arithmetic (docs/components.md): a few float ulps of |x| ~ 1
          CHECK(ya[b][h][t][first] == Approx(a * std::cos(angle) - c * std::sin(angle)).margin(1e-5));
          CHECK(ya[b][h][t][second] == Approx(a * std::sin(angle) + c * std::cos(angle)).margin(1e-5));
        }
  // Position 0 is not rotated at all; position 3 is (so the loop above compared real rotations).
  CHECK(at::allclose(y.select(2, 0), x.select(2, 0), 1e-6, 1e-6));
  CHECK_FALSE(at::allclose(y.select(2, 3), x.select(2, 3), 1e-2, 1e-2));
}

TEST_CASE("the rotated score depends only on the distance between positions", "[rope]") {
  const std::string pairing = GENERATE("interleaved", "half");
  CAPTURE(pairing);
  RopeConfig config;
  config.pairing = pairing;
  const auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  const auto q = at::randn({16}, gen).to(at::kDouble), k = at::randn({16}, gen).to(at::kDouble);
  // The same distance 3 at different absolute positions gives the same score...
  const double s1 = rotated_score(q, k, 5, 2, config);
  const double s2 = rotated_score(q, k, 20, 17, config);
  const double s3 = rotated_score(q, k, 40, 37, config);
  CHECK(s1 == Approx(s2).epsilon(1e-5));
  CHECK(s1 == Approx(s3).epsilon(1e-5));
  // ...and another distance gives another score (the test can tell positions apart).
  CHECK(std::abs(rotated_score(q, k, 20, 10, config) - s2) > 1e-3);
}

TEST_CASE("unscaled frequencies are base^(-2i/D)", "[rope]") {
  RopeConfig config;
  const auto f = ablate::sdk::rope_inv_freq(config, 8, 16);
  REQUIRE(f.size(0) == 4);
  CHECK(f[0].item<double>() == Approx(1.0));
  CHECK(f[1].item<double>() == Approx(std::pow(10000.0, -2.0 / 8)).epsilon(1e-6));
  CHECK(f[3].item<double>() == Approx(std::pow(10000.0, -6.0 / 8)).epsilon(1e-6));
}

TEST_CASE("linear scaling divides positions by the factor", "[rope]") {
  RopeConfig plain, linear;
  linear.scaling = "linear";
  linear.factor = 2.0;
  const auto a = ablate::sdk::rope_tables(plain, 8, 16, at::kCPU);
  const auto b = ablate::sdk::rope_tables(linear, 8, 16, at::kCPU);
  // position 6 under factor 2 is position 3 unscaled
  CHECK(at::allclose(b.cos[6], a.cos[3]));
  CHECK(at::allclose(b.sin[6], a.sin[3]));
}

TEST_CASE("dynamic NTK raises the base only beyond max_position", "[rope]") {
  RopeConfig config;
  config.scaling = "dynamic_ntk";
  config.factor = 2.0;
  config.max_position = 16;
  const double D = 8;
  // T = 16 ≤ max_position: unchanged
  CHECK(ablate::sdk::rope_inv_freq(config, 8, 16)[1].item<double>() == Approx(std::pow(10000.0, -2.0 / D)));
  // T = 32: base' = 10000 · (2·32/16 − 1)^(8/6) = 10000 · 3^(4/3)
  const double base = 10000.0 * std::pow(3.0, 8.0 / 6.0);
  CHECK(ablate::sdk::rope_inv_freq(config, 8, 32)[1].item<double>() == Approx(std::pow(base, -2.0 / D)).epsilon(1e-6));
}

TEST_CASE("yarn blends interpolated and original frequencies and scales cos and sin", "[rope]") {
  RopeConfig config;
  config.scaling = "yarn";
  config.factor = 4.0;
  config.original_max_position = 4096;
  config.mscale = 1.0;
  config.mscale_all_dim = 0.0;
  const std::int64_t D = 64;
  // c(r) = D·ln(4096/(2πr)) / (2·ln 10000): c(32) = 10.47 → low 10; c(1) = 22.51 → high 23.
  const auto f = ablate::sdk::rope_inv_freq(config, D, 16);
  const auto theta = [&](int i) { return std::pow(10000.0, -2.0 * i / D); };
  CHECK(f[5].item<double>() == Approx(theta(5)).epsilon(1e-6));           // i < low: original
  CHECK(f[31].item<double>() == Approx(theta(31) / 4.0).epsilon(1e-6));   // i ≥ high: interpolated
  const double ramp = (15.0 - 10.0) / (23.0 - 10.0);                      // i = 15 on the ramp
  CHECK(f[15].item<double>() == Approx(theta(15) / 4.0 * ramp + theta(15) * (1 - ramp)).epsilon(1e-6));
  // cos/sin factor: get_mscale(4, 1) / get_mscale(4, 0) = (0.1·ln 4 + 1) / 1
  CHECK(ablate::sdk::rope_cos_sin_scale(config) == Approx(0.1 * std::log(4.0) + 1.0));
  config.mscale_all_dim = 1.0;
  CHECK(ablate::sdk::rope_cos_sin_scale(config) == Approx(1.0));
}
