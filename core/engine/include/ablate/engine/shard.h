// `ablate run --shard i/n`: n processes (machines, Slurm tasks) split a sweep's runs between them.
// Shard i takes the runs whose index in the sweep (expansion order, see sweep.h) is i modulo n, so
// the split is deterministic and every run belongs to exactly one shard.
#pragma once

#include <cstddef>
#include <string_view>

namespace ablate {

struct Shard {
  std::size_t index = 0;  // i, 0 … count − 1
  std::size_t count = 1;  // n
};

/// Parses "i/n" (0 ≤ i < n); throws ablate::Error naming the --shard flag otherwise.
Shard parse_shard(std::string_view text);

/// Whether the run at `run_index` of the sweep belongs to `shard`.
inline bool in_shard(std::size_t run_index, const Shard& shard) { return run_index % shard.count == shard.index; }

}  // namespace ablate
