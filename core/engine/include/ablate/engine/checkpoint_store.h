// The checkpoint files of one run, as bytes (torch-free; checkpoint.h says what the bytes hold).
// Layout: <dir>/step-<step, 10 digits>.ckpt and beside it step-<…>.json = {step, bytes, xxh3, ablate_version}.
// Each file is written atomically (temporary file, fsync, rename) and the JSON only after its
// .ckpt, so a JSON always names a complete file; the newest `keep` checkpoints are kept, so a
// corrupt or truncated newest one (checksum mismatch) falls back to the one before it.
// Limits: the whole checkpoint is held in memory as one string while it is written or read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ablate {

struct StoredCheckpoint {
  std::int64_t step = 0;
  std::filesystem::path file;  // the .ckpt
  std::string bytes;
};

/// Writes the checkpoint of `step` into `dir`, then removes all but the newest `keep` checkpoints.
void store_checkpoint(const std::filesystem::path& dir, std::int64_t step, std::string_view bytes, int keep = 2);

/// The newest checkpoint of `dir` whose size and checksum match its JSON; `warn` is told about
/// every newer one that did not (and is skipped). nullopt when there is none.
std::optional<StoredCheckpoint> load_newest_checkpoint(const std::filesystem::path& dir,
                                                       const std::function<void(const std::string&)>& warn);

/// The step of the newest checkpoint in `dir` by its JSON, unverified (for `ablate status`).
std::optional<std::int64_t> newest_checkpoint_step(const std::filesystem::path& dir);

/// Removes `dir` and its checkpoints (a finished run needs none).
void remove_checkpoints(const std::filesystem::path& dir);

}  // namespace ablate
