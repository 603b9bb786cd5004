#!/usr/bin/env bash
# Sets up (scripts/setup.sh), configures and builds ablate into build/ (or $ABLATE_BUILD_DIR).
#   scripts/build.sh               everything, tests included (set-up for the tests too)
#   scripts/build.sh ablate [...]  only the named targets (set-up for running only): `ablate` is the
#                                  host with its built-in plugins, all the quickstart needs
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=test
(($#)) && purpose=run
python=$(scripts/setup.sh "$purpose" | tee /dev/stderr | sed -n 's/^ABLATE_PYTHON=//p' | tail -n 1)
build_dir=${ABLATE_BUILD_DIR:-build}
torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)
# Configured every time (seconds when nothing changed): a build first made for the quickstart then
# finds what the tests' set-up installed since (clang for the fuzz test).
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$torch_prefix" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
