// The command line as scripts use it: `ablate expand --json` gives the parameter checksums of
// docs/components.md, `ablate plugins --json` lists the plugins, bad input exits non-zero
// with the file, line and column.
#include <catch2/catch.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "cli_helpers.h"

using ablate::test::Output;
using ablate::test::run_ablate;
using ablate::test::run_args;
using ablate::test::read_text;
using ablate::test::summaries;
using ablate::test::write_temp;

TEST_CASE("expand --json gives the parameter checksums of docs/components.md", "[cli]") {
  // Baseline model: mha + topk MoE of silu experts + rmsnorm, V = 49152, tied embedding.
  const auto sweep = write_temp("checksums.yaml", R"(
name: checksums
data: {tokenizer: {kind: byte}}
model:
  vocab_size: 49152
  attention: {plugin: mha, n_heads: 4}
  ffn: {plugin: topk, n_experts: 8, top_k: 2, expert: {plugin: silu, d_ff: 1024}}
  norm: {plugin: rmsnorm}
arms:
  d256_l3: {model.d_model: 256, model.n_layers: 3}
  d512_l6: {model.d_model: 512, model.n_layers: 6, model.ffn.expert.d_ff: 2048, model.attention.n_heads: 8}
  d512_l3: {model.d_model: 512, model.n_layers: 3, model.attention.n_heads: 8}
)");
  const Output out = run_ablate("expand --json " + sweep.string());
  INFO(out.text);
  REQUIRE(out.status == 0);
  const auto runs = nlohmann::json::parse(out.text);
  REQUIRE(runs.size() == 3);
  CHECK(runs[0]["arm"] == "d256_l3");
  CHECK(runs[0]["params_total"] == 25960192);
  CHECK(runs[1]["params_total"] == 132151808);
  CHECK(runs[2]["params_total"] == 53493248);
  // top-2 of 8 experts: a token uses the router and 2 experts' worth of the MoE
  CHECK(runs[0]["params_active"].get<std::int64_t>() < runs[0]["params_total"].get<std::int64_t>());
  CHECK(runs[0]["flops_per_token"].get<double>() > 0);
  CHECK(runs[0]["config"]["model"]["ffn"]["expert"]["d_ff"] == 1024);
  CHECK(runs[0]["id"].get<std::string>().size() == 16);
}

TEST_CASE("plugins --json lists every built-in plugin with its options", "[cli]") {
  const Output out = run_ablate("plugins --json");
  REQUIRE(out.status == 0);
  const auto plugins = nlohmann::json::parse(out.text);
  std::set<std::string> names;
  for (const auto& p : plugins) names.insert(p["kind"].get<std::string>() + "/" + p["name"].get<std::string>());
  CHECK(names == std::set<std::string>{"attention/mha", "attention/mla", "mlp/gelu", "mlp/silu", "mlp/swiglu",
                                       "moe/deepseek_v3", "moe/glm4", "moe/topk", "norm/layernorm", "norm/rmsnorm"});
  for (const auto& p : plugins)
    for (const auto& o : p["options"]) CHECK_FALSE(o["doc"].get<std::string>().empty());
}

TEST_CASE("a typo in a sweep exits non-zero naming the file, line, column and the known options", "[cli]") {
  const auto sweep = write_temp("typo.yaml", "model:\n  attention: {plugin: mha, n_head: 4}\n");
  const Output out = run_ablate("expand " + sweep.string());
  CHECK(out.status == 2);
  CHECK_THAT(out.text, Catch::Contains(sweep.string() + ":2:"));
  CHECK_THAT(out.text, Catch::Contains("n_head"));
  CHECK_THAT(out.text, Catch::Contains("n_heads"));
}

TEST_CASE("run trains a sweep to a report, and a second run trains nothing again", "[cli][slow]") {
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_run";
  std::filesystem::remove_all(out);
  const std::string sweep = std::string(ABLATE_SOURCE_DIR) + "/sweeps/debug.yaml";
  const std::string args = run_args(sweep, out);
  const Output first = run_ablate(args);
  INFO(first.text);
  REQUIRE(first.status == 0);
  CHECK_THAT(first.text, Catch::Contains("proven causal"));
  CHECK_THAT(first.text, Catch::Contains("trained 4, skipped 0"));
  const auto dir = out / "debug";
  CHECK(std::filesystem::file_size(dir / "report.md") > 0);
  CHECK(std::filesystem::exists(dir / "results.csv"));
  int done = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "runs")) {
    std::ifstream in(entry.path() / "summary.json");
    const auto summary = nlohmann::json::parse(in);
    done += summary.at("status") == "done";
    CHECK(std::filesystem::exists(entry.path() / "config.yaml"));
    CHECK(std::filesystem::exists(entry.path() / "metrics.jsonl"));
  }
  CHECK(done == 4);

  const Output second = run_ablate(args);
  REQUIRE(second.status == 0);
  CHECK_THAT(second.text, Catch::Contains("trained 0, skipped 4"));

  const Output status = run_ablate("status " + dir.string());
  CHECK(status.status == 0);
  CHECK_THAT(status.text, Catch::Contains("4 done"));
}

TEST_CASE("run --precision bf16 records bf16 in summary.json, and an unknown precision is an error naming the flag",
          "[cli][precision]") {
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_precision";
  std::filesystem::remove_all(out);
  const auto sweep = write_temp("precision.yaml", R"(
name: precision
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: 4, batch_size: 2, eval_every: 4, eval_tokens: 32, log_every: 2}
)");
  const std::string args = run_args(sweep, out);
  const Output bad = run_ablate(args + " --precision fp16");
  CHECK(bad.status != 0);
  CHECK_THAT(bad.text, Catch::Contains("--precision") && Catch::Contains("fp16"));

  const Output good = run_ablate(args + " --precision bf16");
  INFO(good.text);
  REQUIRE(good.status == 0);
  const auto runs = summaries(out / "precision" / "runs");
  for (const auto& [id, summary] : runs) {
    CHECK(summary.at("precision") == "bf16");
    CHECK(summary.at("status") == "done");
  }
  CHECK(runs.size() == 1);
}

TEST_CASE("run records how the step ran in summary.json, and --cuda-graph on refuses a CPU device", "[cli][graph]") {
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_cuda_graph";
  std::filesystem::remove_all(out);
  const auto sweep = write_temp("cuda_graph.yaml", R"(
name: cuda_graph
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: 6, batch_size: 2, eval_every: 6, eval_tokens: 32, log_every: 3}
)");
  const std::string args = run_args(sweep, out);
  const Output on = run_ablate(args + " --cuda-graph on");
  CHECK(on.status == 2);
  CHECK_THAT(on.text, Catch::Contains("--cuda-graph on needs CUDA devices, and cpu is not one"));
  CHECK(!std::filesystem::exists(out / "cuda_graph" / "runs"));  // refused before any run started
  const Output bad = run_ablate(args + " --cuda-graph maybe");
  CHECK(bad.status != 0);
  CHECK_THAT(bad.text, Catch::Contains("--cuda-graph") && Catch::Contains("maybe"));

  for (const std::string policy : {"auto", "off"}) {
    CAPTURE(policy);
    std::filesystem::remove_all(out / "cuda_graph");
    const Output good = run_ablate(args + " --cuda-graph " + policy);
    INFO(good.text);
    REQUIRE(good.status == 0);
    for (const auto& [id, summary] : summaries(out / "cuda_graph" / "runs")) {
      CHECK(summary.at("cuda_graph") == (policy == "off" ? "off" : "off (CUDA graphs need a GPU)"));
      CHECK(summary.at("status") == "done");
    }
  }
}

TEST_CASE("the seed experiments at full size have the seeds' parameter counts", "[cli][seeds]") {
  struct Row {
    std::string file, arm;
    std::int64_t params;
  };
  // docs/components.md's parameter checksums (V = 49152, tied embedding)
  const std::vector<Row> rows = {{"exp1_deepseek_attention.yaml", "baseline", 132151808},
                                 {"exp5_moe_experts.yaml", "topk_silu", 25960192},
                                 {"simplified_ablation.yaml", "baseline", 53493248}};
  for (const auto& row : rows) {
    CAPTURE(row.file);
    const Output out = run_ablate("expand --json " + std::string(ABLATE_SOURCE_DIR) + "/sweeps/seeds/" + row.file);
    INFO(out.text.substr(0, 2000));
    REQUIRE(out.status == 0);
    const auto runs = nlohmann::json::parse(out.text);
    bool found = false;
    for (const auto& run : runs) {
      if (run["arm"] != row.arm) continue;
      found = true;
      CHECK(run["params_total"] == row.params);
    }
    CHECK(found);
  }
}

TEST_CASE("run refuses to train with an attention plugin that sees the future", "[cli]") {
  const auto sweep = write_temp("leaky.yaml", R"(
name: leaky
data: {tokenizer: {kind: byte}, seq_len: 16}
model: {d_model: 16, n_layers: 1, attention: {plugin: fixture_leaky_mean}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: 2, batch_size: 2}
)");
  const auto out_dir = std::filesystem::temp_directory_path() / "ablate_test_cli_leaky";
  std::filesystem::remove_all(out_dir);  // fresh: the checks below see only this run's output
  const Output out = run_ablate("--plugin-dir " + std::string(ABLATE_TEST_PLUGIN_DIR) + "/leaky run " + sweep.string() +
                                " --out " + out_dir.string());
  INFO(out.text);
  CHECK(out.status == 2);
  CHECK_THAT(out.text, Catch::Contains("the model of arm 'base' is not causal"));
  CHECK_THAT(out.text, Catch::Contains("block 0 attention (attention 'fixture_leaky_mean')"));
  CHECK_THAT(out.text, Catch::Contains(sweep.string() + ":4:"));
  // Refused before training: the sweep directory (<out>/<sweep name>) gets no report.
  CHECK_FALSE(std::filesystem::exists(out_dir / "leaky" / "report.md"));
}

TEST_CASE("report rebuilds report.md, results.csv and results.json from the run directories alone", "[cli][slow]") {
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_report";
  std::filesystem::remove_all(out);
  const std::string sweep = std::string(ABLATE_SOURCE_DIR) + "/sweeps/debug.yaml";
  const Output trained =
      run_ablate(run_args(sweep, out));
  INFO(trained.text);
  REQUIRE(trained.status == 0);
  const auto dir = out / "debug";
  for (const char* file : {"report.md", "results.csv", "results.json"}) std::filesystem::remove(dir / file);

  const Output report = run_ablate("report " + dir.string());
  INFO(report.text);
  REQUIRE(report.status == 0);
  CHECK(std::filesystem::exists(dir / "report.md"));
  CHECK(std::filesystem::exists(dir / "results.csv"));
  CHECK(std::filesystem::exists(dir / "sweep.yaml"));  // the sweep file as given, copied by run

  // results.json's per-arm mean of val_loss is the mean of the runs' summary.json values.
  std::ifstream in(dir / "results.json");
  const auto results = nlohmann::json::parse(in);
  std::map<std::string, std::vector<double>> losses;  // arm → final val losses
  for (const auto& entry : std::filesystem::directory_iterator(dir / "runs")) {
    std::ifstream s(entry.path() / "summary.json");
    const auto summary = nlohmann::json::parse(s);
    REQUIRE(summary.at("status") == "done");
    CHECK(summary.at("eval_seconds").get<double>() > 0);
    CHECK(summary.at("ablate_git_commit").get<std::string>().size() >= 7);
    losses[summary.at("arm").get<std::string>()].push_back(summary.at("val_loss").get<double>());
  }
  REQUIRE(results.at("groups").size() == 2);
  for (const auto& group : results.at("groups")) {
    const auto& values = losses.at(group.at("arm").get<std::string>());
    REQUIRE(values.size() == 2);
    CHECK(group.at("metrics").at("val_loss").at("n") == 2);
    CHECK(group.at("metrics").at("val_loss").at("mean").get<double>() ==
          Approx((values[0] + values[1]) / 2).epsilon(1e-12));
  }
  REQUIRE(results.at("val_loss_comparisons").size() == 1);
  const auto& comparison = results.at("val_loss_comparisons")[0];
  CHECK(comparison.at("arm") == "moe");
  CHECK(comparison.at("welch").at("difference").get<double>() ==
        Approx((losses["moe"][0] + losses["moe"][1] - losses["dense"][0] - losses["dense"][1]) / 2).margin(1e-12));
  CHECK(results.at("fair_comparisons").size() == 1);
  CHECK(results.at("provenance").at("sweep_started").get<std::string>().size() == 20);  // 2026-11-23T10:00:00Z
  CHECK(results.at("runs").size() == 4);
}

TEST_CASE("a sweep with a tune stage and a FLOP budget tunes each arm, then compares at equal FLOPs", "[cli][slow]") {
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_tune";
  std::filesystem::remove_all(out);
  const std::string sweep = std::string(ABLATE_SOURCE_DIR) + "/sweeps/tuned_equal_flops_cpu.yaml";
  const Output trained =
      run_ablate(run_args(sweep, out));
  INFO(trained.text);
  REQUIRE(trained.status == 0);
  const auto dir = out / "tuned_equal_flops_cpu";
  std::ifstream tune_in(dir / "tune.json");
  const auto tune = nlohmann::json::parse(tune_in);
  REQUIRE(tune.at("groups").size() == 2);
  for (const auto& group : tune["groups"]) {
    CAPTURE(group.dump());
    REQUIRE(group.at("chosen").is_number());
    // lr 1e-4 is far behind at the rung (30% of the steps): successive halving stops it.
    const auto& slow = group["points"][2];
    CHECK(slow["values"]["train.optimizer.lr"] == 1.0e-4);
    CHECK(slow["runs"][0]["status"] == "stopped");
    CHECK(group["chosen"] != 2);
  }
  // Replication runs: the chosen learning rate, the final split, the FLOP budget.
  std::ifstream sweep_in(dir / "sweep.json");
  const auto meta = nlohmann::json::parse(sweep_in);
  REQUIRE(meta.at("runs").size() == 6);
  CHECK(meta.at("tune_runs").size() == 6);
  std::map<std::string, std::int64_t> steps;
  for (const auto& run : meta["runs"]) {
    std::ifstream s(dir / "runs" / run["id"].get<std::string>() / "summary.json");
    const auto summary = nlohmann::json::parse(s);
    std::ifstream c(dir / "runs" / run["id"].get<std::string>() / "config.json");
    const auto config = nlohmann::json::parse(c);
    const auto& group = tune["groups"][run["arm"] == "narrow" ? 0 : 1];
    CHECK(config["train"]["optimizer"]["lr"] == group["points"][group["chosen"].get<std::size_t>()]["values"]["train.optimizer.lr"]);
    CHECK(config["train"]["eval_split"] == "final");
    CHECK(summary.at("status") == "done");
    CHECK(summary.at("stopped_by") == "flops");
    // Within half a step of the budget: steps = round(budget / FLOPs per step).
    const double per_step = 3.0 * summary.at("flops_per_token").get<double>() * 4 * 32;
    CHECK(std::abs(summary.at("train_flops").get<double>() - 2.0e9) <= per_step / 2 + 1);
    steps[run["arm"].get<std::string>()] = summary.at("steps").get<std::int64_t>();
  }
  CHECK(steps["narrow"] > 2 * steps["wide"]);  // the wider model trains fewer steps for the same FLOPs
  std::ifstream report_in(dir / "report.md");
  const std::string report((std::istreambuf_iterator<char>(report_in)), {});
  CHECK_THAT(report, Catch::Contains("**Comparison at equal training FLOPs: 2e+09 training FLOPs per run.**"));
  CHECK_THAT(report, Catch::Contains("## Tuning"));
  CHECK_THAT(report, Catch::Contains("**chosen:** train.optimizer.lr = "));
  CHECK_THAT(report, Catch::Contains("successive halving at rung 1"));
  CHECK(std::filesystem::exists(dir / "report_tuning.png"));
  CHECK(std::filesystem::exists(dir / "report_loss_vs_flops.png"));

  // Running again trains nothing: tuning and replication runs are all done (or stopped).
  const Output again =
      run_ablate(run_args(sweep, out));
  CHECK_THAT(again.text, Catch::Contains("trained 0, skipped 12"));
}

// ---- ablate plan ------------------------------------------------------------------------------

TEST_CASE("plan counts the runs expand lists and measures a positive time estimate", "[cli][plan]") {
  const std::string sweep = std::string(ABLATE_SOURCE_DIR) + "/sweeps/debug.yaml";
  const Output expand = run_ablate("expand --json " + sweep);
  REQUIRE(expand.status == 0);
  const auto runs = nlohmann::json::parse(expand.text);

  const Output out = run_ablate("plan --json --threads 1 --warmup-steps 2 " + sweep);
  INFO(out.text);
  REQUIRE(out.status == 0);
  const auto plan = nlohmann::json::parse(out.text);
  CHECK(plan["runs"] == runs.size());
  CHECK(plan["done"] == 0);
  CHECK(plan["to_train"] == runs.size());
  REQUIRE(plan["models"].size() == 2);  // dense and moe differ in the model
  for (const auto& m : plan["models"]) {
    CHECK(m["seconds_per_step"].get<double>() > 0);
    CHECK(m["seconds_per_eval_batch"].get<double>() > 0);
  }
  CHECK(plan["estimated_seconds"].get<double>() > 0);
  CHECK(plan["estimated_seconds"].get<double>() ==
        Catch::Detail::Approx(plan["models"][0]["seconds_to_train"].get<double>() + plan["models"][1]["seconds_to_train"].get<double>()));

  const Output text = run_ablate("plan --threads 1 --warmup-steps 1 " + sweep);
  INFO(text.text);
  REQUIRE(text.status == 0);
  CHECK(text.text.find(std::to_string(runs.size()) + " runs = 2 arm(s) x 1 grid point(s) x 2 seed(s)") != std::string::npos);
  CHECK(text.text.find("estimated time for the 4 run(s) to train: ") != std::string::npos);
}

TEST_CASE("plan --out counts the runs already done", "[cli][plan]") {
  const std::string sweep = std::string(ABLATE_SOURCE_DIR) + "/sweeps/debug.yaml";
  const auto runs = nlohmann::json::parse(run_ablate("expand --json " + sweep).text);
  const auto out_dir = std::filesystem::temp_directory_path() / "ablate_test_cli" / "plan_out";
  std::filesystem::remove_all(out_dir);
  const auto run_dir = out_dir / "debug" / "runs" / runs[1]["id"].get<std::string>();
  std::filesystem::create_directories(run_dir);
  std::ofstream(run_dir / "summary.json") << R"({"status": "done", "val_loss": 3.1})";
  const Output out = run_ablate("plan --json --warmup-steps 0 --out " + out_dir.string() + " " + sweep);
  INFO(out.text);
  REQUIRE(out.status == 0);
  const auto plan = nlohmann::json::parse(out.text);
  CHECK(plan["done"] == 1);
  CHECK(plan["to_train"] == runs.size() - 1);
  CHECK(plan["estimated_seconds"].is_null());
  std::filesystem::remove_all(out_dir);
}

TEST_CASE("plan --from prints the seeds advice of an earlier sweep directory", "[cli][plan]") {
  // A hand-made sweep directory: baseline mha [3.05, 3.11, 3.02], swiglu [3.07, 3.05, 3.10].
  // scipy 1.17.1 (see test_stats.cpp, "[power]"): minimal |Δ| at 3 and 3 seeds 0.1135261426245228,
  // seeds per arm for the observed Δ = 0.0133: n* = 121.644 → 122.
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_cli" / "plan_from";
  std::filesystem::remove_all(dir);
  nlohmann::json meta = {{"name", "earlier"}, {"arms", {"mha", "swiglu"}}, {"baseline", "mha"}, {"runs", nlohmann::json::array()}};
  const std::vector<std::pair<std::string, std::vector<double>>> losses = {{"mha", {3.05, 3.11, 3.02}},
                                                                           {"swiglu", {3.07, 3.05, 3.10}}};
  for (const auto& [arm, values] : losses) {
    for (std::size_t seed = 0; seed < values.size(); ++seed) {
      const std::string id = arm + std::to_string(seed);
      meta["runs"].push_back({{"id", id}, {"arm", arm}, {"seed", seed}, {"grid_point", nlohmann::json::object()}});
      std::filesystem::create_directories(dir / "runs" / id);
      std::ofstream(dir / "runs" / id / "summary.json")
          << nlohmann::json{{"id", id}, {"arm", arm}, {"seed", seed}, {"status", "done"}, {"val_loss", values[seed]}}.dump();
    }
  }
  std::ofstream(dir / "sweep.json") << meta.dump();
  const std::string sweep = std::string(ABLATE_SOURCE_DIR) + "/sweeps/debug.yaml";

  const Output text = run_ablate("plan --warmup-steps 0 --from " + dir.string() + " " + sweep);
  INFO(text.text);
  REQUIRE(text.status == 0);
  CHECK(text.text.find("swiglu vs mha: n = 3, 3; pooled sd 0.0370; observed Δ +0.0133; detectable |Δ| 0.1135; "
                       "seeds per arm needed 122") != std::string::npos);
  CHECK(text.text.find("difference within noise: 3 seeds can detect only |Δ| ≥ 0.1135; about 122 seeds per arm "
                       "would be needed for the observed 0.0133") != std::string::npos);

  const Output json = run_ablate("plan --json --warmup-steps 0 --from " + dir.string() + " " + sweep);
  INFO(json.text);
  REQUIRE(json.status == 0);
  const auto advice = nlohmann::json::parse(json.text)["seeds_advice"];
  REQUIRE(advice.size() == 1);
  CHECK(advice[0]["arm"] == "swiglu");
  CHECK(advice[0]["seeds_needed"] == 122);
  CHECK(advice[0]["detectable_difference"].get<double>() == Catch::Detail::Approx(0.1135261426245228).epsilon(1e-8));
  CHECK(advice[0]["underpowered"] == true);

  SECTION("a directory without sweep.json is an error") {
    const Output bad = run_ablate("plan --warmup-steps 0 --from " + (dir / "runs").string() + " " + sweep);
    CHECK(bad.status == 2);
    CHECK(bad.text.find("no sweep.json") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

// ---- ablate slurm -----------------------------------------------------------------------------

TEST_CASE("slurm writes a job array whose tasks, run as Slurm would, share the sweep by shards", "[cli][slurm]") {
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_slurm";
  std::filesystem::remove_all(out);
  const std::string sweep = std::string(ABLATE_SOURCE_DIR) + "/sweeps/debug.yaml";
  const Output written = run_ablate("slurm " + sweep + " --tasks 2 --out " + out.string() +
                                    " --device cpu --threads 1 --precision fp32 --partition gpu --time 01:00:00 --sbatch=--qos=short --dry-run");
  INFO(written.text);
  REQUIRE(written.status == 0);
  const auto script = out / "debug" / "slurm" / "ablate-debug.sbatch";
  std::ifstream in(script);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text.rfind("#!/bin/bash\n", 0) == 0);
  CHECK_THAT(text, Catch::Contains("#SBATCH --array=0-1\n"));
  CHECK_THAT(text, Catch::Contains("#SBATCH --partition=gpu\n"));
  CHECK_THAT(text, Catch::Contains("#SBATCH --time=01:00:00\n"));
  CHECK_THAT(text, Catch::Contains("#SBATCH --qos=short\n"));
  CHECK_THAT(text, Catch::Contains("--shard \"${task}/2\""));
  CHECK_THAT(text, Catch::Contains(" --precision 'fp32'\n"));
  CHECK_THAT(written.text, Catch::Contains("not submitted (--dry-run); submit with:  sbatch"));
  CHECK(std::filesystem::exists(out / "debug" / "slurm" / "ablate-debug-report.sbatch"));

  // Run the script as Slurm would run its two array tasks (here one after the other).
  const std::string env = "ABLATE_CACHE=" + (out / "cache").string() + " ";
  const auto task = [&](const std::string& id) {
    const std::string command = env + (id.empty() ? "" : "SLURM_ARRAY_TASK_ID=" + id + " ") + "bash " +
                                script.string() + " > " + (out / ("task" + id + ".log")).string() + " 2>&1";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  CHECK(task("") != 0);  // outside a job array the script refuses to run
  REQUIRE(task("0") == 0);
  const Output half = run_ablate("status " + (out / "debug").string());
  CHECK_THAT(half.text, Catch::Contains("2 done"));
  REQUIRE(task("1") == 0);
  const Output all = run_ablate("status " + (out / "debug").string());
  CHECK_THAT(all.text, Catch::Contains("4 done"));

  // Submitting where sbatch cannot be found: a clear error, and the script is still there.
  const auto log = out / "submit.log";
  const int status = std::system(("PATH=/nonexistent " + std::string(ABLATE_BINARY) + " slurm " + sweep +
                                  " --tasks 2 --out " + out.string() + " > " + log.string() + " 2>&1")
                                     .c_str());
  CHECK(WEXITSTATUS(status) == 2);
  std::ifstream log_in(log);
  CHECK_THAT(std::string((std::istreambuf_iterator<char>(log_in)), {}), Catch::Contains("sbatch failed"));
  CHECK(std::filesystem::exists(script));
}

TEST_CASE("a plugin whose factory throws is refused before anything trains, with the plugin's message and the arm's line",
          "[cli]") {
  const auto sweep = write_temp("throwing.yaml", R"(
name: throwing
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: 3, batch_size: 2, eval_every: 3, eval_tokens: 32}
arms:
  fine: {}
  broken: {model.norm: {plugin: fixture_throwing}}
)");
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_throwing";
  std::filesystem::remove_all(out);
  const Output run = run_ablate("--plugin-dir " + std::string(ABLATE_TEST_PLUGIN_DIR) + "/throwing " + run_args(sweep, out));
  INFO(run.text);
  CHECK(run.status == 2);  // bad input: the model of arm 'broken' cannot be built, so it cannot be proven causal
  CHECK_THAT(run.text, Catch::Contains("the model of arm 'broken' cannot be built"));
  CHECK_THAT(run.text, Catch::Contains("fixture_throwing: this factory always fails"));
  CHECK_THAT(run.text, Catch::Contains(sweep.string() + ":8:"));
  CHECK_THAT(run.text, !Catch::Contains("training on"));
  const Output status = run_ablate("status " + (out / "throwing").string());
  CHECK_THAT(status.text, Catch::Contains("2 pending"));
}

TEST_CASE("a plugin that fails while training fails its run, with the plugin's message, and the sweep goes on",
          "[cli]") {
  const auto sweep = write_temp("throwing_training.yaml", R"(
name: throwing_training
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model: {d_model: 16, n_layers: 1, attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 32}}
train: {steps: 3, batch_size: 2, eval_every: 3, eval_tokens: 32}
arms:
  broken: {model.norm: {plugin: fixture_throwing, when: training}}
  fine: {}
)");
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_throwing_training";
  std::filesystem::remove_all(out);
  const Output run = run_ablate("--plugin-dir " + std::string(ABLATE_TEST_PLUGIN_DIR) + "/throwing " + run_args(sweep, out));
  INFO(run.text);
  CHECK(run.status == 1);  // a run failed
  CHECK_THAT(run.text, Catch::Contains("fixture_throwing: this norm fails once trained"));
  CHECK_THAT(run.text, Catch::Contains("trained 1, skipped 0 (already done), failed 1"));
  const Output status = run_ablate("status " + (out / "throwing_training").string());
  CHECK_THAT(status.text, Catch::Contains("1 done, 1 failed"));
}

TEST_CASE("run refuses a model built with any untrusted component before training, naming it and the sweep line",
          "[cli][causality]") {
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_untrusted";
  std::filesystem::remove_all(out);
  // slot, plugin, what the refusal must say
  const std::vector<std::array<std::string, 3>> cases = {
      {"attention", "late_leak", "its output at position 32 depends on the input at position 33"},
      {"attention", "eval_leak", "in evaluation mode, gradients on"},
      {"attention", "seq_len_leak", "its output at position 0 depends on the input at position 1"},
      {"attention", "gated_leak", "block 0 attention (attention 'gated_leak')"},
      {"norm", "time_norm", "block 0 norm1 (norm 'time_norm')"},
      {"ffn", "future_shift", "block 0 ffn (mlp 'future_shift')"},
      {"ffn", "row_mixer", "depend on another sequence"},
      {"ffn", "late_nan", "are NaN or infinite"},
  };
  for (const auto& [slot, plugin, says] : cases) {
    CAPTURE(plugin);
    const auto sweep = write_temp("untrusted_" + plugin + ".yaml", R"(name: untrusted
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 64}
model:
  d_model: 32
  n_layers: 2
  attention: {plugin: mha, n_heads: 2}
  ffn: {plugin: silu, d_ff: 64}
train: {steps: 5, batch_size: 4, eval_every: 5, eval_tokens: 256}
arms:
  honest: {}
  untrusted:
    model.)" + slot + ": {plugin: " + plugin + "}\n");
    // One cache for every case: the corpus is tokenized once.
    const Output run = run_ablate("--plugin-dir " + std::string(ABLATE_TEST_PLUGIN_DIR) + "/untrusted run " +
                                  sweep.string() + " --out " + out.string() + " --threads 1 --cache " +
                                  (out / "cache").string());
    INFO(run.text);
    CHECK(run.status != 0);
    CHECK_THAT(run.text, Catch::Contains("the model of arm 'untrusted' is not causal"));
    CHECK_THAT(run.text, Catch::Contains(says));
    CHECK_THAT(run.text, Catch::Contains(sweep.string() + ":12:"));  // the arm's line that chose it
    CHECK(std::filesystem::is_empty(out / "untrusted" / "runs"));  // no run directory was made
    CHECK_THAT(run.text, !Catch::Contains("training on"));  // refused before any run trained
  }
}

TEST_CASE("run refuses an MoE whose measured cost is not its declared one, and trains it only when the sweep trusts it",
          "[cli][cost]") {
  const auto out = std::filesystem::temp_directory_path() / "ablate_test_cli_dense_moe";
  std::filesystem::remove_all(out);
  const std::string base = R"(name: dense_moe
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model:
  d_model: 16
  n_layers: 1
  attention: {plugin: mha, n_heads: 2}
  ffn: {plugin: dense_moe}
train: {steps: 4, batch_size: 2, eval_every: 4, eval_tokens: 32, log_every: 2}
)";
  const std::string prefix = "--plugin-dir " + std::string(ABLATE_TEST_PLUGIN_DIR) + "/untrusted ";
  const auto refused_sweep = write_temp("dense_moe.yaml", base);
  const Output refused = run_ablate(prefix + run_args(refused_sweep, out));
  INFO(refused.text);
  CHECK(refused.status != 0);
  CHECK_THAT(refused.text, Catch::Contains("the ffn costs other than its plugin declares"));
  CHECK_THAT(refused.text, Catch::Contains("forward FLOPs per token declared"));
  CHECK_THAT(refused.text, Catch::Contains("MISMATCH"));
  CHECK_THAT(refused.text, Catch::Contains(refused_sweep.string() + ":7:"));
  CHECK_THAT(refused.text, Catch::Contains("trust: {accept_declared_cost: [dense_moe]}"));

  const auto trusted_sweep = write_temp("dense_moe_trusted.yaml", base + "trust: {accept_declared_cost: [dense_moe]}\n");
  const Output trusted = run_ablate(prefix + run_args(trusted_sweep, out));
  INFO(trusted.text);
  REQUIRE(trusted.status == 0);
  CHECK_THAT(trusted.text, Catch::Contains("accepted by trust.accept_declared_cost"));
  CHECK_THAT(read_text(out / "dense_moe" / "report.md"), Catch::Contains("**Declared cost taken on trust:**"));
  for (const auto& [id, summary] : summaries(out / "dense_moe" / "runs")) {
    CAPTURE(id);
    CHECK(summary.at("cost_check").size() == 3);  // attention, ffn, norm
    CHECK(summary.at("causality").at("causal") == true);
  }

  // A FLOP budget cannot rest on a declared cost that is not what the run spends.
  const auto budget_sweep = write_temp("dense_moe_budget.yaml", base + "trust: {accept_declared_cost: [dense_moe]}\n"
                                                               "budget: {kind: flops, value: 1.0e9}\n");
  std::string budget_text = read_text(budget_sweep);
  budget_text.replace(budget_text.find("steps: 4, "), 10, "");
  write_temp("dense_moe_budget.yaml", budget_text);
  const Output budget = run_ablate(prefix + run_args(budget_sweep, out));
  INFO(budget.text);
  CHECK(budget.status != 0);
  CHECK_THAT(budget.text, Catch::Contains("a FLOP budget needs the FLOPs each run really spends"));
}
