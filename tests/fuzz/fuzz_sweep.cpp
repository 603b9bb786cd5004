// libFuzzer target for the sweep parser: any text must either parse or be refused with an
// ablate::Error (which names a location); any other exception, a crash or an AddressSanitizer
// report is a bug. Plugins are not loaded (the fuzzer exercises YAML, the host schema, arms, grid,
// tune, budget and report sections; component options stop at "unknown plugin").
//
//   tests/fuzz/run_fuzz.sh SECONDS     (builds build-fuzz/ with clang, runs on sweeps/ as seeds)
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ablate/engine/error.h"
#include "ablate/engine/plugin_registry.h"
#include "ablate/engine/sweep.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ablate::PluginRegistry registry;  // empty: no plugin is needed to reach the parser
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)ablate::parse_sweep(text, "/fuzz/sweep.yaml", registry);
  } catch (const ablate::Error& e) {
    if (e.located_message().empty()) std::abort();  // an error must say something
  } catch (const std::exception& e) {
    std::fprintf(stderr, "not an ablate::Error: %s\n", e.what());
    std::abort();
  }
  return 0;
}
