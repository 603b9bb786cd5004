#!/usr/bin/env bash
# One seed sweep at CPU size (sweeps/seeds/*_cpu.yaml) trained from scratch to its report. OUT is
# emptied first: runs left there by an earlier ctest would be skipped as done, and the test would
# train nothing. Then every run `ablate expand` lists must be trained by this run, end done (its
# summary.json and `ablate status`), and the sweep directory must hold a report.
#   tests/seed_sweep_test.sh ABLATE SWEEP.yaml OUT CACHE
set -euo pipefail
ablate=$1
sweep=$2
out=$3
cache=$4
fail() { echo "FAIL: $*"; exit 1; }

rm -rf "$out"
mkdir -p "$out"
# expand prints a title line, a header, then one row per run starting with its 16-digit id.
ids=$("$ablate" expand "$sweep" | awk 'length($1) == 16 && $1 ~ /^[0-9a-f]+$/ {print $1}')  # mawk: no {16}
n=$(wc -w <<< "$ids")
[[ $n -gt 0 ]] || fail "ablate expand lists no run of $sweep"
"$ablate" run "$sweep" --out "$out" --threads 1 --cache "$cache" 2>&1 | tee "$out/run.log"
grep -q "trained $n, skipped 0" "$out/run.log" || fail "the run did not train all $n runs of $sweep itself"
sweep_dirs=("$out"/*/sweep.json)
[[ ${#sweep_dirs[@]} -eq 1 && -f ${sweep_dirs[0]} ]] || fail "expected one sweep directory under $out"
dir=$(dirname "${sweep_dirs[0]}")
[[ -s $dir/report.md ]] || fail "no report.md in $dir"
for id in $ids; do
  grep -q -E '"status": *"done"' "$dir/runs/$id/summary.json" ||
    fail "run $id is not done: $(grep -s -E '"(status|error)"' "$dir/runs/$id/summary.json" | tr -d '\n')"
done
status=$("$ablate" status "$dir" | tail -n 1)
[[ $status == "$n done" ]] || fail "ablate status ends '$status', not '$n done'"
echo "seed sweep passed: $n runs trained and done, report at $dir/report.md"
