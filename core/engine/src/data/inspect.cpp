// What a data source holds (inspect_data_source), token ids back to text (decode_tokens) and text
// to ids (encode_text), for `ablate data inspect` and `ablate sample` (data.h).
//
// A source is pre-tokenized when it is a .bin file, a glob, or a directory holding .bin files;
// otherwise it is text: a .jsonl(.gz) file (field "text"), another file, or a directory of
// .txt(.gz) files, read exactly as a corpus is.
//
// Deliberate limits: every token file is scanned whole (min, max, distinct ids: linear, fast next
// to tokenizing); a JSONL source is read with the field "text" (a corpus can name another).
#include <fmt/format.h>

#include <algorithm>

#include "ablate/engine/data.h"
#include "ablate/engine/error.h"
#include "data/internal.h"

namespace ablate {
namespace fs = std::filesystem;
using namespace data_internal;

namespace {

bool looks_like_glob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

bool directory_has_bin(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".bin") return true;
  return false;
}

nlohmann::json summary_json(const TokenFileSummary& s) {
  nlohmann::json j = {{"file", s.file.string()},     {"format", s.format},
                      {"token_bytes", s.token_bytes}, {"tokens", s.tokens},
                      {"min_token", s.min_token},     {"max_token", s.max_token},
                      {"distinct_tokens", s.distinct_tokens}};
  if (s.format == "llmc") {
    j["magic"] = s.magic;
    j["version"] = s.version;
  }
  return j;
}

nlohmann::json inspect_tokens(const std::string& source) {
  nlohmann::json files = nlohmann::json::array();
  std::vector<bool> seen;  // ids seen in any file
  std::int64_t tokens = 0, distinct = 0;
  std::uint32_t max_token = 0;
  std::vector<std::uint32_t> head;  // the first tokens of the first file, as a sample
  for (const auto& path : expand_token_paths(source, "auto")) {
    files.push_back(summary_json(summarize_token_file(path, "auto")));
    const TokenFile file = open_token_file(path, "auto");
    for (std::int64_t i = 0; i < file.tokens; ++i) {
      const std::uint32_t t = file.token(static_cast<std::size_t>(i));
      if (t >= seen.size()) seen.resize(std::max<std::size_t>(t + 1, seen.size() * 2));
      if (!seen[t]) seen[t] = true, ++distinct;
      max_token = std::max(max_token, t);
      if (head.size() < 32 && files.size() == 1) head.push_back(t);
    }
    tokens += file.tokens;
  }
  return {{"kind", "tokens"},          {"source", source},          {"files", files},
          {"tokens", tokens},          {"max_token", max_token},    {"distinct_tokens", distinct},
          {"first_tokens", head}};
}

nlohmann::json inspect_text(const std::string& source) {
  const fs::path path = source;
  const std::string name = path.filename().string();
  const bool jsonl = name.ends_with(".jsonl") || name.ends_with(".jsonl.gz");
  const nlohmann::json config = jsonl ? nlohmann::json{{"jsonl", source}, {"field", "text"}}
                                      : nlohmann::json{{"text", source}};
  const Corpus corpus = read_corpus(config, {});
  std::int64_t characters = 0, bytes = 0;
  for (const auto& doc : corpus.documents) {
    characters += count_characters(doc);
    bytes += static_cast<std::int64_t>(doc.size());
  }
  std::string sample = corpus.documents.front().substr(0, 300);
  while (!sample.empty() && (static_cast<unsigned char>(sample.back()) & 0xC0) == 0x80)
    sample.pop_back();  // do not end inside a UTF-8 sequence
  if (!sample.empty() && static_cast<unsigned char>(sample.back()) >= 0xC0) sample.pop_back();
  return {{"kind", jsonl ? "jsonl" : "text"},
          {"source", source},
          {"description", corpus.description},
          {"document_unit", corpus.unit},
          {"documents", corpus.documents.size()},
          {"characters", characters},
          {"bytes", bytes},
          {"sample", sample}};
}

}  // namespace

nlohmann::json inspect_data_source(const std::string& source) {
  std::error_code ec;
  const fs::path path = source;
  const bool tokens = looks_like_glob(source) ||
                      (fs::is_directory(path, ec) ? directory_has_bin(path)
                                                  : path.extension() == ".bin");
  if (!tokens && !fs::exists(path, ec))
    throw Error(fmt::format("{}: no such file or directory", source),
                "give a .bin file, a glob of shards, a text or JSONL file, or a directory");
  return tokens ? inspect_tokens(source) : inspect_text(source);
}

std::optional<std::string> decode_tokens(const PreparedData& data,
                                         const std::vector<std::uint32_t>& tokens) {
  if (data.tokenizer_kind == "byte") {
    std::string text;
    for (std::uint32_t t : tokens) text += t == kByteEot ? '\n' : static_cast<char>(t);
    return text;
  }
  if (data.tokenizer_model.empty()) return std::nullopt;  // pre-tokenized without a model
  return decode_sentencepiece(data.tokenizer_model, tokens, data.eot_token);
}

std::optional<std::vector<std::uint32_t>> encode_text(const PreparedData& data, const std::string& text) {
  if (data.tokenizer_kind == "byte") {
    std::vector<std::uint32_t> ids;
    byte_encode(text, ids);
    ids.pop_back();  // byte_encode ends the text with end-of-text; a prompt has none
    return ids;
  }
  if (data.tokenizer_model.empty()) return std::nullopt;
  return encode_sentencepiece(data.tokenizer_model, text, data.vocab_size);
}

}  // namespace ablate
