// Corpus → documents → split by document → tokenizer → token streams cached on disk, memory-mapped.
//
// The split is made on documents before any windowing, so no validation token can appear in a
// training window: the training stream holds only training documents, the validation stream only
// validation documents, each document followed by the end-of-text token.
//
// `data` section of a resolved run configuration (sweep.h):
//   corpus:       "kjv" (the King James Bible from Debian's bible-kjv, one document per chapter)
//                 | {text: PATH}  (a .txt file = one document, or a directory of .txt files)
//                 | {jsonl: PATH, field: NAME}  (one document per line)
//                 (text and JSONL files may be gzip-compressed: FILE.gz)
//                 | {tokens: PATH-OR-GLOB, format: auto|llmc|nanogpt}  (pre-tokenized: llm.c shards
//                   or nanoGPT train.bin/val.bin; split by contiguous token ranges, see docs/data.md)
//   tokenizer:    {kind: bpe, vocab_size: N}  (SentencePiece BPE trained on the training split)
//                 | {kind: byte}  (256 bytes + end-of-text = 257)
//                 | {kind: sentencepiece, model: PATH}  (an existing SentencePiece .model)
//                 | {kind: pretokenized, vocab_size: N, eot: ID}  (tokens corpus only)
//   seq_len:      T, tokens per training window
//   val_fraction: fraction of documents (by characters) held out for validation
//   split_seed:   seed of the document shuffle that assigns documents to splits
//   drop_near_duplicates: false | true  (leave out of validation the documents with a near-twin
//                 in training: word 5-gram Jaccard >= 0.2, see find_near_twins; text corpora only)
//
// Everything derived is cached under `cache_dir` by content hash (of the documents and the
// settings), so a tokenizer is trained once per corpus and setting.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ablate {

/// A read-only, memory-mapped array of uint32 token ids.
class TokenStream {
 public:
  TokenStream() = default;
  explicit TokenStream(const std::filesystem::path& file);  // maps the file
  ~TokenStream();
  TokenStream(TokenStream&&) noexcept;
  TokenStream& operator=(TokenStream&&) noexcept;
  TokenStream(const TokenStream&) = delete;
  TokenStream& operator=(const TokenStream&) = delete;

  const std::uint32_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::uint32_t operator[](std::size_t i) const { return data_[i]; }

 private:
  const std::uint32_t* data_ = nullptr;
  std::size_t size_ = 0;
  void* mapping_ = nullptr;
  std::size_t mapped_bytes_ = 0;
};

struct SplitStats {
  std::int64_t documents = 0;
  std::int64_t characters = 0;
  std::int64_t tokens = 0;
};

/// A validation document and its most similar training document (find_near_twins).
struct NearDuplicatePair {
  std::string val_document;    // label: "Psa53" (KJV chapter), "line 17" (JSONL), "a/b.txt", "chunk 3"
  std::string train_document;  // label of its most similar training document
  double jaccard = 0;          // Jaccard similarity of their word 5-gram sets, >= 0.2
};

struct PreparedData {
  TokenStream train;  // training documents, each followed by eot
  TokenStream val;    // validation documents, each followed by eot
  std::int64_t vocab_size = 0;   // tokenizer vocabulary, eot included
  std::uint32_t eot_token = 0;  // 0xFFFFFFFF: none (pre-tokenized data without a stated eot)
  std::string corpus_description;     // e.g. "King James Bible (Debian bible-kjv), 1189 chapters"
  std::string tokenizer_description;  // e.g. "SentencePiece BPE, 2048 pieces, trained on the training split"
  std::string split_rule;             // e.g. "by document (chapter), 10% of characters to validation, seed 0"
  SplitStats train_stats, val_stats;
  std::int64_t overlap_documents = 0; // documents present in both splits (by content hash); must be 0
  // Near-duplicates across the split (docs/data.md): validation documents whose word 5-gram set has
  // Jaccard >= 0.2 with some training document's (the KJV's parallel chapters: Psalm 14 and 53...).
  std::string near_duplicate_rule;            // how they are found; empty: not checked (pre-tokenized)
  std::int64_t near_duplicate_documents = 0;  // validation documents of the split with a near-twin
                                              // in training, counted before any drop
  bool near_duplicates_dropped = false;       // data.drop_near_duplicates: those documents were left
                                              // out of validation (val_stats counts the rest)
  std::vector<NearDuplicatePair> near_duplicate_examples;  // the <= 5 most similar, most similar first
  std::string tokenizer_kind;             // "byte", "bpe", "sentencepiece" or "pretokenized"
  std::filesystem::path tokenizer_model;  // the .model file (bpe, sentencepiece), else empty
  std::filesystem::path cache_entry;      // <cache_dir>/<key>/: train.bin, val.bin, meta.json...
  bool from_cache = false;                // true when nothing was trained or tokenized this time
};

/// Progress lines ("training tokenizer...") for long steps; may be empty.
using ProgressFn = std::function<void(const std::string&)>;

/// Loads, splits, tokenizes (or reuses the cache) and maps the data of a `data` section.
/// Throws ablate::Error on a missing, unreadable, empty or binary corpus, a vocabulary the corpus
/// cannot support, or a seq_len longer than the validation stream.
PreparedData prepare_data(const nlohmann::json& data_config, const std::filesystem::path& cache_dir,
                          const ProgressFn& progress = {});

/// A validation document with a near-twin in training: indices into the documents given to
/// find_near_twins, and the Jaccard similarity of their word 5-gram sets.
struct NearTwin {
  std::size_t val = 0;
  std::size_t train = 0;  // the most similar training document (the first in order on a tie)
  double jaccard = 0;
};

/// The word 5-gram Jaccard threshold at or above which a validation document has a near-twin.
inline constexpr double kNearDuplicateJaccard = 0.2;

/// Each document of `val` (indices into `documents`) whose set of word 5-grams (lower-cased ASCII,
/// punctuation ignored) has Jaccard similarity >= kNearDuplicateJaccard with the set of some
/// document of `train`, with its most similar one; in `val` order. Exact (no sampling): an index
/// of the validation 5-grams, one pass over the training documents. Documents of fewer than five
/// words are one "5-gram" of all their words; documents without words have no twin.
std::vector<NearTwin> find_near_twins(const std::vector<std::string>& documents,
                                      const std::vector<std::size_t>& train,
                                      const std::vector<std::size_t>& val);

/// The vocabulary size a `data` section's tokenizer will have, without reading the corpus.
std::int64_t tokenizer_vocab_size(const nlohmann::json& data_config);

/// What one pre-tokenized file (llm.c shard or nanoGPT .bin) holds, from its header and a scan.
struct TokenFileSummary {
  std::filesystem::path file;
  std::string format;         // "llmc" or "nanogpt"
  std::int32_t magic = 0;     // llm.c header (0 for nanoGPT)
  std::int32_t version = 0;
  int token_bytes = 2;        // 2 (uint16) or 4 (uint32)
  std::int64_t tokens = 0;
  std::uint32_t min_token = 0, max_token = 0;
  std::int64_t distinct_tokens = 0;
};

/// Opens, validates and scans one file; `format` is "auto", "llmc" or "nanogpt".
/// Throws ablate::Error naming the file on a wrong magic or version or a truncated file.
TokenFileSummary summarize_token_file(const std::filesystem::path& file,
                                      const std::string& format = "auto");

/// All tokens of one validated llm.c or nanoGPT file, widened to uint32.
std::vector<std::uint32_t> read_token_file(const std::filesystem::path& file,
                                           const std::string& format = "auto");

/// Writes `tokens` as llm.c shards <out_dir>/<prefix>_NNNNNN.bin of at most `shard_tokens` tokens
/// each: magic 20240520 with uint16 tokens when vocab_size <= 65536, else 20240801 with uint32.
/// Returns the files written, in order.
std::vector<std::filesystem::path> write_llmc_shards(const std::filesystem::path& out_dir,
                                                     const std::string& prefix,
                                                     const TokenStream& tokens,
                                                     std::int64_t vocab_size,
                                                     std::int64_t shard_tokens = 100'000'000);

/// `tokens` as text with the data's tokenizer (bytes, BPE or SentencePiece; eot = line break);
/// std::nullopt when the tokenizer cannot decode (pre-tokenized data without a model).
std::optional<std::string> decode_tokens(const PreparedData& data,
                                         const std::vector<std::uint32_t>& tokens);

/// The ids of `text` with the data's tokenizer, no end-of-text appended (a prompt);
/// std::nullopt when there is no tokenizer to encode with (pre-tokenized data without a model).
std::optional<std::vector<std::uint32_t>> encode_text(const PreparedData& data, const std::string& text);

/// What a data source holds, as JSON: for a pre-tokenized source (a .bin file, a glob, a
/// directory of .bin) each file's TokenFileSummary and totals; for text (.txt, .jsonl, .gz, a
/// directory) documents, characters, bytes. Throws ablate::Error when it is neither.
nlohmann::json inspect_data_source(const std::string& path_or_glob);

/// `$ABLATE_CACHE`, else `$XDG_CACHE_HOME/ablate`, else `~/.cache/ablate`.
std::filesystem::path default_cache_dir();

}  // namespace ablate
