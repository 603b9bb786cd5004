// ablate: ablation studies of transformer components.
// main only wires the subcommands together and turns errors into messages and exit codes:
//   0 success, 1 a run failed or diverged, 2 bad input (sweep, plugin, data, flags), 3 internal error.
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "ablate/engine/build_info.h"
#include "ablate/engine/error.h"
#include "commands.h"
#include "unknown_command.h"

namespace {

std::string version_text() {
  return fmt::format("ablate {} (git {})\nLibTorch {}; CUDA GPUs visible: {}", ablate::ablate_version(),
                     ablate::ablate_git_commit(), TORCH_VERSION, torch::cuda::device_count());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ablate: ablation studies of transformer language-model components"};
  app.require_subcommand(1);
  // Options of the top level (--plugin-dir) are also taken after the command: `ablate run
  // --plugin-dir DIR sweep.yaml` as well as `ablate --plugin-dir DIR run sweep.yaml`. Subcommands
  // inherit this when they are added, so it is set first.
  app.fallthrough();
  app.set_version_flag("--version", version_text, "print ablate's version and git commit and LibTorch's version");
  ablate::app::GlobalOptions global;
  app.add_option("--plugin-dir", global.plugin_dirs, "another directory of component plugins (repeatable)")
      ->check(CLI::ExistingDirectory);
  ablate::app::setup_run(app, global);
  ablate::app::setup_expand(app, global);
  ablate::app::setup_plugins(app, global);
  ablate::app::setup_report(app);
  ablate::app::setup_status(app);
  ablate::app::setup_data(app, global);
  ablate::app::setup_plan(app, global);
  ablate::app::setup_slurm(app, global);
  ablate::app::setup_eval(app, global);
  ablate::app::setup_sample(app, global);
  ablate::app::setup_schema(app, global);
  ablate::app::setup_check_plugin(app, global);
  ablate::app::setup_new(app, global);
  if (const auto message = ablate::app::unknown_command(app, argc, argv)) {
    std::cerr << *message;
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {  // a subcommand's own non-zero exit status
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const ablate::Error& e) {
    std::cerr << "error: " << e.located_message() << "\n";
    if (!e.hint().empty()) std::cerr << "hint: " << e.hint() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}
