#!/usr/bin/env bash
# The README's second command: set up, build, and run every test (ctest fails on an empty set).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir "${ABLATE_BUILD_DIR:-build}" --no-tests=error --output-on-failure -j "$(nproc)"
