// What a newcomer meets first on the command line: the default device, the GPUs a Slurm job asks
// for, messages for out-of-range numbers, an --out that is a file and a mistyped command,
// --version, --plugin-dir after the command, and `ablate sample`'s text.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ablate/engine/build_info.h"
#include "cli_helpers.h"

using ablate::test::Output;
using ablate::test::read_text;
using ablate::test::run_ablate;
using ablate::test::run_args;
using ablate::test::summaries;
using ablate::test::write_temp;

namespace {

// One run of two steps: the quickest sweep that trains and writes a summary.
const char* const kTinySweep = R"(
name: newcomer
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: 2, batch_size: 2, eval_every: 2, eval_tokens: 64, log_every: 1}
seeds: [0]
arms: {base: {}}
)";

std::string debug_sweep() { return ABLATE_SOURCE_DIR "/sweeps/debug.yaml"; }

/// `ablate slurm debug.yaml --tasks 2 --dry-run EXTRA` and the job-array script it wrote.
struct SlurmDryRun {
  Output output;
  std::string script;
};

SlurmDryRun slurm_dry_run(const std::string& extra) {
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_newcomer_slurm";
  std::filesystem::remove_all(out);
  SlurmDryRun r{run_ablate("slurm " + debug_sweep() + " --tasks 2 --out " + out.string() + " --dry-run " + extra), ""};
  r.script = read_text(out / "debug" / "slurm" / "ablate-debug.sbatch");
  return r;
}

}  // namespace

TEST_CASE("run and plan default to --device auto, which becomes cpu without a GPU and is named as it trains",
          "[cli][newcomer]") {
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_newcomer_auto";
  std::filesystem::remove_all(out);
  const auto sweep = write_temp("newcomer.yaml", kTinySweep);

  CHECK_THAT(run_ablate("run --help").text, Catch::Contains("--device TEXT=auto"));
  CHECK_THAT(run_ablate("plan --help").text, Catch::Contains("--device TEXT=auto"));

  // No --device (run_args would pin the CPU).
  const Output run = run_ablate("run " + sweep.string() + " --out " + out.string() + " --threads 1 --cache " +
                                (out / "cache").string());
  INFO(run.text);
  REQUIRE(run.status == 0);
  // This test machine may or may not have a GPU: auto must name what it became, and the run's
  // summary must record that device as it does for an explicit --device.
  const bool gpu = run.text.find("--device auto: cuda (") != std::string::npos;
  if (!gpu) CHECK_THAT(run.text, Catch::Contains("--device auto: cpu (no CUDA GPU visible)"));
  const auto all = summaries(out / "newcomer" / "runs");
  REQUIRE(all.size() == 1);
  const std::string device = all.begin()->second["device"].get<std::string>();
  if (gpu) CHECK_THAT(device, Catch::Contains("(cuda:0)"));
  else CHECK_THAT(device, Catch::StartsWith("cpu ("));

  const Output plan = run_ablate("plan " + sweep.string() + " --warmup-steps 1 --threads 1");
  INFO(plan.text);
  REQUIRE(plan.status == 0);
  CHECK_THAT(plan.text, Catch::Contains(gpu ? "--device auto: cuda (" : "--device auto: cpu (no CUDA GPU visible)"));
  CHECK_THAT(plan.text, Catch::Contains(gpu ? "on NVIDIA" : "on cpu ("));
  std::filesystem::remove_all(out);
}

TEST_CASE("slurm asks for a GPU per task for a CUDA or auto device unless told otherwise", "[cli][slurm][newcomer]") {
  SECTION("the default device (auto) and cuda: one GPU per task, the tasks run on cuda") {
    for (const std::string extra : {"", "--device cuda"}) {
      const auto r = slurm_dry_run(extra);
      INFO(extra << "\n" << r.output.text);
      REQUIRE(r.output.status == 0);
      CHECK_THAT(r.script, Catch::Contains("#SBATCH --gpus-per-task=1\n"));
      CHECK_THAT(r.script, Catch::Contains(" --device 'cuda' "));
      CHECK_THAT(r.output.text, Catch::Contains("1 GPU(s) per task (#SBATCH --gpus-per-task=1; --gpus-per-task 0 for none)"));
    }
  }
  SECTION("cuda:1 needs two GPUs in the task") {
    const auto r = slurm_dry_run("--device cuda:1");
    INFO(r.output.text);
    CHECK_THAT(r.script, Catch::Contains("#SBATCH --gpus-per-task=2\n"));
    CHECK_THAT(r.script, Catch::Contains(" --device 'cuda:1' "));
  }
  SECTION("--gpus-per-task 0: no GPU line, and auto means the CPU") {
    const auto r = slurm_dry_run("--gpus-per-task 0");
    INFO(r.output.text);
    REQUIRE(r.output.status == 0);
    CHECK_THAT(r.script, !Catch::Contains("--gpus-per-task"));
    CHECK_THAT(r.script, Catch::Contains(" --device 'cpu' "));
    const auto cuda = slurm_dry_run("--device cuda --gpus-per-task 0");
    CHECK_THAT(cuda.script, !Catch::Contains("--gpus-per-task"));
    CHECK_THAT(cuda.script, Catch::Contains(" --device 'cuda' "));
  }
  SECTION("an explicit count, a CPU device, and GPUs asked for through --sbatch") {
    CHECK_THAT(slurm_dry_run("--gpus-per-task 4").script, Catch::Contains("#SBATCH --gpus-per-task=4\n"));
    const auto cpu = slurm_dry_run("--device cpu");
    CHECK_THAT(cpu.script, !Catch::Contains("--gpus-per-task"));
    CHECK_THAT(cpu.script, Catch::Contains(" --device 'cpu' "));
    const auto gres = slurm_dry_run("--sbatch=--gres=gpu:2");
    CHECK_THAT(gres.script, !Catch::Contains("--gpus-per-task"));
    CHECK_THAT(gres.script, Catch::Contains("#SBATCH --gres=gpu:2\n"));
    CHECK_THAT(gres.script, Catch::Contains(" --device 'cuda' "));
  }
  SECTION("a device that is none is refused before anything is written") {
    const auto r = slurm_dry_run("--device gpu");
    CHECK(r.output.status == 2);
    CHECK_THAT(r.output.text, Catch::Contains("--device 'gpu' is not a device"));
    CHECK(r.script.empty());
  }
  SECTION("the help describes submission as it is: submitted unless --dry-run, no --submit") {
    const Output help = run_ablate("slurm --help");
    CHECK_THAT(help.text, !Catch::Contains("--submit"));
    CHECK_THAT(help.text, Catch::Contains("not with --dry-run"));
  }
}

TEST_CASE("numeric flags out of range say what they must be in words", "[cli][newcomer]") {
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_cli_newcomer_numbers";
  std::filesystem::create_directories(dir);  // stands in for a run directory: the flag fails first
  const std::string sweep = debug_sweep();
  const std::string run_dir = dir.string();
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"run " + sweep + " --threads -1", "--threads: must be 0 or more, not -1"},
      {"plan " + sweep + " --threads -1", "--threads: must be 0 or more, not -1"},
      {"plan " + sweep + " --warmup-steps -2", "--warmup-steps: must be 0 or more, not -2"},
      {"run " + sweep + " --threads 1.5", "--threads: must be a whole number, not '1.5'"},
      {"run " + sweep + " --runs-per-device 0", "--runs-per-device: must be 1 or more, not 0"},
      {"run " + sweep + " --checkpoint-every -5", "--checkpoint-every: must be 0 or more, not -5"},
      {"run " + sweep + " --checkpoint-minutes -1", "--checkpoint-minutes: must be 0 or more, not -1"},
      {"run " + sweep + " --checkpoint-minutes nan", "--checkpoint-minutes: must be a number, not 'nan'"},
      {"slurm " + sweep + " --tasks 0", "--tasks: must be 1 or more, not 0"},
      {"slurm " + sweep + " --tasks 2 --threads -2", "--threads: must be 0 or more, not -2"},
      {"slurm " + sweep + " --tasks 2 --gpus-per-task -1", "--gpus-per-task: must be 0 or more, not -1"},
      {"slurm " + sweep + " --tasks 2 --cpus-per-task -1", "--cpus-per-task: must be 0 or more, not -1"},
      {"sample " + run_dir + " --prompt x --tokens 0", "--tokens: must be 1 or more, not 0"},
      {"sample " + run_dir + " --prompt x --temperature -0.5", "--temperature: must be 0 or more, not -0.5"},
      {"sample " + run_dir + " --prompt x --top-k -1", "--top-k: must be 0 or more, not -1"},
      {"sample " + run_dir + " --prompt x --seed -1", "--seed: must be 0 or more, not -1"},
      {"eval " + run_dir + " --tokens -3", "--tokens: must be 0 or more, not -3"},
  };
  for (const auto& c : cases) {
    const Output out = run_ablate(c.args);
    INFO(c.args << "\n" << out.text);
    CHECK(out.status == 2);
    CHECK_THAT(out.text, Catch::Contains(c.message));
    CHECK_THAT(out.text, !Catch::Contains("1797693"));  // CLI11's bound: the largest double, in 310 digits
  }
  // The largest 64-bit seed is a seed: it passes the flags and reaches the run directory's check.
  const Output big_seed = run_ablate("sample " + run_dir + " --prompt x --seed 18446744073709551615");
  INFO(big_seed.text);
  CHECK_THAT(big_seed.text, !Catch::Contains("--seed"));
  CHECK_THAT(big_seed.text, Catch::Contains("is not a run directory"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("an --out or --cache that is a file is refused naming it, before anything is written", "[cli][newcomer]") {
  const auto file = write_temp("newcomer_out_is_a_file", "not a directory\n");
  const std::string sweep = debug_sweep();
  const std::vector<std::string> commands = {
      "run " + sweep + " --out " + file.string(),
      "run " + sweep + " --cache " + file.string(),
      "slurm " + sweep + " --tasks 2 --dry-run --out " + file.string(),
      "data prepare " + sweep + " --out " + file.string(),
      "plan " + sweep + " --warmup-steps 0 --out " + file.string(),
  };
  for (const auto& args : commands) {
    const Output out = run_ablate(args);
    INFO(args << "\n" << out.text);
    CHECK(out.status == 2);
    CHECK_THAT(out.text, Catch::Contains(file.string() + " is a file; give a directory"));
  }
  const Output below = run_ablate("run " + sweep + " --out " + (file / "runs").string());
  INFO(below.text);
  CHECK(below.status == 2);
  CHECK_THAT(below.text, Catch::Contains("lies below " + file.string() + ", which is a file; give a directory"));
  CHECK(read_text(file) == "not a directory\n");
}

TEST_CASE("a mistyped command is named, with the nearest command and the list of all", "[cli][newcomer]") {
  const Output typo = run_ablate("rnu " + debug_sweep());
  INFO(typo.text);
  CHECK(typo.status == 2);
  CHECK_THAT(typo.text, Catch::Contains("error: unknown command 'rnu'; did you mean 'run'?"));
  CHECK_THAT(typo.text, Catch::Contains("commands: run, expand, plugins, report, status, data, plan, slurm"));

  const Output far = run_ablate("xyzzy");
  CHECK(far.status == 2);
  CHECK_THAT(far.text, Catch::Contains("error: unknown command 'xyzzy'\ncommands: run,"));

  const Output none = run_ablate("");
  CHECK(none.status == 2);
  CHECK_THAT(none.text, Catch::Contains("error: no command given: ablate COMMAND [options]\ncommands: run,"));
  CHECK(run_ablate("--help").status == 0);

  // The value of a top-level option is not taken for the command.
  const Output with_dir = run_ablate("--plugin-dir " + std::string(ABLATE_TEST_PLUGIN_DIR) + "/example_relu2 plugins");
  INFO(with_dir.text);
  CHECK(with_dir.status == 0);
}

TEST_CASE("ablate --version prints ablate's version and git commit and LibTorch's version", "[cli][newcomer]") {
  const Output out = run_ablate("--version");
  INFO(out.text);
  CHECK(out.status == 0);
  CHECK_THAT(out.text, Catch::StartsWith(std::string("ablate ") + ablate::ablate_version() + " (git " +
                                         ablate::ablate_git_commit() + ")\n"));
  CHECK_THAT(out.text, Catch::Contains("\nLibTorch 2."));
}

TEST_CASE("ablate takes --plugin-dir after the command as well as before it", "[cli][newcomer]") {
  const std::string dir = std::string(ABLATE_TEST_PLUGIN_DIR) + "/example_relu2";
  for (const std::string args : {"--plugin-dir " + dir + " plugins --json", "plugins --plugin-dir " + dir + " --json",
                                 "plugins --json --plugin-dir " + dir}) {
    const Output out = run_ablate(args);
    INFO(args << "\n" << out.text);
    REQUIRE(out.status == 0);
    bool relu2 = false;
    for (const auto& p : nlohmann::json::parse(out.text)) relu2 = relu2 || p["name"] == "relu2";
    CHECK(relu2);
  }
}

TEST_CASE("sample prints the prompt and its continuation as the tokenizer decodes them together", "[cli][newcomer]") {
  // A BPE model: its pieces that start a word carry the space before it ("▁the"), which a
  // continuation decoded on its own loses ("And God saidthe").
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_newcomer_sample";
  std::filesystem::remove_all(out);
  const auto sweep = write_temp("newcomer_sample.yaml", R"(
name: newcomer_sample
data: {corpus: kjv, tokenizer: {kind: bpe, vocab_size: 512}, seq_len: 16}
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: 30, batch_size: 8, eval_every: 30, eval_tokens: 64, log_every: 10, optimizer: {lr: 1.0e-2}}
seeds: [0]
arms: {base: {}}
)");
  const Output trained = run_ablate(run_args(sweep, out));
  INFO(trained.text);
  REQUIRE(trained.status == 0);
  const auto runs = summaries(out / "newcomer_sample" / "runs");
  REQUIRE(runs.size() == 1);
  const auto run_dir = out / "newcomer_sample" / "runs" / runs.begin()->first;
  setenv("ABLATE_CACHE", (out / "cache").c_str(), 1);  // `sample` finds the run's tokenizer there
  const std::string args = "sample " + run_dir.string() + " --prompt 'And God said' --tokens 8";
  const Output text = run_ablate(args);
  const Output json = run_ablate(args + " --json");
  unsetenv("ABLATE_CACHE");
  INFO(text.text);
  REQUIRE(text.status == 0);
  REQUIRE(json.status == 0);
  const auto sample = nlohmann::json::parse(json.text.substr(json.text.find('{')));

  // What spm_decode makes of the prompt's ids followed by the generated ones.
  std::filesystem::path model;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(out / "cache"))
    if (entry.path().filename() == "tokenizer.model") model = entry.path();
  REQUIRE(!model.empty());
  std::string ids;
  for (const auto& id : sample["prompt_ids"]) ids += std::to_string(id.get<int>()) + " ";
  for (const auto& id : sample["generated_ids"]) ids += std::to_string(id.get<int>()) + " ";
  const auto ids_file = write_temp("newcomer_sample_ids.txt", ids + "\n");
  const auto decoded_file = out / "decoded.txt";
  REQUIRE(std::system(("spm_decode --model=" + model.string() + " --input_format=id < " + ids_file.string() + " > " +
                       decoded_file.string())
                          .c_str()) == 0);
  std::string decoded = read_text(decoded_file);
  while (!decoded.empty() && decoded.back() == '\n') decoded.pop_back();
  INFO("spm_decode: " << decoded);
  REQUIRE(decoded.rfind("And God said ", 0) == 0);  // this model's continuation starts a new word

  std::string printed = text.text;  // its last line; "data: ..." lines on stderr come first
  while (!printed.empty() && printed.back() == '\n') printed.pop_back();
  printed = printed.substr(printed.rfind('\n') + 1);
  CHECK(printed == decoded);
  CHECK(sample["text"] == decoded.substr(std::string("And God said").size()));
  std::filesystem::remove_all(out);
}
