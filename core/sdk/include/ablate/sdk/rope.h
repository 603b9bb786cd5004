// ablate SDK: rotary position embeddings, shared by every attention plugin so that all of them
// rotate the same way (docs/components.md, "RoPE").
//
//   RopeTables t = rope_tables(config, head_dim, T, x.device());   // cos, sin: (T, D/2)
//   q = apply_rope(q, t, config.pairing);                           // q: (B, H, T, D)
//
// Frequencies are computed in fp32. Scaling: `linear` divides positions by `factor`;
// `dynamic_ntk` raises the base once T exceeds `max_position`; `yarn` blends interpolated and
// original frequencies over a ramp of dims and scales cos/sin by an mscale ratio.
#pragma once

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "ablate/sdk/rope_config.h"

namespace ablate::sdk {

/// YaRN's attention-temperature factor: 0.1·m·ln(s) + 1 for s > 1, else 1.
double yarn_get_mscale(double scale, double mscale);

/// Inverse frequencies (D/2,) fp32 on the CPU for a rotated width D at sequence length T.
at::Tensor rope_inv_freq(const RopeConfig& config, std::int64_t rotated_dim, std::int64_t seq_len);

/// Factor multiplying cos and sin: yarn's get_mscale(f, mscale) / get_mscale(f, mscale_all_dim);
/// 1 for every other scaling.
double rope_cos_sin_scale(const RopeConfig& config);

struct RopeTables {
  at::Tensor cos;  // (T, D/2) fp32
  at::Tensor sin;  // (T, D/2) fp32
};

/// cos and sin of position·inv_freq for positions 0..T-1 (positions / factor under `linear`).
RopeTables rope_tables(const RopeConfig& config, std::int64_t rotated_dim, std::int64_t seq_len,
                       c10::Device device);

/// Rotates x: (B, H, T, D) by the tables, pairing dims as `pairing` says ("interleaved": (2i, 2i+1);
/// "half": (i, i + D/2)). Computed in fp32, returned in x's dtype.
at::Tensor apply_rope(const at::Tensor& x, const RopeTables& tables, const std::string& pairing);

}  // namespace ablate::sdk
