// One lock per run, so that several `ablate run` processes (or Slurm tasks) sharing a sweep
// directory never train the same run. The lock is the file runs/<id>/lock, created with
// O_CREAT|O_EXCL and holding {host, pid, started} as JSON; its mtime is a heartbeat the trainer
// refreshes at every log line and checkpoint. A lock is stale, and taken over with a warning, when
// its holder was on this host and its pid is gone, or when its heartbeat is older than
// `stale_after` (a holder on another host that died). Removed when the RunLock is destroyed.
// Limits: the heartbeat needs a file system whose mtimes the hosts agree on (NFS: synchronised
// clocks); two processes taking over the same stale lock at the same instant are resolved by
// O_EXCL (one wins), but a live lock created between one's check and its takeover can be lost.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace ablate {

class RunLock {
 public:
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();
  /// Marks the holder alive (touches the lock file).
  void heartbeat() const;
  const std::filesystem::path& file() const { return file_; }

 private:
  friend struct LockAttempt try_lock_run(const std::filesystem::path&, std::chrono::seconds);
  explicit RunLock(std::filesystem::path file) : file_(std::move(file)) {}
  std::filesystem::path file_;
};

struct LockAttempt {
  std::unique_ptr<RunLock> lock;  // null: held by someone else, described in `held_by`
  std::string held_by;            // e.g. "running in pid 4242 on host node7 since 2026-…"
  std::string warning;            // set when a stale lock was taken over
};

/// Tries to lock the run of `run_dir` (created if missing).
LockAttempt try_lock_run(const std::filesystem::path& run_dir, std::chrono::seconds stale_after);

/// Who holds the lock of `run_dir` ("running in pid P on host H since T"), or nullopt when unlocked.
std::optional<std::string> lock_holder(const std::filesystem::path& run_dir);

}  // namespace ablate
