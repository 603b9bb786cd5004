// Stopping a run and resuming it from its checkpoint must end exactly where training straight
// through ends. The reference is the same run trained without a stop, in the same process and
// thread count; both runs are stopped once more at step N-1 so that their parameters can be read
// from the checkpoints there, then finished, and their metrics.jsonl compared. On the CPU,
// LibTorch is deterministic for a fixed thread count, so the comparison is bit-for-bit (==), not
// within a tolerance; only the wall-clock "seconds" field of metrics.jsonl is left out.
#include "catch_torch.h"
#include "stateful_sweep.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/serialize/input-archive.h>

#include "ablate/engine/checkpoint_store.h"
#include "ablate/engine/data.h"
#include "ablate/train/model.h"
#include "ablate/engine/model_plan.h"
#include "ablate/engine/sweep.h"
#include "ablate/train/trainer.h"

namespace {

constexpr std::int64_t kSteps = 12;

struct Fixture : stateful_test::StatefulRun {
  using StatefulRun::StatefulRun;
  // One call of train_run that stops after `stop_at` steps (0: never); returns the lines it printed.
  std::string train(const std::filesystem::path& run_dir, std::int64_t stop_at, nlohmann::json* summary = nullptr) {
    std::string printed;
    ablate::TrainSettings settings{.run_dir = run_dir, .label = "resume"};
    settings.print = [&](const std::string& line) { printed += line + "\n"; };
    settings.checkpoint_every = 2;
    settings.checkpoint_minutes = 0;
    settings.stop_requested = [stop_at](std::int64_t done) { return done == stop_at; };
    const auto s = ablate::train_run(sweep.runs.at(0), data, registry, settings);
    if (summary) *summary = s;
    return printed;
  }
  // The model of the newest checkpoint of `run_dir`, loaded into a freshly built Transformer.
  ablate::Transformer checkpointed_model(const std::filesystem::path& run_dir) {
    const auto stored = ablate::load_newest_checkpoint(run_dir / "checkpoints", {});
    REQUIRE(stored);
    ablate::Transformer model(ablate::plan_model(sweep.runs.at(0).config, data.vocab_size, registry), registry);
    std::istringstream in(stored->bytes);
    torch::serialize::InputArchive archive, model_archive;
    archive.load_from(in);
    archive.read("model", model_archive);
    model->load(model_archive);
    return model;
  }
};

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// metrics.jsonl without the wall-clock field.
std::vector<nlohmann::json> metrics_without_time(const std::filesystem::path& run_dir) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(read_text(run_dir / "metrics.jsonl"));
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    j.erase("seconds");
    lines.push_back(j);
  }
  return lines;
}

void check_same_parameters(ablate::Transformer& a, ablate::Transformer& b) {
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (const auto& item : pa) {
    INFO(item.key());
    CHECK(at::equal(item.value(), pb[item.key()]));
  }
  const auto ba = a->named_buffers(), bb = b->named_buffers();
  REQUIRE(ba.size() == bb.size());
  bool routing_bias_moved = false;
  for (const auto& item : ba) {
    INFO(item.key());
    CHECK(at::equal(item.value(), bb[item.key()]));
    if (item.key().find("e_score_correction_bias") != std::string::npos)
      routing_bias_moved |= item.value().abs().sum().item<double>() > 0;
  }
  CHECK(routing_bias_moved);  // the buffer really carries state, so its restoring is tested
}

}  // namespace

TEST_CASE("a run stopped and resumed ends bit-identical to one trained straight through", "[resume]") {
  Fixture f("ablate_test_resume_straight");
  const auto straight = f.tmp / "straight", resumed = f.tmp / "resumed";
  nlohmann::json summary;

  // reference: stopped only at N-1 (to read its parameters), then finished
  f.train(straight, kSteps - 1, &summary);
  CHECK(summary.at("status") == "interrupted");
  auto reference_model = f.checkpointed_model(straight);

  // stopped at step 5 (checkpoints at 4 and 5), resumed, stopped at N-1
  f.train(resumed, 5, &summary);
  CHECK(summary.at("status") == "interrupted");
  CHECK(summary.at("steps") == 5);
  CHECK(ablate::newest_checkpoint_step(resumed / "checkpoints") == 5);
  const std::string printed = f.train(resumed, kSteps - 1);
  CHECK_THAT(printed, Catch::Contains("resuming from step 5"));
  auto resumed_model = f.checkpointed_model(resumed);
  check_same_parameters(reference_model, resumed_model);

  // both finished: metrics and summaries agree exactly
  nlohmann::json straight_summary, resumed_summary;
  CHECK_THAT(f.train(straight, 0, &straight_summary), Catch::Contains("resuming from step 11"));
  f.train(resumed, 0, &resumed_summary);
  CHECK(straight_summary.at("status") == "done");
  CHECK(resumed_summary.at("status") == "done");
  CHECK(resumed_summary.at("steps") == kSteps);
  CHECK(resumed_summary.at("val_loss").get<double>() == straight_summary.at("val_loss").get<double>());
  CHECK(resumed_summary.at("train_loss").get<double>() == straight_summary.at("train_loss").get<double>());
  const auto a = metrics_without_time(straight), b = metrics_without_time(resumed);
  CHECK(a.size() == kSteps / 4 + 1);  // step 0 and every eval_every = 4
  CHECK(a == b);
  CHECK_FALSE(std::filesystem::exists(straight / "checkpoints"));  // a finished run keeps none
}

TEST_CASE("a corrupt checkpoint falls back to the previous good one, then to a fresh start, with warnings",
          "[resume]") {
  Fixture f("ablate_test_resume_corrupt");
  const auto reference = f.tmp / "reference", run = f.tmp / "corrupt";
  f.train(reference, 0);

  f.train(run, 5);  // checkpoints at steps 4 and 5
  const auto newest = run / "checkpoints" / "step-0000000005.ckpt";
  REQUIRE(std::filesystem::exists(newest));
  {
    std::fstream file(newest, std::ios::in | std::ios::out | std::ios::binary);
    const auto middle = static_cast<std::streamoff>(std::filesystem::file_size(newest) / 2);
    file.seekg(middle);
    const char byte = static_cast<char>(file.get());
    file.seekp(middle);
    file.put(static_cast<char>(~byte));  // one byte changed in the middle
  }
  std::string printed = f.train(run, 0);
  CHECK_THAT(printed, Catch::Contains("warning: checkpoint") && Catch::Contains("checksum does not match"));
  CHECK_THAT(printed, Catch::Contains("resuming from step 4"));
  CHECK(metrics_without_time(run) == metrics_without_time(reference));

  // every checkpoint bad (here: truncated): trained from scratch, same result
  std::filesystem::remove_all(run);
  f.train(run, 5);
  for (const std::int64_t step : {4, 5}) {
    const auto file = run / "checkpoints" / fmt::format("step-{:010d}.ckpt", step);
    std::filesystem::resize_file(file, std::filesystem::file_size(file) / 3);
  }
  printed = f.train(run, 0);
  CHECK_THAT(printed, Catch::Contains("truncated"));
  CHECK_THAT(printed, Catch::Contains("training from scratch"));
  CHECK(metrics_without_time(run) == metrics_without_time(reference));
}
