#!/usr/bin/env bash
# WASM builds (Emscripten, -msimd128, -O3), called by `scripts/build.sh page` and `scripts/build.sh wasm`:
#   build/wasm/trm-wasm.mjs + .wasm                       single-thread SIMD
#   build/wasm/trm-wasm-threads.mjs + .wasm + .worker.js  pthreads SIMD (used when the page is cross-origin isolated)
#   build/wasm/trm-wasm-relaxed.wasm, trm-wasm-threads-relaxed.wasm
#                                                         the same two with relaxed SIMD's fused multiply-add, run by
#                                                         the same glue where the engine has relaxed SIMD
# web/trm-worker.js loads them from ../build/wasm/ with new URL(..., import.meta.url); build/ is git-ignored, so a
# page or package that uses web/trm.js serves (or ships) build/wasm/ beside web/. CMake trees: build/wasm/cmake-*.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs  # Debian's emcc needs its own acorn (TOOLCHAIN.md)
jobs=${JOBS:-2}
out=build/wasm
mkdir -p "$out"

build_variant() {  # build_variant DIR THREADS RELAXED_SIMD
  local dir=$out/$1
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    # Eigen and nlohmann_json are header-only host packages: let CMake find their config files outside the sysroot.
    emcmake cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=BOTH \
      -DTRM_WASM_THREADS="$2" -DTRM_WASM_RELAXED_SIMD="$3" >/dev/null
  fi
  cmake --build "$dir" -j "$jobs" --target trm_wasm
}

build_variant cmake-st OFF OFF
build_variant cmake-mt ON OFF
build_variant cmake-st-relaxed OFF ON
build_variant cmake-mt-relaxed ON ON
cp build/wasm/cmake-st/trm-wasm.mjs build/wasm/cmake-st/trm-wasm.wasm "$out/"
cp build/wasm/cmake-mt/trm-wasm-threads.mjs build/wasm/cmake-mt/trm-wasm-threads.wasm \
   build/wasm/cmake-mt/trm-wasm-threads.worker.js "$out/"
# A relaxed build ships only its .wasm, loaded by the plain build's glue: that holds only if the glue is the same.
for pair in cmake-st:trm-wasm cmake-mt:trm-wasm-threads; do
  dir=build/wasm/${pair%%:*} name=${pair#*:}
  for f in "$name.mjs" "$name.worker.js"; do
    [ -f "$dir/$f" ] || continue
    cmp -s "$dir/$f" "$dir-relaxed/$f" ||
      { echo "build_wasm: $dir-relaxed/$f differs from $dir/$f: the relaxed build cannot use the plain build's glue" >&2; exit 1; }
  done
  cp "$dir-relaxed/$name.wasm" "$out/$name-relaxed.wasm"
done
# The pthread worker is a classic (CommonJS-style) script; the package is "type": "module", so mark this folder
# CommonJS for Node. The .mjs glue stays an ES module either way.
echo '{ "type": "commonjs" }' >"$out/package.json"
for f in "$out"/*.wasm; do
  printf 'wasm: %-32s %8d bytes (%d KiB gzip)\n' "$f" "$(stat -c %s "$f")" "$(( $(gzip -9c "$f" | wc -c) / 1024 ))"
done
