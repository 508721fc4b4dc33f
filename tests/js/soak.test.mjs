// Soak (issue 22): 1,000 solves through the JS API in Node on the small models of tests/, alternating models and
// strategies, with cancels and disposals mixed in. Every call must succeed; memory is measured at the start and the
// end: the long-lived engines' WASM heap in use must come back to the same byte count (bound: 0 bytes), and the
// process's resident memory may grow by at most 64 MiB, about what two more engines (Worker + module) would take
// (each disposal cycle below makes one, ten cycles in all).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { TRM } from '../../web/trm.js';
import { ARC_TASK, ARC_TASK_ID, arcModelBytes } from './arc-model.mjs';
import { caseWeights, SUDOKU } from './helpers.mjs';

const SOLVES = 1000;
const RSS_BOUND = 64 * 2 ** 20;
const STRATEGIES = [
  { strategy: 'model' },
  { strategy: 'steps', maxSteps: 2 },
  { strategy: 'vote', copies: 2, maxSteps: 2 },
  { strategy: 'commit', copies: 2, commit: 4, maxCalls: 8 },
];

test(`soak: ${SOLVES} solves, two models, four strategies, cancels and disposals: no failure, no growth`, { timeout: 600_000 }, async () => {
  const mlp = await TRM.load(caseWeights('sudoku_mlp_t'), { threads: 1 });
  const att = await TRM.load(caseWeights('learned_pos_no_puzzle_emb'), { threads: 1 });
  const arcBytes = arcModelBytes('copy');
  const engines = [mlp, att];
  try {
    // Every kind of call once, a cancel inside a step included (cancelled at once, it stops inside the first step):
    // the engine keeps the last error message, a string that grows once to the longest.
    const warm = async () => {
      for (const e of engines) {
        for (const s of STRATEGIES) {
          await e.solve(SUDOKU, s).result;
          const run = e.solve(SUDOKU, s);
          run.cancel();
          await run.result;
          assert.equal(run.stepsComputed, 0);
        }
      }
    };
    await warm();
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const heap0 = await Promise.all(engines.map((e) => e.memory()));
    let cancelled = 0, disposed = 0, steps = 0;
    for (let i = 0; i < SOLVES; ++i) {
      if (i % 100 === 99) {
        // Dispose: a short-lived engine (the ARC model) loads, solves, is disposed mid-solve.
        const arc = await TRM.load(arcBytes, { threads: 1 });
        const run = arc.solve(ARC_TASK, { taskId: ARC_TASK_ID, halt: 'never' });
        await run.next();
        arc.dispose();
        await assert.rejects(run.result, /trm: disposed/);
        disposed += 1;
        continue;
      }
      const engine = engines[i % 2];
      const run = engine.solve(SUDOKU, STRATEGIES[Math.floor(i / 2) % STRATEGIES.length]);
      if (i % 7 === 3) {  // cancel after the first step
        const first = await run.next();
        assert.equal(first.done, false);
        run.cancel();
        await run.result;
        cancelled += 1;
        continue;
      }
      const last = await run.result;
      assert.ok(last && last.done && last.prediction.length === 81, `solve ${i}`);
      steps += last.step;
    }
    await warm();
    global.gc?.();
    const heap1 = await Promise.all(engines.map((e) => e.memory()));
    const rss1 = process.memoryUsage().rss;
    const mib = (b) => (b / 2 ** 20).toFixed(1);
    console.log(`soak: ${SOLVES} solves (${cancelled} cancelled, ${disposed} engines disposed, ${steps} steps); ` +
      `WASM heap used ${heap0.map((h) => h.heapUsed)} -> ${heap1.map((h) => h.heapUsed)} bytes; RSS ${mib(rss0)} -> ${mib(rss1)} MiB`);
    assert.deepEqual(heap1.map((h) => h.heapUsed), heap0.map((h) => h.heapUsed));
    assert.deepEqual(heap1.map((h) => h.heapSize), heap0.map((h) => h.heapSize));
    assert.ok(rss1 - rss0 <= RSS_BOUND, `RSS grew ${mib(rss1 - rss0)} MiB (bound ${mib(RSS_BOUND)})`);
  } finally {
    for (const e of engines) e.dispose();
  }
});
