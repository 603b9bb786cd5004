// A tune stage's evaluation split, end to end (sweep-format.md, "Tune"): tuning runs are scored on
// the validation documents after the middle of the validation stream, replication runs on the
// documents before, so the comparison is never judged on a document that chose its learning rate.
// The test recomputes, from the cached validation stream, the hash of the tokens each side should
// read, and checks it against what each run recorded in summary.json (eval_set.hash).
#include <catch2/catch.hpp>

#include <xxhash.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ablate/engine/data.h"
#include "cli_helpers.h"

using namespace ablate::test;

namespace {

// A corpus of `n` short documents, each opening with its own tag "<dNN>" (a directory of .txt files).
void write_tagged_corpus(const std::filesystem::path& dir, int n) {
  std::filesystem::create_directories(dir);
  const char* words[] = {"river", "stone", "lamp",  "field", "crow",  "bread", "gate", "salt",
                         "wind",  "iron",  "grain", "moss",  "cloud", "ember", "reed", "tide"};
  std::uint32_t state = 12345;
  for (int d = 0; d < n; ++d) {
    std::string text = fmt::format("<d{:02}>", d);
    const int count = 30 + d % 7 * 5;
    for (int w = 0; w < count; ++w) {
      state = state * 1664525u + 1013904223u;
      text += std::string(" ") + words[(state >> 16) % 16];
    }
    std::ofstream(dir / fmt::format("doc{:02}.txt", d)) << text << "\n";
  }
}

std::string xxh3_hex(const ablate::TokenStream& stream, std::size_t begin, std::size_t count) {
  REQUIRE(begin + count <= stream.size());
  return fmt::format("{:016x}", XXH3_64bits(stream.data() + begin, count * sizeof(std::uint32_t)));
}

// The tags of the documents of `val` that hold any of the tokens [begin, end).
std::set<std::string> documents_read(const ablate::PreparedData& data, std::size_t begin, std::size_t end) {
  std::set<std::string> tags;
  std::size_t start = 0;  // of the current document
  for (std::size_t i = 0; i < data.val.size(); ++i) {
    if (data.val[i] != data.eot_token) continue;
    if (start < end && i >= begin) {  // the document [start, i] (its eot included) meets [begin, end)
      std::string tag;
      for (std::size_t k = start; k < start + 5; ++k) tag += static_cast<char>(data.val[k]);  // byte tokens
      tags.insert(tag);
    }
    start = i + 1;
  }
  return tags;
}

}  // namespace

TEST_CASE("tuning runs are scored only on the tuning half of validation, replication runs never on it",
          "[cli][tune]") {
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_tune_split";
  std::filesystem::remove_all(dir);
  write_tagged_corpus(dir / "corpus", 40);
  // eval_tokens far above the corpus: every window of each side is scored, up to its last token.
  const auto sweep = write_temp("tune_split.yaml", fmt::format(R"(name: tune_split
data: {{corpus: {{text: {}}}, tokenizer: {{kind: byte}}, seq_len: 16, val_fraction: 0.5}}
model: {{d_model: 16, n_layers: 1, attention: {{plugin: mha, n_heads: 2}}, ffn: {{plugin: swiglu, d_ff: 32}}}}
train: {{steps: 2, batch_size: 8, eval_every: 2, eval_tokens: 1000000, log_every: 2}}
seeds: [0]
tune: {{axes: {{train.optimizer.lr: [1.0e-3, 3.0e-3]}}, seeds: [5]}}
)",
                                                               (dir / "corpus").string()));
  const Output trained = run_ablate(run_args(sweep, dir / "out"));
  INFO(trained.text);
  REQUIRE(trained.status == 0);
  const auto sweep_dir = dir / "out" / "tune_split";
  const auto meta = nlohmann::json::parse(std::ifstream(sweep_dir / "sweep.json"));
  REQUIRE(meta.at("tune_runs").size() == 2);
  REQUIRE(meta.at("runs").size() == 1);

  // The validation stream the runs read, from the cache they filled.
  const std::string replication_id = meta["runs"][0].at("id");
  const auto config = nlohmann::json::parse(std::ifstream(sweep_dir / "runs" / replication_id / "config.json"));
  const ablate::PreparedData data = ablate::prepare_data(config.at("data"), dir / "out" / "cache");
  REQUIRE(data.from_cache);
  // The cut: just after the first end-of-text at or after the middle of the validation stream.
  const std::size_t n = data.val.size();
  std::size_t cut = n / 2;
  while (cut < n && data.val[cut] != data.eot_token) ++cut;
  REQUIRE(cut < n);
  ++cut;
  REQUIRE(cut < n);
  constexpr std::size_t T = 16;

  // Replication: every window of [0, cut); window i reads tokens [i·T, (i + 1)·T].
  const auto replication = nlohmann::json::parse(std::ifstream(sweep_dir / "runs" / replication_id / "summary.json"));
  CHECK(replication.at("status") == "done");
  CHECK(replication.at("eval_split") == "final");
  const std::size_t final_windows = (cut - 1) / T;
  CHECK(replication.at("eval_set").at("windows") == final_windows);
  const std::size_t final_end = final_windows * T + 1;  // one past the last token read
  CHECK(replication.at("eval_set").at("hash") == xxh3_hex(data.val, 0, final_end));
  CHECK(final_end <= cut);

  // Tuning: every window of [cut, n).
  const std::size_t tuning_windows = (n - cut - 1) / T;
  const std::size_t tuning_end = cut + tuning_windows * T + 1;
  const std::string tuning_hash = xxh3_hex(data.val, cut, tuning_end - cut);
  for (const auto& run : meta["tune_runs"]) {
    const auto summary =
        nlohmann::json::parse(std::ifstream(sweep_dir / "tune" / run.at("id").get<std::string>() / "summary.json"));
    CAPTURE(run.dump());
    CHECK(summary.at("status") == "done");
    CHECK(summary.at("eval_split") == "tuning");
    CHECK(summary.at("eval_set").at("windows") == tuning_windows);
    CHECK(summary.at("eval_set").at("hash") == tuning_hash);
  }

  // No document is read by both sides, and each side reads several whole documents.
  const auto final_documents = documents_read(data, 0, final_end);
  const auto tuning_documents = documents_read(data, cut, tuning_end);
  CAPTURE(final_documents, tuning_documents);
  CHECK(final_documents.size() >= 5);
  CHECK(tuning_documents.size() >= 5);
  for (const auto& tag : final_documents) CHECK(tuning_documents.count(tag) == 0);
}
