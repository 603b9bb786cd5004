// write_report (ablate/report.h) on synthetic sweep directories written by the tests: tables,
// loss and accuracy comparisons, fair comparisons (time to target, equal tokens, equal time), MoE
// expert load, provenance, red flags, results.csv and the gnuplot figures.
// Limits: the run directories are hand-made (no training); expected statistics were computed with
// scipy 1.17.1 and are pasted where they are checked.
//
//   ./build-report/tests/test_engine "[report]"
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ablate/engine/error.h"
#include "ablate/engine/report.h"
#include "ablate/engine/seeds_advice.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct FakeRun {
  std::string id, arm;
  int seed = 0;
  std::string status = "done";  // "pending": no summary.json at all
  double final_loss = 3.0;
  double accuracy = 0.3;
  std::string error;
  std::string model_tree;
  double seconds_per_eval = -1.0;       // < 0: 2 + 0.1·seed
  json extra_summary = json::object();  // merged into summary.json
  std::vector<std::vector<double>> final_expert_load;  // per MoE layer; empty: no expert_load lines
};

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("ablate_test_report_{}_{}", name, ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir / "runs");
  return dir;
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Writes sweep.json and the run directories of `runs`; arms in first-seen order, first = baseline.
void write_sweep(const fs::path& dir, const std::vector<FakeRun>& runs, int seq_len = 64) {
  json meta = {{"name", "synth"}, {"file", "sweeps/synth.yaml"}, {"runs", json::array()}};
  std::vector<std::string> arms;
  for (const auto& r : runs) {
    if (std::find(arms.begin(), arms.end(), r.arm) == arms.end()) arms.push_back(r.arm);
    meta["runs"].push_back({{"id", r.id}, {"arm", r.arm}, {"seed", r.seed}, {"grid_point", json::object()}});
    if (r.status == "pending") continue;
    const fs::path run_dir = dir / "runs" / r.id;
    const bool gqa = r.arm == "gqa";
    write(run_dir / "config.json",
          json{{"data", {{"seq_len", seq_len}}}, {"model", {{"attention", {{"plugin", r.arm}}}}}, {"seed", r.seed}}.dump());
    // Loss falls from 8 to the final loss over 5 evaluations, 1000 tokens and ~2 s apart.
    std::string metrics;
    // MoE runs: each expert's load moves linearly from 1/E to its final value.
    const double spe = r.seconds_per_eval >= 0 ? r.seconds_per_eval : 2.0 + 0.1 * r.seed;
    for (int i = 0; i <= 4; ++i) {
      const double loss = r.final_loss + (8.0 - r.final_loss) * (4 - i) / 4.0;
      json line = {{"step", i * 10}, {"tokens", i * 1000}, {"seconds", i * spe},
                   {"train_loss", loss + 0.05}, {"val_loss", loss}, {"val_accuracy", 0.1},
                   {"val_perplexity", std::exp(loss)}, {"lr", 1e-3}};
      for (const auto& layer : r.final_expert_load) {
        std::vector<double> load;
        for (double f : layer) load.push_back(1.0 / layer.size() + (f - 1.0 / layer.size()) * i / 4.0);
        line["expert_load"].push_back(load);
      }
      metrics += line.dump() + "\n";
    }
    if (r.status == "failed") metrics = metrics.substr(0, metrics.find('\n') + 1);
    write(run_dir / "metrics.jsonl", metrics);
    json summary = {{"id", r.id}, {"arm", r.arm}, {"seed", r.seed}, {"status", r.status}, {"grid_point", json::object()},
                    {"device", "cpu"}, {"params_total", gqa ? 1'250'000 : 1'500'000},
                    {"params_active", gqa ? 1'250'000 : 1'500'000}, {"flops_per_token", gqa ? 2.5e6 : 3.0e6},
                    {"model_tree", r.model_tree.empty() ? "Model(attention=" + r.arm + ")" : r.model_tree},
                    {"components", json::array({{{"part", "attention"}, {"plugin", r.arm}, {"options", {{"n_heads", 4}}},
                                                 {"count", 2}, {"params_total", 500000}, {"params_active", 500000},
                                                 {"flops_per_token", 1.0e6}}})},
                    {"data", {{"corpus", "kjv"}, {"tokenizer", "byte"}, {"split_rule", "every 10th book"},
                              {"vocab_size", 256}, {"train_documents", 60}, {"train_tokens", 4000000},
                              {"val_documents", 6}, {"val_tokens", 400000}, {"overlap_documents", 0}}}};
    if (r.status == "failed") {
      summary["error"] = r.error;
    } else {
      summary.update(json{{"val_loss", r.final_loss}, {"val_accuracy", r.accuracy},
                          {"val_perplexity", std::exp(r.final_loss)}, {"train_loss", r.final_loss + 0.05},
                          {"train_seconds", 8.0 + 0.4 * r.seed}, {"tokens", 4000}, {"steps", 40},
                          {"tokens_per_second", 4000.0 / (8.0 + 0.4 * r.seed)}, {"peak_memory_bytes", 0}});
    }
    summary.update(r.extra_summary);
    write(run_dir / "summary.json", summary.dump(2));
  }
  meta["arms"] = arms;
  meta["baseline"] = arms.front();
  write(dir / "sweep.json", meta.dump(2));
}

/// The baseline "mha" has 3 finished seeds; "gqa" has 2 finished and 1 failed.
std::vector<FakeRun> two_arms_three_seeds() {
  return {{"a000000000000000", "mha", 0, "done", 3.05}, {"a000000000000001", "mha", 1, "done", 3.11},
          {"a000000000000002", "mha", 2, "done", 3.02}, {"b000000000000000", "gqa", 0, "done", 3.21},
          {"b000000000000001", "gqa", 1, "done", 3.18},
          {"b000000000000002", "gqa", 2, "failed", 0.0, 0.0, "CUDA out of memory in attention"}};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a sweep of two arms and three seeds gives tables, a comparison and red flags", "[report]") {
  const fs::path dir = fresh_dir("two_arms");
  write_sweep(dir, two_arms_three_seeds());
  const fs::path report = ablate::write_report(dir);
  REQUIRE(report == dir / "report.md");
  const std::string md = read(report);
  CAPTURE(md);

  SECTION("the title and the sections are there, red flags first") {
    CHECK(md.rfind("# Ablation report: synth\n", 0) == 0);
    const auto flags = md.find("## Red flags"), arms = md.find("## Arms"), cmp = md.find("## Comparisons with the baseline"),
               plots = md.find("## Plots"), runs = md.find("## Runs"), data = md.find("## Data"),
               audit = md.find("## What each arm trained");
    REQUIRE(flags != std::string::npos);
    CHECK(flags < arms);
    CHECK(arms < cmp);
    CHECK(cmp < plots);
    CHECK(plots < runs);
    CHECK(runs < data);
    CHECK(data < audit);
    CHECK(audit != std::string::npos);
  }
  SECTION("the arm table has mean ± sd and the Student t interval") {
    // baseline [3.05, 3.11, 3.02]: mean 3.06, sd 0.045825756949558344 (numpy ddof=1),
    // scipy.stats.t.interval(0.95, 2, loc=3.06, scale=sem) = (2.9461625089920975, 3.1738374910079026)
    CHECK(contains(md, "| mha (baseline) | 3 / 0 / 0 / 3 | 3.0600 ± 0.0458 | [2.9462, 3.1738] |"));
    // gqa: [3.21, 3.18] (the failed seed is excluded): mean 3.195, sd 0.0212
    CHECK(contains(md, "| gqa | 2 / 0 / 1 / 3 | 3.1950 ± 0.0212 |"));
    CHECK(contains(md, "| mha | 1.50 | 1.50 | 3.00 | 8.4 | n/a | 4,000 | 477 | n/a |"));  // no eval_seconds recorded
  }
  SECTION("the comparison has Welch's t, df and p as scipy computes them") {
    // scipy.stats.ttest_ind([3.21, 3.18], [3.05, 3.11, 3.02], equal_var=False)
    //   → t = 4.438772657244665, p = 0.022911399872563572, df = 2.894291754756867
    CHECK(contains(md, "| gqa | 2 (1 failed), 3 | +0.1350 |"));
    CHECK(contains(md, "| 4.44 (2.9) | 0.0229 | 0.0229 |"));  // one comparison: Holm p = p
  }
  SECTION("the failed run and the missing seed are red flags, with the error") {
    CHECK(contains(md, "- **Run failed:** `b000000000000002` (gqa, seed 2): CUDA out of memory in attention. "
                       "Excluded from the statistics."));
    CHECK(contains(md, "- **Too few seeds:** `gqa` has 2 finished run(s) of 3;"));
    CHECK_FALSE(contains(md, "**Too few seeds:** `mha`"));
    CHECK_FALSE(contains(md, "non-causal"));
    CHECK_FALSE(contains(md, "Identical models"));
  }
  SECTION("the runs, the data and the audit are listed") {
    CHECK(contains(md, "| `b000000000000002` | gqa | 2 | — | failed |"));
    CHECK(contains(md, "| Training split | 60 documents, 4,000,000 tokens |"));
    CHECK(contains(md, "| Documents in both splits | 0 |"));
    CHECK(contains(md, "| attention | gqa | `{\"n_heads\":4}` | 2 | 0.500 | 0.500 | 1.00 |"));
    CHECK(contains(md, "<details><summary>Model tree of gqa"));
    CHECK(contains(md, "Model(attention=gqa)"));
  }
  SECTION("results.csv has a header and one row per run") {
    const std::string csv = read(dir / "results.csv");
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 7);
    CHECK(csv.rfind("id,arm,seed,grid_point,status,error,val_loss,", 0) == 0);
    CHECK(contains(csv, "\nb000000000000002,gqa,2,,failed,CUDA out of memory in attention,"));
    CHECK(contains(csv, "\na000000000000000,mha,0,,done,,3.05,"));
  }
  SECTION("the plots exist as PNG and SVG and are embedded") {
    for (const std::string stem : {"report_loss_vs_time", "report_loss_vs_tokens", "report_final_loss",
                                   "report_throughput"}) {
      CAPTURE(stem);
      const std::string png = read(dir / (stem + ".png"));
      REQUIRE(png.size() > 1000);
      CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
      const std::string svg = read(dir / (stem + ".svg"));
      CHECK(contains(svg, "<svg"));
      CHECK(contains(md, fmt::format("![", stem)));
      CHECK(contains(md, fmt::format("]({}.png)", stem)));
      CHECK(contains(md, fmt::format("[SVG version]({}.svg)", stem)));
    }
    // CPU runs record no peak memory: a warning line instead of a figure.
    CHECK(contains(md, "> **Warning:** plot \""));
    CHECK_FALSE(fs::exists(dir / "report_memory.png"));
  }
  fs::remove_all(dir);
}

TEST_CASE("single seeds give no test, only reasons", "[report]") {
  const fs::path dir = fresh_dir("single");
  write_sweep(dir, {{"a1", "mha", 0, "done", 3.0}, {"b1", "gqa", 0, "done", 2.9}, {"b2", "gqa", 1, "pending"}});
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);
  CHECK(contains(md, "| gqa | 1, 1 | -0.1000 | not defined: fewer than 2 runs in an arm (n = 1 and 1)"));
  CHECK(contains(md, "| mha (baseline) | 1 / 0 / 0 / 1 | 3.0000 | not defined: a single run has no spread (n = 1) |"));
  CHECK(contains(md, "| `b2` | gqa | 1 | — | pending |"));
  CHECK(contains(md, "**Incomplete sweep:** 1 of 3 runs are pending, running or interrupted"));
  CHECK(std::count(md.begin(), md.end(), '\n') > 20);
  fs::remove_all(dir);
}

TEST_CASE("runs timed on a busy machine are a red flag that says to compare losses, not times", "[report]") {
  const fs::path dir = fresh_dir("busy");
  std::vector<FakeRun> runs = {{"a0", "x", 0, "done", 3.0}, {"a1", "x", 1, "done", 3.1}, {"b0", "y", 0, "done", 3.2}};
  runs[0].extra_summary = {{"load_average", 9.6}, {"cpu_count", 2}};   // busy
  // A CPU run with a thread per core keeps the load near the core count by itself: not busy.
  runs[1].extra_summary = {{"load_average", 2.1}, {"cpu_count", 2}};
  runs[2].extra_summary = {{"load_average", 2.6}, {"cpu_count", 2}};  // busy: beyond 2 cores + 0.5
  write_sweep(dir, runs);
  const std::string md = read(ablate::write_report(dir));
  CHECK(contains(md, "**Busy machine:** 2 run(s) ended with a 1-minute load average beyond the machine's core count: "
                     "`a0` (9.6 on 2 cores), `b0` (2.6 on 2 cores)."));
  fs::remove_all(dir);
}

TEST_CASE("near-perfect accuracy and identical models are red flags", "[report]") {
  const fs::path dir = fresh_dir("leaky");
  std::vector<FakeRun> runs;
  for (int s = 0; s < 3; ++s) {
    runs.push_back({fmt::format("a{}", s), "mha", s, "done", 2.0, 0.3, "", "Model(same)"});
    // T = 64: threshold 1 − 1/64 − 0.02 = 0.964375
    runs.push_back({fmt::format("b{}", s), "leaky", s, "done", 0.05, 0.97, "", "Model(same)"});
  }
  write_sweep(dir, runs, 64);
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);
  CHECK(contains(md, "**Looks like non-causal attention:** run `b0` (leaky, seed 0) has validation accuracy 0.9700 "
                     "≥ 1 − 1/T − 0.02 = 0.9644 (T = 64)."));
  CHECK(contains(md, "**Looks like non-causal attention:** run `b2` (leaky, seed 2) has validation loss 0.0500 < 0.1"));
  CHECK_FALSE(contains(md, "run `a0` (mha"));
  CHECK(contains(md, "**Identical models:** arms `mha` and `leaky` built the same `model_tree` although their model "
                     "configurations differ"));
  fs::remove_all(dir);
}

TEST_CASE("a directory without sweep.json is an error naming the path", "[report]") {
  const fs::path dir = fresh_dir("empty");
  try {
    ablate::write_report(dir);
    FAIL("no exception");
  } catch (const ablate::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains((dir / "sweep.json").string()));
  }
  fs::remove_all(dir);
}

TEST_CASE("a faster-but-worse arm is compared at a target loss, equal tokens and equal time", "[report]") {
  const fs::path dir = fresh_dir("fair");
  // "big" (baseline): 2 s per evaluation, final losses 2.9 and 3.1. "small": 1 s per evaluation (twice as fast),
  // final losses 3.3 and 3.5 (worse). Curves: loss_i = f + (8 − f)(4 − i)/4 at tokens 1000·i, i = 0..4.
  const json version = {{"ablate_version", "0.3.0"}};
  std::vector<FakeRun> runs = {{"a0", "big", 0, "done", 2.9, 0.40}, {"a1", "big", 1, "done", 3.1, 0.42},
                               {"b0", "small", 0, "done", 3.3, 0.35}, {"b1", "small", 1, "done", 3.5, 0.36}};
  for (auto& r : runs) {
    r.seconds_per_eval = r.arm == "big" ? 2.0 : 1.0;
    r.extra_summary = version;
  }
  write_sweep(dir, runs);
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);

  SECTION("the rule, the target and the common budgets are stated") {
    const auto fair = md.find("## Fair comparisons");
    REQUIRE(fair != std::string::npos);
    CHECK(md.find("## Comparisons with the baseline") < fair);
    CHECK(fair < md.find("## Plots"));
    CHECK(contains(md, "faster-but-worse"));
    CHECK(contains(md, "worst arm's mean final validation loss"));
    // target = mean(3.3, 3.5) = 3.4; every run reached 4000 tokens; the shortest run trained 4 s (small: 4 × 1 s).
    CHECK(contains(md, "Target loss **3.4000** nats/token (mean final validation loss of `small`). Equal tokens: "
                       "**4,000**. Equal wall time: **4.00 s** of training."));
  }
  SECTION("time and tokens to target are interpolated; a seed that never reaches it is counted out") {
    // big, f = 2.9: between i = 3 (4.175) and i = 4 (2.9): fraction (4.175 − 3.4)/1.275 = 0.607843 → 3607.84 tokens,
    //   7.21569 s; f = 3.1: (4.325 − 3.4)/1.225 = 0.755102 → 3755.10 tokens, 7.51020 s. Means 3681.47, 7.36295.
    // small, f = 3.3: (4.475 − 3.4)/1.175 = 0.914894 → 3914.89 tokens, 3.91489 s; f = 3.5 never reaches 3.4.
    // Loss at 4000 tokens = final loss; at 4 s: big is at i = 2 (5.45, 5.55), small at its end (3.3, 3.5).
    CHECK(contains(md, "| big (baseline) | 2 | 7.36 (2 of 2) | 3,681 (2 of 2) | 3.0000 ± 0.1414 (n = 2) | "
                       "5.5000 ± 0.0707 (n = 2) |"));
    CHECK(contains(md, "| small | 2 | 3.91 (1 of 2) | 3,915 (1 of 2) | 3.4000 ± 0.1414 (n = 2) | "
                       "3.4000 ± 0.1414 (n = 2) |"));
  }
  SECTION("validation accuracy gets its own Welch comparison") {
    // scipy.stats.ttest_ind([0.35, 0.36], [0.40, 0.42], equal_var=False)
    //   → t = -4.919349550499548, p = 0.06928617334395278, df = 1.47058823529412; Δ = -0.055
    REQUIRE(contains(md, "### Validation accuracy against the baseline"));
    CHECK(contains(md, "| small | 2, 2 | -0.0550 |"));
    CHECK(contains(md, "| -4.92 (1.5) | 0.0693 | 0.0693 |"));
  }
  SECTION("the provenance line comes first and says what is missing") {
    const auto prov = md.find("**Provenance:** ablate 0.3.0 (git commit not recorded) · devices: cpu · LibTorch not recorded");
    REQUIRE(prov != std::string::npos);
    CHECK(prov < md.find("## Red flags"));
  }
  SECTION("no MoE run: no expert-load section") {
    CHECK_FALSE(contains(md, "## Mixture of experts"));
  }
  SECTION("report.target_loss replaces the worst arm's loss as the target, in report.md and results.json") {
    json meta = json::parse(read(dir / "sweep.json"));
    meta["report"] = {{"target_loss", 3.2}};
    write(dir / "sweep.json", meta.dump());
    const std::string md2 = read(ablate::write_report(dir));
    CHECK(contains(md2, "Target loss **3.2000** nats/token (report.target_loss)."));
    // big, f = 2.9: (4.175 − 3.2)/1.275 = 0.764706 → 3764.71 tokens; f = 3.1: (4.325 − 3.2)/1.225 = 0.918367 →
    // 3918.37 tokens; mean 3841.54. small (final 3.3 and 3.5) never reaches 3.2.
    CHECK(contains(md2, "| big (baseline) | 2 | 7.68 (2 of 2) | 3,842 (2 of 2) |"));
    CHECK(contains(md2, "| small | 2 | not reached (0 of 2) | not reached (0 of 2) |"));
    const json results = json::parse(read(dir / "results.json"));
    REQUIRE(results.at("fair_comparisons").size() == 1);
    const auto& fair = results["fair_comparisons"][0];
    CHECK(fair.at("target_loss").get<double>() == Approx(3.2));
    CHECK(fair.at("target_from") == "report.target_loss");
    CHECK(fair.at("arms")[0].at("tokens_to_target").at("mean").get<double>() == Approx(3841.54).epsilon(1e-5));
    CHECK(fair.at("arms")[1].at("tokens_to_target").is_null());
  }
  fs::remove_all(dir);
}

TEST_CASE("MoE arms get a per-expert load plot and a final max/min load ratio", "[report]") {
  const fs::path dir = fresh_dir("moe");
  std::vector<FakeRun> runs = {{"d0", "dense", 0, "done", 3.0}, {"d1", "dense", 1, "done", 3.1},
                               {"m0", "moe", 0, "done", 2.9}, {"m1", "moe", 1, "done", 2.95}};
  // seed 0: layer ratios 0.4/0.1 = 4 and 1 → 2.5; seed 1: 0.5/0.1 = 5 and 0.32/0.2 = 1.6 → 3.3.
  // Over seeds: mean 2.9, sd 0.8/√2 = 0.5657; worst layer 5.
  runs[2].final_expert_load = {{0.4, 0.3, 0.2, 0.1}, {0.25, 0.25, 0.25, 0.25}};
  runs[3].final_expert_load = {{0.5, 0.2, 0.2, 0.1}, {0.32, 0.28, 0.2, 0.2}};
  runs[0].extra_summary = {{"ablate_version", "0.3.0"}, {"torch_version", "2.5.1"}};
  runs[2].extra_summary = {{"moe_dropped_fraction", 0.02}};  // a capacity dropped 2 % and 4 % of the assignments
  runs[3].extra_summary = {{"moe_dropped_fraction", 0.04}};
  write_sweep(dir, runs);
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);
  REQUIRE(contains(md, "## Mixture of experts: expert load"));
  CHECK(contains(md, "| moe | 2 | 2 | 4 | 2.90 ± 0.57 (n = 2) | 3.00 % | worst layer 5.00 |"));
  const json results = json::parse(read(dir / "results.json"));
  bool found = false;
  for (const auto& g : results["groups"])
    if (g["arm"] == "moe") {
      found = true;
      CHECK(g["metrics"]["moe_dropped_fraction"]["mean"].get<double>() == Approx(0.03));
    }
  CHECK(found);
  CHECK_FALSE(contains(md, "| dense | 2 | 2 |"));
  CHECK(contains(md, "**Provenance:** ablate 0.3.0 (git commit not recorded) · devices: cpu · LibTorch 2.5.1"));

  const std::string png = read(dir / "report_expert_load_moe.png");
  REQUIRE(png.size() > 1000);
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  const std::string svg = read(dir / "report_expert_load_moe.svg");
  CHECK(contains(svg, "<svg"));
  CHECK(contains(svg, "expert 3"));
  CHECK(contains(svg, "1/E = 0.25"));
  CHECK(contains(md, "](report_expert_load_moe.png)"));
  CHECK_FALSE(fs::exists(dir / "report_expert_load_dense.png"));
  // Kept for a look at the figure: ABLATE_KEEP_REPORT=1 leaves the directory in place.
  if (!std::getenv("ABLATE_KEEP_REPORT")) fs::remove_all(dir);
}

TEST_CASE("MFU is a column of the arm table and a metric of results.json once a run has one", "[report][mfu]") {
  const fs::path dir = fresh_dir("mfu");
  auto runs = two_arms_three_seeds();
  for (auto& r : runs)
    r.extra_summary = r.arm == "mha"
                          ? json{{"precision", "bf16"}, {"peak_flops_per_second", 989.4e12}, {"mfu", 0.40 + 0.01 * r.seed}}
                          : json{{"precision", "fp32"}, {"peak_flops_per_second", nullptr}, {"mfu", nullptr},
                                 {"mfu_reason", "no peak known for cpu"}};
  write_sweep(dir, runs);
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);
  CHECK(contains(md, "| Throughput (tokens/s) | Peak memory (MiB) | MFU (%) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"));
  CHECK(contains(md, "| mha | 1.50 | 1.50 | 3.00 | 8.4 | n/a | 4,000 | 477 | n/a | 41.0 |"));  // mean of 40, 41, 42 %
  CHECK(contains(md, "| n/a | n/a |\n"));  // gqa: no peak known
  CHECK(contains(md, "MFU (model FLOPs utilisation)"));
  const std::string csv = read(dir / "results.csv");
  CHECK(contains(csv, ",steps,train_flops,peak_flops_per_second,mfu,device,precision\n"));
  CHECK(contains(csv, ",989400000000000,0.4,"));  // seed 0 of mha: its peak and MFU
  CHECK(contains(csv, ",bf16\n"));

  const json results = json::parse(read(dir / "results.json"));
  const auto& mha = results["groups"][0];
  REQUIRE(mha["arm"] == "mha");
  CHECK(mha["metrics"]["mfu"]["n"] == 3);
  CHECK(mha["metrics"]["mfu"]["mean"].get<double>() == Approx(0.41));
  CHECK(results["groups"][1]["metrics"]["mfu"]["n"] == 0);
  for (const auto& run : results["runs"]) {
    CAPTURE(run.dump());
    if (run["arm"] == "mha") {
      CHECK(run["peak_flops_per_second"] == 989.4e12);
      CHECK(run["precision"] == "bf16");
      CHECK(run["mfu"].get<double>() == Approx(0.40 + 0.01 * run["seed"].get<double>()));
    } else {
      CHECK(run["mfu"].is_null());
      CHECK(run["mfu_reason"] == "no peak known for cpu");
    }
  }
  fs::remove_all(dir);
}

TEST_CASE("without a run that has an MFU the arm table has no MFU column", "[report][mfu]") {
  const fs::path dir = fresh_dir("no_mfu");
  auto runs = two_arms_three_seeds();
  for (auto& r : runs) r.extra_summary = {{"mfu", nullptr}, {"mfu_reason", "no peak known for cpu"}};
  write_sweep(dir, runs);
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);
  CHECK(contains(md, "| Throughput (tokens/s) | Peak memory (MiB) |\n"));
  CHECK_FALSE(contains(md, "MFU"));
  fs::remove_all(dir);
}

TEST_CASE("the report says how many seeds each comparison needs", "[report][power]") {
  // Expected numbers: scipy 1.17.1, the exact power of the two-sided two-sample t-test (noncentral t,
  // α = 0.05, power 0.8) solved with brentq; the script is in the comment of test_stats.cpp's
  // "[power]" tests.
  const fs::path dir = fresh_dir("power");
  SECTION("a small difference is within noise") {
    // baseline [3.05, 3.11, 3.02], swiglu [3.07, 3.05, 3.10]: pooled sd 0.03696845502136474,
    // Δ = +0.0133, minimal |Δ| at 3 and 3 seeds 0.1135261426245228, seeds needed 121.64 → 122.
    // wide [3.30, 3.28, 3.33]: Δ = +0.2433 above 0.1135; 2 seeds per arm would do.
    write_sweep(dir, {{"a0", "mha", 0, "done", 3.05}, {"a1", "mha", 1, "done", 3.11}, {"a2", "mha", 2, "done", 3.02},
                      {"s0", "swiglu", 0, "done", 3.07}, {"s1", "swiglu", 1, "done", 3.05},
                      {"s2", "swiglu", 2, "done", 3.10}, {"w0", "wide", 0, "done", 3.30},
                      {"w1", "wide", 1, "done", 3.28}, {"w2", "wide", 2, "done", 3.33}});
    const std::string md = read(ablate::write_report(dir));
    CAPTURE(md);
    const auto section = md.find("## How many seeds");
    REQUIRE(section != std::string::npos);
    CHECK(md.find("### Validation accuracy against the baseline") < section);
    CHECK(section < md.find("## Plots"));
    CHECK(contains(md, "| swiglu | 3, 3 | 0.0370 | +0.0133 | 0.1135 | 122 |"));
    CHECK(contains(md, "- **swiglu** against `mha`: difference within noise: 3 seeds can detect only |Δ| ≥ 0.1135; "
                       "about 122 seeds per arm would be needed for the observed 0.0133.\n"));
    CHECK(contains(md, "| wide | 3, 3 | 0.0370 | +0.2433 | 0.1135 | 2 |"));
    CHECK(contains(md, "- **wide** against `mha`: enough seeds: 3 seeds detect |Δ| ≥ 0.1135 with probability 0.8, "
                       "and the observed 0.2433 is larger (2 seeds per arm would suffice).\n"));

    const auto advice = ablate::seeds_advice(dir);
    REQUIRE(advice.size() == 2);
    CHECK(advice[0].arm == "swiglu");
    CHECK(advice[0].baseline == "mha");
    REQUIRE(advice[0].power);
    CHECK(*advice[0].power->seeds_needed == 122);
    CHECK(advice[0].power->detectable_difference == Catch::Detail::Approx(0.1135261426245228).epsilon(1e-8));
  }
  SECTION("unequal seeds and a single run") {
    // two_arms_three_seeds: gqa [3.21, 3.18] against [3.05, 3.11, 3.02]: pooled sd 0.039370039370058986,
    // minimal |Δ| at 2 and 3 seeds 0.15295599619477163 > Δ = 0.135; n* = 2.714 → 3 per arm.
    auto runs = two_arms_three_seeds();
    runs.push_back({"c000000000000000", "mla", 0, "done", 3.0});
    write_sweep(dir, runs);
    const std::string md = read(ablate::write_report(dir));
    CAPTURE(md);
    CHECK(contains(md, "| gqa | 2, 3 | 0.0394 | +0.1350 | 0.1530 | 3 |"));
    CHECK(contains(md, "- **gqa** against `mha`: difference within noise: 2 and 3 seeds can detect only "
                       "|Δ| ≥ 0.1530; about 3 seeds per arm would be needed for the observed 0.1350.\n"));
    CHECK(contains(md, "| mla | 1, 3 | — | -0.0600 | — | — |"));
    CHECK(contains(md, "- **mla** against `mha`: not defined: fewer than 2 runs in an arm (n = 1 and 3)"));
  }
  fs::remove_all(dir);
}

TEST_CASE("a gain far beyond the seeds' spread and every other arm is flagged as suspicious, an honest one is not",
          "[report][suspicious]") {
  const fs::path dir = fresh_dir("suspicious");
  // The numbers of a leak seen in practice: 2.373 → 1.646. An honest arm gains 0.03.
  std::vector<FakeRun> runs;
  for (int s = 0; s < 3; ++s) {
    runs.push_back({fmt::format("a{}", s), "mha", s, "done", 2.373 + 0.01 * s});
    runs.push_back({fmt::format("b{}", s), "honest", s, "done", 2.343 + 0.01 * s});
    runs.push_back({fmt::format("c{}", s), "late_leak", s, "done", 1.646 + 0.01 * s});
  }
  write_sweep(dir, runs);
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);
  CHECK(contains(md, "**Suspiciously large gain:** `late_leak` beats the baseline `mha` by 0.727 nats of validation "
                     "loss (1.6560 against 2.3830), 73× the seeds' spread (0.0100) and 24.2× any other arm's gain."));
  CHECK_FALSE(contains(md, "`honest` beats the baseline"));
  fs::remove_all(dir);

  // Two arms that gain alike (a real effect shared by both) are not flagged.
  const fs::path dir2 = fresh_dir("suspicious2");
  std::vector<FakeRun> alike;
  for (int s = 0; s < 3; ++s) {
    alike.push_back({fmt::format("a{}", s), "mha", s, "done", 3.0 + 0.01 * s});
    alike.push_back({fmt::format("b{}", s), "bigger", s, "done", 2.6 + 0.01 * s});
    alike.push_back({fmt::format("c{}", s), "biggest", s, "done", 2.5 + 0.01 * s});
  }
  write_sweep(dir2, alike);
  CHECK_FALSE(contains(read(ablate::write_report(dir2)), "Suspiciously large gain"));
  fs::remove_all(dir2);
}

TEST_CASE("what each arm trained says whether its runs passed the causality proof again at the end",
          "[report][causality]") {
  const fs::path dir = fresh_dir("causality");
  std::vector<FakeRun> runs = {{"a0", "mha", 0, "done", 3.0}, {"a1", "mha", 1, "done", 3.1},
                               {"b0", "gated", 0, "done", 3.0}, {"b1", "gated", 1, "failed", 0.0, 0.0, "not causal"}};
  runs[0].extra_summary = {{"causality", {{"causal", true}, {"checked", "4 modes"}}}};
  runs[1].extra_summary = {{"causality", {{"causal", true}, {"checked", "4 modes"}}}};
  runs[2].extra_summary = {{"causality", {{"causal", true}, {"checked", "4 modes"}}}};
  runs[3].extra_summary = {{"causality", {{"causal", false}, {"message", "NOT causal: block 0 attention"}}}};
  write_sweep(dir, runs);
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);
  CHECK(contains(md, "Causality: proven before training, and again on the final weights of 2 of 2 checked run(s)."));
  CHECK(contains(md, "Causality: proven before training, and again on the final weights of 1 of 2 checked run(s)."));
  CHECK(contains(md, "- **Not causal after training, excluded:** run `b1` (seed 1): NOT causal: block 0 attention"));
  fs::remove_all(dir);
}

TEST_CASE("a declared cost taken on trust is a red flag with both numbers", "[report][cost]") {
  const fs::path dir = fresh_dir("trust");
  std::vector<FakeRun> runs = {{"a0", "mha", 0, "done", 3.0}, {"b0", "dense_moe", 0, "done", 2.9},
                               {"b1", "dense_moe", 1, "done", 2.9}};
  const json check = {{"part", "ffn"}, {"plugin", "dense_moe"}, {"kind", "moe"}, {"matches", false}, {"accepted", true},
                      {"declared", {{"flops_per_token", 16896.0}, {"params_active", 8448}}},
                      {"measured", {{"flops_per_token", 66560.0}, {"params_active", 33280}}}};
  runs[1].extra_summary = {{"cost_check", json::array({check})}};
  runs[2].extra_summary = {{"cost_check", json::array({check})}};
  write_sweep(dir, runs);
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);
  CHECK(contains(md, "**Declared cost taken on trust:** arm `dense_moe`'s ffn (moe 'dense_moe') declares 1.69e+04 "
                     "forward FLOPs per token and 8448 active parameters; ablate measured 6.656e+04 and 33280"));
  // once per arm and component, not once per run
  CHECK(md.find("Declared cost taken on trust") == md.rfind("Declared cost taken on trust"));
  fs::remove_all(dir);
}

TEST_CASE("runs matched by seed get a paired test, a sign-flip p with its floor and paired seed advice",
          "[report][paired]") {
  // Expected numbers: scipy 1.17.1 (Python 3.11) on the runs below, paired by seed:
  //   scipy.stats.ttest_rel(arm, mha) and its confidence_interval(0.95); the sign-flip p is
  //   scipy.stats.permutation_test((arm, mha), mean of arm − mha, permutation_type='samples',
  //   n_resamples=inf); r = scipy.stats.pearsonr; Holm = statsmodels multipletests(method='holm');
  //   paired power as in test_stats.cpp's "[power][paired]" tests.
  // loss   paired: d̄ = −0.014 [−0.04754791384926661, 0.01954791384926668], t = −1.1586482440433092,
  //                p = 0.3110607673343735, sign-flip 0.375, r = 0.9791300486523298 (Welch p 0.67)
  //        steady: d̄ = −0.02 [−0.028779890330850662, −0.011220109669149375], t = −6.3245553203368985,
  //                p = 0.003198202152335044, sign-flip 0.0625 (all 5 of one sign: the floor 2/2⁵),
  //                r = 0.9800177460682524 (Welch p 0.388); Holm of (0.3111, 0.0032) = (0.3111, 0.0064)
  // accuracy steady: d̄ = 0.024 [0.017199126193417458, 0.030800873806582585], t = 9.797958971132713,
  //                p = 0.0006081849444633356, Holm 0.0012163698889266712, r = 0.8807048459279793
  // paired power (α = 0.05, power 0.8): paired sd(d) = 0.02701851217221267, detectable |Δ| at 5 pairs
  //   0.04544505549829494, n* = 31.208 → 32; steady sd(d) = 0.007071067811865324, detectable
  //   0.01189351460562346 < 0.02, n* = 3.257 → 4.
  const fs::path dir = fresh_dir("paired");
  const std::vector<double> base{3.05, 3.11, 3.02, 3.08, 3.04}, base_acc{0.30, 0.32, 0.29, 0.31, 0.30};
  const std::vector<double> noisy{3.02, 3.12, 2.98, 3.10, 3.01}, noisy_acc{0.31, 0.32, 0.30, 0.31, 0.32};
  const std::vector<double> steady{3.03, 3.08, 3.00, 3.07, 3.02}, steady_acc{0.33, 0.34, 0.31, 0.33, 0.33};
  std::vector<FakeRun> runs;
  for (int s = 0; s < 5; ++s) {
    runs.push_back({fmt::format("a{}", s), "mha", s, "done", base[s], base_acc[s]});
    runs.push_back({fmt::format("p{}", s), "paired", s, "done", noisy[s], noisy_acc[s]});
    runs.push_back({fmt::format("s{}", s), "steady", s, "done", steady[s], steady_acc[s]});
  }
  // Seeds the baseline never ran, and one it did: nothing, then too little, to pair.
  runs.push_back({"l5", "late", 5, "done", 3.0});
  runs.push_back({"l6", "late", 6, "done", 3.1});
  runs.push_back({"o2", "lone", 2, "done", 3.0});
  runs.push_back({"o7", "lone", 7, "done", 3.1});
  write_sweep(dir, runs);
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);

  SECTION("the loss comparison has a paired table beside Welch's, Holm-adjusted across the paired family") {
    const auto welch = md.find("| Arm | n (arm, baseline) | Δ val loss |");
    const auto paired = md.find("| Arm | Matched seeds | Mean paired Δ val loss [95% CI] |");
    REQUIRE(welch != std::string::npos);
    REQUIRE(paired != std::string::npos);
    CHECK(welch < paired);
    CHECK(paired < md.find("### Validation accuracy against the baseline"));
    CHECK(contains(md, "| paired | 5 (seeds 0, 1, 2, 3, 4) | -0.0140 [-0.0475, +0.0195] | -1.16 (4) | 0.3111 | "
                       "0.3111 | 0.3750 (≥ 0.0625) | +0.98 |\n"));
    CHECK(contains(md, "| steady | 5 (seeds 0, 1, 2, 3, 4) | -0.0200 [-0.0288, -0.0112] | -6.32 (4) | 0.0032 | "
                       "0.0064 | 0.0625 (≥ 0.0625) | +0.98 |\n"));
    CHECK(contains(md, "below 6 matched seeds it cannot reach 0.05"));
  }
  SECTION("arms without 2 matched seeds say why") {
    CHECK(contains(md, "| late | 0 | not defined: no seed finished in both `late` and `mha` | — | — | — | — | — |\n"));
    CHECK(contains(md, "| lone | 1 (seed 2) | not defined: only seed 2 finished in both `lone` and `mha`; pairing "
                       "needs at least 2 |"));
  }
  SECTION("validation accuracy is paired too, as its own Holm family") {
    CHECK(contains(md, "| Arm | Matched seeds | Mean paired Δ val accuracy [95% CI] |"));
    CHECK(contains(md, "| steady | 5 (seeds 0, 1, 2, 3, 4) | +0.0240 [+0.0172, +0.0308] | 9.80 (4) | 0.0006 | "
                       "0.0012 | 0.0625 (≥ 0.0625) | +0.88 |\n"));
  }
  SECTION("the seeds section gives the paired advice beside the unpaired one") {
    const auto section = md.find("## How many seeds");
    REQUIRE(section != std::string::npos);
    CHECK(section < md.find("| paired | 5 | 0.0270 | -0.0140 | 0.0454 | 32 |\n"));
    CHECK(contains(md, "| steady | 5 | 0.0071 | -0.0200 | 0.0119 | 4 |\n"));
    CHECK(contains(md, "| late | 0 | — | — | — | — |\n"));
    CHECK(contains(md, "- **paired** against `mha`, paired by seed: difference within noise: 5 pairs can detect only "
                       "|Δ| ≥ 0.0454; about 32 seeds per arm, run in both arms, would be needed for the observed "
                       "0.0140.\n"));
    CHECK(contains(md, "- **steady** against `mha`, paired by seed: enough seeds: 5 pairs detect |Δ| ≥ 0.0119 with "
                       "probability 0.8, and the observed 0.0200 is larger (4 seeds per arm would suffice).\n"));
    CHECK(contains(md, "- **late** against `mha`, paired by seed: not defined: no seed finished in both `late` and "
                       "`mha`.\n"));
    // The unpaired advice for the same runs is still there, and asks for many more seeds.
    CHECK(contains(md, "- **steady** against `mha`: difference within noise:"));
  }
  SECTION("results.json has a paired object, or null with the reason") {
    const json results = json::parse(read(dir / "results.json"));
    const auto& loss = results["val_loss_comparisons"];
    REQUIRE(loss.size() == 4);
    const auto& p = loss[0]["paired"];
    CHECK(loss[0]["arm"] == "paired");
    CHECK(p["seeds"] == json::array({0, 1, 2, 3, 4}));
    CHECK(p["n"] == 5);
    CHECK(p["mean_difference"].get<double>() == Catch::Detail::Approx(-0.014).epsilon(1e-10));
    CHECK(p["p"].get<double>() == Catch::Detail::Approx(0.3110607673343735).epsilon(1e-9));
    CHECK(p["holm_p"].get<double>() == Catch::Detail::Approx(0.3110607673343735).epsilon(1e-9));
    CHECK(p["sign_flip_p"].get<double>() == 0.375);
    CHECK(p["sign_flip_floor"].get<double>() == 0.0625);
    CHECK(p["correlation"].get<double>() == Catch::Detail::Approx(0.9791300486523298).epsilon(1e-10));
    CHECK(loss[1]["paired"]["holm_p"].get<double>() == Catch::Detail::Approx(2 * 0.003198202152335044).epsilon(1e-8));
    CHECK(loss[2]["paired"].is_null());
    CHECK(loss[2]["paired_reason"] == "no seed finished in both `late` and `mha`");
    CHECK(results["val_accuracy_comparisons"][1]["paired"]["p"].get<double>() ==
          Catch::Detail::Approx(0.0006081849444633356).epsilon(1e-8));
  }
  fs::remove_all(dir);
}

TEST_CASE("the tuning section says whether the tuning seeds were also replication seeds", "[report][tune]") {
  for (const int tuning_seed : {1, 7}) {
    CAPTURE(tuning_seed);
    const fs::path dir = fresh_dir(fmt::format("tune_seeds_{}", tuning_seed));
    write_sweep(dir, {{"a0", "mha", 0, "done", 3.0}, {"a1", "mha", 1, "done", 3.1}});
    const json tune = {{"paths", {"train.optimizer.lr"}}, {"seeds", {tuning_seed}}, {"metric", "val_loss"},
                       {"halving", nullptr},
                       {"groups", json::array({{{"arm", "mha"}, {"grid_point", json::object()}, {"chosen", 0},
                                                {"points", json::array({{{"index", 0},
                                                                         {"values", {{"train.optimizer.lr", 1e-3}}},
                                                                         {"mean", 3.2},
                                                                         {"runs", json::array()}}})}}})}};
    write(dir / "tune.json", tune.dump());
    const std::string md = read(ablate::write_report(dir));
    CAPTURE(md);
    if (tuning_seed == 7)
      CHECK(contains(md, "with tuning seed(s) [7] (disjoint from the replication seeds)"));
    else
      CHECK(contains(md, "with tuning seed(s) [1] (**also replication seed(s) 1**"));
    fs::remove_all(dir);
  }
}

TEST_CASE("diverged and failed runs are outcomes: counted per arm and flagged, most-seeds divergence loudly",
          "[report][outcomes]") {
  const fs::path dir = fresh_dir("outcomes");
  write_sweep(dir, {{"a0", "mha", 0, "done", 3.0},
                    {"a1", "mha", 1, "done", 3.1},
                    {"a2", "mha", 2, "done", 3.05},
                    {"b0", "wild", 0, "done", 2.9},
                    {"b1", "wild", 1, "diverged", 2.9},
                    {"b2", "wild", 2, "diverged", 2.9},
                    {"c0", "shaky", 0, "done", 3.0},
                    {"c1", "shaky", 1, "done", 3.0},
                    {"c2", "shaky", 2, "failed", 0.0, 0.0, "out of memory"}});
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);
  CHECK(contains(md, "| wild | 1 / 2 / 0 / 3 |"));
  CHECK(contains(md, "| shaky | 2 / 0 / 1 / 3 |"));
  CHECK(contains(md, "**Diverged on most seeds:** `wild` diverged on 2 of its 3 ended runs; its statistics describe "
                     "the 1 that survived, not the arm."));
  CHECK(contains(md, "**Lost runs:** `shaky` has 0 diverged and 1 failed of its 3 ended runs: its numbers are over the "
                     "2 survivors."));
  CHECK_FALSE(contains(md, "`mha` has"));
  fs::remove_all(dir);
}

TEST_CASE("arms scored on different evaluation tokens, or trained unequal amounts without a budget, are red flags",
          "[report][fair]") {
  const fs::path dir = fresh_dir("unequal");
  std::vector<FakeRun> runs = {{"a0", "mha", 0, "done", 3.0}, {"a1", "mha", 1, "done", 3.1},
                               {"b0", "longer", 0, "done", 2.9}, {"b1", "longer", 1, "done", 2.95}};
  const json same = {{"tokens", 8192}, {"windows", 128}, {"seq_len", 64}, {"hash", "00000000000000aa"}};
  const json other = {{"tokens", 4096}, {"windows", 64}, {"seq_len", 64}, {"hash", "00000000000000bb"}};
  runs[0].extra_summary = {{"eval_set", same}};
  runs[1].extra_summary = {{"eval_set", same}};
  runs[2].extra_summary = {{"eval_set", other}, {"steps", 80}, {"tokens", 8000}};
  runs[3].extra_summary = {{"eval_set", other}, {"steps", 80}, {"tokens", 8000}};
  write_sweep(dir, runs);
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);
  CHECK(contains(md, "**Different evaluation sets:** the runs were not scored on the same tokens: longer (4096 tokens, "
                     "hash 00000000000000bb); mha (8192 tokens, hash 00000000000000aa)."));
  CHECK(contains(md, "**Unequal training without a budget:** `longer` 80 steps, 8000 tokens; `mha` 40 steps, 4000 "
                     "tokens."));
  CHECK(contains(md, "**The runs did not train equal amounts**"));
  // and no test compares numbers scored on other tokens
  CHECK(contains(md, "not compared: the runs were scored on different evaluation tokens"));
  CHECK_FALSE(contains(md, "compared at equal steps"));
  fs::remove_all(dir);

  // The same evaluation set and amounts: neither flag, and the budget paragraph says equal steps.
  const fs::path dir2 = fresh_dir("equal");
  std::vector<FakeRun> equal = {{"a0", "mha", 0, "done", 3.0}, {"b0", "gqa", 0, "done", 2.9}};
  equal[0].extra_summary = {{"eval_set", same}};
  equal[1].extra_summary = {{"eval_set", same}};
  write_sweep(dir2, equal);
  const std::string md2 = read(ablate::write_report(dir2));
  CHECK_FALSE(contains(md2, "Different evaluation sets"));
  CHECK_FALSE(contains(md2, "Unequal training"));
  CHECK(contains(md2, "compared at equal steps"));
  fs::remove_all(dir2);
}

TEST_CASE("runs of an earlier version of the sweep are neither pooled nor lost, and an arm of mixed configurations is "
          "refused", "[report][stale]") {
  const fs::path dir = fresh_dir("stale");
  // The sweep as first run: seq_len 128. Then edited to seq_len 64 and run again into the same directory.
  write_sweep(dir, {{"old0", "mha", 0, "done", 2.5}, {"old1", "mha", 1, "done", 2.6}}, 128);
  write_sweep(dir, {{"new0", "mha", 0, "done", 3.0}, {"new1", "mha", 1, "done", 3.1}}, 64);
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);
  CHECK(contains(md, "| mha (baseline) | 2 / 0 / 0 / 2 | 3.0500"));  // only the sweep as last expanded
  CHECK(contains(md, "**Runs left out:** 2 run director(ies) under `runs/`"));
  CHECK(fs::exists(dir / "runs" / "old0" / "summary.json"));  // nothing lost
  // Merging pools them only if they are one configuration with the arm's runs: here they are not.
  try {
    ablate::write_report(dir, {.merge = true});
    FAIL("mixed configurations were pooled");
  } catch (const ablate::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("arm 'mha' holds runs of different configurations") &&
                             Catch::Contains("differ in data.seq_len"));
  }
  fs::remove_all(dir);
}

TEST_CASE("runs that shared a device are a red flag on time comparisons", "[report][devices]") {
  const fs::path dir = fresh_dir("shared");
  std::vector<FakeRun> runs = {{"a0", "mha", 0, "done", 3.0}, {"b0", "gqa", 0, "done", 2.9}};
  runs[0].extra_summary = {{"shared_device", true}};
  runs[1].extra_summary = {{"shared_device", false}};
  write_sweep(dir, runs);
  const std::string md = read(ablate::write_report(dir));
  CAPTURE(md);
  CHECK(contains(md, "**Shared devices:** 1 run(s) trained side by side with another run on the same device "
                     "(`--runs-per-device`): `a0`."));
  fs::remove_all(dir);
}
