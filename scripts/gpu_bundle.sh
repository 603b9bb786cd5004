#!/usr/bin/env bash
# Packs what a lent GPU machine lacks into .gpu-bundle/ (ignored by git), for the device tool to
# carry: the GPU machine has nvcc, CMake and the same torch 2.11 wheel, but no registry, so neither
# Debian's -dev packages nor the KJV can be installed there. Rather than build there, carry this
# machine's build (it is the CUDA build: the wheel is cu130):
#   bin/ablate (debug info stripped) and bin/ablate-run, a wrapper that puts lib/ and the GPU
#     machine's own torch libraries on the library path, then runs it;
#   lib/: libablate_sdk and the Debian libraries ablate links that a stock image lacks (yaml-cpp,
#     fmt, Boost, xxhash; and the toolkit's libcudart, which ablate names itself);
#     lib/ablate/plugins/: the built-in plugins;
#   bin/bible: the KJV's `bible` program (Debian bible-kjv) with its data in share/bible-kjv/ (the
#     corpus is read, and hashed, before its cached tokens are used); cache/: the benchmark sweep's
#     tokenized corpus, so the GPU machine does not tokenize it again.
# Then, with the device tool: run `scripts/gpu_bench.sh` with carry [".gpu-bundle"] (docs/benchmarks.md).
#   scripts/gpu_bundle.sh [SWEEP]     # default bench/gpu_seed_models.yaml; into $ABLATE_BUNDLE_DIR if set
set -euo pipefail
cd "$(dirname "$0")/.."
sweep=${1:-bench/gpu_seed_models.yaml}
build=${ABLATE_BUILD_DIR:-build}
bundle=${ABLATE_BUNDLE_DIR:-.gpu-bundle}
[[ -x $build/bin/ablate ]] || { echo "gpu_bundle: $build/bin/ablate not found: run scripts/build.sh first" >&2; exit 2; }

rm -rf "$bundle"
mkdir -p "$bundle/bin" "$bundle/lib/ablate/plugins"
strip --strip-debug -o "$bundle/bin/ablate" "$build/bin/ablate"
for p in "$build"/lib/ablate/plugins/*.so; do strip --strip-debug -o "$bundle/lib/ablate/plugins/$(basename "$p")" "$p"; done
strip --strip-debug -o "$bundle/lib/libablate_sdk.so" "$build/lib/libablate_sdk.so"

# The libraries the binary and plugins need beyond glibc, the compiler's runtime, compression
# libraries every image has, and LibTorch/CUDA (the GPU machine's own wheel provides those).
base='^(linux-vdso|ld-linux|libc|libm|libpthread|librt|libdl|libutil|libgcc_s|libstdc\+\+|libz|libbz2|liblzma|libzstd)\.'
for elf in "$bundle/bin/ablate" "$bundle"/lib/ablate/plugins/*.so; do
  ldd "$elf" | awk '$3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r name path; do
  [[ $name =~ $base || $path == */torch/lib/* || $path == */nvidia/* || $name == libablate_sdk.so ]] && continue
  cp -L "$path" "$bundle/lib/$name"
done

cat > "$bundle/bin/ablate-run" <<'WRAPPER'
#!/bin/sh
# ablate with the carried libraries and this machine's torch wheel (python3's) on the library path.
here=$(dirname "$(readlink -f "$0")")
python=${ABLATE_PYTHON:-python3}
torch_lib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') || {
  echo "ablate-run: $python has no torch (set ABLATE_PYTHON)" >&2
  exit 2
}
LD_LIBRARY_PATH="$here/../lib:$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/ablate" "$@"
WRAPPER
chmod +x "$bundle/bin/ablate-run"

# The KJV: ablate runs `bible` from the PATH; the wrapper points it at the carried data.
mkdir -p "$bundle/libexec" "$bundle/share/bible-kjv"
cp "$(command -v bible)" "$bundle/libexec/bible"
cp /usr/lib/bible.data /usr/lib/bible.data.conc "$bundle/share/bible-kjv/"
ldd "$bundle/libexec/bible" | awk '$3 ~ /^\// {print $1, $3}' | while read -r name path; do
  [[ $name =~ $base ]] || cp -L "$path" "$bundle/lib/$name"
done
cat > "$bundle/bin/bible" <<'WRAPPER'
#!/bin/sh
# Debian's bible-kjv, carried: its data is beside it rather than in /usr/lib.
here=$(dirname "$(readlink -f "$0")")
LD_LIBRARY_PATH="$here/../lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/../libexec/bible" -p "$here/../share/bible-kjv/" "$@"
WRAPPER
chmod +x "$bundle/bin/bible"

# The sweep's data, tokenized into the cache the benchmark reads (as `ablate run` would).
"$build/bin/ablate" data inspect "$sweep" --cache "$bundle/cache" > /dev/null
echo "gpu_bundle: $(du -sh "$bundle" | cut -f1) in $bundle:"
(cd "$bundle" && find . -type f | sort | sed 's/^/  /')
