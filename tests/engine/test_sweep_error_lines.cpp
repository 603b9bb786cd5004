// Errors found after the sweep's values are resolved (files on disk, the tokenizer's vocabulary, a
// plugin's own check of its options) name the line of the sweep that set the value responsible:
// the arm's, grid point's or tune point's line when one of those set it, not the base's.
//
//   ./build/tests/test_engine "[sweep][error-lines]"
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "ablate/engine/error.h"
#include "ablate/engine/sweep.h"
#include "builtin_plugins.h"
#include "cli_helpers.h"

namespace fs = std::filesystem;

namespace {

// A small valid model; the sweeps below add to it.
const std::string kModel = R"(model:
  d_model: 64
  n_layers: 2
  attention: {plugin: mha, n_heads: 4}
  ffn: {plugin: swiglu, d_ff: 128}
)";

struct Failure {
  std::string message;
  std::string where;  // "FILE:LINE:COLUMN"
};

/// The error of `yaml` parsed as the sweep file `file`, or {"(no error)", ""}.
Failure failure_of(const std::string& yaml, const fs::path& file) {
  try {
    ablate::parse_sweep(yaml, file, ablate::test::builtin_plugins());
  } catch (const ablate::Error& e) {
    return {e.what(), e.where().str()};
  }
  return {"(no error)", ""};
}

/// A fresh directory for one test's files; the sweep file is `sweep.yaml` in it.
fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("ablate_test_sweep_error_lines_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("a corpus path that is not on disk is refused at the line that names it", "[sweep][error-lines]") {
  const fs::path dir = fresh_dir("corpus");
  fs::create_directories(dir / "books");
  std::ofstream(dir / "books" / "a.txt") << "some text\n";
  using Row = std::tuple<std::string, std::string, std::string, std::string>;
  const auto [what, yaml, where, missing] = GENERATE(table<std::string, std::string, std::string, std::string>({
      Row{"a text directory", "data: {corpus: {text: missing_dir}}\n" + kModel, "1:23", "missing_dir"},
      Row{"a JSONL file", "data: {corpus: {jsonl: none.jsonl, field: body}}\n" + kModel, "1:24", "none.jsonl"},
      Row{"a tokens glob that matches nothing",
          "data: {corpus: {tokens: \"shards_*.bin\"}, tokenizer: {kind: pretokenized, vocab_size: 50257}}\n" + kModel,
          "1:25", "shards_*.bin"},
      Row{"a path an arm sets", kModel + "data: {corpus: {text: books}}\narms:\n  a: {}\n  b: {data.corpus.text: gone}\n",
          "9:25", "gone"},
      Row{"a path a grid point sets", kModel + "data: {corpus: {text: books}}\ngrid:\n  data.corpus:\n    - {text: books}\n"
          "    - {jsonl: books/none.jsonl}\n",
          "10:15", "books/none.jsonl"},
  }));
  CAPTURE(what);
  const Failure f = failure_of(yaml, dir / "sweep.yaml");
  CHECK_THAT(f.message, Catch::Contains((dir / missing).string()));
  CHECK(f.where == (dir / "sweep.yaml").string() + ":" + where);
  fs::remove_all(dir);
}

TEST_CASE("corpus paths that are on disk pass, whatever their form", "[sweep][error-lines]") {
  const fs::path dir = fresh_dir("corpus_ok");
  fs::create_directories(dir / "books");
  std::ofstream(dir / "books" / "a.txt") << "some text\n";
  std::ofstream(dir / "docs.jsonl") << "{\"text\": \"a line\"}\n";
  std::ofstream(dir / "shard_000.bin") << "ab";
  const std::string corpus = GENERATE(as<std::string>{}, "{text: books}", "{text: books/a.txt}", "{jsonl: docs.jsonl}",
                                      "{tokens: \"shard_*.bin\"}", "{tokens: .}");
  CAPTURE(corpus);
  const std::string tokenizer = corpus.find("tokens") != std::string::npos
                                    ? "{kind: pretokenized, vocab_size: 50257}"
                                    : "{kind: byte}";
  const Failure f = failure_of("data: {corpus: " + corpus + ", tokenizer: " + tokenizer + "}\n" + kModel,
                               dir / "sweep.yaml");
  CHECK(f.message == "(no error)");
  fs::remove_all(dir);
}

TEST_CASE("a plugin's check of a value an arm, grid point or tune point set names that value's line",
          "[sweep][error-lines]") {
  using Row = std::tuple<std::string, std::string, std::string, std::string>;
  const auto [what, yaml, where, message] = GENERATE(table<std::string, std::string, std::string, std::string>({
      Row{"an arm's option of the component", kModel + "arms:\n  a: {}\n  b: {model.attention.n_heads: 6}\n", "8:32",
          "d_model 64 is not divisible by n_heads 6"},
      Row{"an arm's d_model, which the plugin is given", kModel + "arms:\n  a: {}\n  b: {model.d_model: 66}\n", "8:22",
          "d_model 66 is not divisible by n_heads 4"},
      Row{"a grid point", kModel + "grid:\n  model.attention.n_heads:\n    - 4\n    - 6\n", "9:7",
          "d_model 64 is not divisible by n_heads 6"},
      Row{"a grid point over an arm's value", kModel + "arms: {a: {model.attention.n_heads: 8}}\ngrid: {model.d_model: [64, 68]}\n",
          "7:28", "d_model 68 is not divisible by n_heads 8"},
      Row{"a tune point", kModel + "tune: {axes: {model.attention.n_heads: [4, 6]}}\n", "6:44",
          "d_model 64 is not divisible by n_heads 6"},
      Row{"the base's own value, an arm changing something else",
          "model:\n  d_model: 60\n  attention: {plugin: mha, n_heads: 8}\n  ffn: {plugin: silu, d_ff: 8}\n"
          "arms: {a: {train.steps: 5}}\n",
          "3:14", "d_model 60 is not divisible by n_heads 8"},
      Row{"an arm's n_layers below first_dense_layers",
          "model:\n  n_layers: 2\n  first_dense_layers: 2\n  ffn: {plugin: silu, d_ff: 8}\narms: {a: {}, b: {model.n_layers: 1}}\n",
          "5:35", "'first_dense_layers' (2) must be at most n_layers (1)"},
  }));
  CAPTURE(what, yaml);
  const Failure f = failure_of(yaml, "lines.yaml");
  CHECK_THAT(f.message, Catch::Contains(message));
  CHECK(f.where == "lines.yaml:" + where);
}

TEST_CASE("a vocabulary smaller than the tokenizer's is refused at the line that made it so", "[sweep][error-lines]") {
  using Row = std::tuple<std::string, std::string, std::string, std::string>;
  const auto [what, yaml, where, message] = GENERATE(table<std::string, std::string, std::string, std::string>({
      Row{"model.vocab_size below the default BPE's", kModel + "  vocab_size: 300\n", "6:15",
          "model.vocab_size 300 is smaller than the tokenizer's vocabulary 2048"},
      Row{"below the byte tokenizer's", "data: {tokenizer: {kind: byte}}\n" + kModel + "  vocab_size: 256\n", "7:15",
          "model.vocab_size 256 is smaller than the tokenizer's vocabulary 257"},
      Row{"an arm that raises the tokenizer's vocabulary",
          "data: {tokenizer: {vocab_size: 300}}\n" + kModel + "  vocab_size: 400\narms:\n  a: {}\n"
          "  b: {data.tokenizer.vocab_size: 512}\n",
          "10:34", "model.vocab_size 400 is smaller than the tokenizer's vocabulary 512"},
      Row{"a grid point of model.vocab_size", kModel + "grid: {model.vocab_size: [4096, 1024]}\n", "6:33",
          "model.vocab_size 1024 is smaller than the tokenizer's vocabulary 2048"},
  }));
  CAPTURE(what, yaml);
  const Failure f = failure_of(yaml, "vocab.yaml");
  CHECK_THAT(f.message, Catch::Contains(message));
  CHECK(f.where == "vocab.yaml:" + where);
}

TEST_CASE("a SentencePiece model file that is not on disk is refused at its line", "[sweep][error-lines]") {
  const fs::path dir = fresh_dir("sentencepiece");
  const Failure base =
      failure_of("data: {tokenizer: {kind: sentencepiece, model: none.model}}\n" + kModel, dir / "sweep.yaml");
  CHECK_THAT(base.message, Catch::Contains((dir / "none.model").string() + ": no such SentencePiece model file"));
  CHECK(base.where == (dir / "sweep.yaml").string() + ":1:48");
  const Failure arm = failure_of(kModel + "arms:\n  a: {}\n  b: {data.tokenizer: {kind: sentencepiece, model: m.model}}\n",
                                 dir / "sweep.yaml");
  CHECK_THAT(arm.message, Catch::Contains((dir / "m.model").string()));
  CHECK(arm.where == (dir / "sweep.yaml").string() + ":8:52");
  fs::remove_all(dir);
}

TEST_CASE("expand refuses a missing corpus directory at its line, before anything runs", "[sweep][error-lines][cli]") {
  const fs::path sweep = ablate::test::write_temp("missing_corpus.yaml", "data: {corpus: {text: missing_dir}}\n" + kModel);
  const ablate::test::Output out = ablate::test::run_ablate("expand " + sweep.string());
  INFO(out.text);
  CHECK(out.status == 2);
  CHECK_THAT(out.text, Catch::Contains(sweep.string() + ":1:23"));
  CHECK_THAT(out.text, Catch::Contains("missing_dir: no such file or directory"));
}
