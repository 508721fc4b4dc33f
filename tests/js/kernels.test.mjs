// The C++ kernel tests (tests/cpp/test_kernels.cpp: every SIMD GEMM kernel and the other kernels against the Eigen
// path, on sizes with every tile remainder) built for WASM SIMD128 by scripts/build_wasm_tests.sh, run under Node:
// the same tests that ctest runs natively with the SSE mapping, here on the instruction set the browser runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { ROOT } from './helpers.mjs';

const TESTS = path.join(ROOT, 'build/wasm/tests/kernel_tests.cjs');
const skip = fs.existsSync(TESTS) ? false : 'build/wasm/tests/kernel_tests.cjs is not built (scripts/build.sh wasm)';

test('kernel tests pass in the WASM SIMD build', { skip, timeout: 300_000 }, () => {
  // Among them: simd_name() is "wasmsimd", the WASM mapping of simd.h, not the scalar fallback.
  const r = spawnSync(process.execPath, [TESTS, '--use-colour', 'no'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /All tests passed/);
});
