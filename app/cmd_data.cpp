// `ablate data inspect SOURCE` and `ablate data prepare SWEEP.yaml --out DIR` (docs/data.md).
//
// inspect: SOURCE is a sweep file (.yaml/.yml: its data is prepared as `run` would, then
// described: streams, vocabulary used, a decoded sample), or a data source (token files: header
// fields and token range; text: documents and characters).
// prepare: the sweep's data as llm.c shards train_NNNNNN.bin / val_NNNNNN.bin, the tokenizer model
// (if any) and data.json, so other tools (llm.c, nanoGPT-style loaders) can reuse them.
//
// Deliberate limits: a sweep's data is that of its first run (runs of a sweep rarely differ in
// data; when they do, a note says so).
#include <iostream>

#include <fmt/format.h>

#include "ablate/engine/atomic_file.h"
#include "ablate/engine/data.h"
#include "ablate/engine/error.h"
#include "ablate/engine/sweep.h"
#include "cli_checks.h"
#include "commands.h"

namespace ablate::app {
namespace {

struct DataOptions {
  std::string source;
  std::filesystem::path out_dir;
  std::filesystem::path cache_dir;
  std::int64_t shard_tokens = 100'000'000;
  bool json = false;
};

bool is_sweep_file(const std::string& source) {
  return source.ends_with(".yaml") || source.ends_with(".yml");
}

// The data section of the sweep's first run, and a note when other runs differ in it.
nlohmann::json sweep_data(const std::string& file, const GlobalOptions& global) {
  const auto registry = load_plugins(global);
  const Sweep sweep = load_sweep(file, *registry);
  if (sweep.runs.empty()) throw Error(fmt::format("{}: the sweep has no runs", file));
  const nlohmann::json data = sweep.runs.front().config.at("data");
  for (const auto& run : sweep.runs)
    if (run.config.at("data") != data) {
      std::cerr << fmt::format("note: runs of {} differ in data; using the first run's ({})\n", file,
                               sweep.runs.front().arm);
      break;
    }
  return data;
}

PreparedData prepare(const nlohmann::json& data, const DataOptions& options) {
  const auto cache = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  return prepare_data(data, cache, [](const std::string& s) { std::cerr << "data: " << s << "\n"; });
}

nlohmann::json describe_prepared(const PreparedData& data) {
  std::vector<bool> seen(static_cast<std::size_t>(data.vocab_size), false);
  std::int64_t used = 0;
  for (const TokenStream* stream : {&data.train, &data.val})
    for (std::size_t i = 0; i < stream->size(); ++i)
      if (!seen[(*stream)[i]]) seen[(*stream)[i]] = true, ++used;
  std::vector<std::uint32_t> head(data.val.data(), data.val.data() + std::min<std::size_t>(64, data.val.size()));
  nlohmann::json out = {
      {"corpus", data.corpus_description},
      {"tokenizer", data.tokenizer_description},
      {"split_rule", data.split_rule},
      {"vocab_size", data.vocab_size},
      {"vocabulary_used", used},
      {"eot_token", data.eot_token == 0xFFFFFFFFu ? nlohmann::json(nullptr) : nlohmann::json(data.eot_token)},
      {"train", {{"documents", data.train_stats.documents}, {"characters", data.train_stats.characters},
                 {"tokens", data.train_stats.tokens}}},
      {"val", {{"documents", data.val_stats.documents}, {"characters", data.val_stats.characters},
               {"tokens", data.val_stats.tokens}}},
      {"overlap_documents", data.overlap_documents},
      {"cache_entry", data.cache_entry.string()},
      {"val_first_tokens", head},
  };
  if (const auto text = decode_tokens(data, head)) out["val_first_tokens_decoded"] = *text;
  return out;
}

void print_prepared(const nlohmann::json& d) {
  std::cout << fmt::format("corpus:     {}\ntokenizer:  {}\nsplit:      {}\n", d["corpus"].get<std::string>(),
                           d["tokenizer"].get<std::string>(), d["split_rule"].get<std::string>());
  std::cout << fmt::format("vocabulary: {} ids, {} used; end-of-text {}\n", d["vocab_size"].get<std::int64_t>(),
                           d["vocabulary_used"].get<std::int64_t>(), d["eot_token"].dump());
  for (const char* split : {"train", "val"})
    std::cout << fmt::format("{:<6}      {} tokens, {} documents, {} characters\n", split,
                             d[split]["tokens"].get<std::int64_t>(), d[split]["documents"].get<std::int64_t>(),
                             d[split]["characters"].get<std::int64_t>());
  std::cout << fmt::format("overlap:    {} documents in both splits\ncache:      {}\n",
                           d["overlap_documents"].get<std::int64_t>(), d["cache_entry"].get<std::string>());
  std::cout << "first validation tokens: " << d["val_first_tokens"].dump() << "\n";
  if (d.contains("val_first_tokens_decoded"))
    std::cout << "decoded:\n" << d["val_first_tokens_decoded"].get<std::string>() << "\n";
}

void print_source(const nlohmann::json& d) {
  if (d["kind"] != "tokens") {
    std::cout << fmt::format("{} ({}): {} documents ({} each), {} characters, {} bytes\nsample:\n{}\n",
                             d["source"].get<std::string>(), d["kind"].get<std::string>(),
                             d["documents"].get<std::int64_t>(), d["document_unit"].get<std::string>(),
                             d["characters"].get<std::int64_t>(), d["bytes"].get<std::int64_t>(),
                             d["sample"].get<std::string>());
    return;
  }
  std::cout << fmt::format("{:<48} {:<8} {:>9} {:>5} {:>12} {:>10} {:>10} {:>9}\n", "file", "format", "magic",
                           "bytes", "tokens", "min", "max", "distinct");
  for (const auto& f : d["files"])
    std::cout << fmt::format("{:<48} {:<8} {:>9} {:>5} {:>12} {:>10} {:>10} {:>9}\n", f["file"].get<std::string>(),
                             f["format"].get<std::string>(), f.contains("magic") ? f["magic"].dump() : "-",
                             f["token_bytes"].get<int>(), f["tokens"].get<std::int64_t>(),
                             f["min_token"].get<std::uint32_t>(), f["max_token"].get<std::uint32_t>(),
                             f["distinct_tokens"].get<std::int64_t>());
  std::cout << fmt::format("{} files, {} tokens, largest id {}, {} distinct ids\nfirst tokens: {}\n",
                           d["files"].size(), d["tokens"].get<std::int64_t>(), d["max_token"].get<std::uint32_t>(),
                           d["distinct_tokens"].get<std::int64_t>(), d["first_tokens"].dump());
  std::cout << "(no tokenizer is known for raw token files: inspect a sweep that uses them to decode)\n";
}

void run_inspect(const DataOptions& options, const GlobalOptions& global) {
  if (is_sweep_file(options.source)) {
    const nlohmann::json d = describe_prepared(prepare(sweep_data(options.source, global), options));
    if (options.json) std::cout << d.dump(2) << std::endl;
    else print_prepared(d);
    return;
  }
  const nlohmann::json d = inspect_data_source(options.source);
  if (options.json) std::cout << d.dump(2) << std::endl;
  else print_source(d);
}

void run_prepare(const DataOptions& options, const GlobalOptions& global) {
  if (!is_sweep_file(options.source))
    throw Error(fmt::format("{}: expected a sweep file (.yaml)", options.source),
                "data prepare writes the corpus + tokenizer of a sweep's data section");
  const PreparedData data = prepare(sweep_data(options.source, global), options);
  const auto& dir = options.out_dir;
  nlohmann::json files = nlohmann::json::object();
  for (const auto& [name, stream] : {std::pair{"train", &data.train}, std::pair{"val", &data.val}}) {
    files[name] = nlohmann::json::array();
    for (const auto& f : write_llmc_shards(dir, name, *stream, data.vocab_size, options.shard_tokens))
      files[name].push_back(f.filename().string());
  }
  if (!data.tokenizer_model.empty()) {
    std::filesystem::copy_file(data.tokenizer_model, dir / "tokenizer.model",
                               std::filesystem::copy_options::overwrite_existing);
    files["tokenizer_model"] = "tokenizer.model";
  }
  const nlohmann::json meta = {
      {"corpus", data.corpus_description}, {"tokenizer", data.tokenizer_description},
      {"tokenizer_kind", data.tokenizer_kind}, {"split_rule", data.split_rule},
      {"vocab_size", data.vocab_size},
      {"eot_token", data.eot_token == 0xFFFFFFFFu ? nlohmann::json(nullptr) : nlohmann::json(data.eot_token)},
      {"token_format", data.vocab_size <= 65536 ? "llm.c magic 20240520, uint16" : "llm.c magic 20240801, uint32"},
      {"train_tokens", data.train.size()}, {"val_tokens", data.val.size()}, {"files", files}};
  write_file_atomic(dir / "data.json", meta.dump(2) + "\n");
  std::cout << fmt::format("wrote {} train + {} val shard(s) ({} + {} tokens, {}) to {}\n", files["train"].size(),
                           files["val"].size(), data.train.size(), data.val.size(), meta["token_format"].get<std::string>(),
                           std::filesystem::absolute(dir).string());
  std::cout << fmt::format("reuse: corpus: {{tokens: {}/*.bin, format: llmc}}, tokenizer: {}\n", dir.string(),
                           data.tokenizer_model.empty()
                               ? fmt::format("{{kind: pretokenized, vocab_size: {}}}", data.vocab_size)
                               : fmt::format("{{kind: sentencepiece, model: {}/tokenizer.model}}", dir.string()));
}

}  // namespace

void setup_data(CLI::App& app, const GlobalOptions& global) {
  auto* cmd = app.add_subcommand("data", "inspect a data source, or write a sweep's data as llm.c shards");
  cmd->require_subcommand(1);

  auto inspect_options = std::make_shared<DataOptions>();
  auto* inspect = cmd->add_subcommand("inspect", "what a data source or a sweep's data holds");
  inspect->add_option("source", inspect_options->source,
                      "a sweep file (.yaml), a token file / glob / directory, or a text / JSONL file or directory")
      ->required();
  inspect->add_flag("--json", inspect_options->json, "print JSON");
  inspect->add_option("--cache", inspect_options->cache_dir, "cache of tokenizers and tokenized data")
      ->check(directory_to_write());
  inspect->callback([inspect_options, &global] { run_inspect(*inspect_options, global); });

  auto prepare_options = std::make_shared<DataOptions>();
  auto* prep = cmd->add_subcommand("prepare", "write a sweep's corpus + tokenizer as llm.c shards");
  prep->add_option("sweep", prepare_options->source, "sweep file (.yaml)")->required()->check(CLI::ExistingFile);
  prep->add_option("--out", prepare_options->out_dir, "output directory")->required()->check(directory_to_write());
  prep->add_option("--shard-tokens", prepare_options->shard_tokens, "tokens per shard at most")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{0x7FFFFFFF}));
  prep->add_option("--cache", prepare_options->cache_dir, "cache of tokenizers and tokenized data")
      ->check(directory_to_write());
  prep->callback([prepare_options, &global] { run_prepare(*prepare_options, global); });
}

}  // namespace ablate::app
