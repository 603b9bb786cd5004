// `ablate schema [--out FILE]`: the JSON Schema (draft 2020-12) of sweep files, with the options of
// every loaded plugin (so --plugin-dir and ABLATE_PLUGIN_PATH add theirs), for editors such as
// yaml-language-server (docs/sweep-format.md, "Editor support").
#include <iostream>

#include <nlohmann/json.hpp>

#include "ablate/engine/atomic_file.h"
#include "ablate/engine/sweep_json_schema.h"
#include "commands.h"

namespace ablate::app {

void setup_schema(CLI::App& app, const GlobalOptions& global) {
  auto out = std::make_shared<std::filesystem::path>();
  auto* cmd = app.add_subcommand(
      "schema", "print the JSON Schema of sweep files, with every loaded plugin's options (for editors)");
  cmd->add_option("--out", *out, "write it to FILE instead of printing it");
  cmd->callback([out, &global] {
    const std::string text = sweep_json_schema(*load_plugins(global)).dump(2) + "\n";
    if (out->empty())
      std::cout << text << std::flush;
    else
      write_file_atomic(*out, text);
  });
}

}  // namespace ablate::app
