#!/usr/bin/env bash
# scripts/build.sh native   -> build/native/trm and the C++ test binaries
# scripts/build.sh wasm     -> build/wasm/ (single-thread and threaded SIMD builds)
# scripts/build.sh all      -> both
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-all}
jobs=${JOBS:-$(nproc)}

build_native() {
  cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build/native -j "$jobs"
}

build_wasm() {
  if [ -x scripts/build_wasm.sh ]; then scripts/build_wasm.sh; else echo "build: no WASM build yet" >&2; fi
}

case "$target" in
  native) build_native ;;
  wasm) build_wasm ;;
  all) build_native; build_wasm ;;
  *) echo "usage: scripts/build.sh native|wasm|all" >&2; exit 2 ;;
esac
