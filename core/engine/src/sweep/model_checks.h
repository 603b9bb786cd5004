// Checks of one run's resolved configuration that the schema table cannot express: keys checked
// against each other (first_dense_layers, dense_ffn, model.vocab_size against the tokenizer's
// vocabulary) and every component's own cost function, which checks its options against each other
// and against the model it is in (d_model divisible by n_heads...). Private to the sweep module.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ablate/engine/plugin_registry.h"
#include "ablate/engine/sweep.h"

namespace ablate::sweep_internal {

/// Throws ablate::Error at the location (from `where.locations`) of the value responsible: the
/// last of `overridden` that bears on the check (the dotted paths the run's arm, grid point and
/// tune point set, in the order they were applied), else the base's key. `context` names the arm
/// and grid point (the hint of an error whose location does not say which run it concerns).
void check_model(const nlohmann::json& config, const RunSpec& where, const std::vector<std::string>& overridden,
                 const PluginRegistry& registry, const std::string& context);

}  // namespace ablate::sweep_internal
