// The WebGPU backend end to end in headless Chromium on SwiftShader's WebGPU adapter (no GPU needed): every reference
// case of tests/vectors on WebGPU within the bound the WASM builds meet (tests/js/reference.test.mjs); solves, their
// strategies and ARC batches step for step as on WASM; cancel within a step; backend selection and its reasons,
// fallback when WebGPU is absent. SwiftShader is a software adapter: `backend: 'auto'` must not pick it, so the tests
// ask for 'webgpu'. No timings are asserted. Needs the WASM build; models go to test-output/webgpu/.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OUT, blankPage, launch, session, skipReason, waitForResult } from './harness.mjs';
import { argmaxMismatches, CASES, caseWeights, reference, relativeError, SUDOKU } from '../js/helpers.mjs';
import { ARC_TASK, arcModelBytes } from '../js/arc-model.mjs';

const skip = skipReason();

const DIR = path.join(OUT, 'webgpu');
const url = (name) => `/test-output/webgpu/${name}.safetensors`;
const ARC_NAMES = ['<blank>', 'aaaa0001', 'aaaa0001|||t1|||0123456789', 'aaaa0001|||t6|||0987654321', 'aaaa0001|||t4|||0312456789'];

// bypassCSP: the server's CSP forbids eval, and withModels builds each test's function from its text.
const env = session({ skip, browser: { webgpu: true, bypassCSP: true }, blank: true, prepare() {
  fs.mkdirSync(DIR, { recursive: true });
  for (const name of CASES) fs.copyFileSync(caseWeights(name), path.join(DIR, `${name}.safetensors`));
  fs.writeFileSync(path.join(DIR, 'arc.safetensors'), arcModelBytes('random', { names: ARC_NAMES, haltMaxSteps: 3 }));
} });

// Loads `model` in the page with each backend in `backends` and returns what fn(trm, args) gives for each, with info.
async function withModels(model, backends, fn, args = {}) {
  return env.page.evaluate(async ({ model, backends, fn, args }) => {
    const { TRM } = await import('/web/trm.js');
    const run = new Function('return ' + fn)();
    const out = {};
    for (const backend of backends) {
      const trm = await TRM.load(model, { backend, threads: 1 });
      try {
        const { backend: b, backendReason, adapter, wasm } = trm.info;
        out[backend] = { info: { backend: b, backendReason, adapter, wasm }, value: await run(trm, args) };
      } finally {
        trm.dispose();
      }
    }
    return out;
  }, { model, backends, fn: fn.toString(), args });
}

// A solve's steps as plain objects (typed arrays as arrays).
const solveSteps = async (trm, { input, options }) => {
  const steps = [];
  for await (const s of trm.solve(input, options)) {
    steps.push({ step: s.step, prediction: typeof s.prediction === 'string' ? s.prediction : Array.from(s.prediction),
      qHalt: s.qHalt, changed: Array.from(s.changed), verified: s.verified, modelCalls: s.modelCalls, note: s.note, done: s.done });
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
    test(`reference case ${name}: every step on WebGPU within the WASM build's bound`, async () => {
      const ref = reference(name);
      const r = await withModels(url(name), ['webgpu'], async (trm, { tokens, ids, steps }) => {
        const out = await trm.predict(tokens, ids, { steps });
        return out.steps.map((s) => ({ logits: Array.from(s.logits), qHalt: Array.from(s.qHalt), qContinue: Array.from(s.qContinue) }));
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
      });
    });
  }

  // Strategies run in the C++ solve loop, which asks the GPU for each network step: the same steps on both backends.
  for (const options of [{ halt: 'never' }, { strategy: 'vote', copies: 4, maxSteps: 3 }, { strategy: 'commit', copies: 3, maxCalls: 18 }]) {
    test(`solve (${JSON.stringify(options)}) streams the same steps on WebGPU as on WASM`, async () => {
      const r = await withModels(url('sudoku_att_rope'), ['wasm', 'webgpu'], solveSteps, { input: SUDOKU, options });
      assert.equal(r.webgpu.info.backend, 'webgpu');
      const [want, got] = [r.wasm.value, r.webgpu.value];
      assert.ok(want.length > 0);
      assert.equal(got.length, want.length);
      got.forEach((s, k) => {
        const w = want[k];
        assert.deepEqual({ ...s, qHalt: 0 }, { ...w, qHalt: 0 }, `step ${k + 1}`);
        assert.ok(Math.abs(s.qHalt - w.qHalt) <= 1e-4 * Math.max(1, Math.abs(w.qHalt)), `step ${k + 1} qHalt ${s.qHalt} vs ${w.qHalt}`);
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
