#!/usr/bin/env bash
# Builds the sweep-parser fuzz target with clang (build-fuzz/, engine only, AddressSanitizer and
# libFuzzer coverage on the whole engine) and runs it for SECONDS (default 60) with the sweep files
# of sweeps/ and the past findings in tests/fuzz/regressions/ as seeds. Exit status non-zero on a
# crash, a sanitizer report or a non-ablate error; the failing input is left in build-fuzz/ (crash-*):
# fix the bug, add the input to tests/fuzz/regressions/ and a test of its error.
# The mutation seed is fixed (ABLATE_FUZZ_SEED, default 1) and the runs are bounded
# (ABLATE_FUZZ_RUNS, default 200000), so CI explores the same inputs every time and a red result
# is reproducible; SECONDS caps the wall time on a slow machine.
#   tests/fuzz/run_fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
build=${ABLATE_FUZZ_BUILD_DIR:-build-fuzz}
if [[ ! -f "$build/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DABLATE_ENGINE_ONLY=ON \
    -DABLATE_FUZZ=ON -DBUILD_TESTING=OFF -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address" > /dev/null
fi
cmake --build "$build" --target fuzz_sweep -j "$(nproc)" > /dev/null
corpus="$build/fuzz-corpus"
mkdir -p "$corpus"
cp sweeps/*.yaml sweeps/seeds/*.yaml tests/fuzz/regressions/* "$corpus/"  # regressions: inputs that once failed
cd "$build"
./bin/fuzz_sweep -seed="${ABLATE_FUZZ_SEED:-1}" -runs="${ABLATE_FUZZ_RUNS:-200000}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 fuzz-corpus 2>&1 | tail -n 25
