#!/usr/bin/env bash
# WASM builds (Emscripten, -msimd128, -O3), called by `scripts/build.sh wasm`:
#   build/wasm/trm-wasm.mjs + .wasm                       single-thread SIMD
#   build/wasm/trm-wasm-threads.mjs + .wasm + .worker.js  pthreads SIMD (used when the page is cross-origin isolated)
# web/trm-worker.js loads them from ../build/wasm/ with new URL(..., import.meta.url); build/ is git-ignored, so a
# page or package that uses web/trm.js serves (or ships) build/wasm/ beside web/. CMake trees: build/wasm/cmake-*.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs  # Debian's emcc needs its own acorn (TOOLCHAIN.md)
jobs=${JOBS:-2}
out=build/wasm
mkdir -p "$out"

build_variant() {  # build_variant DIR THREADS
  local dir=$out/$1
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    # Eigen and nlohmann_json are header-only host packages: let CMake find their config files outside the sysroot.
    emcmake cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=BOTH \
      -DTRM_WASM_THREADS="$2" >/dev/null
  fi
  cmake --build "$dir" -j "$jobs" --target trm_wasm
}

build_variant cmake-st OFF
build_variant cmake-mt ON
cp build/wasm/cmake-st/trm-wasm.mjs build/wasm/cmake-st/trm-wasm.wasm "$out/"
cp build/wasm/cmake-mt/trm-wasm-threads.mjs build/wasm/cmake-mt/trm-wasm-threads.wasm \
   build/wasm/cmake-mt/trm-wasm-threads.worker.js "$out/"
# The pthread worker is a classic (CommonJS-style) script; the package is "type": "module", so mark this folder
# CommonJS for Node. The .mjs glue stays an ES module either way.
echo '{ "type": "commonjs" }' >"$out/package.json"
for f in "$out"/*.wasm; do
  printf 'wasm: %-32s %8d bytes (%d KiB gzip)\n' "$f" "$(stat -c %s "$f")" "$(( $(gzip -9c "$f" | wc -c) / 1024 ))"
done
scripts/build_wasm_tests.sh  # kernel tests and GEMM benchmark for WASM (tests/js/kernels.test.mjs, scripts/bench.mjs)
