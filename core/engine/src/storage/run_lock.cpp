// Run locks (see run_lock.h).
#include "ablate/engine/run_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ablate/engine/error.h"
#include "ablate/engine/json_file.h"
#include "ablate/engine/utc_time.h"

namespace ablate {
namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}



std::string describe(const nlohmann::json& holder) {
  if (!holder.is_object()) return "locked (lock file unreadable)";
  return fmt::format("running in pid {} on host {} since {}", holder.value("pid", -1L), holder.value("host", "?"),
                     holder.value("started", "?"));
}

bool pid_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

// Why the lock in `file` is stale, or empty when its holder may be alive.
std::string stale_reason(const std::filesystem::path& file, const nlohmann::json& holder,
                         std::chrono::seconds stale_after) {
  if (holder.is_object() && holder.value("host", "") == host_name() && !pid_alive(holder.value("pid", -1L)))
    return fmt::format("its process {} on this host is gone", holder.value("pid", -1L));
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return {};
  const auto age = std::time(nullptr) - st.st_mtime;
  if (age > stale_after.count()) return fmt::format("its heartbeat is {} s old (limit {} s)", age, stale_after.count());
  return {};
}

// O_CREAT|O_EXCL: exactly one process succeeds; false when the file exists.
bool create_exclusive(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    throw Error(fmt::format("{}: cannot create the run lock: {}", file.string(), std::strerror(errno)),
                "check the permissions of the sweep directory");
  }
  const std::string content =
      nlohmann::json{{"host", host_name()}, {"pid", static_cast<long>(::getpid())}, {"started", utc_now()}}.dump() + "\n";
  const bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ::fsync(fd);
  ::close(fd);
  if (!ok) {
    ::unlink(file.c_str());
    throw Error(fmt::format("{}: cannot write the run lock", file.string()), "check free space");
  }
  return true;
}

}  // namespace

RunLock::~RunLock() { ::unlink(file_.c_str()); }

void RunLock::heartbeat() const { ::utimensat(AT_FDCWD, file_.c_str(), nullptr, 0); }

LockAttempt try_lock_run(const std::filesystem::path& run_dir, std::chrono::seconds stale_after) {
  std::filesystem::create_directories(run_dir);
  const auto file = run_dir / "lock";
  LockAttempt attempt;
  for (int tries = 0; tries < 3; ++tries) {
    if (create_exclusive(file)) {
      attempt.lock.reset(new RunLock(file));
      return attempt;
    }
    const nlohmann::json holder = read_json_file(file);
    const std::string reason = stale_reason(file, holder, stale_after);
    if (reason.empty()) {
      attempt.held_by = describe(holder);
      return attempt;
    }
    // Move the stale lock aside (atomic) rather than unlinking it, then race for a fresh one.
    const auto aside = std::filesystem::path(file.string() + fmt::format(".stale-{}", ::getpid()));
    if (::rename(file.c_str(), aside.c_str()) == 0) {
      ::unlink(aside.c_str());
      attempt.warning = fmt::format("took over the stale lock {} ({}; {})", file.string(), describe(holder), reason);
    }
  }
  attempt.held_by = describe(read_json_file(file));
  return attempt;
}

std::optional<std::string> lock_holder(const std::filesystem::path& run_dir) {
  const auto file = run_dir / "lock";
  if (!std::filesystem::exists(file)) return std::nullopt;
  return describe(read_json_file(file));
}

}  // namespace ablate
