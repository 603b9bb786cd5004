// utc_now (utc_time.h).
#include "ablate/engine/utc_time.h"

#include <ctime>

namespace ablate {

std::string utc_now(const char* strftime_format) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, strftime_format, &tm);
  return std::string(buf, n);
}

}  // namespace ablate
