// The current time in UTC as text, for the files ablate writes (sweep.json's "started", run locks,
// the report's date). One place, so every file stamps time the same way.
#pragma once

#include <string>

namespace ablate {

/// Now, in UTC, formatted by strftime: by default ISO 8601 ("2026-11-23T10:00:00Z").
std::string utc_now(const char* strftime_format = "%Y-%m-%dT%H:%M:%SZ");

}  // namespace ablate
