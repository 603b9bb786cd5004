// Near-duplicates across the split (data.h: find_near_twins): validation documents whose word
// 5-grams are largely those of one training document. A document split cannot see them (they are
// not identical, so overlap_documents misses them), yet training on one twin teaches the other: the
// KJV's parallel chapters (2 Kings 19 and Isaiah 37, Psalm 14 and 53, 2 Samuel 22 and Psalm 18,
// Ezra 2 and Nehemiah 7) differ by a word here and there.
//
// Exact, not MinHash: the validation documents' 5-gram hashes go into one sorted index (a tenth of
// the corpus), then each training document's 5-grams are looked up once, counting shared 5-grams
// per validation document; Jaccard = shared / (|A| + |B| - shared). No sampling error, so a
// threshold means what it says, and the KJV takes a fraction of a second (docs/data.md).
//
// Why 5 words and 0.2: on the KJV's chapters (measured, docs/data.md) every pair at or above 0.2 is
// a known parallel passage (2 Kings 19 / Isaiah 37 0.59 ... 2 Samuel 10 / 1 Chronicles 19 0.21),
// and formulaic but distinct chapters (Numbers 28 / 29, Job 1 / 2) stay near 0.10. A threshold of
// 0.5 would find only 2 Kings 19 / Isaiah 37: the parallels differ often enough ("LORD" / "God")
// to break half of their 5-grams.
//
// Deliberate limits: whole documents are compared, so a passage shared by two documents that are
// otherwise different (a quoted psalm inside a long chapter) is not found; words are ASCII
// lower-cased runs of letters and digits (any non-ASCII byte counts as a letter), so no Unicode case
// folding; a 5-gram shared by very many documents of both splits (boilerplate) costs the product
// of their counts.
#include <xxhash.h>

#include <algorithm>
#include <string_view>
#include <utility>

#include "ablate/engine/data.h"
#include "data/internal.h"

namespace ablate {

const char* const data_internal::kNearDuplicateRule =
    "word 5-gram Jaccard >= 0.2 with a training document (exact; ASCII lower-cased, punctuation "
    "ignored)";

namespace {

constexpr std::size_t kShingleWords = 5;

bool word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// The distinct 5-gram hashes of `text`, sorted: XXH3-64 of the five words' own XXH3-64 hashes.
std::vector<std::uint64_t> shingles(std::string_view text) {
  std::vector<std::uint64_t> words;
  std::string word;
  for (std::size_t i = 0; i < text.size();) {
    if (!word_byte(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    word.clear();
    for (; i < text.size() && word_byte(static_cast<unsigned char>(text[i])); ++i) {
      const char c = text[i];
      word += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    words.push_back(XXH3_64bits(word.data(), word.size()));
  }
  std::vector<std::uint64_t> out;
  if (words.empty()) return out;
  const std::size_t n = std::min(kShingleWords, words.size());  // a short document: one shingle
  out.reserve(words.size() - n + 1);
  for (std::size_t i = 0; i + n <= words.size(); ++i)
    out.push_back(XXH3_64bits(words.data() + i, n * sizeof(std::uint64_t)));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::vector<NearTwin> find_near_twins(const std::vector<std::string>& documents,
                                      const std::vector<std::size_t>& train,
                                      const std::vector<std::size_t>& val) {
  // (5-gram hash, position in `val`), sorted by hash: every validation 5-gram once per document.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> index;
  std::vector<std::size_t> val_sizes(val.size());
  for (std::size_t v = 0; v < val.size(); ++v) {
    const auto set = shingles(documents.at(val[v]));
    val_sizes[v] = set.size();
    for (std::uint64_t h : set) index.emplace_back(h, static_cast<std::uint32_t>(v));
  }
  std::sort(index.begin(), index.end());

  std::vector<std::uint32_t> shared(val.size(), 0);  // with the current training document
  std::vector<std::uint32_t> touched;
  std::vector<double> best(val.size(), 0.0);
  std::vector<std::size_t> best_train(val.size(), 0);
  for (std::size_t t : train) {
    const auto set = shingles(documents.at(t));
    for (std::uint64_t h : set) {
      auto it = std::lower_bound(index.begin(), index.end(), std::make_pair(h, std::uint32_t{0}));
      for (; it != index.end() && it->first == h; ++it)
        if (shared[it->second]++ == 0) touched.push_back(it->second);
    }
    for (std::uint32_t v : touched) {
      const double jaccard = static_cast<double>(shared[v]) /
                             static_cast<double>(val_sizes[v] + set.size() - shared[v]);
      if (jaccard > best[v]) best[v] = jaccard, best_train[v] = t;  // ties: the first one
      shared[v] = 0;
    }
    touched.clear();
  }

  std::vector<NearTwin> twins;
  for (std::size_t v = 0; v < val.size(); ++v)
    if (best[v] >= kNearDuplicateJaccard)
      twins.push_back({.val = val[v], .train = best_train[v], .jaccard = best[v]});
  return twins;
}

}  // namespace ablate
