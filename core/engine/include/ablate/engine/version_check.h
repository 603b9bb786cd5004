// Refusing run directories written by a newer ablate: their files may mean things this version
// does not know, so it must neither read them as its own nor overwrite them.
#pragma once

#include <filesystem>
#include <string_view>

namespace ablate {

/// Compares dotted numeric versions ("0.1.0" < "0.10.0"); missing parts count as 0 and a
/// non-numeric suffix ("-dev") is ignored. Returns <0, 0 or >0.
int compare_versions(std::string_view a, std::string_view b);

/// Throws ablate::Error naming run_dir/summary.json when its ablate_version is newer than ours.
void refuse_newer_run_dir(const std::filesystem::path& run_dir);

}  // namespace ablate
