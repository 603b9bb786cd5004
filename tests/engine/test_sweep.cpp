// Sweep files: expansion (arms × grid × seeds), run ids, defaults, and every kind of error with
// its line and column. Loads the real built-in plugins.
//
//   ./build/tests/test_engine "[sweep]"
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <yaml-cpp/yaml.h>

#include "ablate/engine/data.h"
#include "ablate/engine/error.h"
#include "ablate/engine/model_plan.h"
#include "ablate/engine/plugin_registry.h"
#include "ablate/engine/sweep.h"
#include "builtin_plugins.h"

using ablate::parse_sweep;
using ablate::PluginRegistry;
using ablate::Sweep;
using nlohmann::json;

namespace {

const ablate::PluginRegistry& plugins() { return ablate::test::builtin_plugins(); }

Sweep parse(const std::string& yaml, const std::string& file = "/sweeps/test.yaml",
            const ablate::TuneChoices* choices = nullptr) {
  return parse_sweep(yaml, file, plugins(), choices);
}

struct Failure {
  std::string message;
  std::string file;
  std::int64_t line = 0, column = 0;
};

Failure failure_of(const std::string& yaml) {
  try {
    parse(yaml, "bad.yaml");
  } catch (const ablate::Error& e) {
    return {e.what(), e.where().file, e.where().line, e.where().column};
  }
  return {"(no error)", "", -1, -1};
}

// A small valid model most tests start from.
const std::string kModel = R"(model:
  d_model: 64
  n_layers: 2
  attention: {plugin: mha, n_heads: 4}
  ffn: {plugin: swiglu, d_ff: 128}
)";

}  // namespace

// ---------------------------------------------------------------------------------------------
// expansion

TEST_CASE("a sweep expands to arms × grid points × seeds, in that nesting order", "[sweep]") {
  using Row = std::tuple<std::string, std::string, std::size_t>;
  const auto [what, extra, count] = GENERATE(table<std::string, std::string, std::size_t>({
      Row{"no arms, no grid, default seed", "", 1},
      Row{"three seeds", "seeds: [0, 1, 2]\n", 3},
      Row{"two arms", "arms: {a: {}, b: {model.d_model: 32}}\n", 2},
      Row{"two arms, two seeds", "arms: {a: {}, b: {model.d_model: 32}}\nseeds: [3, 4]\n", 4},
      Row{"grid of 2 × 3", "grid: {train.optimizer.lr: [1e-3, 3e-3], model.n_layers: [1, 2, 3]}\n", 6},
      Row{"2 arms × 2 grid × 2 seeds",
          "arms: {a: {}, b: {model.d_model: 32}}\ngrid: {train.steps: [10, 20]}\nseeds: [0, 1]\n", 8},
  }));
  CAPTURE(what);
  const Sweep sweep = parse(kModel + extra);
  CHECK(sweep.runs.size() == count);
}

TEST_CASE("runs come out arm by arm, then grid point by grid point, then seed by seed", "[sweep]") {
  const Sweep sweep = parse(kModel + R"(seeds: [7, 8]
arms:
  small: {model.d_model: 32}
  big: {model.d_model: 128}
grid:
  train.steps: [10, 20]
  model.n_layers: [1, 2]
)");
  REQUIRE(sweep.runs.size() == 16);
  CHECK(sweep.arms == std::vector<std::string>{"small", "big"});
  CHECK(sweep.baseline == "small");
  CHECK(sweep.seeds == std::vector<std::int64_t>{7, 8});
  std::vector<std::string> order;
  for (const auto& run : sweep.runs)
    order.push_back(run.arm + " " + run.grid_point.at("train.steps").dump() + " " +
                    run.grid_point.at("model.n_layers").dump() + " " + std::to_string(run.seed));
  CHECK(order == std::vector<std::string>{
                     "small 10 1 7", "small 10 1 8", "small 10 2 7", "small 10 2 8",
                     "small 20 1 7", "small 20 1 8", "small 20 2 7", "small 20 2 8",
                     "big 10 1 7",   "big 10 1 8",   "big 10 2 7",   "big 10 2 8",
                     "big 20 1 7",   "big 20 1 8",   "big 20 2 7",   "big 20 2 8"});
  for (const auto& run : sweep.runs) {
    CHECK(run.config.at("seed") == run.seed);
    CHECK(run.config.at("train").at("steps") == run.grid_point.at("train.steps"));
    CHECK(run.config.at("model").at("d_model") == (run.arm == "small" ? 32 : 128));
  }
}

TEST_CASE("a sweep without arms has one arm named base, and the name defaults to the file's stem", "[sweep]") {
  const Sweep sweep = parse(kModel, "/sweeps/my_study.yaml");
  CHECK(sweep.name == "my_study");
  CHECK(sweep.arms == std::vector<std::string>{"base"});
  CHECK(sweep.baseline == "base");
  CHECK(sweep.seeds == std::vector<std::int64_t>{0});
  REQUIRE(sweep.runs.size() == 1);
  CHECK(sweep.runs[0].arm == "base");
  CHECK(sweep.runs[0].grid_point.empty());
}

TEST_CASE("name and baseline are read from the file", "[sweep]") {
  const Sweep sweep = parse("name: study\nbaseline: b\n" + kModel + "arms: {a: {}, b: {model.n_layers: 3}}\n");
  CHECK(sweep.name == "study");
  CHECK(sweep.baseline == "b");
}

TEST_CASE("an arm's override may replace a whole component or reach into its options", "[sweep]") {
  const Sweep sweep = parse(kModel + R"(arms:
  dense: {}
  moe:
    model.ffn: {plugin: topk, n_experts: 4, expert: {plugin: silu, d_ff: 32}}
    model.ffn.expert.d_ff: 48
  heads:
    model.attention.n_heads: 8
)");
  REQUIRE(sweep.runs.size() == 3);
  const json& dense = sweep.runs[0].config.at("model");
  const json& moe = sweep.runs[1].config.at("model");
  const json& heads = sweep.runs[2].config.at("model");
  CHECK(dense.at("ffn") == json{{"plugin", "swiglu"}, {"d_ff", 128}});
  CHECK(moe.at("ffn").at("plugin") == "topk");
  CHECK(moe.at("ffn").at("n_experts") == 4);
  CHECK(moe.at("ffn").at("top_k") == 2);  // topk's default
  CHECK(moe.at("ffn").at("expert") == json{{"plugin", "silu"}, {"d_ff", 48}});
  CHECK(heads.at("attention").at("n_heads") == 8);
  CHECK(heads.at("attention").at("plugin") == "mha");
  CHECK(heads.at("ffn") == dense.at("ffn"));
}

// ---------------------------------------------------------------------------------------------
// resolved configuration and ids

TEST_CASE("the resolved configuration has every default filled in", "[sweep]") {
  const Sweep sweep = parse("model: {ffn: {plugin: silu, d_ff: 64}}\n");
  const json& c = sweep.runs.at(0).config;
  CHECK(c.size() == 4);  // data, model, train, seed
  CHECK(c.at("seed") == 0);
  CHECK(c.at("data") == json::parse(R"({"corpus": "kjv", "tokenizer": {"kind": "bpe", "vocab_size": 2048},
                                        "seq_len": 128, "val_fraction": 0.1, "split_seed": 0,
                                        "drop_near_duplicates": false})"));
  const json& m = c.at("model");
  CHECK(m.at("d_model") == 256);
  CHECK(m.at("n_layers") == 4);
  CHECK(m.at("vocab_size").is_null());
  CHECK(m.at("dropout").is_number_float());
  CHECK(m.at("dropout") == 0.0);
  CHECK(m.at("embedding_scale") == true);
  CHECK(m.at("tie_embeddings") == true);
  CHECK(m.at("first_dense_layers") == 0);
  CHECK(m.at("dense_ffn").is_null());
  CHECK(m.at("rope") == json::parse(R"({"base": 10000.0, "pairing": "interleaved", "scaling": "none",
      "factor": 1.0, "max_position": 2048, "original_max_position": 4096, "beta_fast": 32.0,
      "beta_slow": 1.0, "mscale": 1.0, "mscale_all_dim": 0.0})"));
  CHECK(m.at("attention") == json::parse(R"({"plugin": "mha", "n_heads": 8, "n_kv_heads": 0, "bias": false,
      "qk_norm": false, "attn_dropout": 0.0, "backend": "auto"})"));
  CHECK(m.at("norm") == json::parse(R"({"plugin": "rmsnorm", "eps": 1e-6})"));
  const json& t = c.at("train");
  CHECK(t.at("steps") == 200);
  CHECK(t.at("batch_size") == 16);
  CHECK(t.at("grad_accum") == 1);
  CHECK(t.at("optimizer") == json::parse(R"({"name": "adamw", "lr": 1e-3, "muon_lr": 0.01, "momentum": 0.95,
      "ns_steps": 5, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1})"));
  CHECK(t.at("warmup_fraction") == 0.05);
  CHECK(t.at("min_lr_fraction") == 0.1);
  CHECK(t.at("grad_clip") == 1.0);
  CHECK(t.at("eval_every") == 50);
  CHECK(t.at("eval_tokens") == 16384);
  CHECK(t.at("log_every") == 10);
}

TEST_CASE("a component without 'plugin' is the slot's default plugin with those options", "[sweep]") {
  const Sweep sweep = parse("model: {attention: {n_heads: 2}, ffn: {plugin: silu, d_ff: 64}}\n");
  CHECK(sweep.runs[0].config.at("model").at("attention").at("plugin") == "mha");
  CHECK(sweep.runs[0].config.at("model").at("attention").at("n_heads") == 2);
}

TEST_CASE("corpus and tokenizer forms resolve, with relative paths made absolute", "[sweep]") {
  // The corpus files must exist (a missing one is refused at load): ROOT/s/books/a.txt, ROOT/x.jsonl.
  const std::string root = (std::filesystem::temp_directory_path() / "ablate_test_sweep_forms").string();
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root + "/s/books");
  std::ofstream(root + "/s/books/a.txt") << "text\n";
  std::ofstream(root + "/x.jsonl") << "{\"text\": \"text\"}\n";
  using Row = std::tuple<std::string, std::string, std::string>;
  const auto [data, corpus, tokenizer] = GENERATE(table<std::string, std::string, std::string>({
      Row{"{}", R"("kjv")", R"({"kind": "bpe", "vocab_size": 2048})"},
      Row{"{corpus: {text: books/a.txt}, tokenizer: {kind: byte}}", R"({"text": "ROOT/s/books/a.txt"})",
          R"({"kind": "byte"})"},
      Row{"{corpus: {jsonl: ROOT/x.jsonl}, tokenizer: {vocab_size: 512}}",
          R"({"jsonl": "ROOT/x.jsonl", "field": "text"})", R"({"kind": "bpe", "vocab_size": 512})"},
      Row{"{corpus: {jsonl: ../x.jsonl, field: body}}", R"({"jsonl": "ROOT/x.jsonl", "field": "body"})",
          R"({"kind": "bpe", "vocab_size": 2048})"},
  }));
  const auto with_root = [&](std::string text) {
    for (std::size_t at; (at = text.find("ROOT")) != std::string::npos;) text.replace(at, 4, root);
    return text;
  };
  CAPTURE(data);
  const Sweep sweep = parse("data: " + with_root(data) + "\n" + kModel, root + "/s/sweep.yaml");
  CHECK(sweep.runs[0].config.at("data").at("corpus") == json::parse(with_root(corpus)));
  CHECK(sweep.runs[0].config.at("data").at("tokenizer") == json::parse(tokenizer));
  std::filesystem::remove_all(root);
}

TEST_CASE("the same run has the same id in two different sweep files", "[sweep]") {
  // Different name, arm names, key order, flow vs block style, defaults written out or not.
  const Sweep a = parse(kModel + "seeds: [1]\narms: {x: {}, y: {train.steps: 50}}\n", "/a/first.yaml");
  const Sweep b = parse(R"(name: other
seeds: [5, 1]
train:
  optimizer:
    lr: 0.001
  steps: 50
model:
  ffn:
    d_ff: 128
    plugin: swiglu
  n_layers: 2
  attention:
    plugin: mha
    n_heads: 4
    bias: false
  d_model: 64
arms:
  renamed: {}
)",
                        "/b/second.yaml");
  REQUIRE(a.runs.size() == 2);
  REQUIRE(b.runs.size() == 2);
  CHECK(a.runs[1].id == b.runs[1].id);   // y, seed 1 == renamed, seed 1
  CHECK(a.runs[1].config == b.runs[1].config);
  CHECK(a.runs[0].id != b.runs[1].id);   // steps differ
  CHECK(b.runs[0].id != b.runs[1].id);   // seeds differ
  CHECK(a.runs[0].id.size() == 16);
  CHECK(a.runs[0].id.find_first_not_of("0123456789abcdef") == std::string::npos);
  // Literals worked out outside ablate: the resolved configuration as `ablate expand --json` prints
  // it, dumped by Python's json.dumps(config, sort_keys=True, separators=(",", ":")) and hashed with
  // the system libxxhash's XXH3_128bits (first 16 hex digits). The first changes whenever the
  // resolved configuration does (a new option default, say): every run then gets a new id and
  // directory, and is trained again. The second pins the hash itself on a fixed object.
  CHECK(a.runs[0].id == "3c9acd7273596c02");
  CHECK(ablate::run_id(json::parse(R"({"b": [2, 3.5, "x"], "a": 1})")) == "121aea3cdb6ab21b");
}

TEST_CASE("report settings reach the sweep but never a run's id", "[sweep]") {
  const Sweep plain = parse(kModel);
  const Sweep with_target = parse(kModel + "report: {target_loss: 3.25}\n");
  CHECK_FALSE(plain.target_loss.has_value());
  REQUIRE(with_target.target_loss.has_value());
  CHECK(*with_target.target_loss == 3.25);
  CHECK(plain.runs[0].id == with_target.runs[0].id);
}

TEST_CASE("a budget of tokens or FLOPs becomes each arm's train.steps, and seconds keeps steps as the cap", "[sweep]") {
  // Tokens per step = batch_size 16 (default) · grad_accum 1 · seq_len 128 (default) = 2048.
  const Sweep tokens = parse(kModel + "budget: {kind: tokens, value: 204800}\n");
  CHECK(tokens.runs[0].config["train"]["steps"] == 100);
  CHECK(tokens.runs[0].config["train"]["budget"] == json{{"kind", "tokens"}, {"value", 204800.0}});
  // FLOPs: steps = value / (3 · forward FLOPs per token · 2048), per arm from its own planned FLOPs.
  const Sweep flops = parse(kModel + "budget: {kind: flops, value: 1.0e12}\narms: {small: {}, "
                                     "wide: {model.d_model: 128, model.ffn.d_ff: 256}}\n");
  REQUIRE(flops.runs.size() == 2);
  for (const auto& run : flops.runs) {
    const auto plan = ablate::plan_model(run.config, ablate::tokenizer_vocab_size(run.config["data"]), plugins());
    const double expected = 1.0e12 / (3.0 * plan.total.flops_per_token * 2048.0);
    CAPTURE(run.arm, expected);
    CHECK(run.config["train"]["steps"] == static_cast<std::int64_t>(std::llround(expected)));
  }
  CHECK(flops.runs[0].config["train"]["steps"].get<std::int64_t>() >
        flops.runs[1].config["train"]["steps"].get<std::int64_t>() * 2);  // the wider arm gets fewer steps
  const Sweep seconds = parse(kModel + "train: {steps: 5000}\nbudget: {kind: seconds, value: 60}\n");
  CHECK(seconds.runs[0].config["train"]["steps"] == 5000);
  CHECK(seconds.runs[0].config["train"]["budget"]["kind"] == "seconds");
  // Equal steps is the default: a steps budget only fixes train.steps for every arm.
  const Sweep steps = parse(kModel + "budget: {kind: steps, value: 300}\n");
  CHECK(steps.runs[0].config["train"]["steps"] == 300);
  CHECK_FALSE(steps.runs[0].config["train"].contains("budget"));
}

TEST_CASE("a tune stage expands tuning runs per arm, and choices make the replication runs", "[sweep][tune]") {
  const std::string yaml = kModel + R"(seeds: [0, 1, 2]
arms: {a: {}, b: {model.d_model: 32}}
tune:
  axes: {train.optimizer.lr: [1e-3, 3e-3]}
  seeds: [7]
  halving: {rungs: [0.25], keep: 0.5}
)";
  const Sweep pending = parse(yaml);
  REQUIRE(pending.tune.has_value());
  CHECK(pending.tune->points == 2);
  CHECK(pending.tune->seeds == std::vector<std::int64_t>{7});
  CHECK(pending.tune->rungs == std::vector<double>{0.25});
  CHECK(pending.replication_pending);
  CHECK(pending.runs.empty());
  REQUIRE(pending.tune_runs.size() == 4);  // 2 arms × 2 points × 1 tuning seed
  CHECK(pending.tune_runs[0].arm == "a");
  CHECK(pending.tune_runs[1].tune_index == 1);
  CHECK(pending.tune_runs[1].tune_point == json{{"train.optimizer.lr", 3e-3}});
  CHECK(pending.tune_runs[1].config["train"]["optimizer"]["lr"] == 3e-3);
  CHECK(pending.tune_runs[1].config["train"]["eval_split"] == "tuning");
  CHECK(pending.tune_runs[1].seed == 7);

  ablate::TuneChoices choices;
  choices[ablate::tune_group_key("a", {})] = 1;
  choices[ablate::tune_group_key("b", {})] = 0;
  const Sweep replication = parse(yaml, "/sweeps/test.yaml", &choices);
  CHECK_FALSE(replication.replication_pending);
  CHECK(replication.tune_runs.size() == 4);
  REQUIRE(replication.runs.size() == 6);  // 2 arms × 3 seeds, each at its chosen point
  CHECK(replication.runs[0].config["train"]["optimizer"]["lr"] == 3e-3);
  CHECK(replication.runs[3].config["train"]["optimizer"]["lr"] == 1e-3);
  CHECK(replication.runs[0].config["train"]["eval_split"] == "final");
  CHECK(replication.runs[0].tune_point == json{{"train.optimizer.lr", 3e-3}});
  // The replication run differs from its tuning run only in the evaluation split and seed.
  json a = replication.runs[0].config, b = pending.tune_runs[1].config;
  a["train"].erase("eval_split"), b["train"].erase("eval_split"), a.erase("seed"), b.erase("seed");
  CHECK(a == b);
  // An arm without a choice (all its tuning runs failed) gets no replication runs.
  choices.erase(ablate::tune_group_key("b", {}));
  CHECK(parse(yaml, "/sweeps/test.yaml", &choices).runs.size() == 3);
}

TEST_CASE("an id changes when any value of the configuration changes", "[sweep]") {
  const std::string base_id = parse(kModel).runs[0].id;
  const auto change = GENERATE(as<std::string>{}, "arms: {a: {model.d_model: 128}}", "arms: {a: {data.seq_len: 64}}",
                               "arms: {a: {train.optimizer.lr: 0.002}}", "arms: {a: {model.attention.qk_norm: true}}",
                               "arms: {a: {model.norm.eps: 1e-5}}", "seeds: [1]");
  CAPTURE(change);
  CHECK(parse(kModel + change + "\n").runs[0].id != base_id);
}

TEST_CASE("numbers are normalised by type: lr 1 and lr 1.0 give the same id", "[sweep]") {
  const Sweep a = parse(kModel + "train: {optimizer: {lr: 1}, grad_clip: 2}\n");
  const Sweep b = parse(kModel + "train: {optimizer: {lr: 1.0}, grad_clip: 2.0e0}\n");
  CHECK(a.runs[0].config.at("train").at("optimizer").at("lr").is_number_float());
  CHECK(a.runs[0].id == b.runs[0].id);
  const Sweep c = parse("model: {norm: {plugin: rmsnorm, eps: 1}, ffn: {plugin: silu, d_ff: 8}}\n");
  CHECK(c.runs[0].config.at("model").at("norm").at("eps").is_number_float());
}

TEST_CASE("grid points carry their resolved values", "[sweep]") {
  const Sweep sweep = parse(kModel + "grid: {train.optimizer.lr: [1, 3e-3]}\n");
  REQUIRE(sweep.runs.size() == 2);
  CHECK(sweep.runs[0].grid_point.at("train.optimizer.lr").is_number_float());
  CHECK(sweep.runs[0].grid_point.at("train.optimizer.lr") == 1.0);
  CHECK(sweep.runs[1].grid_point.at("train.optimizer.lr") == 3e-3);
}

TEST_CASE("locations point to where each value was written, or its nearest written ancestor", "[sweep]") {
  const Sweep sweep = parse(kModel + R"(arms:
  a: {}
  b:
    model.attention.n_heads: 8
)",
                            "/s/loc.yaml");
  const auto& a = sweep.runs[0];
  const auto& b = sweep.runs[1];
  CHECK(a.location_of("model.attention.n_heads").str() == "/s/loc.yaml:4:37");
  CHECK(b.location_of("model.attention.n_heads").str() == "/s/loc.yaml:9:30");
  CHECK(a.location_of("model.attention.bias").str() == "/s/loc.yaml:4:14");  // default: the attention map
  CHECK(a.location_of("model.d_model").str() == "/s/loc.yaml:2:12");
  CHECK(a.location_of("train.steps").str() == "/s/loc.yaml");  // nothing written: the file
}

// ---------------------------------------------------------------------------------------------
// helpers used by the rest of ablate

TEST_CASE("component_spec turns a resolved component into typed options, nested ones included", "[sweep]") {
  const Sweep sweep = parse(
      "model: {ffn: {plugin: topk, n_experts: 4, noise_std: 0, expert: {plugin: silu, d_ff: 32}}}\n");
  const auto spec = ablate::component_spec(ablate::sdk::Kind::moe, sweep.runs[0].config["model"]["ffn"], plugins());
  CHECK(spec.plugin == "topk");
  CHECK(spec.options.integer("n_experts") == 4);
  CHECK(spec.options.number("noise_std") == 0.0);
  const auto& expert = spec.options.component("expert");
  CHECK(expert.kind == ablate::sdk::Kind::mlp);
  CHECK(expert.plugin == "silu");
  CHECK(expert.options.integer("d_ff") == 32);
}

TEST_CASE("config_to_yaml writes readable YAML that reads back to the same values", "[sweep]") {
  const json config = parse(kModel).runs[0].config;
  const std::string text = ablate::config_to_yaml(config);
  CAPTURE(text);
  const YAML::Node back = YAML::Load(text);
  CHECK(back["data"]["corpus"].as<std::string>() == "kjv");
  CHECK(back["model"]["vocab_size"].IsNull());
  CHECK(back["model"]["attention"]["backend"].as<std::string>() == "auto");
  CHECK(back["train"]["optimizer"]["eps"].as<double>() == 1e-8);
  CHECK(back["train"]["optimizer"]["lr"].as<double>() == 1e-3);
  CHECK(back["seed"].as<int>() == 0);
  CHECK(text.find("data:") < text.find("model:"));  // keys sorted
  CHECK(text.find("model:") < text.find("\nseed:"));
  CHECK(ablate::config_to_yaml(json{{"s", "1"}, {"t", "true"}}).find("\"1\"") != std::string::npos);
}

TEST_CASE("load_sweep reads a file and resolves paths beside it", "[sweep]") {
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_sweep";
  std::filesystem::create_directories(dir);
  const auto file = dir / "from_disk.yaml";
  std::ofstream(file) << "data: {corpus: {text: corpus.txt}}\n" << kModel;
  std::ofstream(dir / "corpus.txt") << "text\n";
  const Sweep sweep = ablate::load_sweep(file, plugins());
  CHECK(sweep.name == "from_disk");
  CHECK(sweep.file == file);
  CHECK(sweep.runs[0].config["data"]["corpus"]["text"] == (dir / "corpus.txt").string());
  std::filesystem::remove_all(dir);
  CHECK_THROWS_AS(ablate::load_sweep(dir / "missing.yaml", plugins()), ablate::Error);
}

// ---------------------------------------------------------------------------------------------
// errors: each with its line and column

TEST_CASE("every kind of sweep error names its line and column and what was expected", "[sweep]") {
  using Row = std::tuple<std::string, std::string, std::int64_t, std::int64_t, std::string>;
  const auto [what, yaml, line, column, message] =
      GENERATE(table<std::string, std::string, std::int64_t, std::int64_t, std::string>({
          Row{"unknown top-level key", "name: t\nmodle: {}\nmodel: {}\n", 2, 1,
              "unknown key 'modle' (known keys: name, baseline, data, model, train, seeds, arms, grid, tune, budget, "
              "report, trust)"},
          Row{"unknown nested key", "model:\n  d_model: 64\n  n_layer: 2\n", 3, 3,
              "unknown key 'n_layer' in 'model' (known keys: d_model, n_layers, vocab_size,"},
          Row{"unknown key two levels down", "train:\n  optimizer:\n    lr: 1e-3\n    betta1: 0.8\nmodel: {}\n", 4,
              5, "unknown key 'betta1' in 'train.optimizer' (known keys: name, lr, muon_lr, momentum, ns_steps, beta1,"},
          Row{"wrong type", "model:\n  attention:\n    plugin: mha\n    n_heads: four\n", 4, 14,
              "'n_heads' must be an integer, got 'four'"},
          Row{"a quoted number is a string", "model:\n  n_layers: \"2\"\n", 2, 13,
              "'n_layers' must be an integer, got '2'"},
          Row{"a map where a number belongs", "model:\n  dropout: {p: 0.1}\n", 2, 12,
              "'dropout' must be a number, got a map"},
          Row{"negative size", "model:\n  d_model: -8\n", 2, 12, "'d_model' must be ≥ 1, got -8"},
          Row{"number out of a half-open range", "data:\n  val_fraction: 0\nmodel: {}\n", 2, 17,
              "'val_fraction' must be in (0, 0.5], got 0"},
          Row{"string not among the choices", "model:\n  rope: {pairing: halves}\n", 2, 19,
              "'pairing' must be one of interleaved|half, got 'halves'"},
          Row{"unknown plugin", "model:\n  attention:\n    plugin: mla2\n", 3, 13,
              "no attention plugin named 'mla2' (loaded: mha, mla)"},
          Row{"unknown ffn plugin lists mlp and moe plugins", "model:\n  ffn: {plugin: geglu, d_ff: 4}\n", 2, 17,
              "no mlp or moe plugin named 'geglu' (loaded: gelu, silu, swiglu, deepseek_v3, glm4, topk)"},
          Row{"unknown plugin option", "model:\n  attention:\n    plugin: mha\n    n_head: 4\n", 4, 5,
              "unknown option 'n_head' of attention plugin 'mha' (known options: n_heads, n_kv_heads,"},
          Row{"unknown option of a nested component",
              "model:\n  ffn:\n    plugin: topk\n    expert: {plugin: silu, d_ff: 8, gate: true}\n", 4, 37,
              "unknown option 'gate' of mlp plugin 'silu' (known options: d_ff)"},
          Row{"missing required plugin option", "model:\n  ffn:\n    plugin: swiglu\n", 3, 5,
              "mlp plugin 'swiglu' needs option 'd_ff'"},
          Row{"missing required plugin option by default", "model:\n  d_model: 32\n", 2, 3,
              "mlp plugin 'swiglu' needs option 'd_ff'"},
          Row{"bad grid path", kModel + "grid:\n  model.atention.n_heads: [2, 4]\n", 7, 3,
              "unknown key 'atention' in 'model' (known keys: d_model,"},
          Row{"grid path outside the sections", kModel + "grid:\n  optimizer.lr: [1, 2]\n", 7, 3,
              "unknown key 'optimizer' in grid path 'optimizer.lr' (known keys: data, model, train)"},
          Row{"grid path into a plugin option it does not have", kModel + "grid:\n  model.ffn.n_experts: [2, 4]\n",
              7, 3, "unknown option 'n_experts' of mlp plugin 'swiglu'"},
          Row{"grid path through a scalar", kModel + "grid:\n  model.d_model.x: [2, 4]\n", 7, 3,
              "'model.d_model' is '64', not a map"},
          Row{"empty grid axis", kModel + "grid:\n  model.d_model: []\n", 7, 18,
              "grid 'model.d_model' must be a non-empty list of values, got an empty list"},
          Row{"duplicate arm", kModel + "arms:\n  a: {}\n  a: {model.d_model: 32}\n", 8, 3,
              "duplicate key 'a' (first written at line 7, column 3)"},
          Row{"duplicate key in a section", "model:\n  d_model: 32\n  d_model: 64\n", 3, 3, "duplicate key 'd_model'"},
          Row{"two arms that are the same run", kModel + "arms:\n  a: {}\n  b: {model.d_model: 64}\n", 8, 3,
              "arm 'b' is the same run as arm 'a'"},
          Row{"bad value in an arm points into the arm", kModel + "arms:\n  a:\n    model.attention.n_heads: -2\n", 8,
              30, "'n_heads' must be ≥ 1, got -2"},
          Row{"unknown key in an arm", kModel + "arms:\n  a: {model.d_modl: 3}\n", 7, 7,
              "unknown key 'd_modl' in 'model'"},
          Row{"malformed YAML", "model:\n  d_model: [1, 2\n  n_layers: 2\n", 3, 11, "malformed YAML"},
          Row{"malformed YAML indentation", "model:\n  d_model: 1\n    n_layers: 2\n", 3, 13, "malformed YAML"},
          Row{"d_model not divisible by n_heads (plugin's cost)",
              "model:\n  d_model: 60\n  attention: {plugin: mha, n_heads: 8}\n  ffn: {plugin: silu, d_ff: 8}\n", 3,
              14, "attention plugin 'mha': d_model 60 is not divisible by n_heads 8"},
          Row{"top_k larger than n_experts (plugin's cost)",
              "model:\n  ffn: {plugin: topk, n_experts: 2, top_k: 3, expert: {plugin: silu, d_ff: 8}}\n", 2, 8,
              "top_k 3 is larger than n_experts 2"},
          Row{"MoE with dense first layers but no dense_ffn",
              "model:\n  first_dense_layers: 1\n  ffn: {plugin: topk, expert: {plugin: silu, d_ff: 8}}\n", 2, 23,
              "'first_dense_layers' is 1 but 'dense_ffn' is not set"},
          Row{"missing model", "name: x\nseeds: [0]\n", 1, 1, "missing required key 'model'"},
          Row{"empty file", "", 1, 1, "missing required key 'model'"},
          Row{"tune with empty axes", kModel + "tune: {axes: {}}\n", 6, 14, "'tune.axes' must name at least one path"},
          Row{"budget of an unknown kind", kModel + "budget: {kind: flop, value: 1e9}\n", 6, 16,
              "'budget.kind' must be one of steps|tokens|flops|seconds, got 'flop'"},
          Row{"budget without a value", kModel + "budget: {kind: tokens}\n", 6, 9,
              "'budget' needs both 'kind' and 'value'"},
          Row{"budget value not positive", kModel + "budget: {kind: seconds, value: -5}\n", 6, 32,
              "'budget.value' must be a positive number (seconds of training), got '-5'"},
          Row{"budget smaller than one step", kModel + "budget: {kind: tokens, value: 10}\n", 6, 9,
              "a budget of 10 tokens is less than one optimizer step"},
          Row{"arm that sets train.steps under a budget",
              kModel + "budget: {kind: tokens, value: 1e6}\narms: {a: {}, b: {train.steps: 5}}\n", 7, 19,
              "'train.steps' is set by the sweep's budget (tokens), so it cannot be set here"},
          Row{"report.target_loss not a number", kModel + "report: {target_loss: low}\n", 6, 23,
              "'report.target_loss' must be a positive number (nats per token), got 'low'"},
          Row{"unknown report key", kModel + "report:\n  target: 3.0\n", 7, 3,
              "unknown key 'report.target' (known keys: target_loss)"},
          Row{"tune without axes", kModel + "tune: {seeds: [1]}\n", 6, 7, "'tune' needs 'axes'"},
          Row{"tune with an unknown key", kModel + "tune: {axes: {train.steps: [1, 2]}, seed: [1]}\n", 6, 37,
              "unknown key 'tune.seed' (known keys: axes, seeds, metric, halving)"},
          Row{"tune axis that is also a grid axis",
              kModel + "grid: {train.optimizer.lr: [1e-3]}\ntune: {axes: {train.optimizer.lr: [1e-3]}}\n", 7, 15,
              "'train.optimizer.lr' is both a grid axis and a tune axis"},
          Row{"tune metric unknown", kModel + "tune: {axes: {train.steps: [1]}, metric: loss}\n", 6, 42,
              "'tune.metric' must be val_loss or val_accuracy, got 'loss'"},
          Row{"halving rungs not increasing", kModel + "tune: {axes: {train.steps: [1]}, halving: {rungs: [0.5, 0.25]}}\n",
              6, 57, "a rung must be a fraction of train.steps in (0, 1), increasing, got '0.25'"},
          Row{"empty override key (a fuzz finding)", kModel + "arms: {a: {\"\": 1}}\n", 6, 12,
              "override key '' is empty, not a dotted path"},
          Row{"seeds listed twice", kModel + "seeds: [0, 1, 0]\n", 6, 15, "seed 0 is listed twice"},
          Row{"seed not an integer", kModel + "seeds: [0, one]\n", 6, 12, "a seed must be an integer, got 'one'"},
          Row{"baseline that is no arm", "baseline: c\n" + kModel + "arms: {a: {}, b: {model.d_model: 32}}\n", 1, 11,
              "baseline 'c' is not an arm (arms: a, b)"},
          Row{"tokenizer of an unknown kind", "data: {tokenizer: {kind: wordpiece}}\n" + kModel, 1, 26,
              "'kind' must be one of bpe|byte|sentencepiece|pretokenized, got 'wordpiece'"},
          Row{"byte tokenizer with a vocabulary", "data: {tokenizer: {kind: byte, vocab_size: 100}}\n" + kModel, 1, 32,
              "unknown key 'vocab_size' in 'data.tokenizer' (known keys: kind)"},
          Row{"corpus that is no corpus", "data: {corpus: bible}\n" + kModel, 1, 16,
              "'corpus' must be kjv, {text: PATH}, {jsonl: PATH, field: NAME} or {tokens: PATH-OR-GLOB}, got 'bible'"},
      }));
  CAPTURE(what, yaml);
  const Failure f = failure_of(yaml);
  CHECK_THAT(f.message, Catch::Contains(message));
  CHECK(f.file == "bad.yaml");
  CHECK(f.line == line);
  CHECK(f.column == column);
}

TEST_CASE("errors carry a hint when a close name exists", "[sweep]") {
  try {
    parse("model:\n  d_modle: 3\n");
    FAIL("no error");
  } catch (const ablate::Error& e) {
    CHECK(e.hint() == "did you mean 'd_model'?");
    CHECK(e.located_message().rfind("/sweeps/test.yaml:2:3: unknown key 'd_modle'", 0) == 0);
  }
}

TEST_CASE("the retired train.eval_batches is refused at its line with what replaced it", "[sweep]") {
  try {
    parse(kModel + "train:\n  eval_batches: 4\n");
    FAIL("no error");
  } catch (const ablate::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("unknown key 'eval_batches' in 'train'"));
    CHECK_THAT(e.hint(), Catch::Contains("'eval_batches' became 'eval_tokens', a token count"));
  }
}

TEST_CASE("tuning seeds default to one no replication run uses", "[sweep][tune]") {
  const std::string yaml = kModel + R"(seeds: [0, 1, 2]
tune:
  axes: {train.optimizer.lr: [1e-3, 3e-3]}
)";
  const Sweep sweep = parse(yaml);
  REQUIRE(sweep.tune.has_value());
  CHECK(sweep.tune->seeds == std::vector<std::int64_t>{3});  // not seeds[0]: disjoint from 0, 1, 2
  for (const auto& run : sweep.tune_runs) CHECK(run.seed == 3);
  // Named tuning seeds are kept as named, even when they are replication seeds.
  const Sweep named = parse(kModel + "seeds: [0, 1]\ntune: {axes: {train.optimizer.lr: [1e-3]}, seeds: [0]}\n");
  CHECK(named.tune->seeds == std::vector<std::int64_t>{0});
}
