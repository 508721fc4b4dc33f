// The C++ kernel tests (tests/cpp/test_kernels.cpp: every SIMD GEMM kernel and the other kernels against the Eigen
// path, on sizes with every tile remainder) built for WASM by scripts/build_wasm_tests.sh, run under Node: the same
// tests that ctest runs natively with the SSE mapping, here on the instruction sets the browser runs: SIMD128, and
// relaxed SIMD (fused multiply-add, rewritten to the standard opcode by scripts/wasm_relaxed_madd.mjs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { NO_RELAXED_SIMD, ROOT } from './helpers.mjs';

for (const [file, isa, noEngine] of [['kernel_tests.cjs', 'WASM SIMD', false],
  ['kernel_tests_relaxed.cjs', 'WASM relaxed-SIMD', NO_RELAXED_SIMD]]) {
  const TESTS = path.join(ROOT, 'build/wasm/tests', file);
  const skip = noEngine || (fs.existsSync(TESTS) ? false : `build/wasm/tests/${file} is not built (scripts/build.sh wasm)`);
  test(`kernel tests pass in the ${isa} build`, { skip, timeout: 300_000 }, () => {
    // Among them: simd_name() is "wasmsimd" or "wasmsimd-relaxed", the build's mapping of simd.h, not the scalar one.
    const flags = process.execArgv.filter((a) => a === '--experimental-wasm-relaxed-simd');  // Node 20's switch
    const r = spawnSync(process.execPath, [...flags, TESTS, '--use-colour', 'no'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /All tests passed/);
  });
}
