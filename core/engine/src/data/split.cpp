// Splitting a corpus by document (data.md, "The split"): shuffled documents go to validation until
// their characters reach the fraction asked for, so no document, and so no validation token, is
// ever on both sides.
#include <xxhash.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include "ablate/engine/portable_random.h"
#include "data/internal.h"

namespace ablate::data_internal {

// Fisher-Yates with a portable index draw (portable_random.h), so the split is the same on every
// platform.
std::vector<std::size_t> shuffled_indices(std::size_t n, std::int64_t seed) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(static_cast<std::uint64_t>(seed));
  for (std::size_t i = n; i > 1; --i) {
    const std::size_t j = draw_below(rng, i);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

// Shuffled documents go to validation until their characters reach `fraction` of all characters;
// at least one document goes to each side.
Split split_documents(const std::vector<std::int64_t>& chars, double fraction, std::int64_t seed) {
  const std::int64_t total = std::accumulate(chars.begin(), chars.end(), std::int64_t{0});
  const double target = fraction * static_cast<double>(total);
  const auto order = shuffled_indices(chars.size(), seed);
  Split split;
  std::int64_t val_chars = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const bool val_full = !split.val.empty() && static_cast<double>(val_chars) >= target;
    const bool last_for_train = split.train.empty() && k + 1 == order.size();
    if (val_full || last_for_train) {
      split.train.push_back(order[k]);
    } else {
      split.val.push_back(order[k]);
      val_chars += chars[order[k]];
    }
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.val.begin(), split.val.end());
  return split;
}

namespace {

std::pair<std::uint64_t, std::uint64_t> content_hash(const std::string& text) {
  const XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
  return {h.high64, h.low64};
}

}  // namespace

// Documents (of either split) whose exact text also occurs in the other split.
std::int64_t count_overlap(const Corpus& corpus, const Split& split) {
  std::set<std::pair<std::uint64_t, std::uint64_t>> train, val;
  for (auto i : split.train) train.insert(content_hash(corpus.documents[i]));
  for (auto i : split.val) val.insert(content_hash(corpus.documents[i]));
  std::int64_t overlap = 0;
  for (auto i : split.train) overlap += val.count(content_hash(corpus.documents[i]));
  for (auto i : split.val) overlap += train.count(content_hash(corpus.documents[i]));
  return overlap;
}

SplitStats stats_of(const std::vector<std::size_t>& docs, const std::vector<std::int64_t>& chars) {
  SplitStats s;
  s.documents = static_cast<std::int64_t>(docs.size());
  for (auto i : docs) s.characters += chars[i];
  return s;
}

}  // namespace ablate::data_internal
