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

/// A run that is never trained again: "done", or "stopped" by a tune stage's successive halving.
bool run_finished(const std::string& status);

/// A run that has ended one way or another: finished, "failed" or "diverged" (not pending,
/// running or interrupted).
bool run_ended(const std::string& status);

}  // namespace ablate
