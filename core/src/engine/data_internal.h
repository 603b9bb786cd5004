// Internal pieces of the data module (data.h), shared by data_corpus.cpp (reading documents),
// data_tokenizer.cpp (byte and SentencePiece tokenizers) and data_prepare.cpp (split, cache,
// prepare_data, TokenStream). Not installed, not part of any public interface.
//
// Deliberate limits: child processes are run with posix_spawn (Linux/POSIX only), and everything
// works on whole in-memory strings (corpora of tens to hundreds of MB, not terabytes).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "ablate/data.h"

namespace ablate::data_internal {

// ---- corpus (data_corpus.cpp) -------------------------------------------------------------------

struct Corpus {
  std::vector<std::string> documents;  // valid UTF-8, LF line ends, none empty
  std::string description;             // "King James Bible (Debian bible-kjv), 1189 chapters"
  std::string unit;                    // what one document is: "chapter", "file", "line", "chunk"
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

// ---- child processes (data_corpus.cpp) ----------------------------------------------------------

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

// ---- tokenizers (data_tokenizer.cpp) ------------------------------------------------------------

struct TokenizerSpec {
  enum class Kind { byte, bpe } kind = Kind::byte;
  std::int64_t vocab_size = 257;  // eot included
};

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

/// Encodes each document with spm_encode and appends its ids, then kBpeEot, to `out`, in order.
void encode_bpe(const std::vector<const std::string*>& documents,
                const std::filesystem::path& model_file, std::int64_t vocab_size,
                const std::filesystem::path& work_dir, std::vector<std::uint32_t>& out);

}  // namespace ablate::data_internal
