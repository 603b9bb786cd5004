// Checks of flag values whose failure says what was wrong in words: CLI11's own NonNegativeNumber
// and PositiveNumber print their bound as a 310-digit number ("not in range 0.000000 to 1797…"),
// and an --out that is a file only failed later with a raw filesystem error.
//
//   cmd->add_option("--threads", n, "...")->check(at_least(0));  // "--threads: must be 0 or more, not -1"
//   cmd->add_option("--out", dir, "...")->check(directory_to_write());
#pragma once

#include <CLI/CLI.hpp>

namespace ablate::app {

/// A whole number >= `min` ("must be a whole number, not 1.5"; "must be 1 or more, not 0").
CLI::Validator at_least(long long min);

/// A finite number >= 0 ("must be a number of 0 or more, not -2"; nan and inf are refused).
CLI::Validator non_negative_number();

/// A directory to write into: one that exists, or a path where one can be made. A path that is a
/// file, or lies below a file, is refused ("PATH is a file; give a directory").
CLI::Validator directory_to_write();

}  // namespace ablate::app
