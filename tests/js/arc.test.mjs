// ARC through the JavaScript API (web/trm.js) in Node, end to end, on tiny ARC models written by tests/js/arc-model.mjs:
// a task's test input runs once per augmented copy the model has a row for, the copies vote after each step, and the
// final attempts are those of the native CLI (`trm solve W --task arc TASK.json --json`) on the same files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { TRM } from '../../web/trm.js';
import { ARC_COPIES, ARC_TASK, ARC_TASK_ID, arcModelBytes, OTHER_TASK_ID } from './arc-model.mjs';
import { nativeBuilt, NATIVE_CLI, ROOT } from './helpers.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-js-arc-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const COPY = path.join(tmp, 'arc-copy.safetensors'), RANDOM = path.join(tmp, 'arc-random.safetensors');
const TASK = path.join(tmp, `${ARC_TASK_ID}.json`);
fs.writeFileSync(COPY, arcModelBytes('copy'));
fs.writeFileSync(RANDOM, arcModelBytes('random'));
fs.writeFileSync(TASK, JSON.stringify(ARC_TASK));

const collect = async (run) => { const steps = []; for await (const s of run) steps.push(s); return steps; };
const native = (...args) => spawnSync(NATIVE_CLI, [...args, '--threads', '1'], { encoding: 'utf8' });
const wasm = (...args) => spawnSync(process.execPath, [path.join(ROOT, 'scripts/trm.mjs'), ...args, '--threads', '1'], { encoding: 'utf8' });
const jsonLines = (out) => out.trim().split('\n').map((l) => JSON.parse(l));

// Attempts agree: same grids, votes and verdicts; confidences within the reference tolerance.
function sameAttempts(got, want) {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => {
    assert.deepEqual(g.grid, want[i].grid, `attempt ${i + 1}: grid`);
    assert.equal(g.votes, want[i].votes, `attempt ${i + 1}: votes`);
    assert.equal(g.correct, want[i].correct, `attempt ${i + 1}: correct`);
    assert.ok(Math.abs(g.confidence - want[i].confidence) < 1e-4, `attempt ${i + 1}: confidence ${g.confidence} vs ${want[i].confidence}`);
  });
}

describe('ARC through the JavaScript API', () => {
  let copy, random;
  before(async () => {
    copy = await TRM.load(COPY, { threads: 1 });
    random = await TRM.load(RANDOM, { threads: 1 });
  });
  after(() => { copy?.dispose(); random?.dispose(); });

  test('streams a step per supervision step; every copy, un-augmented, votes for the same grid', async () => {
    assert.equal(copy.info.task.kind, 'arc');
    const steps = await collect(copy.solve(ARC_TASK, { taskId: ARC_TASK_ID, halt: 'never' }));
    assert.deepEqual(steps.map((s) => s.step), [1, 2, 3]);
    assert.deepEqual(steps.map((s) => s.done), [false, false, true]);
    for (const s of steps) {
      assert.equal(s.maxSteps, 3);
      assert.equal(s.copies, ARC_COPIES);
      assert.equal(s.active, ARC_COPIES);
      assert.equal(s.distinct, 1);
      assert.ok(s.ms > 0);
      assert.equal(s.attempts.length, 1);
      // The copy model predicts each augmented input; only exact un-augmentation brings all four to one grid.
      assert.deepEqual(s.attempts[0], { grid: ARC_TASK.test[0].input, votes: ARC_COPIES, confidence: s.attempts[0].confidence, correct: true });
      assert.ok(Math.abs(s.attempts[0].confidence - 1 / (1 + Math.exp(1))) < 1e-6);  // q_halt = -1 on every copy
    }
  });

  test('test, maxCopies and the JSON text select what runs; a wrong answer is marked so', async () => {
    const steps = await collect(copy.solve(JSON.stringify(ARC_TASK), { taskId: ARC_TASK_ID, test: 1, maxCopies: 2, maxSteps: 1 }));
    assert.equal(steps.length, 1);
    assert.equal(steps[0].copies, 2);
    assert.deepEqual(steps[0].attempts, [{ grid: ARC_TASK.test[1].input, votes: 2, confidence: steps[0].attempts[0].confidence, correct: false }]);
    const noAnswer = { train: ARC_TASK.train, test: [{ input: ARC_TASK.test[1].input }] };
    const [only] = await collect(copy.solve(noAnswer, { taskId: ARC_TASK_ID, maxSteps: 1 }));
    assert.equal(only.attempts[0].correct, undefined);
  });

  test('certainty: per cell, the probability of the shown colour, read in each copy\'s frame and averaged over the copies', async () => {
    // Expected from predict(): each copy's augmented input (its row's transform and colours) run one step; a cell of the
    // task's grid sits in the copy's frame where dihedral() moves it (an index grid moved the same way finds it).
    const dihedral = (g, t) => {  // src/tasks.cpp's dihedral(), numpy's rotations
      const R = g.length, C = g[0].length, swap = [1, 3, 4, 7].includes(t);
      const rows = swap ? C : R, cols = swap ? R : C;
      return Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => {
        const [r, c] = [[i, j], [j, C - 1 - i], [R - 1 - i, C - 1 - j], [R - 1 - j, i], [j, i], [i, C - 1 - j], [R - 1 - i, j],
          [R - 1 - j, C - 1 - i]][t];
        return g[r][c];
      }));
    };
    const input = ARC_TASK.test[0].input;
    const names = copy.info.task.puzzle_identifiers;
    const rows = names.map((n, id) => ({ n, id })).filter(({ n }) => n.split('|||')[0] === ARC_TASK_ID);
    const index = input.map((row, r) => row.map((_, c) => r * row.length + c));
    const expected = input.map((row) => row.map(() => 0));
    for (const { n, id } of rows) {
      const [, t = 't0', perm = '0123456789'] = n.split('|||');
      const transform = Number(t.slice(1)), colours = [...perm].map(Number);
      const seen = dihedral(input.map((row) => row.map((v) => colours[v])), transform);
      const where = dihedral(index, transform);
      const tokens = new Int32Array(900);
      seen.forEach((row, i) => row.forEach((v, j) => { tokens[i * 30 + j] = v + 2; }));
      seen.forEach((row, i) => { if (row.length < 30) tokens[i * 30 + row.length] = 1; });
      if (seen.length < 30) seen[0].forEach((_, j) => { tokens[seen.length * 30 + j] = 1; });
      const { steps: [{ logits }] } = await copy.predict(tokens, [id], { steps: 1 });
      where.forEach((row, i) => row.forEach((k, j) => {
        const l = logits.subarray((i * 30 + j) * 12, (i * 30 + j + 1) * 12), max = Math.max(...l);
        const sum = l.reduce((s, v) => s + Math.exp(v - max), 0);
        const r = Math.floor(k / input[0].length), c = k % input[0].length;
        expected[r][c] += Math.exp(l[seen[i][j] + 2] - max) / sum / rows.length;
      }));
    }
    const [s] = await collect(copy.solve(ARC_TASK, { taskId: ARC_TASK_ID, maxSteps: 1, certainty: true }));
    const got = s.attempts[0].certainty;
    assert.equal(got.length, input.length);
    got.forEach((row, r) => row.forEach((p, c) => assert.ok(Math.abs(p - expected[r][c]) < 2e-4, `cell ${r},${c}: ${p} vs ${expected[r][c]}`)));
    assert.ok(got.flat().every((p) => p > 0 && p <= 1));
    // Without the option, attempts stay as they were.
    const [plain] = await collect(copy.solve(ARC_TASK, { taskId: ARC_TASK_ID, maxSteps: 1 }));
    assert.equal(plain.attempts[0].certainty, undefined);
  });

  test('copies disagree on the random model: attempts ranked by votes, then confidence', async () => {
    const steps = await collect(random.solve(ARC_TASK, { taskId: ARC_TASK_ID, halt: 'never' }));
    assert.equal(steps.length, 3);
    for (const s of steps) {
      assert.equal(s.attempts.length, Math.min(2, s.distinct));
      const [a, b] = s.attempts;
      if (b) assert.ok(a.votes > b.votes || (a.votes === b.votes && a.confidence >= b.confidence));
      assert.ok(s.attempts.reduce((n, t) => n + t.votes, 0) <= ARC_COPIES);
      for (const t of s.attempts) assert.ok(Array.isArray(t.grid) && t.grid.every((r) => r.length === t.grid[0].length));
    }
    // Each attempt's certainty has its grid's shape, whichever copies gave it.
    for (const s of await collect(random.solve(ARC_TASK, { taskId: ARC_TASK_ID, halt: 'never', certainty: true }))) {
      for (const t of s.attempts) {
        assert.deepEqual(t.certainty.map((r) => r.length), t.grid.map((r) => r.length));
        assert.ok(t.certainty.flat().every((p) => p > 0 && p <= 1));
      }
    }
  });

  test('a task the model has no rows for rejects with the engine\'s message', async () => {
    const run = copy.solve(ARC_TASK, { taskId: 'cccc0003' });
    await assert.rejects(collect(run), /arc: the model has no puzzle-embedding row for task 'cccc0003': its embedding must be learned first/);
    await assert.rejects(run.result, /no puzzle-embedding row for task 'cccc0003'/);
    // Rows of another task are not this one's.
    const [s] = await collect(copy.solve(ARC_TASK, { taskId: OTHER_TASK_ID, maxSteps: 1 }));
    assert.equal(s.copies, 2);
  });

  test('bad tasks and options are refused with the engine\'s messages', async () => {
    assert.throws(() => copy.solve(ARC_TASK, {}), /needs options.taskId/);
    await assert.rejects(collect(copy.solve('{"train": []}', { taskId: ARC_TASK_ID, label: 'x.json' })), /^Error: x.json: missing list "test"$/);
    const bad = { train: ARC_TASK.train, test: [{ input: [[1, 12]] }] };
    await assert.rejects(collect(copy.solve(bad, { taskId: ARC_TASK_ID })), /test\[0\]\.input: cell \[0\]\[1\] = 12; expected a colour 0-9/);
    await assert.rejects(collect(copy.solve(ARC_TASK, { taskId: ARC_TASK_ID, test: 2 })), /test 2 is out of range; the task has 2 test inputs/);
  });

  test('cancel stops within a step; the engine then runs other puzzles on the same model', async () => {
    const run = random.solve(ARC_TASK, { taskId: ARC_TASK_ID, halt: 'never' });
    const seen = [];
    for await (const s of run) { seen.push(s); run.cancel(); }
    assert.equal(seen.length, 1);
    assert.equal((await run.result).step, 1);
    assert.ok(run.stepsComputed <= 2);
    const tokens = new Int32Array(900);
    const raw = await collect(random.solve({ tokens, puzzleId: 2 }, { maxSteps: 1 }));
    assert.equal(raw.length, 1);
  });
});

describe('ARC: scripts/trm.mjs and the JS API against build/native/trm', { skip: nativeBuilt() ? false : 'build/native/trm is not built' }, () => {
  for (const [name, W] of [['copy', COPY], ['random', RANDOM]]) {
    test(`${name} model: the same --json lines, final attempts equal`, () => {
      for (const extra of [[], ['--test', '1', '--halt', 'never', '--max-copies', '3']]) {
        const n = native('solve', W, '--task', 'arc', TASK, '--json', ...extra);
        assert.equal(n.status, 0, n.stderr);
        const w = wasm('solve', W, '--task', 'arc', TASK, '--json', ...extra);
        assert.equal(w.status, 0, w.stderr);
        const nl = jsonLines(n.stdout), wl = jsonLines(w.stdout);
        assert.equal(wl.length, nl.length);
        nl.forEach((a, i) => {
          const b = wl[i];
          assert.deepEqual(Object.keys(b), Object.keys(a));
          for (const k of Object.keys(a)) if (k !== 'ms' && k !== 'attempts') assert.deepEqual(b[k], a[k], k);
        });
        sameAttempts(wl.at(-1).attempts, nl.at(-1).attempts);
        // Key order and number forms as nlohmann prints them.
        assert.match(w.stdout.trim().split('\n').at(-1), /^\{"attempts":\[\{"confidence":[\d.e-]+,"correct":(true|false),"grid":\[\[/);
      }
    });
  }

  test('the JS API\'s final attempts are the native CLI\'s', async () => {
    const n = native('solve', RANDOM, '--task', 'arc', TASK, '--json', '--halt', 'never');
    const trm = await TRM.load(RANDOM, { threads: 1 });
    try {
      const last = await trm.solve(ARC_TASK, { taskId: ARC_TASK_ID, halt: 'never' }).result;
      const final = jsonLines(n.stdout).at(-1);
      assert.equal(last.copies, final.copies);
      sameAttempts(last.attempts, final.attempts);
    } finally {
      trm.dispose();
    }
  });

  test('text output and errors: the same as native', () => {
    const mask = (s) => s.replace(/ {2}[\d.]+ ms$/gm, '');
    const n = native('solve', COPY, '--task', 'arc', TASK), w = wasm('solve', COPY, '--task', 'arc', TASK);
    assert.equal(w.status, 0, w.stderr);
    assert.equal(mask(w.stdout), mask(n.stdout));
    const cases = [
      ['--task-id', 'cccc0003'], ['--test', '2'], ['--max-copies', '-1'], ['--halt', 'sometimes'], ['--steps', '0'],
    ];
    for (const extra of cases) {
      const ne = native('solve', COPY, '--task', 'arc', TASK, ...extra), we = wasm('solve', COPY, '--task', 'arc', TASK, ...extra);
      assert.equal(we.status, ne.status, extra.join(' '));
      assert.equal(we.stderr, ne.stderr, extra.join(' '));
    }
    const missing = path.join(tmp, 'missing.json');
    const ne = native('solve', COPY, '--task', 'arc', missing), we = wasm('solve', COPY, '--task', 'arc', missing);
    assert.equal(we.status, ne.status);
    assert.equal(we.stderr, ne.stderr);
  });
});
