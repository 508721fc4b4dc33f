// Hostile inputs through WASM, the JS API, the worker and both CLIs (issue 22): deep JSON refused without a leak, an
// atomic model swap, the per-step compute budget, cancel inside a step, escaped control characters and one rule for
// puzzle text on both CLIs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { TRM } from '../../web/trm.js';
import { ARC_TASK, ARC_TASK_ID, arcModelBytes } from './arc-model.mjs';
import { ENGINE_WORKER, FAULT_WORKER, nativeBuilt, NATIVE_CLI, ROOT, SUDOKU } from './helpers.mjs';
import { modelBytes } from './hostile-models.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-js-hostile-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const nested = (depth) => '['.repeat(depth) + ']'.repeat(depth);
const collect = async (run) => { const steps = []; for await (const s of run) steps.push(s); return steps; };

describe('deeply nested JSON through WASM', () => {
  test('an ARC task nested a million levels deep is refused with a clear error, and the heap is as before', async () => {
    const trm = await TRM.load(arcModelBytes('copy'), { threads: 1 });
    try {
      await trm.solve(ARC_TASK, { taskId: ARC_TASK_ID, maxSteps: 1 }).result;
      // One refusal first: the engine keeps the last message (lastError), whose string grows once to its length.
      await assert.rejects(trm.solve(`{"train": ${nested(100)}, "test": []}`, { taskId: ARC_TASK_ID, label: 'deep.json' }).result);
      const before = await trm.memory();
      for (const depth of [65, 100_000, 1_000_000]) {
        const deep = nested(depth);
        for (const task of [`{"train": ${deep}, "test": []}`, `{"train":[{"input":[[${deep}]],"output":[[1]]}],"test":[{"input":[[1]]}]}`]) {
          await assert.rejects(trm.solve(task, { taskId: ARC_TASK_ID, label: 'deep.json' }).result,
            { message: /^deep\.json: JSON nested deeper than 64 levels \(arrays and objects\) at byte \d+; expected a shallow document$/ });
        }
      }
      assert.equal((await trm.memory()).heapUsed, before.heapUsed, 'nothing leaked');
      const steps = await collect(trm.solve(ARC_TASK, { taskId: ARC_TASK_ID, halt: 'never', maxSteps: 2 }));
      assert.equal(steps.length, 2, 'the engine still solves');
    } finally {
      trm.dispose();
    }
  });

  test('weight-file metadata nested too deep is refused by TRM.load with the file and field', async () => {
    const bytes = modelBytes({}, { task: `{"kind": "sudoku", "x": ${nested(100_000)}}` });
    await assert.rejects(TRM.load(bytes, { threads: 1, label: 'deep.safetensors' }),
      { message: /^deep\.safetensors: metadata 'task': JSON nested deeper than 64 levels/ });
  });
});

// The worker driven directly (as web/trm.js does in Node), for requests the public API does not expose, run by
// tests/js/fault-worker.mjs so that a test can arm a fault (arm).
const BOOTSTRAP = `
  const { parentPort, workerData } = require('node:worker_threads');
  globalThis.self = globalThis;
  globalThis.postMessage = (msg, transfer) => parentPort.postMessage(msg, transfer);
  parentPort.on('message', (data) => globalThis.onmessage({ data }));
  import(workerData.url);`;
function startEngine() {
  const w = new Worker(BOOTSTRAP, { eval: true, workerData: { url: FAULT_WORKER, worker: ENGINE_WORKER } });
  const pending = new Map();
  let nextId = 1;
  const ready = new Promise((resolve) => {
    w.on('message', (m) => {
      if (m.ready) return resolve();
      const p = pending.get(m.id);
      if (m.step) return p.steps.push(m.step);
      pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve({ value: m.value, steps: p.steps });
    });
  });
  const request = (msg) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject, steps: [] });
    w.postMessage({ ...msg, id });
  });
  return { ready, request, arm: (fault) => w.postMessage({ fault }), close: () => w.terminate() };
}

describe('an atomic model swap in the worker', () => {
  test('a load that fails after the model was read (no memory for its solver) leaves the old model: its info, its solves, its memory', async () => {
    const engine = startEngine();
    try {
      await engine.ready;
      const old = modelBytes({ hidden_size: 16, halt_max_steps: 3 });
      const next = modelBytes({ hidden_size: 32, halt_max_steps: 5 }, { seed: 2 });
      // Small weights (one layer of hidden_size 256, under 3 MB), large activations (4,096 positions: about 55 MB for
      // a one-slot solver). With memory growth refused the weights still fit in the heap and the solver does not.
      const wide = modelBytes({ seq_len: 4096, hidden_size: 256, num_heads: 2 }, { task: { kind: 'generic' }, seed: 3 });
      const loaded = (await engine.request({ type: 'load', bytes: old.buffer, label: 'old.safetensors', threads: 1 })).value;
      const solveAll = async () => (await engine.request({ type: 'solve', input: SUDOKU, halt: 'never' })).steps;
      const memory = async () => (await engine.request({ type: 'memory' })).value;
      const first = await solveAll();
      // One refusal first: the engine keeps the last message (lastError), whose string grows once to its length.
      await assert.rejects(engine.request({ type: 'load', bytes: new ArrayBuffer(3), label: 'short.safetensors', threads: 1 }));
      const heap = await memory();
      assert.ok(heap.heapSize - heap.heapUsed > 4 * wide.length, 'the wide model file and its weights fit without growth');
      engine.arm('noGrowth');
      await assert.rejects(engine.request({ type: 'load', bytes: wide.buffer, label: 'wide.safetensors', threads: 1 }),
        { message: /^load: wide\.safetensors: out of memory: its weights \([0-9.]+ MB in the file\)/ });
      engine.arm(null);
      assert.equal((await memory()).heapSize, heap.heapSize, 'memory did not grow');
      const info = (await engine.request({ type: 'info' })).value;
      assert.equal(info.config.hidden_size, 16);
      assert.deepEqual(info, loaded);
      const again = await solveAll();
      assert.equal(again.length, 3, "the old model's halt_max_steps");
      assert.deepEqual(again.map((s) => s.prediction), first.map((s) => s.prediction));
      assert.equal((await memory()).heapUsed, heap.heapUsed, 'the new model and its solver were freed');
      // The same file loads once memory may grow: it was the solver that did not fit.
      assert.equal((await engine.request({ type: 'load', bytes: wide.buffer, label: 'wide.safetensors', threads: 1 })).value.config.seq_len, 4096);
      assert.ok((await memory()).heapSize > heap.heapSize, 'memory grew for the solver');
      // And a load that succeeds does swap.
      assert.equal((await engine.request({ type: 'load', bytes: next.buffer, label: 'next.safetensors', threads: 1 })).value.config.hidden_size, 32);
      assert.equal((await solveAll()).length, 5);
    } finally {
      await engine.close();
    }
  });
});

describe('compute budget and cancel inside a step', () => {
  test('a config above 1 TFLOP per step is refused at load; the same cycles on a small network load', async () => {
    // 64 x 65 blocks over 4,096 positions, each mostly attention (4 x 4096^2 x 64 flops): about 20 TFLOP a step.
    await assert.rejects(TRM.load(modelBytes({ seq_len: 4096, vocab_size: 11, hidden_size: 64, num_heads: 2, H_cycles: 64, L_cycles: 64 },
      { task: { kind: 'generic' } }), { threads: 1, label: 'slow.safetensors' }),
    { message: /^slow\.safetensors: metadata 'config': one supervision step needs \d+ TFLOP \(H_cycles 64 x \(L_cycles 64 \+ 1\) x L_layers 1 blocks over 4096 positions of hidden_size 64\); the limit is 1 TFLOP per step$/ });
    const trm = await TRM.load(modelBytes({ hidden_size: 32, num_heads: 1, H_cycles: 64, L_cycles: 64 }), { threads: 1 });
    assert.equal(trm.info.config.L_cycles, 64);
    trm.dispose();
  });

  test('a cancel sent before the first step ends stops it inside that step; the next solve is unaffected', async () => {
    // 8 x 9 x 2 = 144 blocks per step: a cancel that waited for the step's end would see one step computed.
    const trm = await TRM.load(modelBytes({ hidden_size: 64, L_layers: 2, H_cycles: 8, L_cycles: 8 }), { threads: 1 });
    try {
      const reference = await collect(trm.solve(SUDOKU, { halt: 'never', maxSteps: 2 }));
      for (let i = 0; i < 3; ++i) {
        const run = trm.solve(SUDOKU, { halt: 'never' });
        run.cancel();
        assert.equal(await run.result, null, 'no step delivered');
        assert.equal(run.stepsComputed, 0, 'the engine stopped inside its first step');
      }
      const after = await collect(trm.solve(SUDOKU, { halt: 'never', maxSteps: 2 }));
      assert.deepEqual(after.map((s) => s.prediction), reference.map((s) => s.prediction));
    } finally {
      trm.dispose();
    }
  });
});

const skipCli = nativeBuilt() ? false : 'build/native/trm is not built (scripts/build.sh native)';
const native = (...args) => spawnSync(NATIVE_CLI, args, { encoding: 'utf8' });
const node = (...args) => spawnSync(process.execPath, [path.join(ROOT, 'scripts/trm.mjs'), ...args], { encoding: 'utf8' });
// Nothing a terminal would act on: no control character but the line ends, no DEL, no C1 control.
const TERMINAL_CONTROL = /[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f]/;

describe('control characters from a file are escaped by both CLIs', { skip: skipCli }, () => {
  const source = 'made by\na script\x1b[31m red\x1b]0;title\x07 \0 nul \u009b[2J c1 \\ backslash';
  const file = path.join(tmp, 'evil.safetensors');
  fs.writeFileSync(file, modelBytes({}, { source, task: '{"kind": "sudoku", "by": "\\u001b[2J", "c1": "\u009b31m"}' }));

  test('info: one line per field, no terminal control, the same on both', () => {
    const n = native('info', file), w = node('info', file);
    assert.equal(n.status, 0, n.stderr);
    assert.equal(w.status, 0, w.stderr);
    assert.equal(w.stdout, n.stdout);
    assert.doesNotMatch(n.stdout, TERMINAL_CONTROL);
    assert.match(n.stdout, /^source {6}made by\\na script\\x1b\[31m red\\x1b\]0;title\\x07 \\x00 nul \\u009b\[2J c1 \\ backslash$/m);
    assert.match(n.stdout, /^task {8}\{"kind": "sudoku", "by": "\\u001b\[2J", "c1": "\\u009b31m"\}$/m);
    assert.equal(n.stdout.split('\n').length, 10, 'nine lines');
  });

  test('errors quoting a tensor name or a path: one line, escaped, the same on both', () => {
    const bad = path.join(tmp, 'bad\x1b[2Jname.safetensors');
    fs.writeFileSync(bad, modelBytes({}, { extra: [['evil\n\x1b[31mtensor\0', [2]]] }));
    const n = native('info', bad), w = node('info', bad);
    assert.equal(n.status, 1);
    assert.equal(w.status, 1);
    assert.equal(w.stderr, n.stderr);
    assert.equal(n.stderr.split('\n').length, 2, 'one line');
    assert.doesNotMatch(n.stderr, TERMINAL_CONTROL);
    assert.match(n.stderr, /^trm info: .*bad\\x1b\[2Jname\.safetensors: unexpected tensor 'evil\\n\\x1b\[31mtensor\\x00'/);
  });
});

describe('one rule for puzzle text on both CLIs', { skip: skipCli }, () => {
  const W = path.join(tmp, 'sudoku.safetensors');
  fs.writeFileSync(W, modelBytes());
  const NBSP = '\u00a0', BOM = '\ufeff';
  const cases = {
    plain: Buffer.from(SUDOKU),
    bom: Buffer.from(BOM + SUDOKU + '\n'),
    nbsp: Buffer.from(SUDOKU.slice(0, 40) + NBSP + SUDOKU.slice(40) + NBSP),
    crlf_rows: Buffer.from(SUDOKU.match(/.{9}/g).join('\r\n') + '\r\n'),
    bom_inside: Buffer.from(SUDOKU.slice(0, 9) + BOM + SUDOKU.slice(9)),
    accent: Buffer.from(SUDOKU.slice(0, 80) + '\u00e9'),
    not_utf8: Buffer.concat([Buffer.from(SUDOKU.slice(0, 80)), Buffer.from([0xff])]),
    cut_sequence: Buffer.concat([Buffer.from(SUDOKU.slice(0, 80)), Buffer.from([0xe2, 0x82])]),
  };
  const accepted = ['plain', 'bom', 'nbsp', 'crlf_rows'];
  const results = {};
  for (const [name, bytes] of Object.entries(cases)) {
    test(`${name}: the same exit status and message on both`, () => {
      const f = path.join(tmp, `${name}.txt`);
      fs.writeFileSync(f, bytes);
      const n = native('solve', W, f, '--steps', '1', '--json', '--threads', '1'), w = node('solve', W, f, '--steps', '1', '--json', '--threads', '1');
      assert.equal(n.status, accepted.includes(name) ? 0 : 1, n.stderr);
      assert.equal(w.status, n.status, w.stderr);
      assert.equal(w.stderr, n.stderr);
      // The last line (the answer and its verdict; the step lines hold timings): the same as for the plain text.
      results[name] = n.stdout.trim().split('\n').at(-1);
      if (n.status === 0) assert.equal(results[name], results.plain, 'the same puzzle as the plain text');
      else assert.match(n.stderr, /^trm solve: sudoku: character U\+(00E9|FEFF|FFFD \(not UTF-8\)) at byte (9|80) is not ASCII; puzzle text is ASCII/);
    });
  }
});
