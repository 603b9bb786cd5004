// `ablate report DIR`: rebuilds a sweep directory's report from its run directories.
#include <iostream>

#include "ablate/report.h"
#include "commands.h"

namespace ablate::app {

void setup_report(CLI::App& app) {
  auto dir = std::make_shared<std::filesystem::path>();
  auto* cmd = app.add_subcommand("report", "rebuild the report of a sweep directory, without training");
  cmd->add_option("dir", *dir, "sweep directory (OUT/<sweep name>)")->required()->check(CLI::ExistingDirectory);
  cmd->callback([dir] { std::cout << "report: " << std::filesystem::absolute(write_report(*dir)).string() << std::endl; });
}

}  // namespace ablate::app
