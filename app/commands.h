// One setup_x per subcommand: each binds its options to a new CLI11 subcommand and sets the
// callback that runs it (cmd_<name>.cpp holds both).
#pragma once

#include <CLI/CLI.hpp>

#include "common.h"

namespace ablate::app {

void setup_run(CLI::App& app, const GlobalOptions& global);
void setup_expand(CLI::App& app, const GlobalOptions& global);
void setup_plugins(CLI::App& app, const GlobalOptions& global);
void setup_report(CLI::App& app);
void setup_status(CLI::App& app);
void setup_data(CLI::App& app, const GlobalOptions& global);
void setup_plan(CLI::App& app, const GlobalOptions& global);
void setup_slurm(CLI::App& app, const GlobalOptions& global);
void setup_check_plugin(CLI::App& app, const GlobalOptions& global);
void setup_new(CLI::App& app, const GlobalOptions& global);
void setup_schema(CLI::App& app, const GlobalOptions& global);
void setup_eval(CLI::App& app, const GlobalOptions& global);
void setup_sample(CLI::App& app, const GlobalOptions& global);

}  // namespace ablate::app
