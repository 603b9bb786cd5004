#!/usr/bin/env bash
# Builds the sweep-parser fuzz target with clang (build-fuzz/, engine only, AddressSanitizer and
# libFuzzer coverage on the whole engine) and runs it on RUNS inputs (ABLATE_FUZZ_RUNS, default
# 200000) with the sweep files of sweeps/ and the past findings in tests/fuzz/regressions/ as seeds.
# The fuzzing (not the build before it) may take at most SECONDS (default 60). Exit status non-zero
# on a crash, a sanitizer report, a non-ablate error, or when libFuzzer did not report all RUNS
# inputs done within SECONDS; a failing input is left in build-fuzz/ (crash-*): fix the bug, add the
# input to tests/fuzz/regressions/ and a test of its error.
# The mutation seed is fixed (ABLATE_FUZZ_SEED, default 1) and the corpus is rebuilt from the seeds
# on every run (libFuzzer adds the inputs it finds to it), so every run explores the same inputs and
# a red result is reproducible.
#   tests/fuzz/run_fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
runs=${ABLATE_FUZZ_RUNS:-200000}
build=${ABLATE_FUZZ_BUILD_DIR:-build-fuzz}
if [[ ! -f "$build/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DABLATE_ENGINE_ONLY=ON \
    -DABLATE_FUZZ=ON -DBUILD_TESTING=OFF -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address" > /dev/null
fi
start=$(date +%s)
cmake --build "$build" --target fuzz_sweep -j "$(nproc)" > /dev/null
echo "fuzz target built in $(($(date +%s) - start)) s"
corpus="$build/fuzz-corpus"
rm -rf "$corpus"  # fresh: the inputs found by an earlier run would change what this one explores
mkdir -p "$corpus"
cp sweeps/*.yaml sweeps/seeds/*.yaml tests/fuzz/regressions/* "$corpus/"  # regressions: inputs that once failed
cd "$build"
log=fuzz.log
start=$(date +%s)
status=0
./bin/fuzz_sweep -seed="${ABLATE_FUZZ_SEED:-1}" -runs="$runs" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=4096 -print_final_stats=1 fuzz-corpus > "$log" 2>&1 || status=$?
tail -n 25 "$log"
echo "fuzzing took $(($(date +%s) - start)) s (limit $seconds s), libFuzzer exit status $status"
[[ $status -eq 0 ]] || exit "$status"
# libFuzzer stops at -runs or at -max_total_time, whichever comes first, and exits 0 either way:
# only its "Done N runs" line says the inputs ran.
done_runs=$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$log")
[[ -n $done_runs ]] || { echo "FAIL: libFuzzer printed no 'Done N runs' line"; exit 1; }
(( done_runs >= runs )) || { echo "FAIL: libFuzzer ran $done_runs of $runs inputs within $seconds s"; exit 1; }
echo "fuzz passed: $done_runs inputs"
