// Random draws that mean the same on every platform. std::mt19937_64's output is fixed by the C++
// standard, but std::uniform_int_distribution and std::shuffle are implementation-defined (libstdc++
// and libc++ map the same engine output to different integers), so a seed would pick other
// training windows, or another split, on another standard library. ablate maps the engine's output
// itself. The modulo bias is below n / 2^64: irrelevant for any corpus.
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>
#include <random>

namespace ablate {

/// A draw from {0, ..., n − 1}, n ≥ 1.
inline std::size_t draw_below(std::mt19937_64& rng, std::size_t n) { return static_cast<std::size_t>(rng() % n); }

/// A standard normal draw by Box–Muller from two 53-bit uniforms (std::normal_distribution is
/// implementation-defined too). The same engine output gives the same draw everywhere up to the
/// last bits of the platform's log and cos.
inline double draw_standard_normal(std::mt19937_64& rng) {
  const double u1 = (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]: log(u1) is finite
  const double u2 = static_cast<double>(rng() >> 11) * 0x1.0p-53;          // [0, 1)
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace ablate
