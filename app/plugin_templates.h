// The files `ablate new plugin` writes: text with @KEY@ placeholders (plugin_templates.cpp), so
// that what a researcher reads first is the plugin, not the generator.
//
//   for (const TemplateFile& f : plugin_project(Kind::mlp))
//     write(dir / substitute(f.path, values), substitute(f.text, values));
//
// Placeholders: @NAME@ (the plugin's name, a C identifier), @CLASS@ (its CamelCase module class),
// @KIND@, @VERSION@ (ablate's major.minor, for find_package) and @PREFIX@ (where ablate is installed).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ablate/sdk/options.h"

namespace ablate::app {

struct TemplateFile {
  std::string path;  // relative to the project directory; may hold placeholders
  std::string text;
};

/// CMakeLists.txt, @NAME@.cpp, README.md and sweep.yaml of a plugin project of one kind.
std::vector<TemplateFile> plugin_project(sdk::Kind kind);

/// `text` with every @KEY@ replaced by values.at(KEY); a placeholder without a value is a bug in the
/// templates and throws std::logic_error.
std::string substitute(const std::string& text, const std::map<std::string, std::string>& values);

}  // namespace ablate::app
