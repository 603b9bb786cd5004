#!/usr/bin/env bash
# Installs ablate into a temporary prefix, builds examples/out_of_tree_plugin against the
# installed SDK only, runs its test (check-plugin), and checks that the installed host loads it and
# trains two steps with it.
# Usage: out_of_tree_plugin.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
# Only ablate's prefix: the package finds the LibTorch ablate was built against by itself.
cmake -S "$source/examples/out_of_tree_plugin" -B "$work/plugin" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/plugin" >/dev/null
# The example's own test: the installed host's check-plugin on the built library.
ctest --test-dir "$work/plugin" --output-on-failure | tee "$work/ctest.log"
grep -q "100% tests passed, 0 tests failed out of 1" "$work/ctest.log"
"$work/prefix/bin/ablate" --plugin-dir "$work/plugin" plugins | grep -q "^mlp relu2:"
ABLATE_PLUGIN_PATH="$work/plugin" "$work/prefix/bin/ablate" run "$source/examples/out_of_tree_plugin/sweep.yaml" \
  --out "$work/runs" --threads 1 --cache "$work/cache" | tee "$work/log"
grep -q '"status": "done"' "$work"/runs/relu2_example/runs/*/summary.json
echo "out-of-tree plugin relu2 built against the installed SDK, loaded and trained"
