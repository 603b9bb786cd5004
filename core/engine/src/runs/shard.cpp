// Parsing --shard i/n (see shard.h).
#include "ablate/engine/shard.h"

#include <charconv>
#include <string>

#include <fmt/format.h>

#include "ablate/engine/error.h"

namespace ablate {
namespace {

bool parse_number(std::string_view text, std::size_t& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Shard parse_shard(std::string_view text) {
  const std::string hint = "--shard takes i/n with 0 <= i < n, e.g. --shard 0/4 … --shard 3/4 for four machines";
  const auto slash = text.find('/');
  Shard shard;
  if (slash == std::string_view::npos || !parse_number(text.substr(0, slash), shard.index) ||
      !parse_number(text.substr(slash + 1), shard.count))
    throw Error(fmt::format("--shard '{}' is not of the form i/n", text), hint);
  if (shard.count == 0) throw Error(fmt::format("--shard '{}': n must be at least 1", text), hint);
  if (shard.index >= shard.count)
    throw Error(fmt::format("--shard '{}': i must be less than n = {} (shards count from 0)", text, shard.count), hint);
  return shard;
}

}  // namespace ablate
