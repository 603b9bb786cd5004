// The training step's recording path, run on the CPU with stand-in recorders (a real CUDA graph
// needs a GPU), on stateful_sweep.h's model with grad accumulation and clipping added. A faithful stand-in, whose "graph" re-runs the step as a correct CUDA graph would,
// must give the eager run's numbers bit for bit through the check and the replays. Stand-ins that
// are wrong the way a broken graph is (its work lost, or done twice) must be caught by the check:
// under --cuda-graph auto the run goes on eagerly with exactly the eager numbers, under on it fails.
#include "catch_torch.h"
#include "stateful_sweep.h"

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "ablate/engine/data.h"
#include "ablate/engine/error.h"
#include "ablate/train/model.h"
#include "ablate/engine/model_plan.h"
#include "ablate/engine/sweep.h"
#include "optimizers.h"
#include "training_step.h"

namespace {

constexpr std::int64_t kSteps = 9;

// A graph that runs the recorded step on every replay, minus the given fault.
enum class Fault { none, lost_work, done_twice };

class StandInGraph : public ablate::StepGraph {
 public:
  StandInGraph(std::function<void()> step, Fault fault, int* replays)
      : step_(std::move(step)), fault_(fault), replays_(replays) {}
  void replay() override {
    ++*replays_;
    if (fault_ == Fault::lost_work) return;
    step_();
    if (fault_ == Fault::done_twice) step_();
  }

 private:
  std::function<void()> step_;
  Fault fault_;
  int* replays_;
};

struct Outcome {
  std::vector<double> losses;  // every micro-batch loss, in order
  std::vector<at::Tensor> params;
  std::string graph_status;
  std::vector<std::string> warnings;
  int recordings = 0, replays = 0;
};

struct Fixture : stateful_test::StatefulRun {
  using StatefulRun::StatefulRun;

  // kSteps steps of a fresh model from seed 7 through a TrainingStep; a null `recorder` trains eagerly.
  Outcome train(ablate::CudaGraphPolicy policy, std::optional<Fault> fault, std::int64_t steps_before = 0) {
    Outcome out;
    at::manual_seed(7);
    ablate::Transformer model(ablate::plan_model(sweep.runs.at(0).config, data.vocab_size, registry), registry);
    model->train();
    // the trainer's optimizers for the sweep's `optimizer: {name: muon}`: Muon and fused AdamW
    const ablate::RunOptimizers optimizers =
        ablate::make_optimizers(model, ablate::decode_train_config(sweep.runs.at(0).config).optimizer);
    ablate::StepRecorder recorder;
    if (fault)
      recorder = [&out, f = *fault](const c10::Device&, const std::function<void()>& step) {
        ++out.recordings;
        return std::make_unique<StandInGraph>(step, f, &out.replays);
      };
    ablate::TrainingStep step({.model = model, .adamw = *optimizers.adamw, .muon = optimizers.muon.get(), .grad_accum = 2, .batch_size = 4,
                               .seq_len = 16, .grad_clip = 1.0, .steps_before = steps_before},
                              policy, [&](const std::string& w) { out.warnings.push_back(w); }, recorder);
    const auto limit = data.train.size() - 18;
    for (std::int64_t s = 0; s < kSteps; ++s) {
      std::vector<ablate::Batch> batches;
      for (std::int64_t m = 0; m < 2; ++m) {
        std::vector<std::size_t> offsets;
        for (std::size_t b = 0; b < 4; ++b) offsets.push_back((s * 7919 + m * 104729 + b * 1299709) % limit);
        batches.push_back(ablate::make_batch(data.train, offsets, 16, c10::kCPU));
      }
      step.load(batches);
      const double lr = 3e-3 * (s + 1) / kSteps;  // changes every step, as a schedule does
      const auto losses = step.run(lr, 10 * lr);
      for (std::int64_t m = 0; m < 2; ++m) out.losses.push_back(losses[m].item<double>());
    }
    for (const auto& p : model->parameters()) out.params.push_back(p.detach().clone());
    out.graph_status = step.graph_status();
    return out;
  }
};

void check_same(const Outcome& a, const Outcome& b) {
  REQUIRE(a.losses.size() == b.losses.size());
  for (std::size_t i = 0; i < a.losses.size(); ++i) {
    INFO("micro-batch " << i);
    CHECK(a.losses[i] == b.losses[i]);
  }
  REQUIRE(a.params.size() == b.params.size());
  for (std::size_t i = 0; i < a.params.size(); ++i) {
    INFO("parameter " << i);
    CHECK(at::equal(a.params[i], b.params[i]));
  }
}

}  // namespace

TEST_CASE("a faithfully recorded step is checked once and replays bit-identical to eager steps", "[graph]") {
  Fixture f("ablate_test_training_step_faithful");
  const Outcome eager = f.train(ablate::CudaGraphPolicy::off, std::nullopt);
  CHECK(eager.graph_status == "off");
  CHECK(eager.losses.front() > eager.losses.back());  // it trains
  const Outcome graphed = f.train(ablate::CudaGraphPolicy::required, Fault::none, /*steps_before=*/100);
  check_same(graphed, eager);
  CHECK(graphed.recordings == 1);
  // recorded at its 4th step (after 3 warm-up steps), checked at the 5th, replayed for the 5th-9th;
  // the status names the run's step (a resumed run's 100 steps before included)
  CHECK(graphed.replays == kSteps - ablate::TrainingStep::kWarmupSteps - 1);
  CHECK(graphed.graph_status == "replayed from step 105");
  CHECK(graphed.warnings.empty());
}

TEST_CASE("a recorded step whose replay is wrong is caught, and the run goes on with eager steps", "[graph]") {
  const Fault fault = GENERATE(Fault::lost_work, Fault::done_twice);
  INFO("fault " << static_cast<int>(fault));
  Fixture f("ablate_test_training_step_wrong");
  const Outcome eager = f.train(ablate::CudaGraphPolicy::off, std::nullopt);
  const Outcome checked = f.train(ablate::CudaGraphPolicy::automatic, fault);
  check_same(checked, eager);  // the check's eager step is redone after putting the state back
  CHECK(checked.replays == 1);  // the check's only
  // (a lost recording never wrote its loss output; a doubled one disagrees)
  CHECK_THAT(checked.graph_status, Catch::Matchers::StartsWith("not used: its replay") &&
                                       Catch::Matchers::Contains("at step 5"));
  REQUIRE(checked.warnings.size() == 1);
  CHECK_THAT(checked.warnings[0], Catch::Matchers::Contains("without a CUDA graph"));

  CHECK_THROWS_WITH(f.train(ablate::CudaGraphPolicy::required, fault),
                    Catch::Matchers::StartsWith("--cuda-graph on: its replay"));
}

TEST_CASE("a step that cannot be recorded trains eagerly under auto and fails under on", "[graph]") {
  Fixture f("ablate_test_training_step_unrecordable");
  const Outcome eager = f.train(ablate::CudaGraphPolicy::off, std::nullopt);
  // Without a stand-in, auto records on CUDA devices only: on the CPU it never tries.
  const Outcome cpu_auto = f.train(ablate::CudaGraphPolicy::automatic, std::nullopt);
  check_same(cpu_auto, eager);
  CHECK(cpu_auto.graph_status == "off (CUDA graphs need a GPU)");
  // ... and on asks record_step_graph, which says why it cannot.
  CHECK_THROWS_WITH(f.train(ablate::CudaGraphPolicy::required, std::nullopt),
                    Catch::Matchers::Contains("CUDA graphs need a CUDA device"));
}

TEST_CASE("the --cuda-graph option takes auto, on and off", "[graph]") {
  CHECK(ablate::parse_cuda_graph_policy("auto") == ablate::CudaGraphPolicy::automatic);
  CHECK(ablate::parse_cuda_graph_policy("on") == ablate::CudaGraphPolicy::required);
  CHECK(ablate::parse_cuda_graph_policy("off") == ablate::CudaGraphPolicy::off);
  CHECK_THROWS_WITH(ablate::parse_cuda_graph_policy("yes"), Catch::Matchers::Contains("unknown --cuda-graph value 'yes'"));
}
