// The causality proof (causality.h) on whole models as runs build them: every component a stranger
// might drop in with a hidden defect (tests/fixtures/untrusted) is caught and named, with its block,
// position and mode; each is also shown to slip past the weaker check it was written against (a
// shorter length, weights at their initialisation), so the test can fail; every built-in model of
// the example sweeps passes.
#include "catch_torch.h"

#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <torch/utils.h>

#include "ablate/train/causality.h"
#include "ablate/engine/data.h"
#include "ablate/train/model.h"
#include "ablate/engine/model_plan.h"
#include "ablate/engine/plugin_registry.h"
#include "ablate/sdk/component.h"
#include "ablate/engine/sweep.h"

using namespace ablate;

namespace {

/// The built-in plugins and the untrusted fixtures, loaded once and never unloaded.
const PluginRegistry& untrusted_registry() {
  static const PluginRegistry* registry = [] {
    auto* r = new PluginRegistry();
    r->load_directory(ABLATE_PLUGIN_DIR);
    r->load_directory(std::string(ABLATE_TEST_PLUGIN_DIR) + "/untrusted");
    return r;
  }();
  return *registry;
}

/// A 2-block model whose `slot` (attention, ffn or norm) is `plugin`, built as a run builds it.
Transformer model_with(const std::string& slot, const std::string& plugin, std::int64_t seq_len = 64) {
  const std::string yaml = fmt::format(R"(
name: causality
data: {{corpus: kjv, tokenizer: {{kind: byte}}, seq_len: {}}}
model:
  d_model: 32
  n_layers: 2
  attention: {{plugin: mha, n_heads: 2}}
  ffn: {{plugin: silu, d_ff: 64}}
  norm: {{plugin: rmsnorm}}
arms:
  untrusted:
    model.{}: {{plugin: {}}}
)",
                                       seq_len, slot, plugin);
  const PluginRegistry& registry = untrusted_registry();
  const Sweep sweep = parse_sweep(yaml, "causality.yaml", registry);
  const nlohmann::json& config = sweep.runs.at(0).config;
  const ModelPlan plan = plan_model(config, tokenizer_vocab_size(config.at("data")), registry);
  torch::manual_seed(0);
  return Transformer(plan, registry);
}

struct Defect {
  std::string slot, plugin;
  std::string component;  // what the verdict must name
  std::string test, mode;
  std::int64_t position = -1, source = -1;
};

}  // namespace

TEST_CASE("the whole-model proof refuses every untrusted component, naming it, its block, the position and the mode",
          "[causality]") {
  const std::vector<Defect> defects = {
      {"attention", "late_leak", "block 0 attention (attention 'late_leak')", "future positions",
       "training mode, gradients on", 32, 33},
      {"attention", "eval_leak", "block 0 attention (attention 'eval_leak')", "future positions",
       "evaluation mode, gradients on", 0, 1},
      {"attention", "seq_len_leak", "block 0 attention (attention 'seq_len_leak')", "future positions",
       "training mode, gradients on", 0, 1},
      {"attention", "gated_leak", "block 0 attention (attention 'gated_leak')", "future positions",
       "training mode, gradients on", 0, 1},
      {"norm", "time_norm", "block 0 norm1 (norm 'time_norm')", "future positions", "training mode, gradients on", 0, 1},
      {"ffn", "future_shift", "block 0 ffn (mlp 'future_shift')", "future positions", "training mode, gradients on", 0, 1},
      {"ffn", "row_mixer", "block 0 ffn (mlp 'row_mixer')", "other rows", "training mode, gradients on"},
      {"ffn", "late_nan", "block 0 ffn (mlp 'late_nan')", "finite", "training mode, gradients on"},
  };
  for (const Defect& defect : defects) {
    CAPTURE(defect.plugin);
    Transformer model = model_with(defect.slot, defect.plugin);
    move_off_initialisation(*model, 1);
    const CausalityVerdict verdict = check_model_causality(*model, {.seq_len = 64});
    INFO(verdict.describe());
    REQUIRE_FALSE(verdict.passed);
    CHECK(verdict.component == defect.component);
    CHECK(verdict.layer == 0);
    CHECK(verdict.config_key == "model." + defect.slot);
    CHECK(verdict.test == defect.test);
    CHECK(verdict.mode == defect.mode);
    if (defect.position >= 0) {
      CHECK(verdict.position == defect.position);
      CHECK(verdict.source == defect.source);
    }
    CHECK_THAT(verdict.describe(), Catch::Contains("NOT causal: " + defect.component));
  }
}

TEST_CASE("what each untrusted component hides from a weaker check", "[causality]") {
  SECTION("checked at 32 positions instead of the run's 64, three of them pass") {
    for (const auto& [slot, plugin] : std::vector<std::pair<std::string, std::string>>{
             {"attention", "late_leak"}, {"attention", "seq_len_leak"}, {"ffn", "late_nan"}}) {
      CAPTURE(plugin);
      Transformer model = model_with(slot, plugin);
      move_off_initialisation(*model, 1);
      CHECK(check_model_causality(*model, {.seq_len = 32}).passed);
      CHECK_FALSE(check_model_causality(*model, {.seq_len = 64}).passed);
    }
  }
  SECTION("at its initialisation, the gated leak passes: the gate is zero") {
    Transformer model = model_with("attention", "gated_leak");
    CHECK(check_model_causality(*model, {.seq_len = 64}).passed);
    move_off_initialisation(*model, 1);
    CHECK_FALSE(check_model_causality(*model, {.seq_len = 64}).passed);
  }
  SECTION("the evaluation-mode leak passes every training-mode check") {
    Transformer model = model_with("attention", "eval_leak");
    move_off_initialisation(*model, 1);
    const SequenceMap whole = [&](const at::Tensor& x) { return model->hidden_states(x); };
    for (const CausalityMode& mode : causality_modes()) {
      CAPTURE(mode.name());
      CHECK(check_sequence_map(*model, whole, 32, mode, {.seq_len = 64}).passed == mode.training);
    }
  }
}

TEST_CASE("the proof restores what it touches: mode, gradients, buffers and the random generator", "[causality]") {
  Transformer model = model_with("attention", "mha");
  model->train();
  const auto before = torch::randn({1}).item<double>();
  torch::manual_seed(5);
  const auto expected = torch::randn({3});
  torch::manual_seed(5);
  CHECK(check_model_causality(*model, {.seq_len = 16}).passed);
  CHECK(model->is_training());
  for (const auto& p : model->parameters()) CHECK_FALSE(p.grad().defined());
  CHECK(torch::equal(torch::randn({3}), expected));  // the generator continues as if never touched
  (void)before;
}

TEST_CASE("every model of the example sweeps, built-in plugins only, passes the proof as its runs build it",
          "[causality]") {
  const PluginRegistry& registry = untrusted_registry();
  std::vector<std::filesystem::path> files = {std::filesystem::path(ABLATE_SOURCE_DIR) / "sweeps/quickstart.yaml",
                                              std::filesystem::path(ABLATE_SOURCE_DIR) / "sweeps/debug.yaml"};
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(ABLATE_SOURCE_DIR) / "sweeps/seeds"))
    if (entry.path().stem().string().ends_with("_cpu")) files.push_back(entry.path());
  std::set<std::string> seen;
  for (const auto& file : files) {
    const Sweep sweep = load_sweep(file, registry);
    for (const RunSpec& run : sweep.runs) {
      const std::int64_t vocab = tokenizer_vocab_size(run.config.at("data"));
      if (!seen.insert(nlohmann::json{run.config.at("model"), run.config.at("data").at("seq_len"), vocab}.dump()).second)
        continue;
      CAPTURE(file.filename().string(), run.arm);
      const ModelPlan plan = plan_model(run.config, vocab, registry);
      torch::manual_seed(run.seed);
      Transformer model(plan, registry);
      move_off_initialisation(*model, 1);
      const CausalityVerdict verdict = check_model_causality(*model, {.seq_len = plan.seq_len});
      INFO(verdict.describe());
      CHECK(verdict.passed);
    }
  }
  CHECK(seen.size() >= 15);
}

TEST_CASE("a component that computes otherwise with gradients off fails in training mode, gradients off",
          "[causality]") {
  // Causal either way, so only the comparison with the proven gradients-on forward can catch it.
  struct GradModeSwitch : sdk::ComponentImpl {
    at::Tensor forward(const at::Tensor& x) override { return at::GradMode::is_enabled() ? x : x * 2.0; }
  };
  GradModeSwitch component;
  const CausalityVerdict verdict = check_component_causality(component, 8, {.seq_len = 16});
  INFO(verdict.describe());
  REQUIRE_FALSE(verdict.passed);
  CHECK(verdict.mode == "training mode, gradients off");
  CHECK(verdict.test == "gradients off");
}
