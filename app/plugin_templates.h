// The files `ablate new plugin` writes. They live as plain files under app/templates/ (common/ for
// every kind, attention/, mlp/, moe/, norm/ for one), with @KEY@ placeholders in paths and text, so
// that what a researcher reads first is the plugin, not the generator; the build embeds them
// (app/embed_templates.cmake).
//
//   for (const TemplateFile& f : plugin_project(Kind::mlp))
//     write(dir / substitute(f.path, values), substitute(f.text, values));
//
// Placeholders: @NAME@ (the plugin's name, a C identifier), @CLASS@ (its CamelCase module class),
// @KIND@, @VERSION@ (ablate's major.minor, for find_package) and @PREFIX@ (where ablate is installed).
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ablate/sdk/options.h"

namespace ablate::app {

struct TemplateFile {
  std::string path;  // relative to the project directory; may hold placeholders
  std::string text;
};

/// The project of one kind: common/'s files (CMakeLists.txt, README.md) and the kind's own
/// (@NAME@.cpp, sweep.yaml), common/'s first.
std::vector<TemplateFile> plugin_project(sdk::Kind kind);

/// `text` with every @KEY@ replaced by values.at(KEY); a placeholder without a value is a bug in the
/// templates and throws std::logic_error.
std::string substitute(const std::string& text, const std::map<std::string, std::string>& values);

/// One file under app/templates/ as the build embedded it: "mlp/@NAME@.cpp" and its text.
struct EmbeddedTemplate {
  std::string_view path;
  std::string_view text;
};

/// Every file under app/templates/, sorted by path. Defined in the source the build generates.
std::span<const EmbeddedTemplate> embedded_templates();

}  // namespace ablate::app
