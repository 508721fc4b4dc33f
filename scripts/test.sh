#!/usr/bin/env bash
# Every test of the project: set-up, native build + Catch2 (via ctest), Python (pytest), JavaScript (node --test).
# Runs every suite even when one fails, then exits non-zero if any did.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
failed=()
run() {  # run NAME CMD...
  local name=$1
  shift
  echo "=== $name"
  "$@" || failed+=("$name")
}
PY=/usr/bin/python3  # Debian's interpreter: it sees python3-torch (TOOLCHAIN.md)

run "native build" scripts/build.sh native
run "C++ tests (ctest)" ctest --test-dir build/native --output-on-failure
run "C++ tests under ASan+UBSan" scripts/sanitize.sh
run "fuzzing (libFuzzer, ~1 min)" scripts/fuzz.sh 12
run "Python tests (pytest)" env OMP_NUM_THREADS=1 "$PY" -m pytest -q tests/python
run "WASM build" scripts/build.sh wasm
run "malformed weight files through node scripts/trm.mjs" tests/malformed/check.sh node scripts/trm.mjs
# Node 20 runs WASM relaxed SIMD only behind this flag (Node 22+ without it): with it, the suites test the
# relaxed-SIMD builds as well as the plain ones.
node_flags=()
if node --experimental-wasm-relaxed-simd -e 0 2>/dev/null; then node_flags=(--experimental-wasm-relaxed-simd); fi
# A test skips only when what it needs is missing (Chromium, a build, relaxed SIMD); set-up and the builds above
# provide all of it, so here a skip is a failure, never a pass.
node_suite() {  # node_suite LOG NODE_ARGS...
  local log=build/$1
  shift
  node --test-reporter=tap "$@" | tee "$log"
  local rc=${PIPESTATUS[0]}
  if grep -q '^# skipped [1-9]' "$log"; then
    echo "skipped tests (each needs something set-up should have provided):"
    grep -E '^ *(ok|not ok) .* # SKIP' "$log"
    return 1
  fi
  return "$rc"
}
run "JavaScript tests (node --test)" node_suite test-js.tap "${node_flags[@]}" --test tests/js/
run "Browser tests (headless chromium)" node_suite test-browser.tap --test tests/browser/

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all test suites passed"
