// A run's optimizers, built from its train.optimizer section the one way the trainer and `ablate
// plan`'s warm-up both need: with `name: muon`, Muon takes the 2-D hidden matrices (not the
// embedding or LM head) and fused AdamW the rest; with `name: adamw`, AdamW takes everything.
// AdamW decays matrices only (norms, biases and other vectors are not decayed). Learning rates are
// set per step (TrainingStep::run), so the groups' own are placeholders.
//
//   RunOptimizers opt = make_optimizers(model, decode_train_config(run.config).optimizer);
//   TrainingStep step({.model = model, .adamw = *opt.adamw, .muon = opt.muon.get(), ...}, ...);
#pragma once

#include <memory>

#include "ablate/engine/run_config.h"
#include "ablate/train/fused_adamw.h"
#include "ablate/train/model.h"
#include "ablate/train/muon.h"

namespace ablate {

struct RunOptimizers {
  std::unique_ptr<FusedAdamW> adamw;
  std::unique_ptr<Muon> muon;  // null unless the run uses Muon
};

RunOptimizers make_optimizers(Transformer& model, const OptimizerConfig& optimizer);

}  // namespace ablate
