#!/usr/bin/env bash
# The native test suite again, built with AddressSanitizer and UndefinedBehaviorSanitizer (build/asan).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRM_SANITIZE=ON -DTRM_NATIVE_ARCH=OFF >/dev/null
cmake --build build/asan -j "${JOBS:-$(nproc)}"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure
