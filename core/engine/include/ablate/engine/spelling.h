// Suggestions for a misspelt name: a sweep key (`lr` for `lrr`), a plugin option, a command
// (`run` for `rnu`). One rule everywhere: the closest known name within a few edits.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ablate {

/// Levenshtein distance: insertions, deletions and substitutions of one character each.
std::size_t edit_distance(const std::string& a, const std::string& b);

/// The known name closest to `word` when it is within max(2, |word|/3) edits; empty otherwise.
std::string closest_name(const std::string& word, const std::vector<std::string>& known);

/// "did you mean 'lr'?" for closest_name's answer; empty when there is none.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& known);

}  // namespace ablate
