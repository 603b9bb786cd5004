#!/usr/bin/env bash
# The GPU bundle (scripts/gpu_bundle.sh) and the script that runs it on a lent GPU machine
# (scripts/gpu_bench.sh), dry-run on the CPU: ablate and `bible` come from the bundle, the corpus
# from its cache, and the benchmark writes its table. A GPU session gets one chance at these, so
# they must not rot unseen.
#   gpu_bundle_test.sh BUILD_DIR PYTHON SOURCE_DIR
set -euo pipefail
build=$1 python=$2 source=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

ABLATE_BUILD_DIR=$build ABLATE_BUNDLE_DIR=$tmp/bundle "$source/scripts/gpu_bundle.sh" bench/cpu_smoke_tiny.yaml \
  > "$tmp/bundle.log" 2>&1 || { cat "$tmp/bundle.log"; fail "gpu_bundle.sh"; }
for f in bin/ablate bin/ablate-run bin/bible libexec/bible share/bible-kjv/bible.data lib/libablate_sdk.so \
  lib/libyaml-cpp.so.0.7 lib/ablate/plugins/libablate_attention_mha.so; do
  [[ -e $tmp/bundle/$f ]] || fail "the bundle lacks $f"
done
[[ $(find "$tmp/bundle/cache" -name meta.json | wc -l) == 1 ]] || fail "the bundle should hold one tokenized corpus"
! ls "$tmp/bundle/lib" | grep -q '^libtorch\|^libc10' || fail "the bundle carries LibTorch (the GPU machine has its own)"
"$tmp/bundle/bin/bible" -f Gen1:1 | grep -q "In the beginning God created" || fail "the carried bible"

cp "$source/docs/benchmarks.md" "$tmp/benchmarks.md"
(cd "$source" && PYTHON=$python ABLATE_BUNDLE_DIR=$tmp/bundle ABLATE_BENCH_DIR=$tmp/work OUT=$tmp/out \
  scripts/gpu_bench.sh --device cpu --sweep bench/cpu_smoke_tiny.yaml --no-compile --threads 1 --doc "$tmp/benchmarks.md") \
  > "$tmp/bench.log" 2>&1 || { tail -n 40 "$tmp/bench.log"; fail "gpu_bench.sh"; }
for f in gpu.txt smoke.txt smoke.log compare.log compare.json benchmarks.md; do
  [[ -s $tmp/out/$f ]] || fail "gpu_bench.sh left no $f in \$OUT"
done
grep -q "using cached tokens" "$tmp/out/smoke.log" || fail "the smoke run tokenized the corpus again"
[[ $(grep -c "done, cuda_graph: off (CUDA graphs need a GPU)" "$tmp/out/smoke.txt") == 2 ]] ||
  { cat "$tmp/out/smoke.txt"; fail "smoke.txt should list both tiny runs, done"; }
for row in "| moe_tiny | ablate |" "| moe_tiny | torch_eager |" "| dense_tiny | ablate |" "| dense_tiny | torch_eager |"; do
  grep -qF "$row" "$tmp/benchmarks.md" || fail "the benchmark table lacks the row $row"
done
cmp -s "$source/docs/benchmarks.md" "$tmp/benchmarks.md" && fail "the benchmark table was not written"
echo "gpu bundle dry run: ok ($(du -sh "$tmp/bundle" | cut -f1) bundle)"
