// `ablate report DIR`: rebuilds a sweep directory's report from its run directories.
#include <iostream>

#include "ablate/engine/report.h"
#include "commands.h"

namespace ablate::app {

void setup_report(CLI::App& app) {
  auto dir = std::make_shared<std::filesystem::path>();
  auto options = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand("report", "rebuild the report of a sweep directory, without training");
  cmd->add_option("dir", *dir, "sweep directory (OUT/<sweep name>)")->required()->check(CLI::ExistingDirectory);
  cmd->add_flag("--merge", options->merge,
                "also pool run directories the sweep as last expanded does not list (an earlier version of the "
                "sweep, another sweep copied in); each arm's runs must still be one configuration");
  cmd->callback([dir, options] {
    std::cout << "report: " << std::filesystem::absolute(write_report(*dir, *options)).string() << std::endl;
  });
}

}  // namespace ablate::app
