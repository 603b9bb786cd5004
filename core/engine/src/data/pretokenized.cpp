// prepare_data for pre-tokenized corpora, {tokens: PATH-OR-GLOB, format: auto|llmc|nanogpt}
// (data.h): llm.c shards and nanoGPT .bin files become the same uint32 cache streams as text
// corpora, so training does not care where tokens came from.
//
// Split: files whose name contains "val" (nanoGPT's val.bin, llm.c's *_val_*.bin) are the
// validation stream and the others the training stream. Without such files the concatenated
// tokens are cut into contiguous ranges: training = the first tokens, validation = the last
// val_fraction of them, and a gap of seq_len tokens between the two belongs to neither, so the
// text just before the validation range is never a training window. There are no documents to
// split by, so `overlap_documents` counts validation files identical (by content) to a training
// file, and is 0 for a range split, whose rule says so.
//
// Deliberate limits: the streams are copied into the cache widened to uint32 (twice the disk of
// uint16 shards); the cache key hashes every token on each call (XXH3, several GB/s).
#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "ablate/engine/atomic_file.h"
#include "ablate/engine/data.h"
#include "ablate/engine/error.h"
#include "data/internal.h"

namespace ablate::data_internal {
namespace fs = std::filesystem;

namespace {

struct TokenSource {
  std::vector<TokenFile> train, val;
  std::string format;  // of the first file; all must agree
};

TokenSource open_source(const std::string& pattern, const std::string& format) {
  TokenSource src;
  for (const auto& path : expand_token_paths(pattern, format)) {
    TokenFile file = open_token_file(path, format);
    if (src.format.empty()) src.format = file.format;
    if (file.format != src.format)
      throw Error(fmt::format("{}: an {} file among {} files of the same corpus", path.string(),
                              file.format, src.format),
                  "give files of one format (set data.corpus.format)");
    (file.is_val ? src.val : src.train).push_back(std::move(file));
  }
  if (src.train.empty())
    throw Error(fmt::format("{}: every matching file is a validation file (its name contains "
                            "'val'); no training tokens",
                            pattern),
                "match the training files too, e.g. data/fineweb_*.bin");
  return src;
}

std::string hash_file_tokens(const TokenFile& file) {
  const std::size_t offset = file.format == "llmc" ? kLlmcHeaderBytes : 0;
  return hex_hash(std::string_view(reinterpret_cast<const char*>(file.map.data()) + offset,
                                   file.map.size() - offset));
}

// A half-open range [begin, end) of the concatenation of `files`.
struct Range {
  std::int64_t begin = 0, end = 0;
};

std::int64_t total_tokens(const std::vector<TokenFile>& files) {
  std::int64_t n = 0;
  for (const auto& f : files) n += f.tokens;
  return n;
}

// Copies a range of the concatenated files into `writer` as uint32, checking every id against the
// vocabulary (the error names the file and the token's position in it).
void copy_range(const std::vector<TokenFile>& files, Range range, std::int64_t vocab_size,
                TokenWriter& writer) {
  std::vector<std::uint32_t> buffer;
  std::int64_t file_start = 0;
  for (const auto& file : files) {
    const std::int64_t lo = std::max(range.begin, file_start);
    const std::int64_t hi = std::min(range.end, file_start + file.tokens);
    for (std::int64_t i = lo; i < hi;) {
      const std::int64_t n = std::min<std::int64_t>(hi - i, 1 << 20);
      buffer.resize(static_cast<std::size_t>(n));
      for (std::int64_t k = 0; k < n; ++k) {
        const std::size_t at = static_cast<std::size_t>(i - file_start + k);
        const std::uint32_t t = file.token(at);
        if (t >= static_cast<std::uint64_t>(vocab_size))
          throw Error(fmt::format("{}: token {} at position {} is not below the vocabulary size {}",
                                  file.path.string(), t, at, vocab_size),
                      "set data.tokenizer.vocab_size to the vocabulary the tokens were made with "
                      "(GPT-2: 50257); `ablate data inspect FILE` shows the largest token");
        buffer[static_cast<std::size_t>(k)] = t;
      }
      writer.write(buffer.data(), buffer.size());
      i += n;
    }
    file_start += file.tokens;
  }
}

std::string describe_source(const TokenSource& src, const std::string& pattern) {
  const int bytes = src.train.front().token_bytes;
  const std::string what = src.format == "llmc"
                               ? fmt::format("llm.c shards (uint{} tokens)", bytes * 8)
                               : std::string("nanoGPT token files (uint16 tokens)");
  return fmt::format("{}: {} training file(s), {} validation file(s), {} tokens, from {}", what,
                     src.train.size(), src.val.size(), total_tokens(src.train) + total_tokens(src.val),
                     pattern);
}

std::string describe_tokenizer(const TokenizerSpec& spec) {
  if (spec.kind == TokenizerSpec::Kind::sentencepiece) return tokenizer_description(spec);
  return fmt::format("pre-tokenized, vocabulary {} (stated in the sweep), end-of-text {}",
                     spec.vocab_size, spec.eot == kNoEot ? "not stated" : std::to_string(spec.eot));
}

std::int64_t count_token(const TokenStream& stream, std::uint32_t token) {
  if (token == kNoEot) return 0;
  return std::count(stream.data(), stream.data() + stream.size(), token);
}

}  // namespace

PreparedData prepare_pretokenized(const nlohmann::json& corpus_config, const TokenizerSpec& tokenizer,
                                  std::int64_t seq_len, double val_fraction, const fs::path& cache_dir,
                                  const ProgressFn& progress) {
  if (tokenizer.kind != TokenizerSpec::Kind::pretokenized &&
      tokenizer.kind != TokenizerSpec::Kind::sentencepiece)
    throw Error(fmt::format("data.tokenizer: a pre-tokenized corpus cannot use the {} tokenizer",
                            kind_name(tokenizer.kind)),
                "use {kind: pretokenized, vocab_size: N} (N = the vocabulary the tokens were made "
                "with), or {kind: sentencepiece, model: PATH} when they were made with that model");
  const std::string pattern = corpus_config.at("tokens").get<std::string>();
  const std::string format = corpus_config.contains("format") && corpus_config["format"].is_string()
                                 ? corpus_config["format"].get<std::string>()
                                 : "auto";
  if (progress) progress(fmt::format("mapping token files {}...", pattern));
  const TokenSource src = open_source(pattern, format);

  PreparedData out;
  out.corpus_description = describe_source(src, pattern);
  out.tokenizer_description = describe_tokenizer(tokenizer);
  out.tokenizer_kind = kind_name(tokenizer.kind);
  out.vocab_size = tokenizer.vocab_size;
  out.eot_token = tokenizer.eot;

  // Where each stream comes from, and the rule that says so.
  const bool separate = !src.val.empty();
  Range train_range, val_range;
  const std::int64_t n_train_files = total_tokens(src.train);
  std::vector<std::string> train_hashes, val_hashes;  // each file hashed once: key and overlap
  for (const auto& f : src.train) train_hashes.push_back(hash_file_tokens(f));
  for (const auto& f : src.val) val_hashes.push_back(hash_file_tokens(f));
  if (separate) {
    train_range = {0, n_train_files};
    val_range = {0, total_tokens(src.val)};
    out.split_rule = fmt::format(
        "by file: {} validation file(s) (named *val*: 'val' a word of the name), {} training file(s)",
        src.val.size(), src.train.size());
    const std::set<std::string> train_set(train_hashes.begin(), train_hashes.end());
    for (const auto& h : val_hashes) out.overlap_documents += train_set.count(h);
  } else {
    const std::int64_t gap = seq_len;
    const std::int64_t n_val = std::max<std::int64_t>(
        seq_len + 1, std::llround(val_fraction * static_cast<double>(n_train_files)));
    const std::int64_t n_train = n_train_files - n_val - gap;
    if (n_train < seq_len + 1)
      throw Error(fmt::format("{}: {} tokens are too few for a training range, a gap of seq_len = "
                              "{} and a validation range of {} tokens",
                              pattern, n_train_files, gap, n_val),
                  "lower seq_len or val_fraction, or give more tokens (or a separate *val* file)");
    train_range = {0, n_train};
    val_range = {n_train_files - n_val, n_train_files};
    out.split_rule = fmt::format(
        "by contiguous token ranges (no documents): tokens [0, {}) train, [{}, {}) validation "
        "({:g}%), a gap of {} tokens (seq_len) between them in neither, so no window crosses the "
        "split",
        n_train, val_range.begin, val_range.end, val_fraction * 100, gap);
  }

  // Key: every token with its file boundaries and role, the split and the tokenizer.
  nlohmann::json files = nlohmann::json::array();
  for (std::size_t i = 0; i < src.train.size(); ++i)
    files.push_back({false, src.train[i].token_bytes, src.train[i].tokens, train_hashes[i]});
  for (std::size_t i = 0; i < src.val.size(); ++i)
    files.push_back({true, src.val[i].token_bytes, src.val[i].tokens, val_hashes[i]});
  const std::string key = hex_hash(
      nlohmann::json{{"format", kCacheFormat},
                     {"source", "tokens"},
                     {"files", files},
                     {"split", separate ? nlohmann::json("files")
                                        : nlohmann::json{train_range.end, val_range.begin}},
                     {"tokenizer", tokenizer_fingerprint(tokenizer)}}
          .dump());
  const fs::path entry = cache_dir / key;
  out.cache_entry = entry;
  const bool with_model = tokenizer.kind == TokenizerSpec::Kind::sentencepiece;
  if (with_model) out.tokenizer_model = entry / "tokenizer.model";

  if (entry_is_complete(entry, key, with_model)) {
    if (progress) progress(fmt::format("using cached tokens in {}", entry.string()));
    out.from_cache = true;
  } else {
    create_entry(entry);
    const auto started = std::chrono::steady_clock::now();
    if (progress) progress("copying tokens into the cache (checking each against the vocabulary)...");
    try {
      TokenWriter train_writer(entry / "train.bin", 4), val_writer(entry / "val.bin", 4);
      copy_range(src.train, train_range, tokenizer.vocab_size, train_writer);
      copy_range(separate ? src.val : src.train, val_range, tokenizer.vocab_size, val_writer);
      train_writer.commit();
      val_writer.commit();
      if (with_model) write_file_atomic(entry / "tokenizer.model", read_file(tokenizer.model));
    } catch (...) {
      std::error_code ec;
      fs::remove(entry, ec);  // only if empty: leave no empty entry behind a failed build
      throw;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const nlohmann::json meta = {
        {"format", kCacheFormat},
        {"key", key},
        {"corpus", out.corpus_description},
        {"document_unit", "none (pre-tokenized)"},
        {"split_rule", out.split_rule},
        {"tokenizer", out.tokenizer_description},
        {"tokenizer_settings", tokenizer_fingerprint(tokenizer)},
        {"vocab_size", out.vocab_size},
        {"eot_token", tokenizer.eot == kNoEot ? nlohmann::json(nullptr) : nlohmann::json(tokenizer.eot)},
        {"token_format", "uint32 little-endian"},
        {"train", {{"tokens", train_range.end - train_range.begin}}},
        {"val", {{"tokens", val_range.end - val_range.begin}}},
        {"overlap_documents", out.overlap_documents},
        {"files", {{"train", "train.bin"}, {"val", "val.bin"}, {"tokenizer_model", with_model ? "tokenizer.model" : ""}}},
        {"build_seconds", std::round(seconds * 1000) / 1000},
    };
    write_file_atomic(entry / "meta.json", meta.dump(2) + "\n");
  }
  map_entry(entry, seq_len, out);
  // Documents = end-of-text tokens, when the eot is known; characters are unknown without text.
  out.train_stats.documents = count_token(out.train, tokenizer.eot);
  out.val_stats.documents = count_token(out.val, tokenizer.eot);
  return out;
}

}  // namespace ablate::data_internal
