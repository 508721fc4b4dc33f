// The WebGPU backend end to end in headless Chromium on SwiftShader's WebGPU adapter (no GPU needed): every reference
// case of tests/vectors on WebGPU within the bound the WASM builds meet (tests/js/reference.test.mjs), latent state zH
// included; solves, their strategies and ARC batches step for step as on WASM; cancel within a step; the GPU failing
// mid-run (device lost, a submission failing) and the run going on on WASM; backend selection and its reasons,
// fallback when WebGPU is absent. SwiftShader is a software adapter: `backend: 'auto'` must not pick it, so the tests
// ask for 'webgpu'. No timings are asserted. Needs the WASM build; models go to test-output/webgpu/.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OUT, blankPage, launch, session, skipReason, waitForResult } from './harness.mjs';
import { argmaxMismatches, CASES, caseWeights, f16Round, readFile, reference, relativeError, SUDOKU } from '../js/helpers.mjs';
import { writeSafetensors } from '../../web/safetensors.js';
import { ARC_TASK, arcModelBytes } from '../js/arc-model.mjs';

const skip = skipReason();

const DIR = path.join(OUT, 'webgpu');
const url = (name) => `/test-output/webgpu/${name}.safetensors`;
const ARC_NAMES = ['<blank>', 'aaaa0001', 'aaaa0001|||t1|||0123456789', 'aaaa0001|||t6|||0987654321', 'aaaa0001|||t4|||0312456789'];

// A test double of the GPU failing mid-run, around the engine's worker (the page's Worker is swapped for it, see
// withFailingGpu): the query says which queue submission after the model's load fails (fail=N; the N-th network
// step) and how: how=destroy destroys the device first (a device lost: its buffers gone, `device.lost` resolves);
// how=invalid drops the submission with a validation error (the device and the carry on it intact).
const FAILING_WORKER = `
const q = new URL(import.meta.url).searchParams;
const failAt = Number(q.get('fail')), how = q.get('how');
const devices = [];
const requestDevice = GPUAdapter.prototype.requestDevice;
GPUAdapter.prototype.requestDevice = async function (...args) {
  const device = await requestDevice.apply(this, args);
  devices.push(device);
  return device;
};
let submits = -1;  // counted once the model is loaded (the load's check models submit too)
const submit = GPUQueue.prototype.submit;
GPUQueue.prototype.submit = function (buffers) {
  if (submits >= 0 && ++submits === failAt) {
    const device = devices[devices.length - 1];
    if (how === 'destroy') {
      device.destroy();
    } else {
      device.createBuffer({ size: 4, usage: 0 });  // a validation error in the step's error scope
      return undefined;
    }
  }
  return submit.call(this, buffers);
};
const post = self.postMessage.bind(self);
self.postMessage = (msg, transfer) => {
  if (submits < 0 && msg?.value?.config) submits = 0;
  post(msg, transfer);
};
await import('/web/trm-worker.js');
`;

// bypassCSP: the server's CSP forbids eval, and withModels builds each test's function from its text.
const env = session({ skip, browser: { webgpu: true, bypassCSP: true }, blank: true, prepare() {
  fs.mkdirSync(DIR, { recursive: true });
  for (const name of CASES) {
    fs.copyFileSync(caseWeights(name), path.join(DIR, `${name}.safetensors`));
    // The weights precision 'f16' rounds (the blocks' products: every L_level.layers tensor) rounded here, stored as
    // float32: what the WASM engine must compute to match WebGPU's 'f16'.
    const w = readFile(caseWeights(name));
    const entries = [...w.tensors].map(([n, t]) => [n, n.startsWith('L_level.layers.') && t.dtype === 'F32'
      ? { ...t, data: Float32Array.from(t.data, f16Round) } : t]);
    fs.writeFileSync(path.join(DIR, `${name}-f16-weights.safetensors`), writeSafetensors(entries, w.metadata));
  }
  fs.writeFileSync(path.join(DIR, 'arc.safetensors'), arcModelBytes('random', { names: ARC_NAMES, haltMaxSteps: 3 }));
  fs.writeFileSync(path.join(DIR, 'failing-worker.js'), FAILING_WORKER);
} });

// Loads `model` in the page with each backend in `backends` (and `options`) and returns what fn(trm, args) gives for
// each, with info.
async function withModels(model, backends, fn, args = {}, options = {}) {
  return env.page.evaluate(async ({ model, backends, fn, args, options }) => {
    const { TRM } = await import('/web/trm.js');
    const run = new Function('return ' + fn)();
    const out = {};
    for (const backend of backends) {
      const trm = await TRM.load(model, { ...options, backend, threads: 1 });
      try {
        const { backend: b, backendReason, adapter, wasm, precision, precisionReason } = trm.info;
        out[backend] = { info: { backend: b, backendReason, adapter, wasm, precision, precisionReason }, value: await run(trm, args) };
      } finally {
        trm.dispose();
      }
    }
    return out;
  }, { model, backends, fn: fn.toString(), args, options });
}

// As withModels(model, ['wasm', 'webgpu'], ...), the WebGPU engine's worker wrapped in FAILING_WORKER with `query`;
// also gives the WebGPU run's info as it was once loaded (`loaded`) and after fn (`info`).
async function withFailingGpu(model, query, fn, args = {}) {
  return env.page.evaluate(async ({ model, query, fn, args }) => {
    const { TRM } = await import('/web/trm.js');
    const run = new Function('return ' + fn)();
    const pick = ({ backend, backendReason, adapter, wasm }) => ({ backend, backendReason, adapter, wasm });
    const out = {};
    for (const backend of ['wasm', 'webgpu']) {
      const Native = globalThis.Worker;
      if (backend === 'webgpu') {
        globalThis.Worker = class extends Native {
          constructor(url, options) {
            super(String(url).endsWith('/web/trm-worker.js') ? `/test-output/webgpu/failing-worker.js?${query}` : url, options);
          }
        };
      }
      let trm;
      try {
        trm = await TRM.load(model, { backend, threads: 1 });
      } finally {
        globalThis.Worker = Native;
      }
      try {
        const loaded = pick(trm.info);
        const value = await run(trm, args);
        out[backend] = { loaded, info: pick(trm.info), value };
      } finally {
        trm.dispose();
      }
    }
    return out;
  }, { model, query, fn: fn.toString(), args });
}

// A solve's steps as plain objects (typed arrays as arrays).
const solveSteps = async (trm, { input, options }) => {
  const steps = [];
  for await (const s of trm.solve(input, options)) {
    steps.push({ step: s.step, prediction: typeof s.prediction === 'string' ? s.prediction : Array.from(s.prediction),
      qHalt: s.qHalt, changed: Array.from(s.changed), verified: s.verified, modelCalls: s.modelCalls, note: s.note, done: s.done,
      ...(s.logits ? { logits: Array.from(s.logits) } : {}) });
  }
  return steps;
};

describe('WebGPU backend on SwiftShader', { skip }, () => {
  test("backend 'auto' does not pick a software adapter: WASM, saying why; 'webgpu' takes it and says so", async () => {
    const r = await withModels(url('sudoku_mlp_t'), ['auto', 'webgpu'], async () => null);
    assert.match(r.auto.info.backend, /^wasm-/);
    assert.match(r.auto.info.backendReason, /software fallback.*running on WASM/);
    assert.equal(r.auto.info.adapter.fallback, true);
    assert.equal(r.webgpu.info.backend, 'webgpu');
    assert.match(r.webgpu.info.wasm, /^wasm-/);
    assert.match(r.webgpu.info.backendReason, /'webgpu' was asked for.*swiftshader.*check step agrees with WASM/);
  });

  for (const name of CASES) {
    test(`reference case ${name}: every step on WebGPU within the WASM build's bound, latent state zH included`, async () => {
      const ref = reference(name);
      const r = await withModels(url(name), ['webgpu'], async (trm, { tokens, ids, steps }) => {
        const out = await trm.predict(tokens, ids, { steps, zH: true });
        return out.steps.map((s) => ({ logits: Array.from(s.logits), qHalt: Array.from(s.qHalt), qContinue: Array.from(s.qContinue),
          zH: Array.from(s.zH) }));
      }, { tokens: Array.from(ref.get('inputs')), ids: Array.from(ref.get('puzzle_identifiers')), steps: ref.steps });
      assert.equal(r.webgpu.info.backend, 'webgpu');
      const steps = r.webgpu.value;
      assert.equal(steps.length, ref.steps);
      const V = Math.round(ref.get('step0.logits').length / ref.get('inputs').length);
      steps.forEach((s, k) => {
        const p = `step${k}.`;
        const e = relativeError(Float32Array.from(s.logits), ref.get(`${p}logits`));
        assert.ok(e <= 1e-4, `step ${k} logits: relative error ${e}`);
        assert.ok(relativeError(Float32Array.from(s.qHalt), ref.get(`${p}q_halt_logits`)) <= 1e-4, `step ${k} q_halt`);
        assert.ok(relativeError(Float32Array.from(s.qContinue), ref.get(`${p}q_continue_logits`)) <= 1e-4, `step ${k} q_continue`);
        assert.equal(argmaxMismatches(Float32Array.from(s.logits), ref.get(`${p}logits`), V), 0, `step ${k} argmax`);
        const ez = relativeError(Float32Array.from(s.zH), ref.get(`${p}z_H`));
        assert.ok(ez <= 1e-4, `step ${k} zH: relative error ${ez}`);
      });
    });
  }

  // Strategies run in the C++ solve loop, which asks the GPU for each network step: the same steps on both backends.
  for (const options of [{ halt: 'never', logits: true }, { strategy: 'vote', copies: 4, maxSteps: 3 }, { strategy: 'commit', copies: 3, maxCalls: 18 },
    { strategy: 'commit', copies: 2, maxCalls: 12, roundSteps: 2, carry: true }, { strategy: 'steps', maxSteps: 4 }]) {
    test(`solve (${JSON.stringify(options)}) streams the same steps on WebGPU as on WASM`, async () => {
      const r = await withModels(url('sudoku_att_rope'), ['wasm', 'webgpu'], solveSteps, { input: SUDOKU, options });
      assert.equal(r.webgpu.info.backend, 'webgpu');
      const [want, got] = [r.wasm.value, r.webgpu.value];
      assert.ok(want.length > 0);
      assert.equal(got.length, want.length);
      got.forEach((s, k) => {
        const w = want[k];
        assert.deepEqual({ ...s, qHalt: 0, logits: 0 }, { ...w, qHalt: 0, logits: 0 }, `step ${k + 1}`);
        assert.ok(Math.abs(s.qHalt - w.qHalt) <= 1e-4 * Math.max(1, Math.abs(w.qHalt)), `step ${k + 1} qHalt ${s.qHalt} vs ${w.qHalt}`);
        if (options.logits) {
          const e = relativeError(Float32Array.from(s.logits), Float32Array.from(w.logits));
          assert.ok(w.logits.length > 0 && e <= 1e-4, `step ${k + 1} logits: relative error ${e}`);
        }
      });
    });
  }

  test('ARC: the augmented copies run as one batch on WebGPU, the attempts and their cell certainty as on WASM', async () => {
    const r = await withModels(url('arc'), ['wasm', 'webgpu'], async (trm, { task }) => {
      const steps = [];
      for await (const s of trm.solve(task, { taskId: 'aaaa0001', halt: 'never', certainty: true })) {
        steps.push({ step: s.step, copies: s.copies, active: s.active, distinct: s.distinct,
          attempts: s.attempts.map((a) => ({ grid: a.grid, votes: a.votes, confidence: a.confidence, certainty: a.certainty })) });
      }
      return steps;
    }, { task: ARC_TASK });
    assert.equal(r.webgpu.info.backend, 'webgpu');
    const [want, got] = [r.wasm.value, r.webgpu.value];
    assert.equal(got.length, want.length);
    assert.ok(want[0].copies >= 4);
    got.forEach((s, k) => {
      assert.deepEqual(s.attempts.map((a) => [a.grid, a.votes]), want[k].attempts.map((a) => [a.grid, a.votes]), `step ${k + 1}`);
      s.attempts.forEach((a, i) => {
        const w = want[k].attempts[i];
        assert.ok(Math.abs(a.confidence - w.confidence) < 1e-4);
        assert.ok(a.certainty.flat().every((p, j) => Math.abs(p - w.certainty.flat()[j]) <= 2e-4), 'cell certainty');
      });
    });
  });

  test('cancel within a step: the step in flight on the GPU is abandoned, the run ends at once', async () => {
    // A step of this model takes seconds on SwiftShader: the cancel, sent as step 1 arrives, finds step 2 in flight.
    const r = await withModels(url('sudoku_att_rope'), ['webgpu'], async (trm, { input }) => {
      const run = trm.solve(input, { halt: 'never' });
      const seen = [];
      for await (const s of run) {
        seen.push(s.step);
        run.cancel();
      }
      const last = await run.result;
      // The worker still answers, and the model still runs after the abandoned step.
      const again = await trm.solve(input, { halt: 'never', maxSteps: 1 }).result;
      return { seen, last: last.step, computed: run.stepsComputed, again: again.step };
    }, { input: SUDOKU });
    assert.deepEqual(r.webgpu.value, { seen: [1], last: 1, computed: 1, again: 1 });
  });
});

// LoadOptions.precision: float16 weights on WebGPU. SwiftShader has no shader-f16, so 'auto' keeps float32 there;
// 'f16' (packed float16 storage, no shader-f16 needed) runs, and is measured on every reference case as int8 weights
// were (tests/js/int8.test.mjs): the logits within 1e-2 x max |logit| of the float32 reference, the same argmax where
// its top two logits are 1e-2 of that scale apart; the numbers go to the test's diagnostics.
describe('precision on WebGPU', { skip }, () => {
  test("'f32' by default; 'auto' without shader-f16 keeps float32 and says why; the WASM engine is float32", async () => {
    const none = async () => null;
    const byDefault = await withModels(url('sudoku_mlp_t'), ['webgpu', 'wasm'], none);
    const auto = await withModels(url('sudoku_mlp_t'), ['webgpu', 'wasm'], none, {}, { precision: 'auto' });
    const f16 = await withModels(url('sudoku_mlp_t'), ['wasm'], none, {}, { precision: 'f16' });
    assert.deepEqual([byDefault.webgpu.info.precision, byDefault.webgpu.info.precisionReason], ['f32', "precision 'f32' was asked for"]);
    assert.equal(auto.webgpu.info.adapter.shaderF16, false);
    assert.deepEqual([auto.webgpu.info.precision, auto.webgpu.info.precisionReason],
      ['f32', 'auto: the adapter does not offer shader-f16; float32']);
    for (const r of [byDefault.wasm, auto.wasm, f16.wasm]) {
      assert.deepEqual([r.info.precision, r.info.precisionReason], ['f32', 'the network runs on WASM, in float32']);
    }
    const refused = await env.page.evaluate(async (model) => {
      const { TRM } = await import('/web/trm.js');
      return TRM.load(model, { precision: 'f8', threads: 1 }).then((t) => { t.dispose(); return null; }, (e) => e.message);
    }, url('sudoku_mlp_t'));
    assert.equal(refused, `TRM.load: option precision = "f8"; expected 'f32', 'f16' or 'auto'`);
  });

  for (const name of CASES) {
    test(`precision 'f16', reference case ${name}: as WASM on the rounded weights; measured against float32`, async (t) => {
      const ref = reference(name);
      const fn = async (trm, { tokens, ids, steps }) => {
        const out = await trm.predict(tokens, ids, { steps });
        return out.steps.map((s) => ({ logits: Array.from(s.logits), qHalt: Array.from(s.qHalt) }));
      };
      const args = { tokens: Array.from(ref.get('inputs')), ids: Array.from(ref.get('puzzle_identifiers')), steps: ref.steps };
      const gpu = (await withModels(url(name), ['webgpu'], fn, args, { precision: 'f16' })).webgpu;
      const wasm = (await withModels(url(`${name}-f16-weights`), ['wasm'], fn, args)).wasm;
      assert.equal(gpu.info.precision, 'f16');
      assert.match(gpu.info.precisionReason, /^precision 'f16' was asked for; float16 weights, float32 math; check step within 0\.01 of WASM/);
      const V = Math.round(ref.get('step0.logits').length / ref.get('inputs').length);
      const stats = gpu.value.map((s, k) => {
        const got = Float32Array.from(s.logits), same = Float32Array.from(wasm.value[k].logits), want = ref.get(`step${k}.logits`);
        // What float16 storage computes: the engine's float32 math on the rounded weights, to the float32 bound.
        const e = relativeError(got, same);
        assert.ok(e <= 1e-4, `step ${k} logits against WASM on the rounded weights: relative error ${e}`);
        assert.ok(relativeError(Float32Array.from(s.qHalt), Float32Array.from(wasm.value[k].qHalt)) <= 1e-4, `step ${k} q_halt`);
        assert.equal(argmaxMismatches(got, same, V), 0, `step ${k} argmax`);
        // What the rounding costs, against the float32 reference.
        let maxAbs = 0, agree = 0;
        for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
        const arg = (a, p) => { let b = 0; for (let v = 1; v < V; v++) if (a[p * V + v] > a[p * V + b]) b = v; return b; };
        for (let p = 0; p < want.length / V; p++) agree += arg(got, p) === arg(want, p);
        return { step: k, maxAbs: +maxAbs.toPrecision(3), rel: +relativeError(got, want).toPrecision(3), argmaxAgree: `${agree}/${want.length / V}` };
      });
      t.diagnostic(`${name} f16 against the float32 reference: ${JSON.stringify(stats)}`);
      // The load's check bound on the first step; these random models' recursion then compounds the rounding step by
      // step (sudoku_mlp_t reaches 1.2e-2 at step 4, where int8 weights reach 0.29), hence twice that after it.
      assert.ok(stats[0].rel <= 1e-2, `step 0: relative error ${stats[0].rel}`);
      stats.forEach((x) => assert.ok(x.rel <= 2e-2 && x.rel > 1e-6, `step ${x.step}: relative error ${x.rel}`));
    });
  }
});

// The GPU failing mid-run: the worker moves the network to WASM for good, says why in trm.info, and the run goes on
// without a gap: the same steps as a run on WASM alone.
describe('the GPU failing during a run', { skip }, () => {
  const sameSteps = (got, want) => {
    assert.ok(want.length > 1);
    assert.deepEqual(got.map((s) => s.step), want.map((s) => s.step));
    got.forEach((s, k) => {
      const w = want[k];
      assert.deepEqual({ ...s, qHalt: 0 }, { ...w, qHalt: 0 }, `step ${k + 1}`);
      assert.ok(Math.abs(s.qHalt - w.qHalt) <= 1e-4 * Math.max(1, Math.abs(w.qHalt)), `step ${k + 1} qHalt ${s.qHalt} vs ${w.qHalt}`);
    });
  };
  // The solve, then a second one: the model stays on WASM.
  const twoSolves = async (trm, { input, options }) => {
    const steps = [];
    for await (const s of trm.solve(input, options)) {
      steps.push({ step: s.step, prediction: s.prediction, qHalt: s.qHalt, changed: Array.from(s.changed), modelCalls: s.modelCalls, note: s.note, done: s.done });
    }
    const again = await trm.solve(input, { ...options, maxSteps: 1 }).result;
    return { steps, again: again.prediction };
  };

  test('device lost at step 3: the solve starts again on WASM unseen and goes on from step 3; info says why', async () => {
    const options = { strategy: 'commit', copies: 2, maxCalls: 12, roundSteps: 2 };
    const r = await withFailingGpu(url('sudoku_att_rope'), 'fail=3&how=destroy', twoSolves, { input: SUDOKU, options });
    assert.equal(r.webgpu.loaded.backend, 'webgpu');
    assert.equal(r.webgpu.info.backend, r.wasm.info.backend);
    assert.equal(r.webgpu.info.wasm, r.wasm.info.wasm);
    assert.match(r.webgpu.info.backendReason, /^WebGPU failed during a run \(the WebGPU device was lost \(destroyed: .*\)\); running on WASM since: /);
    assert.match(r.webgpu.info.backendReason, /started again on WASM \(its 2 steps so far recomputed, not delivered again\)/);
    assert.equal(r.webgpu.info.adapter.architecture, 'swiftshader');
    sameSteps(r.webgpu.value.steps, r.wasm.value.steps);
    assert.ok(r.webgpu.value.steps.length >= 3);
    assert.equal(r.webgpu.value.again, r.wasm.value.again);
  });

  test('a submission failing at step 2 on a live device: the solve goes on from the carry read back from the GPU', async () => {
    const options = { halt: 'never' };
    const r = await withFailingGpu(url('sudoku_att_rope'), 'fail=2&how=invalid', twoSolves, { input: SUDOKU, options });
    assert.equal(r.webgpu.loaded.backend, 'webgpu');
    assert.equal(r.webgpu.info.backend, r.wasm.info.backend);
    assert.match(r.webgpu.info.backendReason, /^WebGPU failed during a run \(webgpu: the step failed \(.*\)\); running on WASM since: the run in progress went on from its carry, read back from the GPU$/);
    sameSteps(r.webgpu.value.steps, r.wasm.value.steps);
    assert.equal(r.webgpu.value.again, r.wasm.value.again);
  });

  test('ARC: device lost at step 2 of the batch of copies; the attempts as on WASM', async () => {
    const r = await withFailingGpu(url('arc'), 'fail=2&how=destroy', async (trm, { task }) => {
      const steps = [];
      for await (const s of trm.solve(task, { taskId: 'aaaa0001', halt: 'never', certainty: true })) {
        steps.push({ step: s.step, active: s.active, attempts: s.attempts.map((a) => ({ grid: a.grid, votes: a.votes, confidence: a.confidence })) });
      }
      return steps;
    }, { task: ARC_TASK });
    assert.match(r.webgpu.info.backendReason, /device was lost.*started again on WASM \(its 1 step so far recomputed/);
    const [want, got] = [r.wasm.value, r.webgpu.value];
    assert.equal(want.length, 3);
    assert.deepEqual(got.map((s) => [s.step, s.active]), want.map((s) => [s.step, s.active]));
    got.forEach((s, k) => {
      assert.deepEqual(s.attempts.map((a) => [a.grid, a.votes]), want[k].attempts.map((a) => [a.grid, a.votes]), `step ${k + 1}`);
      s.attempts.forEach((a, i) => assert.ok(Math.abs(a.confidence - want[k].attempts[i].confidence) < 1e-4));
    });
  });

  for (const how of ['invalid', 'destroy']) {
    test(`predict with zH, the GPU failing (${how}) at step 2: every step as on WASM`, async () => {
      const ref = reference('sudoku_mlp_t');
      const r = await withFailingGpu(url('sudoku_mlp_t'), `fail=2&how=${how}`, async (trm, { tokens, ids }) => {
        const out = await trm.predict(tokens, ids, { steps: 4, zH: true });
        return out.steps.map((s) => ({ logits: Array.from(s.logits), qHalt: Array.from(s.qHalt), zH: Array.from(s.zH) }));
      }, { tokens: Array.from(ref.get('inputs')), ids: Array.from(ref.get('puzzle_identifiers')) });
      assert.match(r.webgpu.info.backendReason, how === 'invalid' ? /went on from its carry/ : /device was lost.*its 1 step so far recomputed/);
      const [want, got] = [r.wasm.value, r.webgpu.value];
      assert.equal(got.length, 4);
      got.forEach((s, k) => {
        for (const key of ['logits', 'qHalt', 'zH']) {
          const e = relativeError(Float32Array.from(s[key]), Float32Array.from(want[k][key]));
          assert.ok(e <= 1e-4, `step ${k + 1} ${key}: relative error ${e}`);
        }
      });
    });
  }
});

describe('the page on WebGPU', { skip }, () => {
  test('a link with backend=webgpu: the model panel names WebGPU, and a sudoku is solved step by step on it', async () => {
    const p = await env.browser.context.newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(`${env.server.url}#sudoku=${SUDOKU}&solve=1&backend=webgpu&model=..${url('sudoku_att_rope')}`);
    const r = await waitForResult(p);
    const engine = await p.evaluate(() =>
      [...document.querySelectorAll('#model-info dt')].find((d) => d.textContent === 'Engine').nextElementSibling.textContent);
    assert.equal(r.state, 'done', r.verdict);
    assert.match(engine, /^WebGPU \(google swiftshader\) with wasm-/);
    assert.deepEqual(errors, []);
    await p.close();
  });
});

describe('the page with the GPU failing during a solve', { skip }, () => {
  test('the device lost at step 1: the solve ends on WASM and the model panel says the engine moved there', async () => {
    const p = await env.browser.context.newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.addInitScript(() => {
      const Native = globalThis.Worker;
      globalThis.Worker = class extends Native {
        constructor(u, options) {
          super(String(u).endsWith('/web/trm-worker.js') ? '/test-output/webgpu/failing-worker.js?fail=1&how=destroy' : u, options);
        }
      };
    });
    await p.goto(`${env.server.url}#sudoku=${SUDOKU}&solve=1&backend=webgpu&model=..${url('sudoku_att_rope')}`);
    const r = await waitForResult(p);
    const engine = await p.evaluate(() =>
      [...document.querySelectorAll('#model-info dt')].find((d) => d.textContent === 'Engine').nextElementSibling.textContent);
    assert.equal(r.state, 'done', r.verdict);
    assert.match(engine, /^wasm-.*threads? \(WebGPU failed during a run: moved to WASM\)$/);
    assert.deepEqual(errors, []);
    await p.close();
  });
});

describe('WebGPU absent', { skip }, () => {
  test("Chromium without WebGPU's flags: 'auto' runs on WASM and says why; 'webgpu' refuses to load", async () => {
    const plain = await launch();
    try {
      const p = await blankPage(plain.context, env.server.origin);
      const r = await p.evaluate(async (model) => {
        const { TRM } = await import('/web/trm.js');
        const trm = await TRM.load(model, { threads: 1 });
        const info = { backend: trm.info.backend, backendReason: trm.info.backendReason, gpu: !!navigator.gpu };
        const steps = [];
        for await (const s of trm.solve('..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3..', { maxSteps: 1 })) steps.push(s.step);
        trm.dispose();
        const refused = await TRM.load(model, { threads: 1, backend: 'webgpu' }).then((t) => { t.dispose(); return null; }, (e) => e.message);
        return { info, steps, refused };
      }, url('sudoku_att_rope'));
      assert.match(r.info.backend, /^wasm-/);
      assert.match(r.info.backendReason, /WebGPU|navigator\.gpu/);
      assert.match(r.info.backendReason, /running on WASM/);
      assert.deepEqual(r.steps, [1]);
      assert.match(r.refused, /backend 'webgpu'/);
    } finally {
      await plain.close();
    }
  });
});
