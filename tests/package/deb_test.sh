#!/usr/bin/env bash
# The Debian package (cmake/AblatePackage.cmake), end to end.
#   Anyone: builds the .deb with cpack (into a temporary directory) and checks its files, that its
#     RPATHs name no directory of the build machine, that every library it needs comes from a package
#     it depends on or from the torch wheel, and that apt can resolve its dependencies.
#   Root only (else exit 77, skipped): installs it with dpkg -i, runs the installed /usr/bin/ablate
#     with the torch wheel of PYTHON (`ablate plugins`, a 2-step sweep), checks the wrapper's errors
#     without a usable torch, and removes the package again with dpkg -r (also when a step fails).
# Usage: deb_test.sh BUILD_DIR PYTHON     (PYTHON: a python with the torch wheel ablate was built against)
set -euo pipefail
build=$1 python=$2
[[ $python == */* && $python != /* ]] && python=$PWD/$python  # the sweep runs in another directory
work=$(mktemp -d)
installed=0
cleanup() {
  if ((installed)) && ! dpkg -r ablate >"$work/remove.log" 2>&1; then
    cat "$work/remove.log" >&2
    echo "deb_test: dpkg -r ablate failed: remove the package by hand" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() {
  echo "deb_test: $*" >&2
  exit 1
}

# --- build it -------------------------------------------------------------------------------------
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/cpack" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack -G DEB failed"; }
debs=("$work"/cpack/ablate_*.deb)
deb=${debs[0]}
[[ -f $deb ]] || fail "cpack made no ablate_*.deb"
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

# --- its files --------------------------------------------------------------------------------------
root=$work/root
dpkg-deb -x "$deb" "$root"
real=$(find "$root/usr" -path '*/ablate/ablate' -type f | sed -n 1p)
[[ -n $real ]] || fail "the package has no real binary <libdir>/ablate/ablate"
libdir=$(dirname "$(dirname "$real")")  # the package's /usr/<libdir>
for f in "$root/usr/bin/ablate" "$(dirname "$real")/plugins/libablate_attention_mha.so" "$libdir/libablate_sdk.so" \
  "$root/usr/include/ablate/sdk/plugin_abi.h" "$libdir/cmake/Ablate/AblateConfig.cmake"; do
  [[ -e $f ]] || fail "the package lacks ${f#"$root"}"
done
head -n 1 "$root/usr/bin/ablate" | grep -q '^#!/bin/sh' || fail "/usr/bin/ablate is not the wrapper script"

# --- RPATHs: relative to each file, never a directory of the build machine ------------------------------
mapfile -t elves < <(find "$root/usr" -type f \( -name '*.so*' -o -path '*/ablate/ablate' \))
for elf in "${elves[@]}"; do
  rpath=$(readelf -d "$elf" | sed -n 's/.*(\(RPATH\|RUNPATH\)).*\[\(.*\)\]/\2/p')
  IFS=: read -r -a entries <<<"$rpath"
  for entry in "${entries[@]}"; do
    [[ $entry == '$ORIGIN'* ]] || fail "${elf#"$root"} has RPATH entry '$entry' (only \$ORIGIN-relative ones belong in a package)"
  done
done

# --- dependencies: every library needed comes from a Depends package, the package itself or the wheel ---
depends=" $(dpkg-deb -f "$deb" Depends | tr ',|' '\n\n' | sed 's/(.*)//; s/ //g' | tr '\n' ' ') "
wheel_dirs=$("$python" - <<'PY'
import importlib.util, os
torch_dir = importlib.util.find_spec("torch").submodule_search_locations[0]
dirs = [os.path.join(torch_dir, "lib")]
for root, _, files in os.walk(os.path.join(os.path.dirname(torch_dir), "nvidia")):
    if os.path.basename(root) == "lib":
        dirs.append(root)
print("\n".join(dirs))
PY
) || fail "$python has no torch package: give the python of the torch wheel ablate was built against"
package_of() {  # the Debian package that holds library path $1 (merged /usr or not), or nothing
  local path=$1 alt
  alt=$([[ $path == /usr/* ]] && echo "${path#/usr}" || echo "/usr$path")
  { dpkg -S "$path" 2>/dev/null || dpkg -S "$alt" 2>/dev/null; } | sed -n 1p | cut -d: -f1
}
mapfile -t needed < <(for elf in "${elves[@]}"; do readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u)
for lib in "${needed[@]}"; do
  [[ -n $(find "$root/usr" -name "$lib" -print -quit) ]] && continue  # in the package (libablate_sdk.so)
  # awk reads to the end (no `exit`): closing the pipe early would kill ldconfig with SIGPIPE, and
  # with pipefail that failed the whole test at random.
  path=$(ldconfig -p | awk -v lib="$lib" '$1 == lib && !found { print $NF; found = 1 }')
  pkg=$([[ -n $path ]] && package_of "$path" || true)
  if [[ -n $pkg ]]; then
    [[ $depends == *" $pkg "* ]] || fail "the package needs $lib from Debian's $pkg, which its Depends does not name"
  else
    in_wheel=0
    while IFS= read -r dir; do [[ -e $dir/$lib ]] && in_wheel=1; done <<<"$wheel_dirs"
    ((in_wheel)) || fail "the package needs $lib, which neither a Debian package nor the torch wheel of $python provides"
  fi
done
echo "dependencies: $(dpkg-deb -f "$deb" Depends)"
apt-get install --simulate --no-install-recommends "$deb" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log"; fail "apt cannot resolve the package's dependencies"; }
grep -q '^Inst ablate ' "$work/apt.log" || { cat "$work/apt.log"; fail "apt would not install the package"; }

# --- install, run, remove (root only) -----------------------------------------------------------------
if [[ $(id -u) -ne 0 ]]; then
  echo "deb_test: not root, so the package was built and checked but not installed (skipped)"
  exit 77
fi
if dpkg-query -W -f='${Status}' ablate 2>/dev/null | grep -q ' installed$'; then
  fail "a package named ablate is installed already; this test will not replace it (dpkg -r ablate)"
fi
installed=1  # from here on the trap removes it, also when dpkg -i stops half-way
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i failed"; }

installed_ablate() {  # the installed wrapper, with nothing of the build tree in its environment
  env -u LD_LIBRARY_PATH -u ABLATE_PLUGIN_PATH ABLATE_PYTHON="$python" /usr/bin/ablate "$@"
}
installed_ablate plugins >"$work/plugins.txt" || { cat "$work/plugins.txt"; fail "ablate plugins failed"; }
grep -q '^attention mha:' "$work/plugins.txt" || fail "ablate plugins lists no mha: $(cat "$work/plugins.txt")"
grep -q "^  /usr/lib.*/ablate/plugins/libablate_attention_mha.so$" "$work/plugins.txt" ||
  fail "the installed ablate did not load its plugins from /usr: $(grep -A1 '^attention mha:' "$work/plugins.txt")"

cat >"$work/tiny.yaml" <<'EOF'
name: deb_tiny
data: {corpus: kjv, tokenizer: {kind: byte}, seq_len: 16}
model:
  d_model: 16
  n_layers: 1
  attention: {plugin: mha, n_heads: 2}
  ffn: {plugin: swiglu, d_ff: 32}
train: {steps: 2, batch_size: 2, eval_every: 2, eval_tokens: 32}
EOF
(cd "$work" && installed_ablate run tiny.yaml --out runs --threads 1 --cache cache) >"$work/run.log" 2>&1 ||
  { cat "$work/run.log"; fail "ablate run failed with the installed package"; }
grep -q '"status": "done"' "$work"/runs/deb_tiny/runs/*/summary.json || { cat "$work/run.log"; fail "the run is not done"; }
[[ -s $work/runs/deb_tiny/report.md ]] || fail "the run wrote no report"
echo "the installed ablate trained $(ls "$work/runs/deb_tiny/runs" | wc -l) run(s) and wrote the report"

# The wrapper's errors: no such python, and a python without torch (-S: without site-packages).
expect_wrapper_error() {  # $1: ABLATE_PYTHON, $2: text the message must hold
  local out rc=0
  out=$(env -u LD_LIBRARY_PATH ABLATE_PYTHON="$1" /usr/bin/ablate plugins 2>&1) || rc=$?
  [[ $rc -eq 2 && $out == *"$2"* ]] || fail "with ABLATE_PYTHON=$1: exit $rc and '$out' (expected exit 2 and '$2')"
}
expect_wrapper_error "$work/no-such-python" "no python"
printf '#!/bin/sh\nexec "%s" -S "$@"\n' "$python" >"$work/python-without-torch"
chmod +x "$work/python-without-torch"
expect_wrapper_error "$work/python-without-torch" "has no torch package"

dpkg -r ablate >"$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "dpkg -r ablate failed"; }
installed=0
[[ ! -e /usr/bin/ablate && ! -e ${real#"$root"} ]] || fail "dpkg -r left ablate's files behind"
echo "installed, ran and removed $(basename "$deb")"
