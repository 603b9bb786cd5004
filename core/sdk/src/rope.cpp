// RoPE frequencies, scalings and rotation (see rope.h). The formulas follow docs/components.md,
// "RoPE"; each scaling is one function so that tests can compare it with hand-computed values.
#include "ablate/sdk/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include <ATen/ATen.h>

namespace ablate::sdk {
namespace {

// θ_i = base^(-2i/D), i < D/2, in fp32 (computed in double, stored as float).
at::Tensor base_inv_freq(double base, std::int64_t rotated_dim) {
  auto i = at::arange(0, rotated_dim / 2, at::kDouble);
  return at::pow(base, -2.0 * i / static_cast<double>(rotated_dim)).to(at::kFloat);
}

// YaRN's correction dim: the dim whose wavelength makes `rotations` turns over `orig` positions.
double yarn_correction_dim(double rotations, std::int64_t dim, double base, std::int64_t orig) {
  return static_cast<double>(dim) * std::log(static_cast<double>(orig) / (rotations * 2.0 * std::numbers::pi)) /
         (2.0 * std::log(base));
}

at::Tensor yarn_inv_freq(const RopeConfig& c, std::int64_t dim) {
  const at::Tensor theta = base_inv_freq(c.base, dim);
  double low = std::floor(yarn_correction_dim(c.beta_fast, dim, c.base, c.original_max_position));
  double high = std::ceil(yarn_correction_dim(c.beta_slow, dim, c.base, c.original_max_position));
  low = std::clamp(low, 0.0, static_cast<double>(dim - 1));
  high = std::clamp(high, 0.0, static_cast<double>(dim - 1));
  if (low == high) high += 0.001;  // avoid a zero-width ramp
  const at::Tensor i = at::arange(0, dim / 2, at::kDouble);
  const at::Tensor ramp = at::clamp((i - low) / (high - low), 0.0, 1.0).to(at::kFloat);
  return (theta / c.factor) * ramp + theta * (1.0 - ramp);
}

}  // namespace

double yarn_get_mscale(double scale, double mscale) {
  return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}

at::Tensor rope_inv_freq(const RopeConfig& c, std::int64_t dim, std::int64_t seq_len) {
  if (dim <= 0 || dim % 2 != 0)
    throw std::invalid_argument("RoPE needs an even, positive rotated width, got " + std::to_string(dim));
  if (c.scaling == "none" || c.scaling == "linear") return base_inv_freq(c.base, dim);
  if (c.scaling == "dynamic_ntk") {
    if (seq_len <= c.max_position) return base_inv_freq(c.base, dim);
    const double d = static_cast<double>(dim);
    const double base =
        c.base * std::pow(c.factor * static_cast<double>(seq_len) / static_cast<double>(c.max_position) -
                              (c.factor - 1.0),
                          d / (d - 2.0));
    return base_inv_freq(base, dim);
  }
  if (c.scaling == "yarn") return yarn_inv_freq(c, dim);
  throw std::invalid_argument("unknown RoPE scaling '" + c.scaling +
                              "' (known: none, linear, dynamic_ntk, yarn)");
}

double rope_cos_sin_scale(const RopeConfig& c) {
  if (c.scaling != "yarn") return 1.0;
  return yarn_get_mscale(c.factor, c.mscale) / yarn_get_mscale(c.factor, c.mscale_all_dim);
}

RopeTables rope_tables(const RopeConfig& c, std::int64_t dim, std::int64_t seq_len, c10::Device device) {
  at::Tensor positions = at::arange(0, seq_len, at::kFloat);
  if (c.scaling == "linear") positions = positions / static_cast<float>(c.factor);
  const at::Tensor angles = at::outer(positions, rope_inv_freq(c, dim, seq_len));  // (T, D/2)
  const double scale = rope_cos_sin_scale(c);
  return {(angles.cos() * scale).to(device), (angles.sin() * scale).to(device)};
}

at::Tensor apply_rope(const at::Tensor& x, const RopeTables& t, const std::string& pairing) {
  const std::int64_t T = x.size(-2);
  const std::int64_t D = x.size(-1);
  const at::Tensor cos = t.cos.slice(0, 0, T);  // (T, D/2), broadcast over (B, H)
  const at::Tensor sin = t.sin.slice(0, 0, T);
  const at::Tensor xf = x.to(at::kFloat);
  at::Tensor out;
  if (pairing == "interleaved") {
    const at::Tensor pairs = xf.unflatten(-1, {D / 2, 2});  // (B, H, T, D/2, 2)
    const at::Tensor x0 = pairs.select(-1, 0);
    const at::Tensor x1 = pairs.select(-1, 1);
    out = at::stack({x0 * cos - x1 * sin, x0 * sin + x1 * cos}, -1).flatten(-2);
  } else if (pairing == "half") {
    const at::Tensor x0 = xf.slice(-1, 0, D / 2);
    const at::Tensor x1 = xf.slice(-1, D / 2, D);
    out = at::cat({x0 * cos - x1 * sin, x0 * sin + x1 * cos}, -1);
  } else {
    throw std::invalid_argument("unknown RoPE pairing '" + pairing + "' (known: interleaved, half)");
  }
  return out.to(x.scalar_type());
}

}  // namespace ablate::sdk
