// The JavaScript API (web/trm.js) on the single-thread build: streaming, halting, cancellation, errors, sources,
// memory. The threaded build is covered by reference.test.mjs and native.test.mjs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { TRM } from '../../web/trm.js';
import { caseWeights, NO_RELAXED_SIMD, RELAXED_SIMD, SIMD_BACKEND, SUDOKU } from './helpers.mjs';

const collect = async (run) => { const steps = []; for await (const s of run) steps.push(s); return steps; };

// An open 30x30 maze. Its model's steps take long enough (seconds) that a cancel's timing is not a matter of luck.
function mazeText() {
  const rows = Array.from({ length: 30 }, (_, r) =>
    Array.from({ length: 30 }, (_, c) => (r === 0 || c === 0 || r === 29 || c === 29 ? '#' : ' ')).join(''));
  rows[1] = `#S${rows[1].slice(2)}`;
  rows[28] = `${rows[28].slice(0, 28)}G#`;
  return rows.join('\n');
}

// Cancels after the first step: the iterator ends there, and the engine runs at most the step in flight.
async function checkCancel(trm) {
  const run = trm.solve(mazeText(), { halt: 'never', maxSteps: 4 });
  const seen = [];
  for await (const s of run) {
    seen.push(s);
    run.cancel();
  }
  assert.equal(seen.length, 1);
  assert.equal((await run.result).step, 1);
  assert.ok(run.stepsComputed <= 2, `the engine ran ${run.stepsComputed} steps`);
  const run2 = trm.solve(mazeText(), { halt: 'never', maxSteps: 4 });
  for await (const s of run2) { assert.equal(s.step, 1); break; }
  await run2.result;
  assert.ok(run2.stepsComputed <= 2, `the engine ran ${run2.stepsComputed} steps`);
}

describe('solving a sudoku step by step', () => {
  let trm;
  before(async () => { trm = await TRM.load(caseWeights('sudoku_att_rope'), { threads: 1 }); });
  after(() => trm.dispose());

  test('info describes the model and the build', () => {
    const i = trm.info;
    assert.equal(i.backend, SIMD_BACKEND);
    assert.equal(i.threads, 1);
    assert.equal(i.task.kind, 'sudoku');
    assert.equal(i.config.seq_len, 81);
    assert.equal(i.config.halt_max_steps, 3);
    assert.equal(i.storageDtype, 'F32');
    assert.ok(i.parameters > 0);
    assert.match(i.source, /converted_from/);
  });

  test('streaming yields one step per supervision step, in order, the last one done', async () => {
    const steps = await collect(trm.solve(SUDOKU, { halt: 'never' }));
    assert.deepEqual(steps.map((s) => s.step), [1, 2, 3]);
    assert.deepEqual(steps.map((s) => s.done), [false, false, true]);
    let prev = null;
    for (const s of steps) {
      assert.equal(s.maxSteps, 3);
      assert.equal(typeof s.prediction, 'string');
      assert.equal(s.prediction.length, 81);
      assert.ok(s.tokens instanceof Int32Array && s.tokens.length === 81);
      assert.ok(Math.abs(s.confidence - 1 / (1 + Math.exp(-s.qHalt))) < 1e-12);
      assert.equal(typeof s.qContinue, 'number');
      const changed = [...s.prediction].flatMap((c, i) => (!prev || c !== prev[i] ? [i] : []));
      assert.deepEqual(s.changed, changed);
      assert.equal(typeof s.verified, 'boolean');
      assert.ok(s.message.length > 0);
      assert.ok(Array.isArray(s.badCells));
      assert.ok(s.ms > 0);
      prev = s.prediction;
    }
    assert.equal(steps[0].changed.length, 81);
  });

  test('maxSteps bounds the run; result is the last step', async () => {
    const run = trm.solve(SUDOKU, { halt: 'never', maxSteps: 2 });
    const steps = await collect(run);
    assert.equal(steps.length, 2);
    assert.equal((await run.result).step, 2);
    assert.equal(steps[1].maxSteps, 2);
  });

  test("halt 'early' stops at the first step whose q_halt > 0", async () => {
    const all = await collect(trm.solve(SUDOKU, { halt: 'never' }));
    const early = await collect(trm.solve(SUDOKU, { halt: 'early' }));
    const stop = all.findIndex((s) => s.qHalt > 0);
    assert.equal(early.length, stop < 0 ? all.length : stop + 1);
    assert.ok(early.at(-1).done);
    early.forEach((s, k) => assert.equal(s.prediction, all[k].prediction));
  });

  test('every step carries the C++ validator verdict', async () => {
    const steps = await collect(trm.solve(SUDOKU, { halt: 'never', maxSteps: 1 }));
    assert.equal(steps[0].verified, false);
    assert.match(steps[0].message, /cell|row|column|box/);
  });

  test('cancel stops within one step and ends the iterator; break cancels too', async () => {
    const maze = await TRM.load(caseWeights('maze_att_rope'), { threads: 1 });
    try {
      await checkCancel(maze);
    } finally {
      maze.dispose();
    }
    // The worker is free again and answers in order.
    assert.equal((await collect(trm.solve(SUDOKU, { halt: 'never', maxSteps: 1 }))).length, 1);
  });

  test('cancel before the first step yields nothing', async () => {
    const run = trm.solve(SUDOKU, { halt: 'never' });
    run.cancel();
    assert.equal((await collect(run)).length, 0);
    assert.equal(await run.result, null);
    assert.ok(run.stepsComputed <= 1);
  });

  test('raw tokens in, predicted tokens out', async () => {
    const tokens = [...SUDOKU].map((c) => (c === '.' ? 1 : Number(c) + 1));
    const [text] = await collect(trm.solve(SUDOKU, { maxSteps: 1 }));
    const [raw] = await collect(trm.solve({ tokens, puzzleId: 0 }, { maxSteps: 1, logits: true }));
    assert.ok(raw.prediction instanceof Int32Array);
    assert.deepEqual([...raw.prediction], [...text.tokens]);
    assert.deepEqual(raw.changed.length, 81);
    assert.equal(raw.logits.length, 81 * trm.info.config.vocab_size);
    assert.equal(raw.message, text.message);
  });

  test('a bad puzzle rejects with the codec message; the worker stays usable', async () => {
    const run = trm.solve('12');
    await assert.rejects(run.result, { message: "sudoku: puzzle has 2 characters; expected 81 (row-major, '.' or '0' for blanks)" });
    await assert.rejects(collect(trm.solve('x'.repeat(81))), /sudoku: character 'x' at/);
    await assert.rejects(trm.solve({ tokens: [1, 2, 3] }).result, /input: 3 tokens; the model expects seq_len 81/);
    await assert.rejects(trm.solve({ tokens: new Array(81).fill(99) }).result, /input: token 99 at position 0 is outside the vocabulary/);
    assert.throws(() => trm.solve({ train: [], test: [] }), /an ARC task needs options.taskId/);
    await assert.rejects(trm.solve({ train: [], test: [{ input: [[1]] }] }, { taskId: 'x' }).result,
      /^Error: arc: the loaded model is a 'sudoku' model \(seq_len 81, vocab 11\); ARC needs an arc model with seq_len 900 and vocab 12$/);
    await assert.rejects(trm.solve(SUDOKU, { halt: 'sometimes' }).result, /halt = 'sometimes'; expected early or never/);
    assert.equal((await collect(trm.solve(SUDOKU, { maxSteps: 1 }))).length, 1);
  });

  test('a malformed weight file rejects with the loader message; the model in use stays', async () => {
    await assert.rejects(trm.loadModel(new Uint8Array([1, 2, 3])),
      { message: 'weights: file is 3 bytes; a safetensors file needs at least the 8-byte header length' });
    const good = fs.readFileSync(caseWeights('sudoku_mlp_t'));
    await assert.rejects(trm.loadModel(good.subarray(0, 5000), { label: 'cut.safetensors' }), /^Error: cut\.safetensors: /);
    await assert.rejects(TRM.load(new Uint8Array(16), { threads: 1 }), /^Error: weights: /);
    assert.equal(trm.info.config.halt_max_steps, 3);
    assert.equal((await collect(trm.solve(SUDOKU, { halt: 'never' }))).length, 3);
  });

  test('a hundred solves in a row do not grow memory', async () => {
    const small = await TRM.load(caseWeights('learned_pos_no_puzzle_emb'), { threads: 1 });
    try {
      for (let i = 0; i < 3; ++i) await small.solve(SUDOKU, { maxSteps: 1 }).result;
      const before = await small.memory();
      for (let i = 0; i < 100; ++i) await small.solve(SUDOKU, { maxSteps: 1 }).result;
      const afterRuns = await small.memory();
      assert.equal(afterRuns.heapSize, before.heapSize);
      assert.equal(afterRuns.heapUsed, before.heapUsed);
    } finally {
      small.dispose();
    }
  });
});

describe('sources and lifecycle', () => {
  test('bytes, file paths and http URLs load, with progress', async () => {
    const file = caseWeights('learned_pos_no_puzzle_emb');
    const bytes = fs.readFileSync(file);
    const server = http.createServer((req, res) => {
      if (req.url !== '/w.safetensors') { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-length': bytes.length, 'content-type': 'application/octet-stream' });
      res.end(bytes);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${server.address().port}/w.safetensors`;
    try {
      const progress = [];
      const a = await TRM.load(url, { threads: 1, onProgress: (p) => progress.push(p) });
      assert.equal(progress.at(-1).loaded, bytes.length);
      assert.equal(progress.at(-1).total, bytes.length);
      assert.equal(a.info.url, url);
      a.dispose();
      await assert.rejects(TRM.load(url.replace('w.', 'x.'), { threads: 1 }), /x\.safetensors: download failed \(HTTP 404/);
    } finally {
      server.close();
    }
    for (const src of [new Uint8Array(bytes), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), file]) {
      const t = await TRM.load(src, { threads: 1 });
      assert.equal(t.info.parameters > 0, true);
      t.dispose();
    }
    await assert.rejects(TRM.load('/nonexistent/w.safetensors'), /\/nonexistent\/w\.safetensors: cannot open file$/);
  });

  test('a bad source or option rejects clearly', async () => {
    await assert.rejects(TRM.load(42), /source must be a URL \(string or URL\), an ArrayBuffer, a Uint8Array, a File or Blob, or a checkpoint set/);
    await assert.rejects(TRM.load(caseWeights('learned_pos_no_puzzle_emb'), { threads: 0 }),
      /option threads = 0; expected 'auto' or an integer in \[1, 256\]/);
  });

  test('dispose terminates the worker; later calls reject', async () => {
    const t = await TRM.load(caseWeights('learned_pos_no_puzzle_emb'), { threads: 1 });
    t.dispose();
    await assert.rejects(t.solve(SUDOKU).result, /disposed/);
    await assert.rejects(t.memory(), /disposed/);
  });

  test('a maze model takes maze text', async () => {
    const t = await TRM.load(caseWeights('maze_att_rope'), { threads: 1 });
    try {
      const [s] = await collect(t.solve(mazeText(), { maxSteps: 1 }));
      assert.equal(s.prediction.length, 900);
      assert.equal(s.changed.length, 900);
      assert.equal(typeof s.message, 'string');
      await assert.rejects(t.solve('#'.repeat(899)).result, /^Error: maze: 899 cells; expected 900/);
    } finally {
      t.dispose();
    }
  });
});

describe('the relaxed-SIMD build (option relaxedSimd)', () => {
  test('a value other than auto, true or false is refused by name', async () => {
    await assert.rejects(TRM.load(caseWeights('sudoku_att_rope'), { relaxedSimd: 'yes' }),
      { message: `TRM.load: option relaxedSimd = "yes"; expected 'auto', true or false` });
  });

  test('false runs the plain SIMD build; true the relaxed one, or refuses where the engine cannot', async () => {
    const plain = await TRM.load(caseWeights('sudoku_att_rope'), { threads: 1, relaxedSimd: false });
    try {
      assert.equal(plain.info.backend, 'wasm-simd');
    } finally {
      plain.dispose();
    }
    if (!RELAXED_SIMD) {
      await assert.rejects(TRM.load(caseWeights('sudoku_att_rope'), { relaxedSimd: true }),
        /option relaxedSimd = true, but this JavaScript engine does not run WebAssembly relaxed SIMD/);
      return;
    }
    for (const threads of [1, 2]) {
      const relaxed = await TRM.load(caseWeights('sudoku_att_rope'), { threads, relaxedSimd: true });
      try {
        assert.equal(relaxed.info.backend, threads === 1 ? 'wasm-relaxed-simd' : 'wasm-relaxed-simd-threads');
      } finally {
        relaxed.dispose();
      }
    }
  });

  test('both builds give the same steps (to rounding: a fused multiply-add rounds once)', { skip: NO_RELAXED_SIMD }, async () => {
    const runs = [];
    for (const relaxedSimd of [false, true]) {
      const t = await TRM.load(caseWeights('sudoku_att_rope'), { threads: 1, relaxedSimd });
      try {
        runs.push(await collect(t.solve(SUDOKU, { halt: 'never' })));
      } finally {
        t.dispose();
      }
    }
    const [plain, relaxed] = runs;
    assert.equal(relaxed.length, plain.length);
    relaxed.forEach((s, k) => {
      assert.equal(s.prediction, plain[k].prediction);
      assert.ok(Math.abs(s.qHalt - plain[k].qHalt) < 1e-4, `step ${k + 1}: qHalt ${s.qHalt} vs ${plain[k].qHalt}`);
    });
  });
});

describe('the threaded build', () => {
  let trm;
  before(async () => { trm = await TRM.load(caseWeights('sudoku_att_rope'), { threads: 2 }); });
  after(() => trm.dispose());

  test('streams the same steps as the single-thread build, and cancels within one step', async () => {
    assert.equal(trm.info.backend, `${SIMD_BACKEND}-threads`);
    assert.equal(trm.info.threads, 2);
    const single = await TRM.load(caseWeights('sudoku_att_rope'), { threads: 1 });
    const expected = await collect(single.solve(SUDOKU, { halt: 'never' }));
    single.dispose();
    const steps = await collect(trm.solve(SUDOKU, { halt: 'never' }));
    assert.deepEqual(steps.map((s) => s.step), [1, 2, 3]);
    steps.forEach((s, k) => {
      assert.equal(s.prediction, expected[k].prediction);
      assert.ok(Math.abs(s.qHalt - expected[k].qHalt) < 1e-4);
    });
    const maze = await TRM.load(caseWeights('maze_att_rope'), { threads: 2 });
    try {
      assert.equal(maze.info.backend, `${SIMD_BACKEND}-threads`);
      await checkCancel(maze);
    } finally {
      maze.dispose();
    }
  });

  test('repeated solves and predicts do not grow memory', async () => {
    const tokens = new Int32Array(81).fill(1);
    for (let i = 0; i < 2; ++i) { await trm.solve(SUDOKU, { maxSteps: 1 }).result; await trm.predict(tokens, [0], { steps: 1 }); }
    const before = await trm.memory();
    for (let i = 0; i < 20; ++i) { await trm.solve(SUDOKU, { maxSteps: 1 }).result; await trm.predict(tokens, [0], { steps: 1 }); }
    const afterRuns = await trm.memory();
    assert.equal(afterRuns.heapSize, before.heapSize);
    assert.equal(afterRuns.heapUsed, before.heapUsed);
  });
});
