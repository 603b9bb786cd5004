// safetensors files (safetensors.h, safetensors_weights.h): a hand-made file read as the format
// defines it, a round trip of every dtype, damaged files refused, and module weights loaded
// only into a module of the same names and shapes.
#include "catch_torch.h"

#include <cstring>
#include <fstream>

#include <torch/nn/modules/linear.h>
#include <torch/types.h>
#include <torch/utils.h>
#include <unistd.h>

#include "ablate/engine/error.h"
#include "ablate/train/safetensors.h"
#include "ablate/train/safetensors_weights.h"

namespace {

std::filesystem::path test_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("ablate_test_safetensors_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void write_raw(const std::filesystem::path& file, const std::string& header, const std::string& data) {
  std::ofstream out(file, std::ios::binary);
  const std::uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header << data;
}

std::string float_bytes(std::initializer_list<float> values) {
  std::string bytes(values.size() * 4, '\0');
  std::memcpy(bytes.data(), std::data(values), bytes.size());
  return bytes;
}

}  // namespace

TEST_CASE("a safetensors file written by hand is read as the format defines it", "[safetensors]") {
  const auto dir = test_dir("hand");
  write_raw(dir / "a.safetensors",
            R"({"__metadata__":{"who":"test"},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
            R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
            float_bytes({1.5f, -2.0f, 7.0f}));
  const auto f = ablate::read_safetensors(dir / "a.safetensors");
  REQUIRE(f.tensors.size() == 2);
  CHECK(f.tensors[0].first == "a");  // in data order
  CHECK(f.tensors[0].second.equal(torch::tensor({1.5f, -2.0f})));
  CHECK(f.tensors[1].first == "b");
  CHECK(f.tensors[1].second.equal(torch::tensor({7.0f})));
  CHECK(f.metadata.at("who") == "test");
}

TEST_CASE("every supported dtype survives a round trip with its shape and metadata", "[safetensors]") {
  const auto dir = test_dir("roundtrip");
  torch::manual_seed(0);
  const ablate::NamedTensors tensors = {
      {"f32", torch::randn({3, 4})},
      {"f64", torch::randn({2}, torch::kDouble)},
      {"bf16", torch::randn({5, 1, 2}).to(torch::kBFloat16)},
      {"f16", torch::randn({4}).to(torch::kHalf)},
      {"i64", torch::arange(6, torch::kLong).reshape({2, 3})},
      {"i32", torch::tensor({-1, 2}, torch::kInt)},
      {"u8", torch::tensor({0, 255}, torch::kByte)},
      {"bool", torch::tensor({true, false, true})},
      {"scalar", torch::tensor(3.25f)},
      {"empty", torch::empty({0, 3})},
      {"strided", torch::randn({4, 4}).t()},  // not contiguous
  };
  ablate::write_safetensors(dir / "all.safetensors", tensors, {{"k", "v"}});
  // The data starts 8-byte aligned, as the format asks.
  std::ifstream in(dir / "all.safetensors", std::ios::binary);
  std::uint64_t header = 0;
  in.read(reinterpret_cast<char*>(&header), 8);
  CHECK(header % 8 == 0);

  const auto back = ablate::read_safetensors(dir / "all.safetensors");
  REQUIRE(back.tensors.size() == tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    INFO(tensors[i].first);
    CHECK(back.tensors[i].first == tensors[i].first);
    CHECK(back.tensors[i].second.scalar_type() == tensors[i].second.scalar_type());
    CHECK(back.tensors[i].second.sizes() == tensors[i].second.sizes());
    CHECK(back.tensors[i].second.equal(tensors[i].second));
  }
  CHECK(back.metadata.at("k") == "v");
}

TEST_CASE("damaged safetensors files are refused with what is wrong", "[safetensors]") {
  const auto dir = test_dir("damaged");
  const auto refused = [&](const std::string& header, const std::string& data, const std::string& why) {
    write_raw(dir / "x.safetensors", header, data);
    CHECK_THROWS_WITH(ablate::read_safetensors(dir / "x.safetensors"), Catch::Contains(why));
  };
  refused("{not json", "", "header JSON");
  refused(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", float_bytes({1, 2}), "do not hold its shape");
  refused(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", float_bytes({1}), "do not hold its shape");
  refused(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", float_bytes({1, 2}), "unsupported dtype");
  refused(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
          float_bytes({1, 2}), "overlap");
  {
    std::ofstream out(dir / "short.safetensors", std::ios::binary);
    const std::uint64_t n = 1000;
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << "{}";
  }
  CHECK_THROWS_WITH(ablate::read_safetensors(dir / "short.safetensors"), Catch::Contains("exceeds"));
  CHECK_THROWS_AS(ablate::write_safetensors(dir / "c.safetensors", {{"c", torch::zeros({1}, torch::kComplexFloat)}}),
                  ablate::Error);
}

TEST_CASE("module weights load only into a module with the same names and shapes", "[safetensors]") {
  const auto dir = test_dir("module");
  torch::manual_seed(1);
  torch::nn::Linear trained(4, 3);
  ablate::save_weights(dir / "w.safetensors", *trained, {{"step", "5"}});

  torch::nn::Linear fresh(4, 3);
  REQUIRE_FALSE(fresh->weight.equal(trained->weight));
  const auto metadata = ablate::load_weights(dir / "w.safetensors", *fresh);
  CHECK(fresh->weight.equal(trained->weight));
  CHECK(fresh->bias.equal(trained->bias));
  CHECK(metadata.at("step") == "5");

  torch::nn::Linear wider(4, 5);
  CHECK_THROWS_WITH(ablate::load_weights(dir / "w.safetensors", *wider), Catch::Contains("shape 3x4 in the file but 5x4"));
  torch::nn::Linear no_bias(torch::nn::LinearOptions(4, 3).bias(false));
  CHECK_THROWS_WITH(ablate::load_weights(dir / "w.safetensors", *no_bias), Catch::Contains("unexpected: bias"));
}
