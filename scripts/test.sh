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
run "JavaScript tests (node --test)" node "${node_flags[@]}" --test tests/js/
run "Browser tests (headless chromium)" node --test tests/browser/

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all test suites passed"
