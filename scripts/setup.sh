#!/usr/bin/env bash
# Installs what ablate needs and is missing; does nothing when everything is there.
#   scripts/setup.sh [run|test]    run: what building and running ablate need; test (the default):
#                                  that and what the tests need as well.
#   - Debian packages: compilers, CMake, Ninja, ccache, yaml-cpp, CLI11, Catch2, Boost, fmt,
#     nlohmann-json, xxhash, gnuplot (+ gnuplot-iostream), SentencePiece's tools, the KJV Bible;
#     for the tests also clang with libFuzzer (the sweep parser's fuzz test), Slurm and munge (the
#     Slurm test starts a single-node cluster of its own).
#   - LibTorch: the PyPI wheel torch==2.11.* (a CUDA 13.0 build). A python3 that already imports
#     torch 2.11 or newer is used as it is; otherwise a virtual environment .venv/ gets the wheel.
#   - For the tests, Python packages: safetensors, jsonschema, PyYAML (into the same python).
# Prints the python to use on its last line as `ABLATE_PYTHON=...` (scripts/build.sh reads it).
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-test}
[[ $purpose == run || $purpose == test ]] || { echo "setup: unknown purpose '$purpose' (run or test)" >&2; exit 2; }

packages=(
  build-essential cmake ninja-build ccache pkg-config git python3 python3-venv python3-pip
  libyaml-cpp-dev libcli11-dev catch2 libboost-dev libboost-math-dev libboost-iostreams-dev
  libboost-filesystem-dev libfmt-dev nlohmann-json3-dev libxxhash-dev
  gnuplot-nox libgnuplot-iostream-dev sentencepiece bible-kjv bible-kjv-text
)
[[ $purpose == test ]] && packages+=(clang libclang-rt-14-dev slurm-wlm munge)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

torch_ok() {  # $1: a python; true when it imports torch >= 2.11
  "$1" - <<'PY' 2>/dev/null
import sys, torch
major, minor = (int(x) for x in torch.__version__.split(".")[:2])
sys.exit(0 if (major, minor) >= (2, 11) else 1)
PY
}
python=python3
if ! torch_ok "$python"; then
  python=.venv/bin/python
  if ! torch_ok "$python"; then
    echo "setup: installing the PyPI wheel torch==2.11.* into .venv (several GB, once)"
    [[ -x .venv/bin/python ]] || python3 -m venv .venv
    .venv/bin/python -m pip install -q 'torch==2.11.*'
  fi
fi
# The Python side of the tests: safetensors (docs/checkpoints.md's loading snippet), jsonschema and
# PyYAML (sweep files checked against `ablate schema`).
if [[ $purpose == test ]] && ! "$python" -c 'import safetensors, jsonschema, yaml' 2>/dev/null; then
  echo "setup: installing safetensors, jsonschema and PyYAML for $python"
  "$python" -m pip install -q safetensors jsonschema pyyaml
fi
echo "ABLATE_PYTHON=$python"
