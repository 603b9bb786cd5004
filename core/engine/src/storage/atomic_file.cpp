// Atomic file replacement (see atomic_file.h).
#include "ablate/engine/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "ablate/engine/error.h"

namespace ablate {
namespace {

[[noreturn]] void throw_io(const std::filesystem::path& file, const char* what, int err) {
  throw Error(fmt::format("{}: {}: {}", file.string(), what, std::strerror(err)),
              "check free space and permissions of the output and cache directories");
}

}  // namespace

void write_file_atomic(const std::filesystem::path& file, std::string_view content) {
  static std::atomic<unsigned> counter{0};
  std::filesystem::create_directories(file.parent_path());
  const std::filesystem::path tmp = file.string() + fmt::format(".tmp-{}-{}", ::getpid(), counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_io(tmp, "cannot create", errno);
  const char* p = content.data();
  for (std::size_t left = content.size(); left > 0;) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw_io(tmp, "write failed", err);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw_io(tmp, "fsync failed", err);
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw_io(file, "rename failed", err);
  }
  // Sync the directory too, so that the rename itself survives a crash.
  const int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace ablate
