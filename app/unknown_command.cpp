#include "unknown_command.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ablate/engine/spelling.h"

namespace ablate::app {
std::optional<std::string> command_word(const CLI::App& app, int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return std::nullopt;
    if (arg.empty() || arg[0] != '-') return arg;
    // An option of the top level that takes a value (--plugin-dir DIR) consumes the next word.
    if (arg.find('=') != std::string::npos) continue;
    const CLI::Option* option = app.get_option_no_throw(arg);
    if (option != nullptr && option->get_type_size() != 0) ++i;
  }
  return std::nullopt;
}

std::optional<std::string> unknown_command(const CLI::App& app, int argc, const char* const* argv) {
  const auto word = command_word(app, argc, argv);
  std::vector<std::string> names;
  for (const CLI::App* command : app.get_subcommands({})) names.push_back(command->get_name());
  if (!word) {  // `ablate` alone, or only top-level options: fine when they ask for help or the version
    for (int i = 1; i < argc; ++i)
      if (const std::string_view a = argv[i]; a == "-h" || a == "--help" || a == "--version") return std::nullopt;
    return fmt::format("error: no command given: ablate COMMAND [options]\ncommands: {} (ablate --help describes "
                       "them)\n", fmt::join(names, ", "));
  }
  if (std::find(names.begin(), names.end(), *word) != names.end()) return std::nullopt;
  const std::string best = closest_name(*word, names);
  return fmt::format("error: unknown command '{}'{}\ncommands: {} (ablate --help describes them)\n", *word,
                     best.empty() ? "" : fmt::format("; did you mean '{}'?", best), fmt::join(names, ", "));
}

}  // namespace ablate::app
