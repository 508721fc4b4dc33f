// TRM.load's `backend` and `precision` options where there is no WebGPU at all (Node has no navigator.gpu): 'auto'
// runs on WASM and says why, 'webgpu' refuses to load, a wrong value is refused before any work. The WebGPU backend itself is tested in
// headless Chromium (tests/browser/webgpu.test.mjs, webgpu-kernels.test.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { TRM } from '../../web/trm.js';
import { caseWeights, SIMD_BACKEND, SUDOKU } from './helpers.mjs';

test("backend 'auto' without navigator.gpu: the WASM build, with the reason in info", async () => {
  const trm = await TRM.load(caseWeights('sudoku_mlp_t'), { threads: 1 });
  try {
    assert.equal(trm.info.backend, SIMD_BACKEND);
    assert.equal(trm.info.wasm, SIMD_BACKEND);
    assert.equal(trm.info.backendReason, 'WebGPU is not available here (no navigator.gpu); running on WASM');
    assert.equal(trm.info.adapter, null);
    const steps = [];
    for await (const s of trm.solve(SUDOKU, { maxSteps: 2, halt: 'never' })) steps.push(s.step);
    assert.deepEqual(steps, [1, 2]);
  } finally {
    trm.dispose();
  }
});

test("backend 'wasm' says it was asked for; 'webgpu' without WebGPU rejects; other values are refused", async () => {
  const trm = await TRM.load(caseWeights('sudoku_mlp_t'), { threads: 1, backend: 'wasm' });
  assert.equal(trm.info.backend, SIMD_BACKEND);
  assert.equal(trm.info.backendReason, "backend 'wasm' was asked for");
  trm.dispose();
  await assert.rejects(TRM.load(caseWeights('sudoku_mlp_t'), { threads: 1, backend: 'webgpu' }),
    { message: "TRM.load: backend 'webgpu': WebGPU is not available here (no navigator.gpu)" });
  await assert.rejects(TRM.load(caseWeights('sudoku_mlp_t'), { backend: 'gpu' }),
    { message: "TRM.load: option backend = \"gpu\"; expected 'auto', 'webgpu' or 'wasm'" });
});

test("precision without WebGPU: the WASM engine's float32 whatever is asked, said in info; other values are refused", async () => {
  for (const precision of [undefined, 'f16', 'auto']) {
    const trm = await TRM.load(caseWeights('sudoku_mlp_t'), { threads: 1, precision });
    try {
      assert.equal(trm.info.precision, 'f32');
      assert.equal(trm.info.precisionReason, 'the network runs on WASM, in float32');
    } finally {
      trm.dispose();
    }
  }
  await assert.rejects(TRM.load(caseWeights('sudoku_mlp_t'), { precision: 'fp16' }),
    { message: "TRM.load: option precision = \"fp16\"; expected 'f32', 'f16' or 'auto'" });
});
