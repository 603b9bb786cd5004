// The causality proof every attention plugin must pass before ablate trains with it: changing
// the tokens after position t must leave the outputs at positions ≤ t unchanged. The seed
// experiments trained a "DeepSeek attention" that could read its own targets; this is the check
// that would have caught it.
#pragma once

#include <cstdint>
#include <string>

#include "ablate/sdk/component.h"

namespace ablate {

struct CausalityResult {
  bool causal = true;
  double max_leak = 0.0;     // largest change at a position ≤ t caused by changing positions > t
  std::int64_t position = -1; // the t where the largest leak was seen
  std::string describe() const;
};

/// Runs `attention` on random (2, T, d_model) inputs and on copies changed after each of several
/// positions t, in the module's current train/eval mode (dropout masks are made identical by
/// re-seeding). Restores the module's mode. Tolerance: 1e-5 relative to the output's scale.
CausalityResult check_causality(sdk::ComponentImpl& attention, std::int64_t d_model, std::int64_t seq_len);

}  // namespace ablate
