// A run's id: the first 16 hex digits of XXH3-128 over the canonical dump of its resolved
// configuration (nlohmann's default object keeps keys sorted, so dump() is canonical). The arm and
// sweep names are not in the configuration, so the same run has the same id in any sweep file.
#include <fmt/format.h>
#include <xxhash.h>

#include "ablate/engine/sweep.h"

namespace ablate {

std::string run_id(const nlohmann::json& config) {
  const std::string text = config.dump();
  const XXH128_hash_t hash = XXH3_128bits(text.data(), text.size());
  return fmt::format("{:016x}", hash.high64);  // the canonical (big-endian) form starts with high64
}

}  // namespace ablate
