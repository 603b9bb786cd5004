// What built this ablate: its version and the git commit of the source tree ("…-dirty" with
// uncommitted changes, "unknown" outside a git checkout). Recorded in every run's summary and in
// sweep.json so a report can say which code produced its numbers.
#pragma once

namespace ablate {

const char* ablate_version();
const char* ablate_git_commit();

}  // namespace ablate
