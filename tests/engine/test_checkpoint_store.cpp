// Checkpoint files: the newest `keep` are kept; a corrupt or truncated one is detected by its
// size and XXH3 checksum and the loader falls back to the one before, with a warning.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "ablate/engine/checkpoint_store.h"

namespace {

// One directory per test case: ctest runs the cases of this file in parallel.
std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "ablate_test_checkpoint_store" / name;
  std::filesystem::remove_all(dir);
  return dir;
}

std::string payload(int step) { return std::string(1000, static_cast<char>('a' + step)) + std::to_string(step); }

}  // namespace

TEST_CASE("checkpoints: the newest two are kept and the newest good one is loaded", "[checkpoint]") {
  const auto dir = fresh_dir("a");
  for (int step : {2, 4, 6}) ablate::store_checkpoint(dir, step, payload(step));
  CHECK_FALSE(std::filesystem::exists(dir / "step-0000000002.ckpt"));
  CHECK_FALSE(std::filesystem::exists(dir / "step-0000000002.json"));
  CHECK(ablate::newest_checkpoint_step(dir) == 6);

  std::vector<std::string> warnings;
  const auto warn = [&](const std::string& w) { warnings.push_back(w); };
  auto loaded = ablate::load_newest_checkpoint(dir, warn);
  REQUIRE(loaded);
  CHECK(loaded->step == 6);
  CHECK(loaded->bytes == payload(6));
  CHECK(warnings.empty());

  // one byte flipped in the newest: its checksum fails, step 4 is loaded instead
  {
    std::fstream f(dir / "step-0000000006.ckpt", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(500);
    f.put('Z');
  }
  loaded = ablate::load_newest_checkpoint(dir, warn);
  REQUIRE(loaded);
  CHECK(loaded->step == 4);
  CHECK(loaded->bytes == payload(4));
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Catch::Contains("step-0000000006.ckpt") && Catch::Contains("checksum"));

  // the other truncated too: nothing usable
  std::filesystem::resize_file(dir / "step-0000000004.ckpt", 10);
  warnings.clear();
  CHECK_FALSE(ablate::load_newest_checkpoint(dir, warn));
  REQUIRE(warnings.size() == 2);
  CHECK_THAT(warnings[1], Catch::Contains("truncated"));

  ablate::remove_checkpoints(dir);
  CHECK_FALSE(std::filesystem::exists(dir));
  CHECK_FALSE(ablate::newest_checkpoint_step(dir));
}

TEST_CASE("a checkpoint whose JSON was never written (a crash mid-save) is ignored", "[checkpoint]") {
  const auto dir = fresh_dir("b");
  ablate::store_checkpoint(dir, 3, payload(3));
  std::ofstream(dir / "step-0000000009.ckpt") << "half a checkpoint";
  const auto loaded = ablate::load_newest_checkpoint(dir, {});
  REQUIRE(loaded);
  CHECK(loaded->step == 3);
}
