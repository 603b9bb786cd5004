// `ablate run --devices LIST --runs-per-device N` (ablate/device_list.h): GPU indices become
// cuda:N, device strings pass through, and each device gets N worker slots, round-robin.
//
//   ./build/tests/test_engine "[devices]"
#include <catch2/catch.hpp>

#include "ablate/engine/device_list.h"
#include "ablate/engine/error.h"

using Strings = std::vector<std::string>;

TEST_CASE("a device list takes GPU indices and device strings", "[devices]") {
  CHECK(ablate::parse_device_list("0,1,3") == Strings{"cuda:0", "cuda:1", "cuda:3"});
  CHECK(ablate::parse_device_list("cuda:0,cpu") == Strings{"cuda:0", "cpu"});
  CHECK(ablate::parse_device_list(" cpu , cpu ") == Strings{"cpu", "cpu"});
  CHECK(ablate::parse_device_list("2") == Strings{"cuda:2"});
  for (const char* bad : {"", "0,,1", "cpu,", ",cpu", " "}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(ablate::parse_device_list(bad), ablate::Error);
  }
  CHECK_THROWS_WITH(ablate::parse_device_list("0,,1"), Catch::Contains("--devices '0,,1' has an empty entry"));
}

TEST_CASE("each device gets --runs-per-device workers, going round the devices", "[devices]") {
  CHECK(ablate::worker_devices({"cuda:0", "cuda:1"}, 1) == Strings{"cuda:0", "cuda:1"});
  CHECK(ablate::worker_devices({"cuda:0", "cuda:1"}, 2) == Strings{"cuda:0", "cuda:1", "cuda:0", "cuda:1"});
  CHECK(ablate::worker_devices({"cpu"}, 3) == Strings{"cpu", "cpu", "cpu"});
  CHECK_THROWS_WITH(ablate::worker_devices({"cpu"}, 0), Catch::Contains("--runs-per-device must be at least 1"));
}
