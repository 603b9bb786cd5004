// Random draws that mean the same on every platform. std::mt19937_64's output is fixed by the C++
// standard, but std::uniform_int_distribution and std::shuffle are implementation-defined (libstdc++
// and libc++ map the same engine output to different integers), so a seed would pick other
// training windows, or another split, on another standard library. ablate maps the engine's output
// itself. The modulo bias is below n / 2^64: irrelevant for any corpus.
#pragma once

#include <cstddef>
#include <random>

namespace ablate {

/// A draw from {0, ..., n − 1}, n ≥ 1.
inline std::size_t draw_below(std::mt19937_64& rng, std::size_t n) { return static_cast<std::size_t>(rng() % n); }

}  // namespace ablate
