// Reading the JSON files of a sweep directory (sweep.json, summary.json, locks, tune.json) where a
// missing or unreadable file is an expected state (not written yet, being written, damaged), not
// an error: one reader, so every command treats such a file the same way.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace ablate {

/// The file's JSON, or null when it is missing or not valid JSON.
nlohmann::json read_json_file(const std::filesystem::path& file);

/// A run directory's status from its summary.json: "pending" when there is no readable summary
/// (so `ablate run` trains it again), else its "status" (done, stopped, failed, diverged, ...).
std::string run_status(const std::filesystem::path& run_dir);

}  // namespace ablate
