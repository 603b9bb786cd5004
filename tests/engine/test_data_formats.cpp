// Tests of the data formats researchers bring (data.h, docs/data.md): llm.c shards and nanoGPT
// .bin files (pre-tokenized), gzip-compressed text and JSONL, an existing SentencePiece model,
// llm.c shards written by `ablate data prepare`, and `ablate data inspect`.
//
// Every file is written at run time. Token files are written here by hand (header of 256 int32,
// then the tokens), not with the code under test, so reader and writer are checked against an
// independent encoding of the formats. Compressed files are made with the `gzip` program and the
// SentencePiece model with `spm_train`, so neither depends on our readers.
//
// Deliberate limits: needs gzip and sentencepiece's command-line tools (scripts/setup.sh).
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ablate/engine/data.h"
#include "ablate/engine/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::path("/tmp") / fmt::format("ablate-test-formats-{}-{}", ::getpid(), counter++);
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  fs::path cache() const { return path / "cache"; }
};

void write(const fs::path& file, const std::string& bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << bytes;
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Little-endian bytes of `v` in `width` bytes (the test host is little-endian like the readers,
// but this spells the format out instead of relying on memcpy of the same types).
std::string le(std::uint64_t v, int width) {
  std::string out;
  for (int i = 0; i < width; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
  return out;
}

// An llm.c shard: 256 int32 header (magic, version, count, zeros), then tokens of `width` bytes.
std::string llmc_bytes(const std::vector<std::uint32_t>& tokens, int width, std::int32_t magic = 0,
                       std::int32_t version = 1, std::int64_t count = -1) {
  if (magic == 0) magic = width == 2 ? 20240520 : 20240801;
  std::string out = le(static_cast<std::uint32_t>(magic), 4) + le(static_cast<std::uint32_t>(version), 4) +
                    le(static_cast<std::uint32_t>(count < 0 ? tokens.size() : count), 4);
  out.resize(1024, '\0');
  for (auto t : tokens) out += le(t, width);
  return out;
}

std::string nanogpt_bytes(const std::vector<std::uint32_t>& tokens) {
  std::string out;
  for (auto t : tokens) out += le(t, 2);
  return out;
}

std::vector<std::uint32_t> stream(const ablate::TokenStream& s) { return {s.data(), s.data() + s.size()}; }

// Tokens with a simple pattern: id = (start + 7 i) mod modulus, and an eot every `doc_len`.
std::vector<std::uint32_t> pattern(std::size_t n, std::uint32_t start, std::uint32_t modulus,
                                   std::uint32_t eot = 0xFFFFFFFF, std::size_t doc_len = 0) {
  std::vector<std::uint32_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = doc_len > 0 && i % doc_len == doc_len - 1 ? eot
                                                     : static_cast<std::uint32_t>((start + 7 * i) % modulus);
  return v;
}

json data_config(json corpus, json tokenizer, std::int64_t seq_len = 8, double val_fraction = 0.1) {
  return {{"corpus", std::move(corpus)},
          {"tokenizer", std::move(tokenizer)},
          {"seq_len", seq_len},
          {"val_fraction", val_fraction},
          {"split_seed", 0}};
}

json pretokenized(std::int64_t vocab, json eot = nullptr) {
  return {{"kind", "pretokenized"}, {"vocab_size", vocab}, {"eot", std::move(eot)}};
}

template <typename Fn>
ablate::Error error_of(Fn&& fn) {
  try {
    fn();
  } catch (const ablate::Error& e) {
    return e;
  }
  FAIL("no ablate::Error was thrown");
  throw std::logic_error("unreachable");
}

// Runs a shell command; returns its exit status and output (stdout + stderr).
std::pair<int, std::string> shell(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string gzip_file(const fs::path& file) {
  const auto [rc, out] = shell("gzip -kf '" + file.string() + "'");
  REQUIRE(rc == 0);
  return file.string() + ".gz";
}

std::string sentence(int i) {
  static const char* words[] = {"river", "stone", "light", "w\xC3\xA4lder", "cloud", "ember", "tide", "moss"};
  std::string text;
  for (int k = 0; k < 12 + i % 9; ++k) text += std::string(words[(i * 5 + k * 3) % 8]) + " ";
  return text + std::to_string(i) + ".";
}

}  // namespace

// ---- llm.c and nanoGPT ----------------------------------------------------------------------------

TEST_CASE("llm.c shards from a glob: training shards in order, *val* shards for validation", "[data][formats]") {
  TempDir tmp;
  // Ordinary ids stay below 999, the eot.
  const auto a = pattern(3000, 1, 999, 999, 100), b = pattern(2500, 5, 999, 999, 50),
             v = pattern(700, 3, 999, 999, 70);
  write(tmp.path / "d" / "toy_train_000001.bin", llmc_bytes(b, 2));  // sorted after 000000
  write(tmp.path / "d" / "toy_train_000000.bin", llmc_bytes(a, 2));
  write(tmp.path / "d" / "toy_val_000000.bin", llmc_bytes(v, 2));
  write(tmp.path / "d" / "other.txt", "not matched by the glob");
  const json cfg = data_config({{"tokens", (tmp.path / "d" / "toy_*.bin").string()}, {"format", "llmc"}},
                               pretokenized(1000, 999));
  const auto data = ablate::prepare_data(cfg, tmp.cache());
  std::vector<std::uint32_t> train = a;
  train.insert(train.end(), b.begin(), b.end());
  CHECK(stream(data.train) == train);
  CHECK(stream(data.val) == v);
  CHECK(data.vocab_size == 1000);
  CHECK(data.eot_token == 999);
  CHECK_THAT(data.split_rule, Catch::Contains("by file") && Catch::Contains("1 validation file"));
  // Documents = eot tokens: 3000/100 + 2500/50 in training, 700/70 in validation.
  CHECK(data.train_stats.documents == 30 + 50);
  CHECK(data.val_stats.documents == 10);
  CHECK(data.overlap_documents == 0);
  CHECK(data.tokenizer_kind == "pretokenized");
  CHECK_FALSE(data.from_cache);
  CHECK(ablate::prepare_data(cfg, tmp.cache()).from_cache);

  SECTION("a validation shard identical to a training shard counts as overlap") {
    write(tmp.path / "d" / "toy_val_000000.bin", llmc_bytes(a, 2));
    CHECK(ablate::prepare_data(cfg, tmp.cache()).overlap_documents == 1);
  }
}

TEST_CASE("A single uint32 llm.c shard is split into contiguous ranges with a seq_len gap", "[data][formats]") {
  TempDir tmp;
  // 20240801 shards hold uint32 tokens: ids above 65535 must survive.
  std::vector<std::uint32_t> tokens(10000);
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<std::uint32_t>(70000 + i);
  write(tmp.path / "big.bin", llmc_bytes(tokens, 4));
  const std::int64_t seq_len = 64;
  const auto data = ablate::prepare_data(
      data_config({{"tokens", (tmp.path / "big.bin").string()}}, pretokenized(80000), seq_len, 0.1), tmp.cache());
  // val = the last round(0.1 * 10000) = 1000 tokens; gap = seq_len; train = the rest before it.
  const std::size_t n_val = 1000, n_train = 10000 - 1000 - 64;
  REQUIRE(data.val.size() == n_val);
  REQUIRE(data.train.size() == n_train);
  CHECK(stream(data.train) == std::vector<std::uint32_t>(tokens.begin(), tokens.begin() + n_train));
  CHECK(stream(data.val) == std::vector<std::uint32_t>(tokens.end() - n_val, tokens.end()));
  // The gap: between the last training token and the first validation token lie seq_len tokens.
  CHECK(data.val[0] - data.train[data.train.size() - 1] == static_cast<std::uint32_t>(seq_len + 1));
  CHECK_THAT(data.split_rule, Catch::Contains("contiguous token ranges") && Catch::Contains("gap of 64"));
  CHECK(data.eot_token == 0xFFFFFFFFu);  // none stated
  CHECK(data.train_stats.documents == 0);

  SECTION("another seq_len is another gap, hence another cache entry") {
    const auto other = ablate::prepare_data(
        data_config({{"tokens", (tmp.path / "big.bin").string()}}, pretokenized(80000), 128, 0.1), tmp.cache());
    CHECK(other.train.size() == 10000 - 1000 - 128);
    CHECK(other.cache_entry != data.cache_entry);
  }
}

TEST_CASE("nanoGPT train.bin and val.bin from a directory, or one file split by ranges", "[data][formats]") {
  TempDir tmp;
  const auto train = pattern(5000, 2, 50257, 50256, 500), val = pattern(600, 9, 50257, 50256, 200);
  write(tmp.path / "shakespeare" / "train.bin", nanogpt_bytes(train));
  write(tmp.path / "shakespeare" / "val.bin", nanogpt_bytes(val));
  const auto dir = ablate::prepare_data(
      data_config({{"tokens", (tmp.path / "shakespeare").string()}, {"format", "nanogpt"}}, pretokenized(50257, 50256)),
      tmp.cache());
  CHECK(stream(dir.train) == train);
  CHECK(stream(dir.val) == val);
  CHECK(dir.val_stats.documents == 3);
  CHECK_THAT(dir.corpus_description, Catch::Contains("nanoGPT"));

  const auto one = ablate::prepare_data(
      data_config({{"tokens", (tmp.path / "shakespeare" / "train.bin").string()}, {"format", "nanogpt"}},
                  pretokenized(50257, 50256), 16, 0.2),
      tmp.cache());
  CHECK(one.val.size() == 1000);               // 20% of 5000
  CHECK(one.train.size() == 5000 - 1000 - 16);  // minus the gap
  CHECK(stream(one.val) == std::vector<std::uint32_t>(train.end() - 1000, train.end()));
}

TEST_CASE("Broken token files are errors that name the file", "[data][formats]") {
  TempDir tmp;
  const auto tokens = pattern(2000, 0, 500);
  const auto prepare = [&](const std::string& file, const std::string& format = "llmc", std::int64_t vocab = 500) {
    return error_of([&] {
      ablate::prepare_data(data_config({{"tokens", (tmp.path / file).string()}, {"format", format}},
                                       pretokenized(vocab)),
                           tmp.cache());
    });
  };
  SECTION("wrong magic") {
    write(tmp.path / "m.bin", llmc_bytes(tokens, 2, 12345));
    const auto e = prepare("m.bin");
    CHECK_THAT(e.what(), Catch::Contains("m.bin") && Catch::Contains("magic 12345") && Catch::Contains("20240520"));
  }
  SECTION("wrong version") {
    write(tmp.path / "v.bin", llmc_bytes(tokens, 2, 0, 7));
    const auto e = prepare("v.bin");
    CHECK_THAT(e.what(), Catch::Contains("v.bin") && Catch::Contains("version 7"));
  }
  SECTION("truncated: fewer tokens than the header says") {
    std::string bytes = llmc_bytes(tokens, 2);
    bytes.resize(bytes.size() - 10);
    write(tmp.path / "t.bin", bytes);
    const auto e = prepare("t.bin");
    CHECK_THAT(e.what(), Catch::Contains("t.bin") && Catch::Contains("2000 tokens") && Catch::Contains("truncated"));
  }
  SECTION("truncated inside the header") {
    write(tmp.path / "h.bin", llmc_bytes(tokens, 2).substr(0, 100));
    CHECK_THAT(prepare("h.bin").what(), Catch::Contains("h.bin") && Catch::Contains("header"));
  }
  SECTION("a nanoGPT file of an odd number of bytes") {
    write(tmp.path / "odd.bin", nanogpt_bytes(tokens) + "x");
    CHECK_THAT(prepare("odd.bin", "nanogpt").what(), Catch::Contains("odd.bin") && Catch::Contains("truncated"));
  }
  SECTION("a token not below vocab_size, with its position") {
    auto bad = tokens;
    bad[1234] = 500;
    write(tmp.path / "big_token.bin", llmc_bytes(bad, 2));
    const auto e = prepare("big_token.bin");
    CHECK_THAT(e.what(), Catch::Contains("big_token.bin") && Catch::Contains("token 500 at position 1234") &&
                             Catch::Contains("vocabulary size 500"));
    // Nothing half-built is left as a usable cache entry: a larger vocabulary then works.
    write(tmp.path / "big_token.bin", llmc_bytes(bad, 2));
    CHECK_NOTHROW(ablate::prepare_data(
        data_config({{"tokens", (tmp.path / "big_token.bin").string()}}, pretokenized(501)), tmp.cache()));
  }
  SECTION("a glob that matches nothing") {
    const auto e = prepare("nothing_*.bin");
    CHECK_THAT(e.what(), Catch::Contains("nothing_*.bin") && Catch::Contains("no file matches"));
  }
  SECTION("only validation files") {
    write(tmp.path / "x_val_000000.bin", llmc_bytes(tokens, 2));
    CHECK_THAT(prepare("x_val_*.bin").what(), Catch::Contains("no training tokens"));
  }
  SECTION("a text tokenizer on token files, and the pretokenized one on text") {
    write(tmp.path / "ok.bin", llmc_bytes(tokens, 2));
    const auto e = error_of([&] {
      ablate::prepare_data(data_config({{"tokens", (tmp.path / "ok.bin").string()}}, {{"kind", "byte"}}), tmp.cache());
    });
    CHECK_THAT(e.hint(), Catch::Contains("pretokenized"));
    write(tmp.path / "t.txt", "some text\n\nmore text\n\nand more text here");
    CHECK_THROWS_AS(
        ablate::prepare_data(data_config({{"text", (tmp.path / "t.txt").string()}}, pretokenized(300)), tmp.cache()),
        ablate::Error);
  }
}

// ---- gzip ---------------------------------------------------------------------------------------

TEST_CASE("Gzip-compressed text and JSONL read as their uncompressed originals", "[data][formats]") {
  TempDir tmp;
  std::string text, jsonl;
  for (int i = 0; i < 60; ++i) {
    text += sentence(i) + "\n\n";
    jsonl += json{{"body", sentence(i)}}.dump() + "\n";
  }
  write(tmp.path / "plain" / "a.txt", text);
  write(tmp.path / "plain" / "b.txt", text.substr(0, 900));
  write(tmp.path / "jsonl" / "c.jsonl", jsonl);
  const auto prepare = [&](const json& corpus) {
    return ablate::prepare_data(data_config(corpus, {{"kind", "byte"}}), tmp.path / fmt::format("cache-{}", corpus.dump().size()));
  };
  SECTION("a text file") {
    const std::string gz = gzip_file(tmp.path / "plain" / "a.txt");
    CHECK(slurp(gz) != text);  // really compressed
    const auto plain = prepare({{"text", (tmp.path / "plain" / "a.txt").string()}});
    const auto packed = prepare({{"text", gz}});
    CHECK(stream(packed.train) == stream(plain.train));
    CHECK(stream(packed.val) == stream(plain.val));
  }
  SECTION("a directory mixing .txt and .txt.gz") {
    const auto plain = prepare({{"text", (tmp.path / "plain").string()}});
    gzip_file(tmp.path / "plain" / "b.txt");
    fs::remove(tmp.path / "plain" / "b.txt");
    const auto mixed = prepare({{"text", (tmp.path / "plain").string()}});
    CHECK(mixed.train_stats.documents + mixed.val_stats.documents == 2);
    CHECK(stream(mixed.train) == stream(plain.train));
    CHECK(stream(mixed.val) == stream(plain.val));
  }
  SECTION("a JSONL file") {
    const auto plain = prepare({{"jsonl", (tmp.path / "jsonl" / "c.jsonl").string()}, {"field", "body"}});
    const auto packed = prepare({{"jsonl", gzip_file(tmp.path / "jsonl" / "c.jsonl")}, {"field", "body"}});
    CHECK(packed.train_stats.documents + packed.val_stats.documents == 60);
    CHECK(stream(packed.train) == stream(plain.train));
  }
  SECTION("a corrupt .gz is an error naming it") {
    std::string bytes = slurp(gzip_file(tmp.path / "plain" / "a.txt"));
    for (std::size_t i = 20; i < bytes.size() - 20; i += 7) bytes[i] = static_cast<char>(bytes[i] ^ 0x5A);
    write(tmp.path / "bad.txt.gz", bytes);
    const auto e = error_of([&] { prepare({{"text", (tmp.path / "bad.txt.gz").string()}}); });
    CHECK_THAT(e.what(), Catch::Contains("bad.txt.gz") && Catch::Contains("not a readable gzip file"));
  }
  SECTION("a truncated .gz is an error naming it") {
    const std::string bytes = slurp(gzip_file(tmp.path / "plain" / "a.txt"));
    write(tmp.path / "cut.txt.gz", bytes.substr(0, bytes.size() / 2));
    const auto e = error_of([&] { prepare({{"text", (tmp.path / "cut.txt.gz").string()}}); });
    CHECK_THAT(e.what(), Catch::Contains("cut.txt.gz") && Catch::Contains("not a readable gzip file"));
  }
  SECTION("a file named .gz that is not gzip") {
    write(tmp.path / "fake.txt.gz", text);
    const auto e = error_of([&] { prepare({{"text", (tmp.path / "fake.txt.gz").string()}}); });
    CHECK_THAT(e.what(), Catch::Contains("fake.txt.gz") && Catch::Contains("gzip"));
  }
}

// ---- an existing SentencePiece model --------------------------------------------------------------

namespace {

// Trains a small unigram model with spm_train's defaults (unk 0, bos 1, eos 2), as a researcher's
// existing model would be made; returns its path.
fs::path train_sentencepiece(const fs::path& dir, const std::vector<std::string>& lines, int vocab) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  write(dir / "spm_corpus.txt", text);
  const auto [rc, out] = shell(fmt::format("spm_train --input='{}' --model_prefix='{}' --vocab_size={} "
                                           "--model_type=unigram --minloglevel=2",
                                           (dir / "spm_corpus.txt").string(), (dir / "theirs").string(), vocab));
  INFO(out);
  REQUIRE(rc == 0);
  return dir / "theirs.model";
}

// Splits a stream at `eot` into documents of ids (the stream ends with eot).
std::vector<std::vector<std::uint32_t>> documents_of(const ablate::TokenStream& s, std::uint32_t eot) {
  std::vector<std::vector<std::uint32_t>> docs(1);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == eot) docs.emplace_back();
    else docs.back().push_back(s[i]);
  }
  REQUIRE(docs.back().empty());
  docs.pop_back();
  return docs;
}

}  // namespace

TEST_CASE("An existing SentencePiece model tokenizes a corpus with its own vocabulary and </s>", "[data][formats]") {
  TempDir tmp;
  std::vector<std::string> lines;
  std::string jsonl;
  for (int i = 0; i < 80; ++i) {
    lines.push_back(sentence(i));
    jsonl += json{{"text", sentence(i)}}.dump() + "\n";
  }
  const fs::path model = train_sentencepiece(tmp.path, lines, 40);  // what this small text supports
  write(tmp.path / "c.jsonl", jsonl);
  const json tokenizer = {{"kind", "sentencepiece"}, {"model", model.string()}};
  const json cfg = data_config({{"jsonl", (tmp.path / "c.jsonl").string()}}, tokenizer);
  // spm_train was asked for 40 pieces; its default layout puts </s> at id 2.
  CHECK(ablate::tokenizer_vocab_size(cfg) == 40);
  const auto data = ablate::prepare_data(cfg, tmp.cache());
  CHECK(data.vocab_size == 40);
  CHECK(data.eot_token == 2);
  CHECK(data.tokenizer_kind == "sentencepiece");
  CHECK_THAT(data.tokenizer_description, Catch::Contains("theirs.model"));

  // Each document's ids are what spm_encode gives for it (run here directly, once for all lines).
  const auto [rc, ids_text] = shell(fmt::format("spm_encode --model='{}' --output_format=id < '{}'",
                                                model.string(), (tmp.path / "spm_corpus.txt").string()));
  REQUIRE(rc == 0);
  std::multiset<std::vector<std::uint32_t>> expected;
  std::istringstream lines_in(ids_text);
  for (std::string line; std::getline(lines_in, line);) {
    std::istringstream ids(line);
    std::vector<std::uint32_t> doc;
    for (std::uint32_t id; ids >> id;) doc.push_back(id);
    expected.insert(doc);
  }
  REQUIRE(expected.size() == 80);
  std::multiset<std::vector<std::uint32_t>> got;
  for (const auto* s : {&data.train, &data.val})
    for (auto& doc : documents_of(*s, 2)) got.insert(doc);
  CHECK(got == expected);

  // Decoding the validation stream gives back validation documents, one per line.
  const auto text = ablate::decode_tokens(data, stream(data.val));
  REQUIRE(text.has_value());
  std::istringstream decoded(*text);
  int n = 0;
  for (std::string line; std::getline(decoded, line); ++n)
    CHECK(std::find(lines.begin(), lines.end(), line) != lines.end());
  CHECK(n == data.val_stats.documents);

  SECTION("an explicit eot overrides </s>, and a file that is not a model is an error") {
    json with_eot = tokenizer;
    with_eot["eot"] = 0;
    CHECK(ablate::prepare_data(data_config({{"jsonl", (tmp.path / "c.jsonl").string()}}, with_eot), tmp.cache())
              .eot_token == 0);
    write(tmp.path / "junk.model", "this is not a protobuf");
    const auto e = error_of([&] {
      ablate::tokenizer_vocab_size(data_config("kjv", {{"kind", "sentencepiece"}, {"model", (tmp.path / "junk.model").string()}}));
    });
    CHECK_THAT(e.what(), Catch::Contains("junk.model") && Catch::Contains("not a SentencePiece model"));
  }
}

// ---- writing llm.c shards, inspecting ---------------------------------------------------------------

TEST_CASE("llm.c shards written from a stream read back identical, uint16 or uint32", "[data][formats]") {
  TempDir tmp;
  for (const std::int64_t vocab : {std::int64_t{50257}, std::int64_t{100000}}) {
    const auto tokens = pattern(2500, 11, static_cast<std::uint32_t>(vocab));
    write(tmp.path / "src.bin", llmc_bytes(tokens, 4));  // as a stream: uint32, mapped
    const auto src = ablate::prepare_data(
        data_config({{"tokens", (tmp.path / "src.bin").string()}}, pretokenized(vocab), 8, 0.2), tmp.cache());
    const fs::path out = tmp.path / fmt::format("out{}", vocab);
    const auto files = ablate::write_llmc_shards(out, "train", src.train, vocab, 1000);
    // 2500 - 500 (val) - 8 (gap) = 1992 tokens: shards of 1000 and 992.
    REQUIRE(files.size() == 2);
    std::vector<std::uint32_t> back;
    for (const auto& f : files) {
      const auto summary = ablate::summarize_token_file(f, "llmc");
      CHECK(summary.magic == (vocab <= 65536 ? 20240520 : 20240801));
      CHECK(summary.token_bytes == (vocab <= 65536 ? 2 : 4));
      CHECK(summary.version == 1);
      // The header, independently: magic, version, count at the first three int32.
      const std::string bytes = slurp(f);
      CHECK(bytes.substr(0, 12) == le(static_cast<std::uint32_t>(summary.magic), 4) + le(1, 4) +
                                        le(static_cast<std::uint64_t>(summary.tokens), 4));
      CHECK(bytes.size() == 1024 + static_cast<std::size_t>(summary.tokens) * summary.token_bytes);
      const auto part = ablate::read_token_file(f);
      back.insert(back.end(), part.begin(), part.end());
    }
    CHECK(back == stream(src.train));
  }
}

TEST_CASE("inspect_data_source reports token files and text", "[data][formats]") {
  TempDir tmp;
  const auto a = pattern(1000, 0, 300), b = pattern(500, 1, 700);
  write(tmp.path / "s_000000.bin", llmc_bytes(a, 2));
  write(tmp.path / "s_000001.bin", llmc_bytes(b, 4));
  const json info = ablate::inspect_data_source((tmp.path / "s_*.bin").string());
  REQUIRE(info["files"].size() == 2);
  CHECK(info["files"][0]["magic"] == 20240520);
  CHECK(info["files"][1]["magic"] == 20240801);
  CHECK(info["tokens"] == 1500);
  // Independently: the largest id and the number of distinct ids over both files.
  std::set<std::uint32_t> ids(a.begin(), a.end());
  ids.insert(b.begin(), b.end());
  CHECK(info["max_token"] == *ids.rbegin());
  CHECK(info["distinct_tokens"] == ids.size());
  CHECK(info["files"][0]["distinct_tokens"] == std::set<std::uint32_t>(a.begin(), a.end()).size());

  std::string text;
  for (int i = 0; i < 5; ++i) text += sentence(i) + "\n";
  write(tmp.path / "t" / "x.txt", text);
  gzip_file(tmp.path / "t" / "x.txt");
  fs::remove(tmp.path / "t" / "x.txt");
  const json t = ablate::inspect_data_source((tmp.path / "t").string());
  CHECK(t["kind"] == "text");
  CHECK_THAT(t["sample"].get<std::string>(), Catch::StartsWith(sentence(0)));
  CHECK_THAT(t["description"].get<std::string>(), Catch::Contains("1 text files"));
  CHECK_THROWS_AS(ablate::inspect_data_source((tmp.path / "missing.txt").string()), ablate::Error);
}

// ---- the command line ------------------------------------------------------------------------------

#ifdef ABLATE_BINARY
TEST_CASE("ablate data prepare writes shards that ablate reads back as the same streams", "[data][formats][cli]") {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 200; ++i) text += sentence(i) + "\n\n";
  write(tmp.path / "corpus.txt", text);
  write(tmp.path / "sweep.yaml", "name: prep\ndata: {corpus: {text: corpus.txt}, tokenizer: {kind: byte}, seq_len: 16}\n"
                                 "model: {attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 64}, d_model: 32, n_layers: 1}\n");
  const std::string cache = (tmp.path / "cache").string();
  const auto [rc, out] = shell(fmt::format("{} data prepare {} --out {} --cache {} --shard-tokens 20000", ABLATE_BINARY,
                                           (tmp.path / "sweep.yaml").string(), (tmp.path / "shards").string(), cache));
  INFO(out);
  REQUIRE(rc == 0);
  const auto original = ablate::prepare_data(
      data_config({{"text", (tmp.path / "corpus.txt").string()}}, {{"kind", "byte"}}, 16), tmp.path / "cache");
  CHECK(original.from_cache);  // the command prepared exactly this
  const auto back = ablate::prepare_data(
      data_config({{"tokens", (tmp.path / "shards" / "*.bin").string()}, {"format", "llmc"}}, pretokenized(257, 256), 16),
      tmp.path / "cache2");
  CHECK(stream(back.train) == stream(original.train));
  CHECK(stream(back.val) == stream(original.val));
  CHECK(back.train_stats.documents == original.train_stats.documents);
  const json meta = json::parse(slurp(tmp.path / "shards" / "data.json"));
  CHECK(meta["vocab_size"] == 257);
  CHECK(meta["files"]["train"].size() == (original.train.size() + 19999) / 20000);

  const auto [rc2, shown] = shell(fmt::format("{} data inspect '{}'", ABLATE_BINARY, (tmp.path / "shards" / "*.bin").string()));
  INFO(shown);
  CHECK(rc2 == 0);
  CHECK_THAT(shown, Catch::Contains("20240520") && Catch::Contains("val_000000.bin"));
  const auto [rc3, sweep_shown] = shell(fmt::format("{} data inspect {} --cache {}", ABLATE_BINARY,
                                                    (tmp.path / "sweep.yaml").string(), cache));
  INFO(sweep_shown);
  CHECK(rc3 == 0);
  CHECK_THAT(sweep_shown, Catch::Contains("decoded:") && Catch::Contains("vocabulary: 257 ids"));
  // The sweep parser takes the pre-tokenized forms, with paths relative to the sweep file.
  write(tmp.path / "reuse.yaml", "name: reuse\ndata: {corpus: {tokens: \"shards/*.bin\", format: llmc}, "
                                 "tokenizer: {kind: pretokenized, vocab_size: 257, eot: 256}, seq_len: 16}\n"
                                 "model: {attention: {plugin: mha, n_heads: 2}, ffn: {plugin: swiglu, d_ff: 64}, "
                                 "d_model: 32, n_layers: 1}\n");
  const auto [rc5, reused] = shell(fmt::format("{} data inspect {} --json --cache {}", ABLATE_BINARY,
                                               (tmp.path / "reuse.yaml").string(), (tmp.path / "cache3").string()));
  INFO(reused);
  REQUIRE(rc5 == 0);
  const json r = json::parse(reused.substr(reused.find("\n{") + 1));  // after the progress lines
  CHECK(r["train"]["tokens"] == original.train.size());
  CHECK(r["val"]["tokens"] == original.val.size());
  CHECK_THAT(r["split_rule"].get<std::string>(), Catch::Contains("by file"));
  const auto [rc4, bad] = shell(fmt::format("{} data inspect {}", ABLATE_BINARY, (tmp.path / "none_*.bin").string()));
  CHECK(rc4 == 2);
  CHECK_THAT(bad, Catch::Contains("no file matches"));
}
#endif

TEST_CASE("A damaged llm.c shard is refused by auto and llmc, read as tokens only by an explicit nanogpt",
          "[data][formats]") {
  TempDir tmp;
  const auto tokens = pattern(2000, 3, 500);
  const fs::path damaged = tmp.path / "damaged_000001.bin";
  write(damaged, llmc_bytes(tokens, 2, 12345678));  // version 1, count 2000 agreeing with the size
  const auto refused = [&](const fs::path& file, const std::string& format) {
    return std::string(error_of([&] { ablate::summarize_token_file(file, format); }).what());
  };
  CHECK_THAT(refused(damaged, "auto"),
             Catch::Contains("damaged_000001.bin") && Catch::Contains("damaged llm.c shard") &&
                 Catch::Contains("magic 12345678, expected 20240520") && Catch::Contains("20240801") &&
                 !Catch::Contains("version"));
  CHECK_THAT(refused(damaged, "llmc"),
             Catch::Contains("damaged_000001.bin") && Catch::Contains("magic 12345678, expected 20240520"));
  // `ablate data inspect FILE` and a sweep (format: auto by default) refuse it too.
  CHECK_THAT(error_of([&] { ablate::inspect_data_source(damaged.string()); }).what(),
             Catch::Contains("damaged_000001.bin") && Catch::Contains("magic 12345678"));
  CHECK_THAT(error_of([&] {
               ablate::prepare_data(data_config({{"tokens", damaged.string()}}, pretokenized(65536)), tmp.cache());
             }).what(),
             Catch::Contains("damaged_000001.bin") && Catch::Contains("magic 12345678"));
  // Said to be nanoGPT, the same bytes are tokens from byte 0: the header first (12345678 =
  // 0x00BC614E -> 24910, 188; version 1 -> 1, 0; count 2000 -> 2000, 0; then zeros).
  const auto as_nanogpt = ablate::read_token_file(damaged, "nanogpt");
  REQUIRE(as_nanogpt.size() == (1024 + 2 * tokens.size()) / 2);
  CHECK(std::vector<std::uint32_t>(as_nanogpt.begin(), as_nanogpt.begin() + 7) ==
        std::vector<std::uint32_t>{24910, 188, 1, 0, 2000, 0, 0});
  CHECK(ablate::summarize_token_file(damaged, "nanogpt").format == "nanogpt");

  SECTION("magic and version both wrong: both are named") {
    write(damaged, llmc_bytes(tokens, 2, 12345678, 7));
    for (const char* format : {"auto", "llmc"})
      CHECK_THAT(refused(damaged, format),
                 Catch::Contains("magic 12345678") && Catch::Contains("version 7, expected 1"));
  }
  SECTION("a damaged uint32 shard, and one truncated as well (version 1 still gives it away)") {
    write(damaged, llmc_bytes(tokens, 4, 20240802));
    CHECK_THAT(refused(damaged, "auto"), Catch::Contains("magic 20240802"));
    write(damaged, llmc_bytes(tokens, 2, 12345678).substr(0, 3000));
    CHECK_THAT(refused(damaged, "auto"), Catch::Contains("magic 12345678"));
  }
  SECTION("the right magic with a wrong version is refused as before") {
    write(damaged, llmc_bytes(tokens, 2, 0, 2));
    CHECK_THAT(refused(damaged, "auto"), Catch::Contains("version 2, only version 1"));
  }
}

TEST_CASE("nanoGPT .bin files are still read by auto, even with a run of zero tokens at the start",
          "[data][formats]") {
  TempDir tmp;
  const auto tokens = pattern(3000, 1, 50257);
  write(tmp.path / "train.bin", nanogpt_bytes(tokens));
  const auto s = ablate::summarize_token_file(tmp.path / "train.bin", "auto");
  CHECK(s.format == "nanogpt");
  CHECK(s.tokens == 3000);
  CHECK(ablate::read_token_file(tmp.path / "train.bin", "auto") == tokens);
  // 600 zero tokens after the first six: words 3..255 are zero, but word 1 (tokens 2, 3) is not
  // version 1 and word 2 (tokens 4, 5) is not the count the size implies: not an llm.c header.
  auto zeros = tokens;
  std::fill(zeros.begin() + 6, zeros.begin() + 606, 0);
  write(tmp.path / "zeros.bin", nanogpt_bytes(zeros));
  CHECK(ablate::read_token_file(tmp.path / "zeros.bin", "auto") == zeros);
  // One non-zero token among positions 6..511 is enough, whatever words 1 and 2 say.
  auto almost = zeros;
  almost[2] = 1, almost[3] = 0;  // word 1 = 1, as an llm.c version
  almost[300] = 17;
  write(tmp.path / "almost.bin", nanogpt_bytes(almost));
  CHECK(ablate::read_token_file(tmp.path / "almost.bin", "auto") == almost);
  // And through prepare_data, whose format is auto unless the sweep says otherwise.
  const auto data = ablate::prepare_data(
      data_config({{"tokens", (tmp.path / "train.bin").string()}}, pretokenized(50257)), tmp.cache());
  CHECK(data.train.size() + data.val.size() + 8 == 3000);  // one file split by ranges, gap seq_len
}
