// `ablate status DIR`: what each run of a sweep directory is: pending, running (with the lock's
// holder), interrupted (with its newest checkpoint's step), done, failed, diverged.
#include <fstream>
#include <iostream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ablate/engine/checkpoint_store.h"
#include "ablate/engine/error.h"
#include "ablate/engine/json_file.h"
#include "ablate/engine/run_lock.h"
#include "commands.h"

namespace ablate::app {
namespace {


void run_status(const std::filesystem::path& dir) {
  const nlohmann::json sweep = read_json_file(dir / "sweep.json");
  if (sweep.is_null())
    throw Error(fmt::format("{} is not a sweep directory: no readable sweep.json", dir.string()),
                "pass OUT/<sweep name>, the directory `ablate run` printed");
  std::map<std::string, int> counts;
  std::cout << fmt::format("{:<18} {:<20} {:>5}  {:<11} {}\n", "id", "arm", "seed", "status", "detail");
  for (const auto& run : sweep.at("runs")) {
    const std::string id = run.at("id");
    const nlohmann::json summary = read_json_file(dir / "runs" / id / "summary.json");
    const std::string status = summary.is_null() ? "pending" : summary.value("status", "pending");
    std::string detail = summary.is_null() ? "" : summary.value("error", "");
    const auto run_dir = dir / "runs" / id;
    if (status == "done") detail = fmt::format("val loss {:.4f}", summary.value("val_loss", 0.0));
    if (status != "done") {
      if (const auto step = newest_checkpoint_step(run_dir / "checkpoints"))
        detail = fmt::format("checkpoint at step {}", *step);
      if (const auto holder = lock_holder(run_dir)) detail += (detail.empty() ? "" : "; ") + *holder;
    }
    ++counts[status];
    std::cout << fmt::format("{:<18} {:<20} {:>5}  {:<11} {}\n", id, run.at("arm").get<std::string>(),
                             run.at("seed").get<std::int64_t>(), status, detail);
  }
  std::string line;
  for (const auto& [status, n] : counts) line += fmt::format("{}{} {}", line.empty() ? "" : ", ", n, status);
  std::cout << line << std::endl;
}

}  // namespace

void setup_status(CLI::App& app) {
  auto dir = std::make_shared<std::filesystem::path>();
  auto* cmd = app.add_subcommand("status", "show each run of a sweep directory: pending, running, interrupted, done, failed, diverged");
  cmd->add_option("dir", *dir, "sweep directory (OUT/<sweep name>)")->required()->check(CLI::ExistingDirectory);
  cmd->callback([dir] { run_status(*dir); });
}

}  // namespace ablate::app
