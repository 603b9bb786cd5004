// Run locks: one holder at a time, a live holder is described, stale locks (dead pid on this host,
// or a heartbeat older than the limit) are taken over with a warning.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "ablate/engine/run_lock.h"

namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_lock" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string this_host() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// A pid that existed and is gone: a child that exited and was reaped.
long dead_pid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

void write_lock(const std::filesystem::path& dir, const std::string& host, long pid) {
  std::ofstream(dir / "lock") << nlohmann::json{{"host", host}, {"pid", pid}, {"started", "2026-01-01T00:00:00Z"}};
}

constexpr std::chrono::seconds kStale{600};

}  // namespace

TEST_CASE("a run lock has one holder, the second attempt names it, and the lock goes with its holder", "[lock]") {
  const auto dir = fresh_dir("two");
  {
    const auto first = ablate::try_lock_run(dir, kStale);
    REQUIRE(first.lock);
    CHECK(first.warning.empty());
    const auto content = nlohmann::json::parse(std::ifstream(dir / "lock"));
    CHECK(content.at("pid") == static_cast<long>(getpid()));
    CHECK(content.at("host") == this_host());

    const auto second = ablate::try_lock_run(dir, kStale);
    CHECK_FALSE(second.lock);
    CHECK_THAT(second.held_by, Catch::Contains("pid " + std::to_string(getpid())) &&
                                   Catch::Contains("host " + this_host()));
    CHECK(ablate::lock_holder(dir) == second.held_by);
  }
  CHECK_FALSE(std::filesystem::exists(dir / "lock"));  // released with its RunLock
  CHECK_FALSE(ablate::lock_holder(dir));
  CHECK(ablate::try_lock_run(dir, kStale).lock);
}

TEST_CASE("a lock whose process on this host is gone is taken over with a warning", "[lock]") {
  const auto dir = fresh_dir("dead");
  const long pid = dead_pid();
  write_lock(dir, this_host(), pid);
  const auto attempt = ablate::try_lock_run(dir, kStale);
  REQUIRE(attempt.lock);
  CHECK_THAT(attempt.warning, Catch::Contains("stale") && Catch::Contains(std::to_string(pid)) &&
                                  Catch::Contains("gone"));
  const auto content = nlohmann::json::parse(std::ifstream(dir / "lock"));
  CHECK(content.at("pid") == static_cast<long>(getpid()));  // now ours
}

TEST_CASE("a lock on another host is live while its heartbeat is fresh, stale once it is old", "[lock]") {
  const auto dir = fresh_dir("remote");
  write_lock(dir, "some-other-host", 1);
  CHECK_FALSE(ablate::try_lock_run(dir, kStale).lock);  // fresh: its holder may be training

  // the holder's heartbeat stopped 20 minutes ago: beyond the 10-minute limit
  std::filesystem::last_write_time(dir / "lock", std::filesystem::file_time_type::clock::now() - std::chrono::minutes(20));
  const auto attempt = ablate::try_lock_run(dir, kStale);
  REQUIRE(attempt.lock);
  CHECK_THAT(attempt.warning, Catch::Contains("heartbeat") && Catch::Contains("some-other-host"));

  // our own heartbeat brings the mtime back to now
  std::filesystem::last_write_time(dir / "lock", std::filesystem::file_time_type::clock::now() - std::chrono::minutes(20));
  attempt.lock->heartbeat();
  const auto age = std::filesystem::file_time_type::clock::now() - std::filesystem::last_write_time(dir / "lock");
  CHECK(age < std::chrono::minutes(1));
}

TEST_CASE("a live lock on this host (a running process) is not taken over", "[lock]") {
  const auto dir = fresh_dir("live");
  write_lock(dir, this_host(), 1);  // pid 1 always exists
  std::filesystem::last_write_time(dir / "lock", std::filesystem::file_time_type::clock::now());
  const auto attempt = ablate::try_lock_run(dir, kStale);
  CHECK_FALSE(attempt.lock);
  CHECK_THAT(attempt.held_by, Catch::Contains("pid 1 on host " + this_host()));
}
