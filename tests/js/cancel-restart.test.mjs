// Cancel within one network call where the engine cannot see the cancel itself (issue 22): on a page without shared
// memory (no SharedArrayBuffer, so no in-step flag) and on a network call longer than the cancel timeout, web/trm.js
// terminates the busy worker and starts a fresh one with the same model. The cancelled run ends as cancelled, calls
// queued behind it run on the new worker, `info` stays the model's, and the object stays usable.
//
// No test here reads a clock: each compares the order of events with an engine loaded with cancelTimeout: Infinity
// (the worker is never replaced: it stops where the engine itself heeds the cancel), cancelled at the same moment.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { TRM } from '../../web/trm.js';
import { SUDOKU } from './helpers.mjs';
import { modelBytes } from './hostile-models.mjs';

// Two network calls a step (H_cycles 1 x (L_cycles 1 + 1), one layer), each seconds long: attention over 4,096
// positions of hidden_size 384 (about 30 GFLOP a call).
const SLOW = modelBytes({ seq_len: 4096, hidden_size: 384, num_heads: 6, H_cycles: 1, L_cycles: 1 }, { task: { kind: 'generic' } });
const PUZZLE = { tokens: new Int32Array(4096).fill(1) };
const ONE_STEP = { halt: 'never', maxSteps: 1 };

// An engine as a page that is not cross-origin isolated gets it: browsers define SharedArrayBuffer only on
// cross-origin-isolated pages, and web/trm.js looks for it when it makes the engine (threads and the cancel flag).
async function loadWithoutSharedMemory(bytes, options = {}) {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'SharedArrayBuffer');
  delete globalThis.SharedArrayBuffer;
  try {
    return await TRM.load(bytes, options);
  } finally {
    Object.defineProperty(globalThis, 'SharedArrayBuffer', saved);
  }
}

// Settles every promise, recording the order in which they settled; rejects on the first rejection.
function order(named) {
  const seen = [];
  return Promise.all(Object.entries(named).map(([name, p]) => p.then((v) => { seen.push(name); return v; }))).then(() => seen);
}
const before = (seen, a, b) => assert.ok(seen.indexOf(a) < seen.indexOf(b), `${a} before ${b}: ${seen.join(', ')}`);
const collect = async (run) => { const steps = []; for await (const s of run) steps.push(s); return steps; };

describe('cancel that replaces the worker', () => {
  test('no shared memory: the cancel ends the run before the step would have ended; queued calls and the next solve run', async () => {
    const waiting = await loadWithoutSharedMemory(SLOW, { cancelTimeout: Infinity });
    const trm = await loadWithoutSharedMemory(SLOW);
    try {
      assert.equal(trm.info.threads, 1, 'no shared memory: the single-thread build');
      const info = trm.info;
      const slow = waiting.solve(PUZZLE, ONE_STEP);
      const run = trm.solve(PUZZLE, ONE_STEP);
      const queued = trm.memory();  // sent behind the solve, to the worker that is about to be replaced
      slow.cancel();
      run.cancel();
      assert.equal(trm.info, info, 'info untouched while the worker is replaced');
      const next = trm.memory();    // asked while the worker is replaced
      const seen = await order({ cancelled: run.result, queued, next, 'step ended': slow.result });
      before(seen, 'cancelled', 'step ended');
      before(seen, 'queued', 'step ended');
      before(seen, 'next', 'step ended');
      assert.equal(await run.result, null);
      assert.equal(run.stepsComputed, 0, 'the replaced worker delivered no step');
      assert.equal(slow.stepsComputed, 1, 'without the flag, an engine that is not replaced runs the step to its end');
      assert.deepEqual(trm.info, info, 'the same model, described the same way');

      // The next solve runs on the new worker with the same model: the same answer as the other engine's.
      const [mine, theirs] = await Promise.all([collect(trm.solve(PUZZLE, ONE_STEP)), collect(waiting.solve(PUZZLE, ONE_STEP))]);
      assert.equal(mine.length, 1);
      assert.deepEqual(mine[0].tokens, theirs[0].tokens);
    } finally {
      trm.dispose();
      waiting.dispose();
    }
  });

  test('shared memory, a network call longer than the cancel timeout: replaced before the flag could stop it', async () => {
    // The flag is read before each network call: an engine that waits for it stops at the end of the call in progress.
    const waiting = await TRM.load(SLOW, { threads: 1, cancelTimeout: Infinity });
    const trm = await TRM.load(SLOW, { threads: 1 });  // cancelTimeout 'auto': 1000 ms with the flag
    try {
      const info = trm.info;
      const slow = waiting.solve(PUZZLE, ONE_STEP);
      const run = trm.solve(PUZZLE, ONE_STEP);
      // A cancel before the first network call begins is seen by the flag at once: let both engines enter theirs
      // (which takes them microseconds; each call then lasts seconds). Not a clock assertion: the order is.
      await new Promise((resolve) => setTimeout(resolve, 500));
      slow.cancel();
      run.cancel();
      const seen = await order({ replaced: run.result, 'network call ended': slow.result, next: trm.memory() });
      before(seen, 'replaced', 'network call ended');
      assert.equal(slow.stepsComputed, 0, 'the flag stopped the other engine inside its step');
      assert.equal(run.stepsComputed, 0);
      assert.deepEqual(trm.info, info);
    } finally {
      trm.dispose();
      waiting.dispose();
    }
  });

  test('concurrent callers see no half-restarted engine: queued runs, a run cancelled while carried, a model swap', async () => {
    const small = modelBytes({ hidden_size: 32, num_heads: 2, L_cycles: 3 });
    const other = modelBytes({ hidden_size: 16, num_heads: 1 }, { seed: 7 });
    const reference = await (async () => {
      const t = await TRM.load(small, { threads: 1 });
      try { return (await collect(t.solve(SUDOKU, { halt: 'never', maxSteps: 2 }))).map((s) => s.prediction); } finally { t.dispose(); }
    })();
    const trm = await loadWithoutSharedMemory(small);
    try {
      for (let round = 0; round < 3; ++round) {
        const info = trm.info;
        const a = trm.solve(SUDOKU, { halt: 'never' });
        const b = trm.solve(SUDOKU, { halt: 'never' });   // queued behind a: carried to the new worker
        const c = trm.solve(SUDOKU, { halt: 'never', maxSteps: 2 });
        a.cancel();                                         // a runs now, no flag: the worker is replaced at once
        assert.equal(trm.info, info);
        const during = trm.solve(SUDOKU, { halt: 'never', maxSteps: 2 });  // asked while the worker is replaced
        b.cancel();                                         // cancelled while carried: never sent again
        const [aSteps, bSteps, cSteps, duringSteps] = await Promise.all([collect(a), collect(b), collect(c), collect(during)]);
        assert.deepEqual([aSteps.length, bSteps.length], [0, 0]);
        assert.deepEqual([await a.result, await b.result], [null, null]);
        assert.deepEqual(cSteps.map((s) => s.prediction), reference, 'a queued run ran whole on the new worker');
        assert.deepEqual(duringSteps.map((s) => s.prediction), reference);
        assert.deepEqual(trm.info, info);
      }
      // A model swap asked behind a cancelled run lands on the new worker; info follows it, not the reload.
      const a = trm.solve(SUDOKU, { halt: 'never' });
      const swap = trm.loadModel(other, { label: 'other.safetensors' });
      a.cancel();
      const swapped = await swap;
      assert.equal(swapped.config.hidden_size, 16);
      assert.equal(trm.info, swapped);
      assert.equal((await trm.solve(SUDOKU, { halt: 'never', maxSteps: 1 }).result).step, 1);
      assert.equal(trm.info.config.hidden_size, 16);
    } finally {
      trm.dispose();
    }
  });

  test('dispose while the worker is replaced rejects what was queued; a bad cancelTimeout is refused', async () => {
    const trm = await loadWithoutSharedMemory(modelBytes({}));
    const a = trm.solve(SUDOKU, { halt: 'never' });
    const queued = trm.memory();
    a.cancel();
    trm.dispose();
    await assert.rejects(queued, /trm: disposed/);
    assert.equal(await a.result, null);
    await assert.rejects(TRM.load(modelBytes({}), { cancelTimeout: -1 }),
      { message: "TRM.load: option cancelTimeout = -1; expected 'auto' or milliseconds >= 0 (Infinity: never replace the worker)" });
  });
});
