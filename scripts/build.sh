#!/usr/bin/env bash
# Sets up (scripts/setup.sh), configures and builds ablate into build/ (or $ABLATE_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(scripts/setup.sh | tee /dev/stderr | sed -n 's/^ABLATE_PYTHON=//p' | tail -n 1)
build_dir=${ABLATE_BUILD_DIR:-build}
torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)
if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$torch_prefix"
fi
cmake --build "$build_dir" -j "$(nproc)"
