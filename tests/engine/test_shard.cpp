// --shard i/n: every run in exactly one shard; malformed values name the flag. Also the guard
// against run directories written by a newer ablate.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "ablate/engine/build_info.h"
#include "ablate/engine/error.h"
#include "ablate/engine/shard.h"
#include "ablate/engine/version_check.h"

TEST_CASE("shards split the runs so that each run belongs to exactly one", "[shard]") {
  const auto s = ablate::parse_shard("1/3");
  CHECK(s.index == 1);
  CHECK(s.count == 3);
  for (std::size_t run = 0; run < 10; ++run) {
    int owners = 0;
    for (std::size_t i = 0; i < 3; ++i) owners += ablate::in_shard(run, {i, 3}) ? 1 : 0;
    CHECK(owners == 1);
  }
  // shard 1/3 of 7 runs: indices 1 and 4 (i mod 3 = 1)
  std::vector<std::size_t> taken;
  for (std::size_t run = 0; run < 7; ++run)
    if (ablate::in_shard(run, s)) taken.push_back(run);
  CHECK(taken == std::vector<std::size_t>{1, 4});
  CHECK(ablate::in_shard(5, ablate::parse_shard("0/1")));
}

TEST_CASE("a malformed --shard is an error naming the flag", "[shard]") {
  for (const char* bad : {"3/2", "2/2", "0/0", "1", "a/b", "-1/2", "1/2/3", "", "1/"}) {
    INFO(bad);
    try {
      ablate::parse_shard(bad);
      FAIL("accepted");
    } catch (const ablate::Error& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains("--shard"));
    }
  }
}

TEST_CASE("versions compare numerically, part by part", "[version]") {
  CHECK(ablate::compare_versions("0.1.0", "0.1.0") == 0);
  CHECK(ablate::compare_versions("0.1", "0.1.0") == 0);
  CHECK(ablate::compare_versions("0.10.0", "0.9.3") > 0);
  CHECK(ablate::compare_versions("0.1.0", "1.0.0") < 0);
  CHECK(ablate::compare_versions("0.2.0-dev", "0.1.9") > 0);
}

TEST_CASE("a run directory written by a newer ablate is refused, naming its summary.json", "[version]") {
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_version";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "summary.json") << R"({"status": "running", "ablate_version": "999.0.0"})";
  try {
    ablate::refuse_newer_run_dir(dir);
    FAIL("accepted");
  } catch (const ablate::Error& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains((dir / "summary.json").string()) &&
                                          Catch::Contains("999.0.0") && Catch::Contains(ablate::ablate_version()));
  }
  std::ofstream(dir / "summary.json") << R"({"status": "done", "ablate_version": ")" << ablate::ablate_version() << "\"}";
  CHECK_NOTHROW(ablate::refuse_newer_run_dir(dir));
}
