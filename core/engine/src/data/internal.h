// Internal pieces of the data module (data.h), shared by data/corpus.cpp (reading documents),
// data/tokenizer.cpp (byte and SentencePiece tokenizers) and data/prepare.cpp (split, cache,
// prepare_data, TokenStream). Not installed, not part of any public interface.
//
// Deliberate limits: child processes are run with posix_spawn (Linux/POSIX only), and everything
// works on whole in-memory strings (corpora of tens to hundreds of MB, not terabytes).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "ablate/engine/data.h"

namespace ablate::data_internal {

// ---- corpus (data/corpus.cpp) -------------------------------------------------------------------

struct Corpus {
  std::vector<std::string> documents;  // valid UTF-8, LF line ends, none empty
  std::string description;             // "King James Bible (Debian bible-kjv), 1189 chapters"
  std::string unit;                    // what one document is: "chapter", "file", "line", "chunk"
  std::vector<std::string> names;      // one label per document, for people: "Psa53", "line 17"
};

/// Reads the `corpus` value of a data section ("kjv", {text: PATH}, {jsonl: PATH, field: NAME}).
/// A corpus of a single document is cut into ~kChunkChars chunks so that a split is possible.
Corpus read_corpus(const nlohmann::json& corpus_config, const ProgressFn& progress);

inline constexpr std::size_t kChunkChars = 2000;

/// Cuts one long text into pieces of about `target` bytes, preferring paragraph, then line, then
/// word boundaries; never cuts inside a UTF-8 sequence.
std::vector<std::string> chunk_text(std::string_view text, std::size_t target);

/// Number of Unicode code points of valid UTF-8 (what "characters" means in SplitStats).
std::int64_t count_characters(std::string_view utf8);

// ---- near-duplicates across the split (data/near_duplicates.cpp) ---------------------------------

/// What find_near_twins checks, in words; in the cache key when validation drops near-twins and in
/// meta.json, so a change of the rule never reuses a result found under another.
extern const char* const kNearDuplicateRule;

// ---- child processes (data/corpus.cpp) ----------------------------------------------------------

struct ProcessResult {
  int exit_code = -1;       // exit status, or 128 + signal number
  std::string stderr_tail;  // last few KB of what the child wrote to stderr
};

/// The absolute path of `name` on $PATH, or empty.
std::filesystem::path find_program(const std::string& name);

/// Runs argv[0] (an absolute path) with stdin from `stdin_file` (empty = /dev/null) and stdout
/// into `stdout_file`; stderr is captured. Throws ablate::Error only when the child cannot start.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::filesystem::path& stdin_file,
                          const std::filesystem::path& stdout_file);

/// Whole file as bytes; ablate::Error naming the file when it cannot be read.
std::string read_file(const std::filesystem::path& file);

// ---- tokenizers (data/tokenizer.cpp) ------------------------------------------------------------

inline constexpr std::uint32_t kNoEot = 0xFFFFFFFFu;  // pre-tokenized data with no stated eot

struct TokenizerSpec {
  enum class Kind { byte, bpe, sentencepiece, pretokenized } kind = Kind::byte;
  std::int64_t vocab_size = 257;  // eot included
  std::uint32_t eot = 256;        // end-of-text id; kNoEot when unknown (pretokenized)
  std::filesystem::path model;    // sentencepiece: the user's .model file
  std::string model_hash;         // sentencepiece: XXH3-128 of the model file (part of the key)
};

/// "byte", "bpe", "sentencepiece", "pretokenized".
std::string kind_name(TokenizerSpec::Kind kind);

/// Parses and sanity-checks the `tokenizer` value of a data section.
TokenizerSpec parse_tokenizer(const nlohmann::json& tokenizer_config);

/// Settings that change the tokenizer's output; part of the cache key.
std::string tokenizer_fingerprint(const TokenizerSpec& spec);

std::string tokenizer_description(const TokenizerSpec& spec);

inline constexpr std::uint32_t kByteEot = 256;

/// Appends the bytes of `text`, then end-of-text (256), to `out`.
void byte_encode(std::string_view text, std::vector<std::uint32_t>& out);

/// Trains SentencePiece BPE (spm_train) on `documents`, one line per sentence, in the scratch
/// directory `work_dir`; returns the path of the model file there. Throws ablate::Error (with
/// spm's stderr, naming `corpus_name`) on failure, e.g. a vocabulary the corpus cannot support.
std::filesystem::path train_bpe(const std::vector<const std::string*>& documents,
                                std::int64_t vocab_size, const std::filesystem::path& work_dir,
                                const std::string& corpus_name);

/// The end-of-text id of models made by train_bpe (SentencePiece's </s>).
inline constexpr std::uint32_t kBpeEot = 1;

/// Encodes each document with spm_encode and appends its ids, then `eot`, to `out`, in order.
void encode_bpe(const std::vector<const std::string*>& documents,
                const std::filesystem::path& model_file, std::int64_t vocab_size, std::uint32_t eot,
                const std::filesystem::path& work_dir, std::vector<std::uint32_t>& out);

/// Text of `ids` decoded with spm_decode; each eot id becomes a line break.
std::string decode_sentencepiece(const std::filesystem::path& model_file,
                                 const std::vector<std::uint32_t>& ids, std::uint32_t eot);

/// Ids of `text` (no end-of-text appended) with spm_encode.
std::vector<std::uint32_t> encode_sentencepiece(const std::filesystem::path& model_file,
                                               const std::string& text, std::int64_t vocab_size);

/// XXH3-128 of a byte string as 32 hex digits.
std::string hex_hash(std::string_view bytes);

// ---- pre-tokenized files (data/token_files.cpp) -------------------------------------------------

inline constexpr std::int32_t kLlmcMagic16 = 20240520;  // llm.c shard with uint16 tokens
inline constexpr std::int32_t kLlmcMagic32 = 20240801;  // llm.c shard with uint32 tokens
inline constexpr std::int32_t kLlmcVersion = 1;
inline constexpr std::size_t kLlmcHeaderBytes = 256 * sizeof(std::int32_t);

/// A whole file mapped read-only (nothing mapped for an empty file).
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& file);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&&) = delete;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const unsigned char* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

/// One validated, mapped pre-tokenized file: an llm.c shard or a nanoGPT .bin.
struct TokenFile {
  std::filesystem::path path;
  std::string format;        // "llmc" or "nanogpt"
  std::int32_t magic = 0;    // llm.c header fields (0 for nanoGPT)
  std::int32_t version = 0;
  int token_bytes = 2;       // 2 (uint16) or 4 (uint32)
  std::int64_t tokens = 0;
  bool is_val = false;       // its file name says "val"
  MappedFile map;
  std::uint32_t token(std::size_t i) const;  // little-endian read of token i
};

/// Opens and validates `file` as `format` ("llmc", "nanogpt" or "auto": llm.c when the first
/// int32 is an llm.c magic, else nanoGPT). ablate::Error naming the file on a wrong magic or
/// version, or a size that does not match the header (truncated or padded); under "auto" also on
/// a file with an llm.c-shaped header but a wrong magic (a damaged shard, see data/token_files.cpp).
TokenFile open_token_file(const std::filesystem::path& file, const std::string& format);

/// The files a `tokens` value names, sorted: a glob, a directory (nanoGPT: train.bin and val.bin;
/// llm.c: its *.bin) or one file. ablate::Error when nothing matches.
std::vector<std::filesystem::path> expand_token_paths(const std::string& pattern,
                                                      const std::string& format);

/// Streams tokens into a file written beside `target` and renamed over it when commit() is called
/// (fsynced first): a crash or exception never leaves a partial file under the final name.
class TokenWriter {
 public:
  TokenWriter(const std::filesystem::path& target, int token_bytes);
  ~TokenWriter();
  TokenWriter(const TokenWriter&) = delete;
  TokenWriter& operator=(const TokenWriter&) = delete;
  void write_raw(const void* bytes, std::size_t n);
  void write(const std::uint32_t* tokens, std::size_t n);  // each as token_bytes little-endian
  void commit();

 private:
  std::filesystem::path target_, temp_;
  int token_bytes_;
  std::FILE* file_ = nullptr;
};

// ---- pre-tokenized corpora (data/pretokenized.cpp) ----------------------------------------------

/// prepare_data for a {tokens: ...} corpus; `seq_len`, `val_fraction` as in the data section.
PreparedData prepare_pretokenized(const nlohmann::json& corpus_config, const TokenizerSpec& tokenizer,
                                  std::int64_t seq_len, double val_fraction,
                                  const std::filesystem::path& cache_dir, const ProgressFn& progress);

// ---- the split by document (data/split.cpp) ------------------------------------------------------

struct Split {
  std::vector<std::size_t> train, val;  // document indices, in corpus order
};

/// Fisher-Yates with a portable index draw (portable_random.h): the same order on every platform.
std::vector<std::size_t> shuffled_indices(std::size_t n, std::int64_t seed);

/// Shuffled documents go to validation until their characters reach `fraction` of all characters;
/// at least one document goes to each side.
Split split_documents(const std::vector<std::int64_t>& chars, double fraction, std::int64_t seed);

/// Documents (of either split) whose exact text also occurs in the other split.
std::int64_t count_overlap(const Corpus& corpus, const Split& split);

/// Documents and characters of one side.
SplitStats stats_of(const std::vector<std::size_t>& docs, const std::vector<std::int64_t>& chars);

// ---- cache entries (data/prepare.cpp) -----------------------------------------------------------

inline constexpr int kCacheFormat = 1;  // bump when the layout or any derivation step changes
extern const char* const kCacheHint;

/// An entry is usable when meta.json says it is complete for this key and the files agree with it.
bool entry_is_complete(const std::filesystem::path& entry, const std::string& key, bool needs_model);

/// Creates the entry directory; ablate::Error with kCacheHint when it cannot.
void create_entry(const std::filesystem::path& entry);

/// Maps train.bin and val.bin of a complete entry into `out` and checks they hold a window.
void map_entry(const std::filesystem::path& entry, std::int64_t seq_len, PreparedData& out);

}  // namespace ablate::data_internal
