// ablate SDK: the rotary position embedding settings of a model (`model.rope` in a sweep).
// Torch-free so that the sweep code can carry it; the math lives in rope.h / rope.cpp.
#pragma once

#include <cstdint>
#include <string>

namespace ablate::sdk {

struct RopeConfig {
  double base = 10000.0;                     // θ_i = base^(-2i/D)
  std::string pairing = "interleaved";       // interleaved: dims (2i, 2i+1); half: dims (i, i + D/2)
  std::string scaling = "none";              // none | linear | dynamic_ntk | yarn
  double factor = 1.0;                       // scaling factor (linear, dynamic_ntk, yarn)
  std::int64_t max_position = 2048;          // dynamic_ntk: scale only beyond this length
  std::int64_t original_max_position = 4096; // yarn
  double beta_fast = 32.0;                   // yarn
  double beta_slow = 1.0;                    // yarn
  double mscale = 1.0;                       // yarn
  double mscale_all_dim = 0.0;               // yarn (and MLA's softmax scale)
};

}  // namespace ablate::sdk
