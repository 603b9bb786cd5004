// Running the ablate binary (ABLATE_BINARY) from the CLI tests, writing their sweep files and
// reading what the runs wrote.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace ablate::test {

struct Output {
  int status = 0;
  std::string text;  // stdout and stderr
};

inline Output run_ablate(const std::string& args) {
  const std::string command = std::string(ABLATE_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  Output out;
  std::array<char, 4096> buffer{};
  while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) out.text.append(buffer.data(), n);
  const int status = pclose(pipe);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

/// Writes `text` to <tmp>/ablate_test_cli/<name>.
inline std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_cli";
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path;
}

/// `run SWEEP --out OUT --device cpu --threads 1 --cache OUT/cache`: a run of the CLI tests, its cache
/// beside its output; on the CPU whatever the machine (the default, auto, takes a GPU when there is
/// one), since the tests compare exact results and CPU-only messages.
inline std::string run_args(const std::filesystem::path& sweep, const std::filesystem::path& out) {
  return "run " + sweep.string() + " --out " + out.string() + " --device cpu --threads 1 --cache " +
         (out / "cache").string();
}

/// A whole file as text ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// How many times `what` occurs in `text`.
inline int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// summary.json of every run under `runs_dir`, by run id.
inline std::map<std::string, nlohmann::json> summaries(const std::filesystem::path& runs_dir) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& entry : std::filesystem::directory_iterator(runs_dir))
    out[entry.path().filename().string()] = nlohmann::json::parse(std::ifstream(entry.path() / "summary.json"));
  return out;
}

/// `ablate ARGS…` as a child process with stdout and stderr in `log`; returns its pid (for
/// tests that signal it, or run two at once). exit_status waits for it.
inline pid_t spawn_ablate(const std::vector<std::string>& args, const std::filesystem::path& log) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    std::vector<char*> argv{const_cast<char*>(ABLATE_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(ABLATE_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

/// The exit status of the child `pid` once it ends (-1: it did not exit normally).
inline int exit_status(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace ablate::test
