// ablate SDK: option values as a plugin receives them.
//
// The host parses a sweep's component map (`attention: {plugin: mha, n_heads: 8}`), checks every
// key against the plugin's schema (plugin_abi.h: OptionSpec), fills in defaults and hands the
// plugin an `Options` in which every declared option is present with the declared type. A plugin
// therefore reads options without checking: `o.integer("n_heads")`.
//
// Torch-free and header-only, so the host's sweep code and plugins share it without linking.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

namespace ablate::sdk {

/// The four kinds of component a plugin may provide; each is a slot of the model skeleton.
enum class Kind : std::uint32_t { attention = 0, mlp = 1, moe = 2, norm = 3 };

inline const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::attention: return "attention";
    case Kind::mlp: return "mlp";
    case Kind::moe: return "moe";
    case Kind::norm: return "norm";
  }
  return "unknown";
}

struct ComponentSpec;

/// One option's value. `std::shared_ptr<const ComponentSpec>` holds a nested component
/// (an MoE's `expert: {plugin: silu, d_ff: 1024}`).
using OptionValue =
    std::variant<std::int64_t, double, bool, std::string, std::shared_ptr<const ComponentSpec>>;

/// Validated options of one component, keyed by option name.
class Options {
 public:
  std::map<std::string, OptionValue, std::less<>> values;

  bool has(std::string_view name) const { return values.find(name) != values.end(); }

  std::int64_t integer(std::string_view name) const { return get<std::int64_t>(name); }
  bool boolean(std::string_view name) const { return get<bool>(name); }
  const std::string& string(std::string_view name) const { return get<std::string>(name); }
  const ComponentSpec& component(std::string_view name) const {
    return *get<std::shared_ptr<const ComponentSpec>>(name);
  }
  /// A number option; an integer written in YAML (`eps: 1`) is accepted as a number too.
  double number(std::string_view name) const {
    const OptionValue& v = at(name);
    if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    return get<double>(name);
  }

 private:
  const OptionValue& at(std::string_view name) const {
    auto it = values.find(name);
    if (it == values.end())
      throw std::logic_error("option '" + std::string(name) + "' is not in the plugin's schema");
    return it->second;
  }
  template <class T>
  const T& get(std::string_view name) const {
    const T* v = std::get_if<T>(&at(name));
    if (v == nullptr)
      throw std::logic_error("option '" + std::string(name) + "' read with the wrong type");
    return *v;
  }
};

/// A component as a sweep chooses it: which plugin, with which options.
struct ComponentSpec {
  Kind kind = Kind::attention;
  std::string plugin;  // e.g. "mha"
  Options options;
};

}  // namespace ablate::sdk
