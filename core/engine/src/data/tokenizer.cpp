// Tokenizers of the data module (data.h): bytes (ids 0..255, end-of-text 256, vocabulary 257),
// SentencePiece BPE trained on the training split only, an existing SentencePiece .model file
// (vocabulary and end-of-text read from the model with spm_export_vocab), and "pretokenized"
// (a stated vocabulary for token files, nothing to encode).
//
// SentencePiece runs as Debian's command-line tools `spm_train` / `spm_encode` in child processes,
// never linked: libsentencepiece and LibTorch each bring a protobuf, and the two crashed in one
// process before (docs/data.md).
//
// BPE vocabulary layout, exactly `vocab_size` ids: 0 = <unk> (SentencePiece requires one; never
// produced, because byte fallback encodes any text), 1 = </s> = end-of-text, then the 256 byte
// pieces <0x00>..<0xFF>, then the corpus's characters and merges. No <s>, no <pad>.
//
// Deliberate limits: SentencePiece reads one sentence per line, so line breaks inside a document
// are not tokens: each line is encoded on its own and begins with the word marker "▁", i.e. a
// line break reads as a space. Whitespace is otherwise kept as is (identity normalization).
#include <fmt/format.h>

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <fstream>
#include <map>
#include <mutex>

#include "ablate/engine/error.h"
#include "data/internal.h"

namespace ablate::data_internal {
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMinBpeVocab = 259;  // 256 byte pieces + <unk> + </s> + one character
constexpr std::int64_t kMaxVocab = 1 << 24;
const char* kSetupHint = "run scripts/setup.sh (installs sentencepiece)";

// Flags of spm_train that fix the result; they enter the cache key, so changing one retrains.
const std::vector<std::string>& bpe_training_flags() {
  static const std::vector<std::string> flags = {
      "--model_type=bpe",
      "--character_coverage=1.0",        // every character of the training split gets a piece
      "--byte_fallback=true",            // unseen characters (validation) become byte pieces
      "--split_digits=true",             // numbers are digit sequences, not memorised pieces
      "--input_sentence_size=0",         // all sentences, no sampling...
      "--shuffle_input_sentence=false",  // ...and no shuffling: deterministic
      "--num_threads=2",
      "--unk_id=0",
      "--eos_id=1",
      "--bos_id=-1",
      "--pad_id=-1",
      "--normalization_rule_name=identity",  // the model sees the text as written
      "--remove_extra_whitespaces=false",
      "--hard_vocab_limit=true",  // exactly vocab_size pieces, or an error
      "--minloglevel=1",          // warnings and errors only
  };
  return flags;
}

fs::path require_program(const std::string& name) {
  fs::path program = find_program(name);
  if (program.empty())
    throw Error(fmt::format("BPE tokenizer needs the program '{}' (Debian package sentencepiece), "
                            "not found on PATH",
                            name),
                kSetupHint);
  return program;
}

// Calls `line_fn(line)` for each line of `text` (without the '\n'); an empty text has one line.
template <typename Fn>
void for_each_line(const std::string& text, Fn&& line_fn) {
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      line_fn(std::string_view(text).substr(start));
      return;
    }
    line_fn(std::string_view(text).substr(start, end - start));
    start = end + 1;
  }
}

void write_or_throw(std::ofstream& out, const fs::path& file) {
  out.flush();
  if (!out) throw Error(fmt::format("{}: write failed (disk full?)", file.string()));
}

// A scratch directory under the system temporary directory, removed however we leave.
struct TempWorkDir {
  fs::path path;
  TempWorkDir() {
    static std::atomic<unsigned> counter{0};
    path = fs::temp_directory_path() / fmt::format("ablate-spm-{}-{}", ::getpid(), counter++);
    fs::create_directories(path);
  }
  ~TempWorkDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  TempWorkDir(const TempWorkDir&) = delete;
  TempWorkDir& operator=(const TempWorkDir&) = delete;
};

struct ModelVocab {
  std::int64_t size = 0;
  std::int64_t eot = -1;  // id of </s> (else <eos>, else <|endoftext|>), -1 when none
};

// Pieces of a SentencePiece model, in id order, one "piece<TAB>score" line each (spm_export_vocab).
// Cached by the model's content hash: tokenizer_vocab_size is asked once per run of a sweep.
ModelVocab read_model_vocab(const fs::path& model, const std::string& model_hash) {
  static std::mutex mutex;
  static std::map<std::string, ModelVocab> cache;
  {
    std::lock_guard lock(mutex);
    if (auto it = cache.find(model_hash); it != cache.end()) return it->second;
  }
  const fs::path program = require_program("spm_export_vocab");
  TempWorkDir work;
  const ProcessResult r =
      run_process({program.string(), "--model=" + model.string()}, {}, work.path / "vocab.txt");
  if (r.exit_code != 0)
    throw Error(fmt::format("{}: not a SentencePiece model (spm_export_vocab exit {}): {}",
                            model.string(), r.exit_code, r.stderr_tail),
                "give the .model file written by spm_train (not the .vocab)");
  const std::string text = read_file(work.path / "vocab.txt");
  ModelVocab vocab;
  std::int64_t eos_rank = 3;  // lower is better: </s>, <eos>, <|endoftext|>
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + start, end - start);
    const std::string_view piece = line.substr(0, line.find('\t'));
    const std::int64_t rank = piece == "</s>" ? 0 : piece == "<eos>" ? 1 : piece == "<|endoftext|>" ? 2 : 3;
    if (rank < eos_rank) eos_rank = rank, vocab.eot = vocab.size;
    ++vocab.size;
    start = end + 1;
  }
  if (vocab.size == 0) throw Error(fmt::format("{}: the SentencePiece model has no pieces", model.string()));
  std::lock_guard lock(mutex);
  cache[model_hash] = vocab;
  return vocab;
}

std::int64_t optional_eot(const nlohmann::json& config) {
  if (!config.contains("eot") || config["eot"].is_null()) return -1;
  if (!config["eot"].is_number_integer() || config["eot"].get<std::int64_t>() < 0)
    throw Error(fmt::format("data.tokenizer.eot: expected a token id, got {}", config["eot"].dump()));
  return config["eot"].get<std::int64_t>();
}

}  // namespace

std::string kind_name(TokenizerSpec::Kind kind) {
  switch (kind) {
    case TokenizerSpec::Kind::byte: return "byte";
    case TokenizerSpec::Kind::bpe: return "bpe";
    case TokenizerSpec::Kind::sentencepiece: return "sentencepiece";
    case TokenizerSpec::Kind::pretokenized: return "pretokenized";
  }
  return "?";
}

TokenizerSpec parse_tokenizer(const nlohmann::json& config) {
  const auto bad = [&](const std::string& why) {
    return Error(fmt::format("data.tokenizer: {} (got {})", why, config.dump()),
                 "use {kind: byte}, {kind: bpe, vocab_size: N}, {kind: sentencepiece, model: PATH} "
                 "or {kind: pretokenized, vocab_size: N}");
  };
  if (!config.is_object() || !config.contains("kind") || !config["kind"].is_string())
    throw bad("expected an object with a 'kind'");
  const std::string kind = config["kind"].get<std::string>();
  TokenizerSpec spec;
  if (kind == "byte") {
    spec.kind = TokenizerSpec::Kind::byte;
    spec.vocab_size = 257;
    return spec;
  }
  if (kind == "sentencepiece") {
    if (!config.contains("model") || !config["model"].is_string())
      throw bad("sentencepiece needs model: PATH (a .model file)");
    spec.kind = TokenizerSpec::Kind::sentencepiece;
    spec.model = config["model"].get<std::string>();
    spec.model_hash = hex_hash(read_file(spec.model));
    const ModelVocab vocab = read_model_vocab(spec.model, spec.model_hash);
    spec.vocab_size = vocab.size;
    std::int64_t eot = optional_eot(config);
    if (eot < 0) eot = vocab.eot;
    if (eot < 0)
      throw Error(fmt::format("{}: the model has no </s>, <eos> or <|endoftext|> piece to end "
                              "documents with",
                              spec.model.string()),
                  "set data.tokenizer.eot to the id that ends a document");
    if (eot >= spec.vocab_size)
      throw Error(fmt::format("data.tokenizer.eot {} is not below the model's {} pieces", eot,
                              spec.vocab_size));
    spec.eot = static_cast<std::uint32_t>(eot);
    return spec;
  }
  if (kind == "pretokenized") {
    if (!config.contains("vocab_size") || !config["vocab_size"].is_number_integer())
      throw bad("pretokenized needs the integer vocab_size the tokens were made with");
    spec.kind = TokenizerSpec::Kind::pretokenized;
    spec.vocab_size = config["vocab_size"].get<std::int64_t>();
    if (spec.vocab_size < 2 || spec.vocab_size > 0xFFFFFFFFLL)
      throw bad(fmt::format("vocab_size {} is out of range [2, 2^32)", spec.vocab_size));
    const std::int64_t eot = optional_eot(config);
    if (eot >= spec.vocab_size)
      throw bad(fmt::format("eot {} is not below vocab_size {}", eot, spec.vocab_size));
    spec.eot = eot < 0 ? kNoEot : static_cast<std::uint32_t>(eot);
    return spec;
  }
  if (kind != "bpe") throw bad("unknown kind '" + kind + "'");
  if (!config.contains("vocab_size") || !config["vocab_size"].is_number_integer())
    throw bad("bpe needs an integer vocab_size");
  spec.kind = TokenizerSpec::Kind::bpe;
  spec.eot = kBpeEot;
  spec.vocab_size = config["vocab_size"].get<std::int64_t>();
  if (spec.vocab_size < kMinBpeVocab || spec.vocab_size > kMaxVocab)
    throw Error(fmt::format("data.tokenizer.vocab_size {} is out of range [{}, {}]",
                            spec.vocab_size, kMinBpeVocab, kMaxVocab),
                "BPE with byte fallback needs 256 byte pieces + <unk> + end-of-text + the corpus's "
                "characters: 512 or more is typical");
  return spec;
}

std::string tokenizer_fingerprint(const TokenizerSpec& spec) {
  if (spec.kind == TokenizerSpec::Kind::byte) return "byte/1";
  if (spec.kind == TokenizerSpec::Kind::sentencepiece)
    return fmt::format("sentencepiece/1 model={} eot={}", spec.model_hash, spec.eot);
  if (spec.kind == TokenizerSpec::Kind::pretokenized)
    return fmt::format("pretokenized/1 vocab_size={} eot={}", spec.vocab_size,
                       spec.eot == kNoEot ? std::string("none") : std::to_string(spec.eot));
  std::string fp = fmt::format("bpe/1 vocab_size={}", spec.vocab_size);
  for (const auto& flag : bpe_training_flags()) fp += " " + flag;
  return fp;
}

std::string tokenizer_description(const TokenizerSpec& spec) {
  if (spec.kind == TokenizerSpec::Kind::byte) return "bytes: 256 byte values + end-of-text = 257";
  if (spec.kind == TokenizerSpec::Kind::sentencepiece)
    return fmt::format("SentencePiece model {}, {} pieces, end-of-text {}", spec.model.string(),
                       spec.vocab_size, spec.eot);
  if (spec.kind == TokenizerSpec::Kind::pretokenized)
    return fmt::format("pre-tokenized, vocabulary {}", spec.vocab_size);
  return fmt::format(
      "SentencePiece BPE, {} pieces (end-of-text and 256 byte-fallback pieces "
      "included), trained on the training split",
      spec.vocab_size);
}

void byte_encode(std::string_view text, std::vector<std::uint32_t>& out) {
  out.reserve(out.size() + text.size() + 1);
  for (unsigned char c : text) out.push_back(c);
  out.push_back(kByteEot);
}

fs::path train_bpe(const std::vector<const std::string*>& documents, std::int64_t vocab_size,
                   const fs::path& work_dir, const std::string& corpus_name) {
  const fs::path spm_train = require_program("spm_train");
  // One sentence per line: the documents' non-blank lines (verses, paragraphs).
  const fs::path input = work_dir / "bpe_train.txt";
  std::size_t longest = 0;
  {
    std::ofstream out(input, std::ios::binary);
    for (const std::string* doc : documents) {
      for_each_line(*doc, [&](std::string_view line) {
        if (line.find_first_not_of(" \t") == std::string_view::npos) return;
        out << line << '\n';
        longest = std::max(longest, line.size());
      });
    }
    write_or_throw(out, input);
  }
  const fs::path prefix = work_dir / "tokenizer";
  std::vector<std::string> argv = {
      spm_train.string(), "--input=" + input.string(), "--model_prefix=" + prefix.string(),
      fmt::format("--vocab_size={}", vocab_size),
      // spm skips longer sentences silently; keep every line.
      fmt::format("--max_sentence_length={}", std::max<std::size_t>(4192, longest + 1))};
  for (const auto& flag : bpe_training_flags()) argv.push_back(flag);
  const ProcessResult r = run_process(argv, {}, work_dir / "spm_train.out");

  const fs::path model = prefix.string() + ".model";
  if (r.exit_code != 0 || !fs::exists(model)) {
    const bool too_high = r.stderr_tail.find("Vocabulary size too high") != std::string::npos;
    const bool too_low = r.stderr_tail.find("smaller than required_chars") != std::string::npos;
    std::string hint = "see spm_train's message above";
    if (too_high) hint = "lower tokenizer.vocab_size, or use a larger corpus";
    if (too_low) hint = "raise tokenizer.vocab_size (every character needs a piece)";
    throw Error(fmt::format("{}: SentencePiece cannot train a BPE vocabulary of {} on its training "
                            "split (spm_train exit {}): {}",
                            corpus_name, vocab_size, r.exit_code, r.stderr_tail),
                hint);
  }
  return model;
}

void encode_bpe(const std::vector<const std::string*>& documents, const fs::path& model_file,
                std::int64_t vocab_size, std::uint32_t eot, const fs::path& work_dir,
                std::vector<std::uint32_t>& out) {
  const fs::path spm_encode = require_program("spm_encode");
  // Every line, blank ones too, so that output line k belongs to input line k.
  const fs::path input = work_dir / "bpe_encode_in.txt";
  std::vector<std::size_t> lines_per_doc;
  lines_per_doc.reserve(documents.size());
  {
    std::ofstream in(input, std::ios::binary);
    for (const std::string* doc : documents) {
      std::size_t lines = 0;
      for_each_line(*doc, [&](std::string_view line) {
        in << line << '\n';
        ++lines;
      });
      lines_per_doc.push_back(lines);
    }
    write_or_throw(in, input);
  }
  const fs::path output = work_dir / "bpe_encode_out.txt";
  const ProcessResult r = run_process(
      {spm_encode.string(), "--model=" + model_file.string(), "--output_format=id"}, input, output);
  if (r.exit_code != 0)
    throw Error(fmt::format("spm_encode failed (exit {}) with model {}: {}", r.exit_code,
                            model_file.string(), r.stderr_tail),
                kSetupHint);

  const std::string ids = read_file(output);
  std::size_t pos = 0;
  const auto fail = [&](const std::string& why) {
    return Error(fmt::format("unexpected output of spm_encode ({}): {}", output.string(), why));
  };
  for (std::size_t lines : lines_per_doc) {
    for (std::size_t k = 0; k < lines; ++k) {
      const std::size_t end = ids.find('\n', pos);
      if (end == std::string::npos) throw fail("fewer lines than were given");
      const char* p = ids.data() + pos;
      const char* const line_end = ids.data() + end;
      while (p < line_end) {
        if (*p == ' ') {
          ++p;
          continue;
        }
        std::uint32_t id = 0;
        const auto [next, ec] = std::from_chars(p, line_end, id);
        if (ec != std::errc() || id >= vocab_size)
          throw fail("bad id near '" + std::string(p, std::min<std::size_t>(20, line_end - p)) +
                     "'");
        out.push_back(id);
        p = next;
      }
      pos = end + 1;
    }
    out.push_back(eot);
  }
  if (pos != ids.size()) throw fail("more lines than were given");
}

std::string decode_sentencepiece(const fs::path& model_file, const std::vector<std::uint32_t>& ids,
                                 std::uint32_t eot) {
  const fs::path spm_decode = require_program("spm_decode");
  TempWorkDir work;
  const fs::path input = work.path / "ids.txt";
  {
    std::ofstream in(input, std::ios::binary);
    bool line_start = true;
    for (std::uint32_t id : ids) {
      if (id == eot) {
        in << '\n';
        line_start = true;
        continue;
      }
      in << (line_start ? "" : " ") << id;
      line_start = false;
    }
    if (!line_start) in << '\n';  // the last line has no eot: spm_decode needs its line end
    write_or_throw(in, input);
  }
  const fs::path output = work.path / "text.txt";
  const ProcessResult r = run_process(
      {spm_decode.string(), "--model=" + model_file.string(), "--input_format=id"}, input, output);
  if (r.exit_code != 0)
    throw Error(fmt::format("spm_decode failed (exit {}) with model {}: {}", r.exit_code,
                            model_file.string(), r.stderr_tail),
                kSetupHint);
  std::string text = read_file(output);
  // spm_decode ends every line with '\n'; only an eot stands for one.
  if ((ids.empty() || ids.back() != eot) && !text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::vector<std::uint32_t> encode_sentencepiece(const fs::path& model_file, const std::string& text,
                                               std::int64_t vocab_size) {
  TempWorkDir work;
  std::vector<std::uint32_t> ids;
  encode_bpe({&text}, model_file, vocab_size, /*eot=*/0, work.path, ids);
  ids.pop_back();  // encode_bpe ends every document with the eot given; a prompt has none
  return ids;
}

}  // namespace ablate::data_internal
