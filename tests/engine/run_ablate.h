// The ablate binary as a script runs it: `run_ablate("expand --json x.yaml")` gives its exit
// status and everything it printed (stdout and stderr together). For the command-line tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

namespace ablate_test {

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

}  // namespace ablate_test
