#!/usr/bin/env bash
# The README's first command: set up, build, and run sweeps/quickstart.yaml to a report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh ablate   # the host and its plugins only; scripts/test.sh builds the tests
"${ABLATE_BUILD_DIR:-build}/bin/ablate" run sweeps/quickstart.yaml --out runs --threads "$(nproc)"
