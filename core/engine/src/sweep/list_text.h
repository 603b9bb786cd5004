// Lists as sweep errors write them ("mha, mla"; "(none)" for an empty one), and a dotted path
// split at its dots. Private to the sweep module.
#pragma once

#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "sweep/schema.h"

namespace ablate::sweep_internal {

inline std::string join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out.empty() ? "(none)" : out;
}

/// "a.b." → a, b, "" (a trailing separator gives an empty last part, so a malformed path shows).
inline std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::string part;
  std::stringstream ss(text);
  while (std::getline(ss, part, separator)) out.push_back(part);
  if (!text.empty() && text.back() == separator) out.emplace_back();
  return out;
}

inline std::vector<std::string> names_of(std::span<const sweep_schema::SchemaField> fields) {
  std::vector<std::string> out;
  for (const auto& field : fields) out.emplace_back(field.name);
  return out;
}

}  // namespace ablate::sweep_internal
