#!/usr/bin/env bash
# scripts/build.sh native   -> build/native/trm and the C++ test binaries
# scripts/build.sh page     -> build/wasm/: the WASM module the page and web/trm.js load (single-thread and threaded,
#                              each with plain and relaxed SIMD; scripts/build_wasm.sh)
# scripts/build.sh wasm     -> the same, and the WASM kernel tests and GEMM benchmark (scripts/build_wasm_tests.sh)
# scripts/build.sh all      -> native and wasm
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-all}
jobs=${JOBS:-$(nproc)}

build_native() {
  cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build/native -j "$jobs"
}

case "$target" in
  native) build_native ;;
  page) scripts/build_wasm.sh ;;
  wasm) scripts/build_wasm.sh; scripts/build_wasm_tests.sh ;;
  all) build_native; scripts/build_wasm.sh; scripts/build_wasm_tests.sh ;;
  *) echo "usage: scripts/build.sh native|page|wasm|all" >&2; exit 2 ;;
esac
