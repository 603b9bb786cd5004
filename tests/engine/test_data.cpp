// Tests of the data module (data.h): corpora, the document split, byte and BPE tokenizers, the
// cache and the user-facing errors. Each test uses its own cache directory under /tmp.
//
// Deliberate limits: the KJV tests need Debian's bible-kjv and the BPE test sentencepiece's
// command-line tools (scripts/setup.sh installs both); BPE uses a 512-piece vocabulary to stay
// fast.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ablate/engine/data.h"
#include "ablate/engine/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A fresh directory under /tmp, removed with everything in it at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::path("/tmp") / fmt::format("ablate-test-data-{}-{}", ::getpid(), counter++);
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  fs::path cache() const { return path / "cache"; }
};

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

json config(json corpus, json tokenizer = {{"kind", "byte"}}, std::int64_t seq_len = 16,
            double val_fraction = 0.1, std::int64_t seed = 0) {
  return {{"corpus", std::move(corpus)},
          {"tokenizer", std::move(tokenizer)},
          {"seq_len", seq_len},
          {"val_fraction", val_fraction},
          {"split_seed", seed}};
}

// Byte streams back to documents: every document ends with end-of-text (256).
std::vector<std::string> byte_documents(const ablate::TokenStream& stream) {
  std::vector<std::string> docs(1);
  std::size_t out_of_range = 0;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    if (stream[i] == 256) {
      docs.emplace_back();
    } else {
      out_of_range += stream[i] > 256;
      docs.back() += static_cast<char>(stream[i]);
    }
  }
  REQUIRE(out_of_range == 0);
  REQUIRE(docs.back().empty());  // the stream ends with end-of-text
  docs.pop_back();
  return docs;
}

// A few sentences of made-up text, different for each `i`.
std::string sentence_text(int i) {
  static const char* words[] = {"alpha", "beta", "gamma", "delta", "épsilon", "zeta", "ēta", "θ"};
  std::string text;
  for (int k = 0; k < 20 + i % 17; ++k) text += std::string(words[(i * 7 + k * 3) % 8]) + " ";
  return text + std::to_string(i) + ".";
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

std::int64_t mtime_ns(const fs::path& file) {
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// Sets an environment variable for one scope and restores it afterwards.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(std::string n, const char* value) : name(std::move(n)) {
    if (const char* v = std::getenv(name.c_str())) old = v;
    if (value != nullptr)
      ::setenv(name.c_str(), value, 1);
    else
      ::unsetenv(name.c_str());
  }
  ~ScopedEnv() {
    if (old)
      ::setenv(name.c_str(), old->c_str(), 1);
    else
      ::unsetenv(name.c_str());
  }
};

}  // namespace

TEST_CASE("The byte tokenizer round-trips every document and ends each with end-of-text",
          "[data]") {
  TempDir tmp;
  std::multiset<std::string> originals;
  for (int i = 0; i < 12; ++i) {
    const std::string text = sentence_text(i) + "\nsecond line ☃ " + std::to_string(i) + "\n";
    write(tmp.path / "docs" / fmt::format("{:02}.txt", i), text);
    originals.insert(text);
  }
  const auto data =
      ablate::prepare_data(config({{"text", (tmp.path / "docs").string()}}), tmp.cache());
  CHECK(data.vocab_size == 257);
  CHECK(data.eot_token == 256);
  CHECK(data.tokenizer_model.empty());
  std::multiset<std::string> decoded;
  for (auto& d : byte_documents(data.train)) decoded.insert(d);
  for (auto& d : byte_documents(data.val)) decoded.insert(d);
  CHECK(decoded == originals);
  CHECK(data.train_stats.tokens == static_cast<std::int64_t>(data.train.size()));
  CHECK(data.train_stats.documents + data.val_stats.documents == 12);
}

TEST_CASE(
    "The split shares no document between training and validation and holds out about "
    "val_fraction of the characters",
    "[data]") {
  TempDir tmp;
  std::string jsonl;
  std::int64_t longest = 0, total = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string text = sentence_text(i);
    jsonl += json{{"text", text}}.dump() + "\n";
    longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(text.size()));
  }
  write(tmp.path / "c.jsonl", jsonl);
  const auto cfg = config({{"jsonl", (tmp.path / "c.jsonl").string()}, {"field", "text"}},
                          {{"kind", "byte"}}, 16, 0.2, 7);
  const auto data = ablate::prepare_data(cfg, tmp.cache());

  const auto train = byte_documents(data.train);
  const auto val = byte_documents(data.val);
  std::set<std::string> train_set(train.begin(), train.end());
  for (const auto& doc : val) CHECK(train_set.count(doc) == 0);
  CHECK(data.overlap_documents == 0);
  CHECK(train.size() + val.size() == 300);
  CHECK(data.val_stats.documents == static_cast<std::int64_t>(val.size()));

  total = data.train_stats.characters + data.val_stats.characters;
  const double fraction = static_cast<double>(data.val_stats.characters) / total;
  CHECK(fraction >= 0.2);
  CHECK(fraction <= 0.2 + static_cast<double>(longest) / total);
  CHECK(data.split_rule.find("20%") != std::string::npos);

  SECTION("the same seed gives the same split, another seed another") {
    const auto again = ablate::prepare_data(cfg, tmp.path / "cache2");
    CHECK(byte_documents(again.val) == val);
    auto other_cfg = cfg;
    other_cfg["split_seed"] = 8;
    const auto other = ablate::prepare_data(other_cfg, tmp.cache());
    CHECK(byte_documents(other.val) != val);
  }
}

TEST_CASE("Duplicated documents show up as overlap between the splits", "[data]") {
  TempDir tmp;
  std::string jsonl;
  for (int i = 0; i < 100; ++i) jsonl += json{{"text", sentence_text(i)}}.dump() + "\n";
  for (int i = 0; i < 50; ++i) jsonl += json{{"text", "the same line every time"}}.dump() + "\n";
  write(tmp.path / "dup.jsonl", jsonl);
  const auto data = ablate::prepare_data(
      config({{"jsonl", (tmp.path / "dup.jsonl").string()}}, {{"kind", "byte"}}, 8, 0.3),
      tmp.cache());
  CHECK(data.overlap_documents > 0);
}

TEST_CASE("The kjv corpus is 1189 chapter documents without verse references", "[data]") {
  TempDir tmp;
  const auto data = ablate::prepare_data(config("kjv"), tmp.cache());
  CHECK(data.train_stats.documents + data.val_stats.documents == 1189);
  CHECK(data.corpus_description.find("1189 chapters") != std::string::npos);
  CHECK(data.overlap_documents == 0);
  auto docs = byte_documents(data.train);
  for (auto& d : byte_documents(data.val)) docs.push_back(std::move(d));
  REQUIRE(docs.size() == 1189);
  // The verse text itself has no digits: any digit would be a leftover reference ("Ge1:1").
  std::int64_t with_digits = 0;
  for (const auto& d : docs)
    with_digits += std::any_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  CHECK(with_digits == 0);
  const auto genesis_1 = std::find_if(docs.begin(), docs.end(), [](const std::string& d) {
    return d.rfind("In the beginning God created the heaven and the earth.\nAnd the earth", 0) == 0;
  });
  CHECK(genesis_1 != docs.end());
  // Psalm 117 has two verses: one line each.
  const auto psalm_117 = std::count_if(docs.begin(), docs.end(), [](const std::string& d) {
    return d.rfind("O Praise the LORD, all ye nations", 0) == 0 &&
           std::count(d.begin(), d.end(), '\n') == 1;
  });
  CHECK(psalm_117 == 1);
}

TEST_CASE("BPE on the KJV has exactly the configured vocabulary and is reused from the cache",
          "[data]") {
  TempDir tmp;
  const auto cfg = config("kjv", {{"kind", "bpe"}, {"vocab_size", 512}}, 64);
  std::vector<std::string> progress;
  const auto data = ablate::prepare_data(
      cfg, tmp.cache(), [&](const std::string& line) { progress.push_back(line); });
  CHECK_FALSE(data.from_cache);
  CHECK(data.vocab_size == 512);
  CHECK(ablate::tokenizer_vocab_size(cfg) == 512);
  CHECK(data.eot_token == 1);
  REQUIRE(fs::exists(data.tokenizer_model));
  CHECK(std::any_of(progress.begin(), progress.end(), [](const std::string& p) {
    return p.rfind("training BPE tokenizer (512 pieces) on", 0) == 0;
  }));

  // The model's own vocabulary, as SentencePiece lists it.
  const fs::path vocab_file = tmp.path / "vocab.txt";
  REQUIRE(std::system(fmt::format("spm_export_vocab --model={} > {} 2>/dev/null",
                                  data.tokenizer_model.string(), vocab_file.string())
                          .c_str()) == 0);
  std::ifstream vocab(vocab_file);
  std::vector<std::string> pieces;
  for (std::string line; std::getline(vocab, line);)
    pieces.push_back(line.substr(0, line.find('\t')));
  CHECK(pieces.size() == 512);
  REQUIRE(pieces.size() > 1);
  CHECK(pieces[1] == "</s>");

  std::int64_t eots = 0;
  bool below = true;
  for (const auto* stream : {&data.train, &data.val}) {
    for (std::size_t i = 0; i < stream->size(); ++i) {
      below = below && (*stream)[i] < 512;
      eots += (*stream)[i] == 1;
    }
  }
  CHECK(below);
  CHECK(eots == 1189);
  // BPE compresses: far fewer tokens than the 4.4 MB of bytes.
  CHECK(data.train_stats.tokens + data.val_stats.tokens < 2'000'000);

  const auto model_time = mtime_ns(data.tokenizer_model);
  const auto train_time = mtime_ns(data.cache_entry / "train.bin");
  const auto meta = json::parse(std::ifstream(data.cache_entry / "meta.json"));
  CHECK(meta["vocab_size"] == 512);
  CHECK(meta["train"]["tokens"] == data.train_stats.tokens);

  // Another seq_len shares the entry: neither training nor tokenizing again.
  auto cfg2 = cfg;
  cfg2["seq_len"] = 128;
  progress.clear();
  const auto again = ablate::prepare_data(
      cfg2, tmp.cache(), [&](const std::string& line) { progress.push_back(line); });
  CHECK(again.from_cache);
  CHECK(again.cache_entry == data.cache_entry);
  CHECK(mtime_ns(again.tokenizer_model) == model_time);
  CHECK(mtime_ns(again.cache_entry / "train.bin") == train_time);
  CHECK(std::none_of(progress.begin(), progress.end(), [](const std::string& p) {
    return p.find("training") != std::string::npos || p.find("tokenizing") != std::string::npos;
  }));
  REQUIRE(again.train.size() == data.train.size());
  CHECK(std::equal(again.train.data(), again.train.data() + again.train.size(), data.train.data()));
}

TEST_CASE("An incomplete cache entry is rebuilt, not used", "[data]") {
  TempDir tmp;
  std::string jsonl;
  for (int i = 0; i < 40; ++i) jsonl += json{{"text", sentence_text(i)}}.dump() + "\n";
  write(tmp.path / "c.jsonl", jsonl);
  const auto cfg = config({{"jsonl", (tmp.path / "c.jsonl").string()}});
  const auto first = ablate::prepare_data(cfg, tmp.cache());
  CHECK_FALSE(first.from_cache);
  CHECK(ablate::prepare_data(cfg, tmp.cache()).from_cache);
  fs::remove(first.cache_entry / "meta.json");  // as if the process died before the last write
  CHECK_FALSE(ablate::prepare_data(cfg, tmp.cache()).from_cache);
  CHECK(ablate::prepare_data(cfg, tmp.cache()).from_cache);
}

TEST_CASE("A single text file is cut into chunks so that validation is not empty", "[data]") {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 60; ++i) text += sentence_text(i) + (i % 3 == 2 ? "\n\n" : "\n");
  write(tmp.path / "one.txt", text);
  const auto data =
      ablate::prepare_data(config({{"text", (tmp.path / "one.txt").string()}}), tmp.cache());
  CHECK(data.val_stats.documents >= 1);
  CHECK(data.train_stats.documents >= 1);
  CHECK(data.corpus_description.find("chunks") != std::string::npos);
  CHECK(data.split_rule.find("chunk") != std::string::npos);
  // Chunks are cut at boundaries: every word of the text survives whole.
  for (const auto& chunk : byte_documents(data.val)) CHECK(text.find(chunk) != std::string::npos);
}

TEST_CASE("A directory corpus reads every .txt file below it and nothing else", "[data]") {
  TempDir tmp;
  write(tmp.path / "d" / "b.txt", sentence_text(1));
  write(tmp.path / "d" / "a.txt", sentence_text(2));
  write(tmp.path / "d" / "sub" / "deeper" / "c.txt", sentence_text(3));
  write(tmp.path / "d" / "notes.md", "not part of the corpus");
  write(tmp.path / "d" / "empty.txt", "\n  \n");
  const auto data = ablate::prepare_data(
      config({{"text", (tmp.path / "d").string()}}, {{"kind", "byte"}}, 4, 0.3), tmp.cache());
  CHECK(data.train_stats.documents + data.val_stats.documents == 3);
  CHECK(data.corpus_description.find("3 text files") != std::string::npos);
  std::set<std::string> docs;
  for (auto& d : byte_documents(data.train)) docs.insert(d);
  for (auto& d : byte_documents(data.val)) docs.insert(d);
  CHECK(docs == std::set<std::string>{sentence_text(1), sentence_text(2), sentence_text(3)});
}

TEST_CASE("A JSONL corpus takes one document per line from the named field", "[data]") {
  TempDir tmp;
  write(tmp.path / "c.jsonl",
        "{\"body\": \"first document\", \"id\": 1}\n\n"
        "{\"body\": \"second document\\nwith two lines\"}\n"
        "{\"body\": \"third\"}\n");
  const auto data =
      ablate::prepare_data(config({{"jsonl", (tmp.path / "c.jsonl").string()}, {"field", "body"}},
                                  {{"kind", "byte"}}, 2, 0.3),
                           tmp.cache());
  std::set<std::string> docs;
  for (auto& d : byte_documents(data.train)) docs.insert(d);
  for (auto& d : byte_documents(data.val)) docs.insert(d);
  CHECK(docs ==
        std::set<std::string>{"first document", "second document\nwith two lines", "third"});
}

TEST_CASE("BPE encodes validation text it never saw through byte fallback", "[data]") {
  TempDir tmp;
  std::string jsonl;
  for (int i = 0; i < 200; ++i) {
    // One CJK character per document: those of validation documents are unseen in training.
    const char32_t cjk = 0x4E00 + i;
    const std::string unique = {static_cast<char>(0xE0 | (cjk >> 12)),
                                static_cast<char>(0x80 | ((cjk >> 6) & 0x3F)),
                                static_cast<char>(0x80 | (cjk & 0x3F))};
    jsonl += json{{"text", sentence_text(i) + " " + unique}}.dump() + "\n";
  }
  write(tmp.path / "c.jsonl", jsonl);
  const auto data = ablate::prepare_data(config({{"jsonl", (tmp.path / "c.jsonl").string()}},
                                                {{"kind", "bpe"}, {"vocab_size", 512}}, 8, 0.2),
                                         tmp.cache());
  CHECK(data.vocab_size == 512);
  for (const auto* stream : {&data.train, &data.val})
    CHECK(std::all_of(stream->data(), stream->data() + stream->size(),
                      [](std::uint32_t id) { return id < 512; }));
  CHECK(data.val[data.val.size() - 1] == data.eot_token);
  // Byte pieces <0x00>..<0xFF> are ids 2..257; unseen characters must come out as them.
  std::int64_t byte_pieces = 0;
  for (std::size_t i = 0; i < data.val.size(); ++i)
    byte_pieces += data.val[i] >= 2 && data.val[i] < 258;
  CHECK(byte_pieces >= 3 * data.val_stats.documents);
}

TEST_CASE("Data errors name the file and say what to do", "[data]") {
  TempDir tmp;
  const auto prepare = [&](const json& corpus, json tokenizer = {{"kind", "byte"}},
                           std::int64_t seq_len = 4) {
    return error_of([&] { ablate::prepare_data(config(corpus, tokenizer, seq_len), tmp.cache()); });
  };

  SECTION("a missing file") {
    const auto e = prepare({{"text", (tmp.path / "nope.txt").string()}});
    CHECK_THAT(e.what(), Catch::Contains("nope.txt") && Catch::Contains("no such file"));
  }
  SECTION("an empty file") {
    write(tmp.path / "empty.txt", "");
    const auto e = prepare({{"text", (tmp.path / "empty.txt").string()}});
    CHECK_THAT(e.what(), Catch::Contains("empty.txt") && Catch::Contains("empty"));
  }
  SECTION("a binary file") {
    write(tmp.path / "blob.txt", std::string("PK\x03\x04\0\0\x10\xff\xfe", 9));
    const auto e = prepare({{"text", (tmp.path / "blob.txt").string()}});
    CHECK_THAT(e.what(), Catch::Contains("blob.txt") && Catch::Contains("binary"));
  }
  SECTION("a file that is mostly not UTF-8") {
    std::string junk;
    for (int i = 0; i < 400; ++i) junk += static_cast<char>(0x80 + (i * 37) % 0x7f);
    write(tmp.path / "junk.txt", junk);
    const auto e = prepare({{"text", (tmp.path / "junk.txt").string()}});
    CHECK_THAT(e.what(), Catch::Contains("junk.txt") && Catch::Contains("binary"));
  }
  SECTION("a JSONL line without the field, with its line number") {
    write(tmp.path / "c.jsonl",
          "{\"text\": \"one\"}\n{\"text\": \"two\"}\n{\"title\": \"three\"}\n");
    const auto e = prepare({{"jsonl", (tmp.path / "c.jsonl").string()}, {"field", "text"}});
    CHECK_THAT(e.what(), Catch::Contains("c.jsonl:3") && Catch::Contains("'text'"));
  }
  SECTION("a JSONL line that is not JSON, with its line number") {
    write(tmp.path / "c.jsonl", "{\"text\": \"one\"}\n{\"text\": \"two\"\n");
    const auto e = prepare({{"jsonl", (tmp.path / "c.jsonl").string()}});
    CHECK_THAT(e.what(), Catch::Contains("c.jsonl:2") && Catch::Contains("not a JSON"));
  }
  SECTION("a seq_len longer than the validation stream") {
    std::string text;
    for (int i = 0; i < 20; ++i) text += sentence_text(i) + "\n\n";
    write(tmp.path / "small.txt", text);
    const auto e =
        prepare({{"text", (tmp.path / "small.txt").string()}}, {{"kind", "byte"}}, 100000);
    CHECK_THAT(e.what(), Catch::Contains("seq_len + 1 = 100001"));
    CHECK_THAT(e.hint(), Catch::Contains("lower seq_len or raise val_fraction"));
  }
  SECTION("a vocabulary the corpus cannot support") {
    std::string jsonl;
    for (int i = 0; i < 30; ++i) jsonl += json{{"text", sentence_text(i)}}.dump() + "\n";
    write(tmp.path / "tiny.jsonl", jsonl);
    const auto e = prepare({{"jsonl", (tmp.path / "tiny.jsonl").string()}},
                           {{"kind", "bpe"}, {"vocab_size", 20000}});
    CHECK_THAT(e.what(), Catch::Contains("tiny.jsonl") && Catch::Contains("20000"));
    CHECK_THAT(e.hint(), Catch::Contains("lower tokenizer.vocab_size"));
  }
  SECTION("the kjv corpus without the bible program") {
    ScopedEnv path("PATH", "/nonexistent");
    const auto e = prepare("kjv");
    CHECK_THAT(e.hint(), Catch::Contains("run scripts/setup.sh (installs bible-kjv)"));
  }
  SECTION("nonsense settings") {
    write(tmp.path / "ok.txt", "some text\n\nmore text\n\nand more");
    auto cfg = config({{"text", (tmp.path / "ok.txt").string()}});
    cfg["val_fraction"] = 1.5;
    CHECK_THROWS_AS(ablate::prepare_data(cfg, tmp.cache()), ablate::Error);
    cfg = config({{"text", (tmp.path / "ok.txt").string()}}, {{"kind", "wordpiece"}});
    CHECK_THROWS_AS(ablate::prepare_data(cfg, tmp.cache()), ablate::Error);
    CHECK_THROWS_AS(ablate::tokenizer_vocab_size(json{{"tokenizer", {{"kind", "bpe"}}}}),
                    ablate::Error);
  }
}

TEST_CASE("The vocabulary size is known without reading the corpus", "[data]") {
  const json missing = {{"text", "/nonexistent/corpus.txt"}};
  CHECK(ablate::tokenizer_vocab_size(config(missing)) == 257);
  CHECK(ablate::tokenizer_vocab_size(config(missing, {{"kind", "bpe"}, {"vocab_size", 4096}})) ==
        4096);
}

TEST_CASE("The default cache directory follows ABLATE_CACHE, then XDG_CACHE_HOME, then HOME",
          "[data]") {
  ScopedEnv home("HOME", "/home/someone");
  {
    ScopedEnv a("ABLATE_CACHE", "/srv/cache");
    ScopedEnv x("XDG_CACHE_HOME", "/xdg");
    CHECK(ablate::default_cache_dir() == fs::path("/srv/cache"));
  }
  {
    ScopedEnv a("ABLATE_CACHE", nullptr);
    ScopedEnv x("XDG_CACHE_HOME", "/xdg");
    CHECK(ablate::default_cache_dir() == fs::path("/xdg/ablate"));
  }
  {
    ScopedEnv a("ABLATE_CACHE", nullptr);
    ScopedEnv x("XDG_CACHE_HOME", nullptr);
    CHECK(ablate::default_cache_dir() == fs::path("/home/someone/.cache/ablate"));
  }
}

// ---- near-duplicates across the split -------------------------------------------------------------

namespace {

// Psalm 14 and Psalm 53 (KJV): the same psalm twice, differing by a word here and there ("LORD" /
// "God"), so they share only a quarter of their word 5-grams.
const char* const kPsalm14 =
    "The fool hath said in his heart, There is no God. They are corrupt, they have done abominable "
    "works, there is none that doeth good.\n"
    "The LORD looked down from heaven upon the children of men, to see if there were any that did "
    "understand, and seek God.\n"
    "They are all gone aside, they are all together become filthy: there is none that doeth good, "
    "no, not one.\n"
    "Have all the workers of iniquity no knowledge? who eat up my people as they eat bread, and call "
    "not upon the LORD.\n"
    "There were they in great fear: for God is in the generation of the righteous.\n"
    "Ye have shamed the counsel of the poor, because the LORD is his refuge.\n"
    "Oh that the salvation of Israel were come out of Zion! when the LORD bringeth back the captivity "
    "of his people, Jacob shall rejoice, and Israel shall be glad.";
const char* const kPsalm53 =
    "The fool hath said in his heart, There is no God. Corrupt are they, and have done abominable "
    "iniquity: there is none that doeth good.\n"
    "God looked down from heaven upon the children of men, to see if there were any that did "
    "understand, that did seek God.\n"
    "Every one of them is gone back: they are altogether become filthy; there is none that doeth "
    "good, no, not one.\n"
    "Have the workers of iniquity no knowledge? who eat up my people as they eat bread: they have not "
    "called upon God.\n"
    "There were they in great fear, where no fear was: for God hath scattered the bones of him that "
    "encampeth against thee: thou hast put them to shame, because God hath despised them.\n"
    "Oh that the salvation of Israel were come out of Zion! When God bringeth back the captivity of "
    "his people, Jacob shall rejoice, and Israel shall be glad.";
// Unrelated psalms in the same idiom ("the LORD", "the righteous", "his people").
const char* const kOtherPsalms[] = {
    "Blessed is the man that walketh not in the counsel of the ungodly, nor standeth in the way of "
    "sinners, nor sitteth in the seat of the scornful.\nBut his delight is in the law of the LORD; "
    "and in his law doth he meditate day and night.\nAnd he shall be like a tree planted by the "
    "rivers of water, that bringeth forth his fruit in his season; his leaf also shall not wither; "
    "and whatsoever he doeth shall prosper.\nThe ungodly are not so: but are like the chaff which "
    "the wind driveth away.\nTherefore the ungodly shall not stand in the judgment, nor sinners in "
    "the congregation of the righteous.\nFor the LORD knoweth the way of the righteous: but the way "
    "of the ungodly shall perish.",
    "The LORD is my shepherd; I shall not want.\nHe maketh me to lie down in green pastures: he "
    "leadeth me beside the still waters.\nHe restoreth my soul: he leadeth me in the paths of "
    "righteousness for his name's sake.\nYea, though I walk through the valley of the shadow of "
    "death, I will fear no evil: for thou art with me; thy rod and thy staff they comfort me.\nThou "
    "preparest a table before me in the presence of mine enemies: thou anointest my head with oil; "
    "my cup runneth over.\nSurely goodness and mercy shall follow me all the days of my life: and I "
    "will dwell in the house of the LORD for ever.",
    "I will lift up mine eyes unto the hills, from whence cometh my help.\nMy help cometh from the "
    "LORD, which made heaven and earth.\nHe will not suffer thy foot to be moved: he that keepeth "
    "thee will not slumber.\nBehold, he that keepeth Israel shall neither slumber nor sleep.\nThe "
    "LORD is thy keeper: the LORD is thy shade upon thy right hand.\nThe sun shall not smite thee by "
    "day, nor the moon by night.\nThe LORD shall preserve thee from all evil: he shall preserve thy "
    "soul.\nThe LORD shall preserve thy going out and thy coming in from this time forth, and even "
    "for evermore.",
    "Make a joyful noise unto the LORD, all ye lands.\nServe the LORD with gladness: come before his "
    "presence with singing.\nKnow ye that the LORD he is God: it is he that hath made us, and not we "
    "ourselves; we are his people, and the sheep of his pasture.\nEnter into his gates with "
    "thanksgiving, and into his courts with praise: be thankful unto him, and bless his name.\nFor "
    "the LORD is good; his mercy is everlasting; and his truth endureth to all generations.",
};

// The KJV's parallel chapters whose word 5-gram Jaccard is at least 0.2 (docs/data.md), by the
// references `bible -f` prints.
const std::set<std::pair<std::string, std::string>> kKjvParallels = {
    {"2Ki19", "Isa37"}, {"Ezra2", "Neh7"},  {"2Sm22", "Psa18"},  {"Psa60", "Psa108"},
    {"2Ki18", "Isa36"}, {"1Sm31", "1Chr10"}, {"Psa14", "Psa53"}, {"1Ki10", "2Chr9"},
    {"2Ki20", "Isa39"}, {"2Sm10", "1Chr19"}};

bool is_kjv_parallel(const std::string& a, const std::string& b) {
  return kKjvParallels.count({a, b}) + kKjvParallels.count({b, a}) > 0;
}

}  // namespace

TEST_CASE("Psalm 53 in validation has a near-twin in Psalm 14 in training, and unrelated psalms do not",
          "[data][near_duplicates]") {
  std::vector<std::string> docs = {kPsalm14, kPsalm53};
  for (const char* p : kOtherPsalms) docs.emplace_back(p);
  docs.emplace_back("...!?");               // 6: no words at all
  docs.emplace_back(kOtherPsalms[1]);       // 7: an exact copy of Psalm 23
  docs.emplace_back("Selah");               // 8: shorter than one 5-gram
  docs.emplace_back("selah.");              // 9: the same word, case and punctuation aside
  // Training: Psalm 14, 1, 23, "Selah"; validation: Psalm 53, 121, 100, "...!?", Psalm 23 again, "selah."
  const std::vector<std::size_t> train = {0, 2, 3, 8}, val = {1, 4, 5, 6, 7, 9};
  const auto twins = ablate::find_near_twins(docs, train, val);
  REQUIRE(twins.size() == 3);
  CHECK(twins[0].val == 1);
  CHECK(twins[0].train == 0);
  CHECK(twins[0].jaccard == Approx(0.268).margin(0.005));  // measured: docs/data.md
  CHECK(twins[1].val == 7);  // the exact copy: Jaccard 1
  CHECK(twins[1].train == 3);
  CHECK(twins[1].jaccard == 1.0);
  CHECK(twins[2].val == 9);
  CHECK(twins[2].train == 8);
  // With Psalm 14 on the same side the twin is gone: nothing else comes near the threshold.
  const auto none = ablate::find_near_twins(docs, {2, 3}, {0, 1, 4, 5, 6});
  CHECK(none.empty());
}

TEST_CASE("The KJV's parallel chapters across the split are counted, and drop_near_duplicates leaves "
          "them out of validation",
          "[data][near_duplicates]") {
  TempDir tmp;
  // Seed 2 puts Psalm 18 in validation and 2 Samuel 22 in training (and a few other parallels).
  const auto cfg = config("kjv", {{"kind", "byte"}}, 16, 0.1, 2);
  const auto data = ablate::prepare_data(cfg, tmp.cache());
  CHECK(data.near_duplicate_rule.find("5-gram Jaccard >= 0.2") != std::string::npos);
  CHECK_FALSE(data.near_duplicates_dropped);
  REQUIRE(data.near_duplicate_documents >= 2);
  REQUIRE(data.near_duplicate_examples.size() ==
          std::min<std::size_t>(5, static_cast<std::size_t>(data.near_duplicate_documents)));
  bool psalm_18 = false;
  for (const auto& e : data.near_duplicate_examples) {
    INFO(e.val_document << " ~ " << e.train_document << " " << e.jaccard);
    CHECK(is_kjv_parallel(e.val_document, e.train_document));  // nothing unrelated is flagged
    CHECK(e.jaccard >= ablate::kNearDuplicateJaccard);
    psalm_18 |= e.val_document == "Psa18" && e.train_document == "2Sm22";
  }
  CHECK(psalm_18);
  for (std::size_t i = 1; i < data.near_duplicate_examples.size(); ++i)
    CHECK(data.near_duplicate_examples[i - 1].jaccard >= data.near_duplicate_examples[i].jaccard);
  const auto meta = json::parse(std::ifstream(data.cache_entry / "meta.json"));
  CHECK(meta.at("near_duplicates").at("validation_documents") == data.near_duplicate_documents);

  auto drop_cfg = cfg;
  drop_cfg["drop_near_duplicates"] = true;
  std::vector<std::string> messages;
  const auto progress = [&](const std::string& m) { messages.push_back(m); };
  const auto dropped = ablate::prepare_data(drop_cfg, tmp.cache(), progress);
  CHECK(dropped.cache_entry != data.cache_entry);  // the option is part of the cache key
  CHECK_FALSE(dropped.from_cache);
  CHECK(dropped.near_duplicates_dropped);
  CHECK(dropped.near_duplicate_documents == data.near_duplicate_documents);
  CHECK(dropped.val_stats.documents == data.val_stats.documents - data.near_duplicate_documents);
  CHECK(dropped.train_stats.documents == data.train_stats.documents);
  CHECK(dropped.split_rule.find("with a near-duplicate in training left out") != std::string::npos);
  CHECK(byte_documents(dropped.train) == byte_documents(data.train));
  const auto val_before = byte_documents(data.val), val_after = byte_documents(dropped.val);
  const std::set<std::string> kept(val_after.begin(), val_after.end());
  std::vector<std::string> gone;
  for (const auto& d : val_before)
    if (!kept.count(d)) gone.push_back(d);
  CHECK(static_cast<std::int64_t>(gone.size()) == data.near_duplicate_documents);
  CHECK(std::any_of(gone.begin(), gone.end(), [](const std::string& d) {
    return d.rfind("I will love thee, O LORD, my strength.", 0) == 0;  // Psalm 18
  }));

  // From the cache: the count and examples come back from meta.json, without checking again.
  messages.clear();
  const auto again = ablate::prepare_data(drop_cfg, tmp.cache(), progress);
  CHECK(again.from_cache);
  CHECK(again.near_duplicate_documents == dropped.near_duplicate_documents);
  CHECK(again.near_duplicates_dropped);
  CHECK(again.val_stats.documents == dropped.val_stats.documents);
  REQUIRE(again.near_duplicate_examples.size() == dropped.near_duplicate_examples.size());
  for (std::size_t i = 0; i < again.near_duplicate_examples.size(); ++i) {
    CHECK(again.near_duplicate_examples[i].val_document == dropped.near_duplicate_examples[i].val_document);
    CHECK(again.near_duplicate_examples[i].jaccard == dropped.near_duplicate_examples[i].jaccard);
  }
  CHECK(std::none_of(messages.begin(), messages.end(), [](const std::string& m) {
    return m.find("near-duplicates") != std::string::npos;
  }));
  CHECK(std::vector<std::uint32_t>(again.val.data(), again.val.data() + again.val.size()) ==
        std::vector<std::uint32_t>(dropped.val.data(), dropped.val.data() + dropped.val.size()));
}

TEST_CASE("drop_near_duplicates must be a boolean and needs documents", "[data][near_duplicates]") {
  TempDir tmp;
  write(tmp.path / "a.txt", "some text\n\nmore text\n\nand more text here, enough of it");
  auto cfg = config({{"text", (tmp.path / "a.txt").string()}});
  cfg["drop_near_duplicates"] = "yes";
  CHECK_THAT(error_of([&] { ablate::prepare_data(cfg, tmp.cache()); }).what(),
             Catch::Contains("data.drop_near_duplicates"));
  auto tokens = config({{"tokens", (tmp.path / "x.bin").string()}},
                       {{"kind", "pretokenized"}, {"vocab_size", 100}});
  tokens["drop_near_duplicates"] = true;
  CHECK_THAT(error_of([&] { ablate::prepare_data(tokens, tmp.cache()); }).what(),
             Catch::Contains("pre-tokenized corpus has no documents"));
  // Every validation document a near-twin of a training one: dropping would leave no validation.
  std::string jsonl;
  for (int i = 0; i < 20; ++i)
    jsonl += json{{"text", std::string(kPsalm14) + " " + std::to_string(i % 2)}}.dump() + "\n";
  write(tmp.path / "same.jsonl", jsonl);
  auto same = config({{"jsonl", (tmp.path / "same.jsonl").string()}}, {{"kind", "byte"}}, 8, 0.2);
  const auto kept = ablate::prepare_data(same, tmp.cache());
  CHECK(kept.near_duplicate_documents == kept.val_stats.documents);
  CHECK(kept.near_duplicate_examples.front().val_document.rfind("line ", 0) == 0);
  same["drop_near_duplicates"] = true;
  CHECK_THAT(error_of([&] { ablate::prepare_data(same, tmp.cache()); }).what(),
             Catch::Contains("would leave none"));
}
