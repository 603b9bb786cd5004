// `ablate check-plugin` and `ablate new plugin` as a researcher calls them: exit 0 and PASS lines for
// the built-in plugins, exit 1 with a FAIL line for a leaky attention, exit 2 on bad input; a new
// plugin project with every placeholder filled in, and refusals of bad names and non-empty
// directories. (tests/new_plugin.sh builds and trains the generated projects.)
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli_helpers.h"

using ablate::test::Output;
using ablate::test::read_text;
using ablate::test::run_ablate;

namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  // Per process: the same test of another checkout may run at the same time on this machine.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("ablate_test_cli_new_plugin_" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir.parent_path());
  return dir;
}

}  // namespace

TEST_CASE("check-plugin passes the built-in mha, swiglu, rmsnorm and topk", "[cli][check-plugin]") {
  for (const char* args : {"attention mha", "mlp swiglu", "norm rmsnorm", "moe topk"}) {
    CAPTURE(args);
    const Output out = run_ablate(std::string("check-plugin ") + args);
    INFO(out.text);
    CHECK(out.status == 0);
    CHECK_THAT(out.text, Catch::Contains("PASS params: built module has"));
    CHECK_THAT(out.text, Catch::Contains("PASS backward:"));
    CHECK_THAT(out.text, !Catch::Contains("FAIL"));
  }
  const Output mha = run_ablate("check-plugin attention mha --set n_heads=2 --d-model 32 --seq-len 8");
  INFO(mha.text);
  CHECK(mha.status == 0);
  CHECK_THAT(mha.text, Catch::Contains("PASS causal: causal: 4 modes at T = 8"));
  CHECK_THAT(mha.text, Catch::Contains("PASS shape: input (2, 8, 32) -> output (2, 8, 32)"));
  CHECK_THAT(mha.text, Catch::Contains("\"n_heads\":2"));
}

TEST_CASE("check-plugin exits 1 with a causal FAIL for an attention that sees the future", "[cli][check-plugin]") {
  const Output out =
      run_ablate("--plugin-dir " + std::string(ABLATE_TEST_PLUGIN_DIR) + "/leaky check-plugin attention fixture_leaky_mean");
  INFO(out.text);
  CHECK(out.status == 1);
  CHECK_THAT(out.text, Catch::Contains("FAIL causal: NOT causal: component in training mode, gradients on: its output "
                                       "at position 0 depends on the input at position 1"));
  CHECK_THAT(out.text, Catch::Contains("PASS shape"));
}

TEST_CASE("check-plugin exits 2 on bad input and lists the plugins of the kind", "[cli][check-plugin]") {
  const Output unknown = run_ablate("check-plugin attention nope");
  INFO(unknown.text);
  CHECK(unknown.status == 2);
  CHECK_THAT(unknown.text, Catch::Contains("no attention plugin named 'nope'"));
  CHECK_THAT(unknown.text, Catch::Contains("loaded: mha, mla"));
  const Output kind = run_ablate("check-plugin ffn swiglu");
  CHECK(kind.status == 2);
  const Output option = run_ablate("check-plugin norm rmsnorm --set epsilon=1e-5");
  INFO(option.text);
  CHECK(option.status == 2);
  CHECK_THAT(option.text, Catch::Contains("--set epsilon: unknown option 'epsilon'"));
  const Output form = run_ablate("check-plugin norm rmsnorm --set eps");
  CHECK(form.status == 2);
  CHECK_THAT(form.text, Catch::Contains("not key=value"));
}

TEST_CASE("new plugin writes a complete project of every kind with every placeholder filled in", "[cli][new-plugin]") {
  for (const std::string kind : {"attention", "mlp", "moe", "norm"}) {
    CAPTURE(kind);
    const std::string name = "my_" + kind;
    const auto dir = fresh_dir(name);
    const Output out = run_ablate("new plugin --kind " + kind + " --name " + name + " " + dir.string());
    INFO(out.text);
    REQUIRE(out.status == 0);
    // Exactly the project's files: the kind's own templates and the common ones, nothing else.
    std::set<std::string> written;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) written.insert(entry.path().filename().string());
    CHECK(written == std::set<std::string>{"CMakeLists.txt", name + ".cpp", "README.md", "sweep.yaml"});
    for (const std::string& file : written) {
      CAPTURE(file);
      const std::string text = read_text(dir / file);
      CHECK(text.find('@') == std::string::npos);  // no placeholder left
      CHECK_THAT(text, Catch::Contains(name));
      CHECK(text.back() == '\n');  // the template came through whole
    }
    // The source is laid out as the built-in plugins are (docs/plugins.md).
    const std::string source = read_text(dir / (name + ".cpp"));
    CHECK_THAT(source, Catch::Contains("ABLATE_PLUGIN(" + kind + ", \"" + name + "\""));
    CHECK_THAT(source, Catch::Contains("TORCH_ARG(std::int64_t, d_model);"));
    CHECK_THAT(source, Catch::Contains("void reset() {"));
    CHECK_THAT(source, Catch::Contains("options_of(const sdk::ModelContext& ctx, const sdk::Options& o)"));
    CHECK_THAT(read_text(dir / "CMakeLists.txt"),
               Catch::Contains("ablate_add_plugin(" + name + "_" + kind + " " + kind + " SOURCES " + name + ".cpp"));
    std::filesystem::remove_all(dir.parent_path());
  }
}

TEST_CASE("new plugin fills a norm project's names, version and commands in", "[cli][new-plugin]") {
  const auto dir = fresh_dir("my_norm");
  const Output out = run_ablate("new plugin --kind norm --name my_norm " + dir.string());
  INFO(out.text);
  REQUIRE(out.status == 0);
  const std::string source = read_text(dir / "my_norm.cpp");
  CHECK_THAT(source, Catch::Contains("ABLATE_PLUGIN(norm, \"my_norm\""));
  CHECK_THAT(source, Catch::Contains("struct MyNormOptions {"));
  CHECK_THAT(source, Catch::Contains("TORCH_ARG(double, eps) = 1e-6;"));
  CHECK_THAT(source, Catch::Contains("class MyNormImpl : public sdk::ComponentImpl"));
  CHECK_THAT(source, Catch::Contains("TORCH_MODULE(MyNorm);"));
  const std::string cmake = read_text(dir / "CMakeLists.txt");
  CHECK_THAT(cmake, Catch::Contains("find_package(Ablate 0.1 REQUIRED)"));
  CHECK_THAT(cmake, Catch::Contains("ablate_add_plugin(my_norm_norm norm SOURCES my_norm.cpp"));
  CHECK_THAT(cmake, Catch::Contains("${Ablate_EXECUTABLE} --plugin-dir ${CMAKE_BINARY_DIR} check-plugin norm my_norm"));
  CHECK_THAT(read_text(dir / "sweep.yaml"), Catch::Contains("norm: {plugin: my_norm}"));
  CHECK_THAT(read_text(dir / "README.md"), Catch::Contains("ablate --plugin-dir build check-plugin norm my_norm"));

  // The directory is not empty now: a second project there is refused and nothing is overwritten.
  const Output again = run_ablate("new plugin --kind mlp --name other " + dir.string());
  CHECK(again.status == 2);
  CHECK_THAT(again.text, Catch::Contains("is not empty"));
  CHECK_FALSE(std::filesystem::exists(dir / "other.cpp"));
  std::filesystem::remove_all(dir.parent_path());
}

TEST_CASE("new plugin refuses a name that is not a C identifier or is taken by a loaded plugin", "[cli][new-plugin]") {
  const auto dir = fresh_dir("refused");
  for (const char* name : {"my-attention", "2heads", "\"\""}) {
    CAPTURE(name);
    const Output out = run_ablate(std::string("new plugin --kind attention --name ") + name + " " + dir.string());
    CHECK(out.status == 2);
    CHECK_THAT(out.text, Catch::Contains("is not a C identifier"));
  }
  const Output taken = run_ablate("new plugin --kind attention --name mha " + dir.string());
  CHECK(taken.status == 2);
  CHECK_THAT(taken.text, Catch::Contains("already loaded"));
  CHECK_FALSE(std::filesystem::exists(dir));
  std::filesystem::remove_all(dir.parent_path());
}
