// Checkpoint files of a run (see checkpoint_store.h).
#include "ablate/engine/checkpoint_store.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "ablate/engine/atomic_file.h"
#include "ablate/engine/build_info.h"

namespace ablate {
namespace {

std::string checksum(std::string_view bytes) {
  return fmt::format("{:016x}", XXH3_64bits(bytes.data(), bytes.size()));
}

std::filesystem::path stem_of(const std::filesystem::path& dir, std::int64_t step) {
  return dir / fmt::format("step-{:010d}", step);
}

// Checkpoints of `dir` by step, newest first, from their JSON files (a .ckpt without its JSON is
// an unfinished write and is ignored).
std::vector<std::pair<std::int64_t, nlohmann::json>> listed(const std::filesystem::path& dir) {
  std::map<std::int64_t, nlohmann::json, std::greater<>> by_step;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto& path = entry.path();
    if (path.extension() != ".json" || path.stem().string().rfind("step-", 0) != 0) continue;
    std::ifstream in(path);
    nlohmann::json meta;
    try {
      meta = nlohmann::json::parse(in);
    } catch (const std::exception&) {
      meta = nullptr;  // unreadable: reported (and skipped) by the loader
    }
    try {
      by_step[std::stoll(path.stem().string().substr(5))] = meta;
    } catch (const std::exception&) {
    }
  }
  return {by_step.begin(), by_step.end()};
}

std::optional<std::string> read_whole(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

void store_checkpoint(const std::filesystem::path& dir, std::int64_t step, std::string_view bytes, int keep) {
  const auto stem = stem_of(dir, step);
  write_file_atomic(stem.string() + ".ckpt", bytes);
  const nlohmann::json meta = {{"step", step},
                               {"bytes", bytes.size()},
                               {"xxh3", checksum(bytes)},
                               {"ablate_version", ablate_version()}};
  write_file_atomic(stem.string() + ".json", meta.dump(2));
  const auto all = listed(dir);
  for (std::size_t i = static_cast<std::size_t>(std::max(keep, 1)); i < all.size(); ++i) {
    const auto old = stem_of(dir, all[i].first);
    std::error_code ec;
    std::filesystem::remove(old.string() + ".json", ec);  // JSON first: a .ckpt alone is ignored
    std::filesystem::remove(old.string() + ".ckpt", ec);
  }
}

std::optional<StoredCheckpoint> load_newest_checkpoint(const std::filesystem::path& dir,
                                                       const std::function<void(const std::string&)>& warn) {
  for (const auto& [step, meta] : listed(dir)) {
    const auto file = std::filesystem::path(stem_of(dir, step).string() + ".ckpt");
    auto bytes = read_whole(file);
    std::string problem;
    if (!meta.is_object() || !meta.contains("xxh3") || !meta.contains("bytes"))
      problem = "its .json is unreadable";
    else if (!bytes)
      problem = "the file is missing";
    else if (bytes->size() != meta.at("bytes").get<std::size_t>())
      problem = fmt::format("it has {} bytes, {} expected (truncated?)", bytes->size(), meta.at("bytes").get<std::size_t>());
    else if (checksum(*bytes) != meta.at("xxh3").get<std::string>())
      problem = "its checksum does not match (corrupt)";
    if (problem.empty()) return StoredCheckpoint{step, file, std::move(*bytes)};
    if (warn) warn(fmt::format("checkpoint {} is not usable: {}; trying the one before", file.string(), problem));
  }
  return std::nullopt;
}

std::optional<std::int64_t> newest_checkpoint_step(const std::filesystem::path& dir) {
  const auto all = listed(dir);
  if (all.empty()) return std::nullopt;
  return all.front().first;
}

void remove_checkpoints(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace ablate
