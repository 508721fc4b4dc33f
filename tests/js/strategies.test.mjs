// The test-time strategies (src/solve.h) give the same answers through the native CLI, the Node CLI
// (scripts/trm.mjs, WASM) and the JS API, because all three run the one C++ solve loop; and the API passes its
// strategy options through and reports the model calls.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { TRM } from '../../web/trm.js';
import { nativeBuilt, NATIVE_CLI, ROOT, SUDOKU } from './helpers.mjs';

const skip = nativeBuilt() ? false : 'build/native/trm is not built (scripts/build.sh native)';
const W = path.join(ROOT, 'weights/sudoku_mlp.safetensors');
const native = (...args) => spawnSync(NATIVE_CLI, args, { encoding: 'utf8' });
const wasm = (...args) => spawnSync(process.execPath, [path.join(ROOT, 'scripts/trm.mjs'), ...args], { encoding: 'utf8' });
const lastJson = (r) => JSON.parse(r.stdout.trim().split('\n').at(-1));

const collect = async (run) => { const steps = []; for await (const s of run) steps.push(s); return steps; };

describe('strategies: native CLI, Node CLI and JS API agree', { skip }, () => {
  let trm;
  before(async () => { trm = await TRM.load(W, { threads: 1 }); });
  after(() => trm?.dispose());

  const cases = [
    ['steps', ['--steps', '20']],
    ['vote', ['--copies', '4', '--steps', '3']],
    ['commit', ['--max-calls', '24', '--commit', '6', '--round-steps', '3']],
    ['commit', ['--copies', '2', '--max-calls', '24', '--seed', '5']],
  ];
  for (const [strategy, extra] of cases) {
    test(`${strategy} ${extra.join(' ')}: the same answer, verdict, steps and model calls`, async () => {
      const args = ['solve', W, SUDOKU, '--strategy', strategy, ...extra, '--json'];
      const n = native(...args, '--threads', '1'), w = wasm(...args, '--threads', '1');
      assert.equal(n.status, 0, n.stderr);
      assert.equal(w.status, 0, w.stderr);
      const a = lastJson(n), b = lastJson(w);
      assert.deepEqual(b, a);
      assert.equal(a.strategy, strategy);
      const nLines = n.stdout.trim().split('\n'), wLines = w.stdout.trim().split('\n');
      assert.equal(wLines.length, nLines.length);
      nLines.slice(0, -1).forEach((line, i) => {
        const x = JSON.parse(line), y = JSON.parse(wLines[i]);
        assert.equal(y.prediction, x.prediction, `step ${x.step}`);
        assert.equal(y.note, x.note, `step ${x.step}`);
        assert.equal(y.model_calls, x.model_calls, `step ${x.step}`);
      });

      const options = { strategy };
      const keys = { '--steps': 'maxSteps', '--copies': 'copies', '--max-calls': 'maxCalls', '--commit': 'commit',
        '--round-steps': 'roundSteps', '--seed': 'seed' };
      for (let i = 0; i < extra.length; i += 2) options[keys[extra[i]]] = Number(extra[i + 1]);
      const steps = await collect(trm.solve(SUDOKU, options));
      const last = steps.at(-1);
      assert.equal(last.prediction, a.answer);
      assert.equal(last.verified, a.verified);
      assert.equal(last.step, a.steps);
      assert.equal(last.modelCalls, a.model_calls);
      assert.equal(last.strategy, strategy);
      assert.ok(last.done);
      for (let i = 0; i < SUDOKU.length; ++i) if (SUDOKU[i] !== '.') assert.equal(last.prediction[i], SUDOKU[i], `given ${i}`);
    });
  }

  test("info.bestStrategy names what 'best' runs (the page states it): vote for the shipped sudoku model", async () => {
    assert.equal(trm.info.bestStrategy, 'vote');
    const steps = await collect(trm.solve(SUDOKU, { strategy: 'best', maxCalls: 8 }));
    assert.equal(steps.at(-1).strategy, trm.info.bestStrategy);
  });

  test('the plain model shows the givens as given and counts those the network changed', async () => {
    const steps = await collect(trm.solve(SUDOKU, { strategy: 'model', halt: 'never' }));
    for (const s of steps) {
      for (let i = 0; i < SUDOKU.length; ++i) if (SUDOKU[i] !== '.') assert.equal(s.prediction[i], SUDOKU[i], `given ${i}`);
      assert.ok(Number.isInteger(s.givensChanged) && s.givensChanged >= 0);
    }
    const n = lastJson(native('solve', W, SUDOKU, '--halt', 'never', '--json', '--threads', '1'));
    assert.equal(steps.at(-1).givensChanged, n.givens_changed);
  });

  test('the plain model is unchanged by the new options, and bad options are refused with their name', async () => {
    const [s] = await collect(trm.solve(SUDOKU, { maxSteps: 1 }));
    assert.equal(s.strategy, 'model');
    assert.equal(s.modelCalls, 1);
    assert.equal(s.note, '');
    await assert.rejects(trm.solve(SUDOKU, { strategy: 'guess' }).result, /strategy = 'guess'; expected model, steps, vote, commit or best/);
    await assert.rejects(trm.solve(SUDOKU, { strategy: 'vote', copies: 0 }).result, /copies = 0; expected an integer >= 1/);
    const n = native('solve', W, SUDOKU, '--strategy', 'guess'), w = wasm('solve', W, SUDOKU, '--strategy', 'guess');
    assert.equal(n.status, 1);
    assert.equal(w.status, n.status);
    assert.equal(w.stderr.split('\n')[0], n.stderr.split('\n')[0]);
  });
});

describe('eval: the Node CLI scores a file as the native CLI does', { skip }, () => {
  let csv;
  before(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-eval-'));
    csv = path.join(dir, 'sudoku.csv');
    const g = native('generate', 'sudoku', '--count', '4', '--seed', '11', '--grade', 'singles', '--out', csv);
    assert.equal(g.status, 0, g.stderr);
  });
  // Timing differs between the two engines; everything else is the same number.
  const timing = ['seconds', 'ms_per_puzzle', 'cpu_ms_per_puzzle', 'kernels'];
  const untimed = (o) => Object.fromEntries(Object.entries(o).filter(([k]) => !timing.includes(k)));
  const untimedText = (t) => t.replace(/[\d.]+ ms per puzzle \([\d.]+ ms CPU\)  [\d.]+ s/g, 'T');
  const cases = [
    ['model', ['--halt', 'both']],
    ['model', ['--halt', 'never', '--steps', '3']],
    ['commit', ['--max-calls', '16', '--copies', '2', '--commit', '4']],
    ['vote', ['--copies', '2', '--steps', '2']],
  ];
  for (const [strategy, extra] of cases) {
    test(`${strategy} ${extra.join(' ')}: the same fields and numbers`, () => {
      const args = ['eval', W, '--data', csv, '--strategy', strategy, ...extra, '--threads', '1'];
      const n = native(...args, '--json'), w = wasm(...args, '--json');
      assert.equal(n.status, 0, n.stderr);
      assert.equal(w.status, 0, w.stderr);
      const a = lastJson(n), b = lastJson(w);
      assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
      assert.deepEqual(untimed(b), untimed(a));
      assert.equal(a.count, 4);
      assert.equal(a.strategy, strategy);
      const nt = native(...args), wt = wasm(...args);
      assert.equal(wt.status, 0, wt.stderr);
      assert.equal(untimedText(wt.stdout), untimedText(nt.stdout));
    });
  }

  test('refusals name what was expected, in the same words', () => {
    for (const extra of [['--strategy', 'commit', '--halt', 'both'], ['--halt', 'sometimes'], ['--threshold', '3']]) {
      const n = native('eval', W, '--data', csv, ...extra), w = wasm('eval', W, '--data', csv, ...extra);
      assert.equal(n.status, 1, extra.join(' '));
      assert.equal(w.status, n.status);
      assert.equal(w.stderr.split('\n').at(-2), n.stderr.split('\n').at(-2));
    }
  });
});
