// prepare_data (data.h): corpus → split by document → tokenizer → token streams in an on-disk
// cache, memory-mapped as TokenStreams.
//
// Cache entry <cache_dir>/<key>/ = train.bin, val.bin (uint32 little-endian token ids),
// tokenizer.model (bpe, sentencepiece) and meta.json, written last: an entry without a valid meta.json is
// incomplete and rebuilt. The key is XXH3-128 of the documents' text, the split settings and the
// tokenizer settings; seq_len is not in it (it only decides whether the streams are long enough),
// so the tokenizer is trained once per corpus, split and tokenizer whatever the seq_len.
// drop_near_duplicates is in it (with the near-duplicate rule) only when true, since only then does
// the check change a stream; meta.json keeps the check's result either way, so a cache hit does not
// redo it.
//
// Deliberate limits: little-endian hosts only (the streams are mapped, not converted); the corpus
// is read and hashed on every call (cheap next to training, and it is what makes the key honest);
// concurrent builds of one entry are safe but duplicate work (both write identical files).
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <optional>
#include <random>
#include <set>

#include "ablate/engine/data.h"

#include "ablate/engine/atomic_file.h"
#include "ablate/engine/error.h"
#include "ablate/engine/portable_random.h"
#include "data/internal.h"

namespace ablate {
namespace fs = std::filesystem;
using namespace data_internal;

static_assert(std::endian::native == std::endian::little,
              "token streams are mapped as little-endian uint32");

// ---- small helpers ------------------------------------------------------------------------------

fs::path default_cache_dir() {
  const auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v != nullptr ? v : "";
  };
  if (!env("ABLATE_CACHE").empty()) return env("ABLATE_CACHE");
  if (!env("XDG_CACHE_HOME").empty()) return fs::path(env("XDG_CACHE_HOME")) / "ablate";
  if (!env("HOME").empty()) return fs::path(env("HOME")) / ".cache" / "ablate";
  return fs::temp_directory_path() / "ablate-cache";  // no HOME (a bare container)
}

std::int64_t tokenizer_vocab_size(const nlohmann::json& data_config) {
  if (!data_config.is_object() || !data_config.contains("tokenizer"))
    throw Error("data: no 'tokenizer' section", "add tokenizer: {kind: bpe, vocab_size: N}");
  return parse_tokenizer(data_config["tokenizer"]).vocab_size;
}

const char* const data_internal::kCacheHint =
    "check free space and permissions of the cache directory "
    "(set ABLATE_CACHE to move it)";

namespace {

struct Settings {
  std::int64_t seq_len = 0;
  double val_fraction = 0;
  std::int64_t split_seed = 0;
  bool drop_near_duplicates = false;
  TokenizerSpec tokenizer;
};

Settings parse_settings(const nlohmann::json& config) {
  if (!config.is_object()) throw Error("data: expected a mapping, got " + config.dump());
  const auto need = [&](const char* key) -> const nlohmann::json& {
    if (!config.contains(key)) throw Error(fmt::format("data: '{}' is missing", key));
    return config[key];
  };
  Settings s;
  if (!need("seq_len").is_number_integer() || config["seq_len"].get<std::int64_t>() < 1)
    throw Error("data.seq_len: expected a positive integer, got " + config["seq_len"].dump());
  s.seq_len = config["seq_len"].get<std::int64_t>();
  const double fraction =
      need("val_fraction").is_number() ? config["val_fraction"].get<double>() : std::nan("");
  if (!(fraction > 0.0 && fraction < 1.0))
    throw Error("data.val_fraction: expected a number in (0, 1), got " +
                config["val_fraction"].dump());
  s.val_fraction = fraction;
  if (!need("split_seed").is_number_integer())
    throw Error("data.split_seed: expected an integer, got " + config["split_seed"].dump());
  s.split_seed = config["split_seed"].get<std::int64_t>();
  if (config.contains("drop_near_duplicates")) {
    if (!config["drop_near_duplicates"].is_boolean())
      throw Error("data.drop_near_duplicates: expected true or false, got " +
                  config["drop_near_duplicates"].dump());
    s.drop_near_duplicates = config["drop_near_duplicates"].get<bool>();
  }
  s.tokenizer = parse_tokenizer(need("tokenizer"));
  return s;
}

std::string hex(const XXH128_hash_t& hash) {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, hash);
  std::string out;
  for (unsigned char b : canonical.digest) out += fmt::format("{:02x}", b);
  return out;
}

}  // namespace

std::string data_internal::hex_hash(std::string_view bytes) {
  return hex(XXH3_128bits(bytes.data(), bytes.size()));
}

namespace {

// Key of a cache entry: every input that changes a token of either stream.
std::string cache_key(const Corpus& corpus, const Settings& s) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  for (const auto& doc : corpus.documents) {
    const std::uint64_t len = doc.size();  // length prefix: ["ab","c"] differs from ["a","bc"]
    XXH3_128bits_update(state, &len, sizeof len);
    XXH3_128bits_update(state, doc.data(), doc.size());
  }
  nlohmann::json fields = {{"format", kCacheFormat},
                           {"val_fraction", s.val_fraction},
                           {"split_seed", s.split_seed},
                           {"tokenizer", tokenizer_fingerprint(s.tokenizer)}};
  // Only when true: entries built without dropping keep their keys (and stay valid).
  if (s.drop_near_duplicates) fields["drop_near_duplicates"] = kNearDuplicateRule;
  const std::string settings = fields.dump();
  XXH3_128bits_update(state, settings.data(), settings.size());
  const XXH128_hash_t hash = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  return hex(hash);
}


void write_tokens(const fs::path& file, const std::vector<std::uint32_t>& tokens) {
  write_file_atomic(file, std::string_view(reinterpret_cast<const char*>(tokens.data()),
                                           tokens.size() * sizeof(std::uint32_t)));
}

// Scratch directory inside the cache entry (same file system), removed however we leave.
struct WorkDir {
  fs::path path;
  explicit WorkDir(const fs::path& entry) {
    static std::atomic<unsigned> counter{0};
    path = entry / fmt::format(".work-{}-{}", ::getpid(), counter++);
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec)
      throw Error(fmt::format("{}: cannot create: {}", path.string(), ec.message()), kCacheHint);
  }
  ~WorkDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
};

std::vector<const std::string*> documents_of(const Corpus& corpus,
                                             const std::vector<std::size_t>& indices) {
  std::vector<const std::string*> docs;
  for (auto i : indices) docs.push_back(&corpus.documents[i]);
  return docs;
}

// ---- near-duplicates ----------------------------------------------------------------------------

std::string document_name(const Corpus& corpus, std::size_t i) {
  return i < corpus.names.size() ? corpus.names[i] : fmt::format("document {}", i + 1);
}

// The most similar few, most similar first (then in corpus order), named for people.
std::vector<NearDuplicatePair> near_duplicate_examples(const Corpus& corpus,
                                                       std::vector<NearTwin> twins) {
  std::stable_sort(twins.begin(), twins.end(),
                   [](const NearTwin& a, const NearTwin& b) { return a.jaccard > b.jaccard; });
  std::vector<NearDuplicatePair> out;
  for (std::size_t i = 0; i < std::min<std::size_t>(twins.size(), 5); ++i)
    out.push_back({.val_document = document_name(corpus, twins[i].val),
                   .train_document = document_name(corpus, twins[i].train),
                   .jaccard = twins[i].jaccard});
  return out;
}

// meta.json's record of the check: the names for people, the indices to restore it from.
nlohmann::json near_duplicates_json(const Corpus& corpus, const std::vector<NearTwin>& twins,
                                    bool dropped) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& t : twins)
    list.push_back({{"val", t.val},
                    {"train", t.train},
                    {"val_document", document_name(corpus, t.val)},
                    {"train_document", document_name(corpus, t.train)},
                    {"jaccard", t.jaccard}});
  return {{"rule", kNearDuplicateRule},
          {"validation_documents", twins.size()},
          {"dropped", dropped},
          {"twins", list}};
}

// The near-twins a complete entry's meta.json recorded for this split under this rule; nullopt
// when it has none (built before the check existed, or by another rule): then they are found again.
std::optional<std::vector<NearTwin>> cached_twins(const fs::path& entry, const Split& split) {
  try {
    const auto meta = nlohmann::json::parse(read_file(entry / "meta.json"));
    if (!meta.contains("near_duplicates")) return std::nullopt;
    const auto& record = meta.at("near_duplicates");
    if (record.at("rule").get<std::string>() != kNearDuplicateRule) return std::nullopt;
    std::vector<NearTwin> twins;
    for (const auto& t : record.at("twins")) {
      const NearTwin twin{.val = t.at("val").get<std::size_t>(),
                          .train = t.at("train").get<std::size_t>(),
                          .jaccard = t.at("jaccard").get<double>()};
      if (!std::binary_search(split.val.begin(), split.val.end(), twin.val) ||
          !std::binary_search(split.train.begin(), split.train.end(), twin.train))
        return std::nullopt;
      twins.push_back(twin);
    }
    return twins;
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable or foreign: find them again
  }
}

// ---- cache entry --------------------------------------------------------------------------------

nlohmann::json stats_json(const SplitStats& s) {
  return {{"documents", s.documents}, {"characters", s.characters}, {"tokens", s.tokens}};
}

}  // namespace

bool data_internal::entry_is_complete(const fs::path& entry, const std::string& key, bool needs_model) {
  std::error_code ec;
  if (!fs::exists(entry / "meta.json", ec)) return false;
  try {
    const auto meta = nlohmann::json::parse(read_file(entry / "meta.json"));
    if (meta.at("format").get<int>() != kCacheFormat || meta.at("key").get<std::string>() != key)
      return false;
    for (const char* split : {"train", "val"}) {
      const auto bytes = fs::file_size(entry / fmt::format("{}.bin", split), ec);
      if (ec || bytes != meta.at(split).at("tokens").get<std::uint64_t>() * 4) return false;
    }
    return !needs_model || fs::exists(entry / "tokenizer.model", ec);
  } catch (const std::exception&) {
    return false;  // unreadable or foreign meta.json: rebuild
  }
}

void data_internal::create_entry(const fs::path& entry) {
  std::error_code ec;
  fs::create_directories(entry, ec);
  if (ec)
    throw Error(fmt::format("{}: cannot create cache directory: {}", entry.string(), ec.message()),
                kCacheHint);
}

namespace {

std::string megabytes(std::int64_t bytes) {
  return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6);
}

// Trains (bpe), tokenizes both splits and writes the entry; meta.json last.
void build_entry(const fs::path& entry, const std::string& key, const Corpus& corpus,
                 const Split& split, const std::vector<NearTwin>& twins, const Settings& s,
                 PreparedData& out, const ProgressFn& progress) {
  const auto started = std::chrono::steady_clock::now();
  WorkDir work(entry);
  const auto train_docs = documents_of(corpus, split.train);
  const auto val_docs = documents_of(corpus, split.val);
  std::vector<std::uint32_t> train_tokens, val_tokens;
  if (s.tokenizer.kind == TokenizerSpec::Kind::sentencepiece) {
    write_file_atomic(entry / "tokenizer.model", read_file(s.tokenizer.model));
    if (progress) progress(fmt::format("tokenizing with {}...", s.tokenizer.model.string()));
    encode_bpe(train_docs, entry / "tokenizer.model", s.tokenizer.vocab_size, s.tokenizer.eot,
               work.path, train_tokens);
    encode_bpe(val_docs, entry / "tokenizer.model", s.tokenizer.vocab_size, s.tokenizer.eot,
               work.path, val_tokens);
  } else if (s.tokenizer.kind == TokenizerSpec::Kind::bpe) {
    std::int64_t train_bytes = 0;
    for (const auto* d : train_docs) train_bytes += static_cast<std::int64_t>(d->size());
    if (progress)
      progress(fmt::format("training BPE tokenizer ({} pieces) on {}...", s.tokenizer.vocab_size,
                           megabytes(train_bytes)));
    const fs::path model =
        train_bpe(train_docs, s.tokenizer.vocab_size, work.path, corpus.description);
    write_file_atomic(entry / "tokenizer.model", read_file(model));
    if (progress) progress("tokenizing...");
    encode_bpe(train_docs, entry / "tokenizer.model", s.tokenizer.vocab_size, kBpeEot, work.path,
               train_tokens);
    encode_bpe(val_docs, entry / "tokenizer.model", s.tokenizer.vocab_size, kBpeEot, work.path,
               val_tokens);
  } else {
    if (progress) progress("tokenizing (bytes)...");
    for (const auto* d : train_docs) byte_encode(*d, train_tokens);
    for (const auto* d : val_docs) byte_encode(*d, val_tokens);
  }
  write_tokens(entry / "train.bin", train_tokens);
  write_tokens(entry / "val.bin", val_tokens);
  out.train_stats.tokens = static_cast<std::int64_t>(train_tokens.size());
  out.val_stats.tokens = static_cast<std::int64_t>(val_tokens.size());

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const nlohmann::json meta = {
      {"format", kCacheFormat},
      {"key", key},
      {"corpus", corpus.description},
      {"document_unit", corpus.unit},
      {"split_rule", out.split_rule},
      {"val_fraction", s.val_fraction},
      {"split_seed", s.split_seed},
      {"tokenizer", out.tokenizer_description},
      {"tokenizer_settings", tokenizer_fingerprint(s.tokenizer)},
      {"vocab_size", out.vocab_size},
      {"eot_token", out.eot_token},
      {"token_format", "uint32 little-endian"},
      {"train", stats_json(out.train_stats)},
      {"val", stats_json(out.val_stats)},
      {"overlap_documents", out.overlap_documents},
      {"near_duplicates", near_duplicates_json(corpus, twins, out.near_duplicates_dropped)},
      {"files",
       {{"train", "train.bin"},
        {"val", "val.bin"},
        {"tokenizer_model", s.tokenizer.kind == TokenizerSpec::Kind::byte ? "" : "tokenizer.model"}}},
      {"build_seconds", std::round(seconds * 1000) / 1000},
  };
  write_file_atomic(entry / "meta.json", meta.dump(2) + "\n");
}

// The streams must hold at least one window of seq_len inputs plus its shifted target.
void check_lengths(const PreparedData& data, std::int64_t seq_len) {
  const auto need = seq_len + 1;
  if (static_cast<std::int64_t>(data.val.size()) < need)
    throw Error(fmt::format("{}: the validation stream has {} tokens, fewer than seq_len + 1 = {}",
                            data.corpus_description, data.val.size(), need),
                "lower seq_len or raise val_fraction");
  if (static_cast<std::int64_t>(data.train.size()) < need)
    throw Error(fmt::format("{}: the training stream has {} tokens, fewer than seq_len + 1 = {}",
                            data.corpus_description, data.train.size(), need),
                "lower seq_len or use a larger corpus");
}

}  // namespace

void data_internal::map_entry(const fs::path& entry, std::int64_t seq_len, PreparedData& out) {
  out.train = TokenStream(entry / "train.bin");
  out.val = TokenStream(entry / "val.bin");
  out.train_stats.tokens = static_cast<std::int64_t>(out.train.size());
  out.val_stats.tokens = static_cast<std::int64_t>(out.val.size());
  check_lengths(out, seq_len);
}

PreparedData prepare_data(const nlohmann::json& data_config, const fs::path& cache_dir,
                          const ProgressFn& progress) {
  const Settings s = parse_settings(data_config);
  const nlohmann::json& corpus_config = data_config.at("corpus");
  if (corpus_config.is_object() && corpus_config.contains("tokens") && s.drop_near_duplicates)
    throw Error("data.drop_near_duplicates: a pre-tokenized corpus has no documents to compare",
                "set data.drop_near_duplicates: false for a {tokens: ...} corpus");
  if (corpus_config.is_object() && corpus_config.contains("tokens"))
    return prepare_pretokenized(corpus_config, s.tokenizer, s.seq_len, s.val_fraction, cache_dir,
                                progress);
  if (s.tokenizer.kind == TokenizerSpec::Kind::pretokenized)
    throw Error("data.tokenizer: {kind: pretokenized} needs a pre-tokenized corpus ({tokens: ...})",
                "a text corpus needs a tokenizer: {kind: bpe, vocab_size: N}, {kind: byte} or "
                "{kind: sentencepiece, model: PATH}");
  const Corpus corpus = read_corpus(data_config.at("corpus"), progress);
  if (corpus.documents.size() < 2)
    throw Error(fmt::format("{}: only {} document(s); cannot split into training and validation",
                            corpus.description, corpus.documents.size()),
                "use a larger corpus");

  std::vector<std::int64_t> chars;
  chars.reserve(corpus.documents.size());
  for (const auto& doc : corpus.documents) chars.push_back(count_characters(doc));
  Split split = split_documents(chars, s.val_fraction, s.split_seed);

  const std::string key = cache_key(corpus, s);
  const fs::path entry = cache_dir / key;
  const bool bpe = s.tokenizer.kind != TokenizerSpec::Kind::byte;  // a model file in the entry
  const bool cached = entry_is_complete(entry, key, bpe);

  // Near-twins of the split as drawn, before any drop: reported either way.
  std::optional<std::vector<NearTwin>> twins;
  if (cached) twins = cached_twins(entry, split);
  if (!twins) {
    if (progress) progress("looking for near-duplicates of validation documents in training...");
    twins = find_near_twins(corpus.documents, split.train, split.val);
  }

  PreparedData out;
  out.corpus_description = corpus.description;
  out.tokenizer_description = tokenizer_description(s.tokenizer);
  out.split_rule = fmt::format("by document ({}), {:g}% of characters to validation, seed {}",
                               corpus.unit, s.val_fraction * 100, s.split_seed);
  out.near_duplicate_rule = kNearDuplicateRule;
  out.near_duplicate_documents = static_cast<std::int64_t>(twins->size());
  out.near_duplicate_examples = near_duplicate_examples(corpus, *twins);
  if (s.drop_near_duplicates && !twins->empty()) {
    std::vector<std::size_t> kept;
    std::set<std::size_t> dropped;
    for (const auto& t : *twins) dropped.insert(t.val);
    for (auto i : split.val)
      if (!dropped.count(i)) kept.push_back(i);
    if (kept.empty())
      throw Error(fmt::format("{}: every validation {} ({}) has a near-duplicate in training; "
                              "data.drop_near_duplicates would leave none",
                              corpus.description, corpus.unit, split.val.size()),
                  "raise val_fraction, change split_seed or set data.drop_near_duplicates: false");
    split.val = std::move(kept);
    out.split_rule += fmt::format(", {} validation {}(s) with a near-duplicate in training left out",
                                  dropped.size(), corpus.unit);
  }
  out.near_duplicates_dropped = s.drop_near_duplicates;
  out.vocab_size = s.tokenizer.vocab_size;
  out.tokenizer_kind = kind_name(s.tokenizer.kind);
  out.eot_token = s.tokenizer.eot;
  out.train_stats = stats_of(split.train, chars);
  out.val_stats = stats_of(split.val, chars);
  out.overlap_documents = count_overlap(corpus, split);

  out.cache_entry = entry;
  if (bpe) out.tokenizer_model = entry / "tokenizer.model";

  if (cached) {
    if (progress) progress(fmt::format("using cached tokens in {}", entry.string()));
    out.from_cache = true;
  } else {
    create_entry(entry);
    try {
      build_entry(entry, key, corpus, split, *twins, s, out, progress);
    } catch (...) {
      std::error_code ec;
      fs::remove(entry, ec);  // only if empty: leave no empty entry behind a failed build
      throw;
    }
  }
  map_entry(entry, s.seq_len, out);
  return out;
}

}  // namespace ablate
