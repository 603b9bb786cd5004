// The project `ablate new plugin` writes, picked from the embedded app/templates/ (see
// plugin_templates.h), and the placeholder substitution.
#include "plugin_templates.h"

#include <regex>
#include <stdexcept>

namespace ablate::app {

std::vector<TemplateFile> plugin_project(sdk::Kind kind) {
  constexpr std::string_view common_dir = "common/";
  const std::string kind_dir = std::string(sdk::kind_name(kind)) + "/";
  std::vector<TemplateFile> common, own;
  for (const EmbeddedTemplate& t : embedded_templates()) {
    if (t.path.starts_with(common_dir))
      common.push_back({std::string(t.path.substr(common_dir.size())), std::string(t.text)});
    else if (t.path.starts_with(kind_dir))
      own.push_back({std::string(t.path.substr(kind_dir.size())), std::string(t.text)});
  }
  // Every kind has its own source; none means app/templates/ lost a directory, which is a build bug.
  if (own.empty()) throw std::logic_error("no embedded templates under app/templates/" + kind_dir);
  common.insert(common.end(), own.begin(), own.end());
  return common;
}

std::string substitute(const std::string& text, const std::map<std::string, std::string>& values) {
  static const std::regex placeholder("@([A-Z_]+)@");
  std::string out;
  auto last = text.cbegin();
  for (auto it = std::sregex_iterator(text.begin(), text.end(), placeholder); it != std::sregex_iterator(); ++it) {
    const auto value = values.find((*it)[1].str());
    if (value == values.end()) throw std::logic_error("template placeholder " + it->str() + " has no value");
    out.append(last, text.cbegin() + it->position());
    out += value->second;
    last = text.cbegin() + it->position() + it->length();
  }
  out.append(last, text.cend());
  return out;
}

}  // namespace ablate::app
