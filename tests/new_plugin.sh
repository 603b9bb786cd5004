#!/usr/bin/env bash
# `ablate new plugin` end to end, for each KIND given: installs ablate into a temporary prefix,
# generates a plugin project with the installed host, builds it against the installed SDK only,
# runs the project's own test (check-plugin) and trains its sweep.yaml two steps.
# Usage: new_plugin.sh BUILD_DIR KIND...
set -euo pipefail
build=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
ablate="$work/prefix/bin/ablate"
for kind in "$@"; do
  name="my_$kind"
  project="$work/$name"
  "$ablate" new plugin --kind "$kind" --name "$name" "$project"
  # The README's build command names the installed prefix: the generated files work as written.
  grep -qF -- "-DCMAKE_PREFIX_PATH=\"$work/prefix\"" "$project/README.md"
  # Only ablate's prefix, as the README says: the package finds LibTorch by itself.
  cmake -S "$project" -B "$project/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
  cmake --build "$project/build" >/dev/null
  ctest --test-dir "$project/build" --output-on-failure | tee "$work/ctest.log"
  grep -q "100% tests passed, 0 tests failed out of 1" "$work/ctest.log"
  (cd "$project" && "$ablate" --plugin-dir build run sweep.yaml --out runs --threads 1 --cache "$work/cache")
  grep -q '"status": "done"' "$project"/runs/"${name}"_smoke/runs/*/summary.json
  echo "new plugin: $kind $name generated, built against the installed SDK, checked and trained"
done
# A second project into a non-empty directory is refused (exit 2), leaving it as it was.
status=0
"$ablate" new plugin --kind mlp --name other "$work/my_$1" 2>"$work/err" || status=$?
[[ $status -eq 2 ]] && grep -q "is not empty" "$work/err"
