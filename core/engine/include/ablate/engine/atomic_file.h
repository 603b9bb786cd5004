// Writing files so that a crash never leaves a half-written one: write a temporary file beside
// the target, fsync it, rename it over the target (rename is atomic on POSIX file systems).
#pragma once

#include <filesystem>
#include <string_view>

namespace ablate {

/// Replaces `path` with `content` atomically; creates parent directories. Throws ablate::Error.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

}  // namespace ablate
