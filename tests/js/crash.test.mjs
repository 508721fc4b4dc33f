// A crash inside the engine (a WASM trap, as a bug would cause) rejects the pending call with the message, and the
// API stays usable: web/trm.js replaces the worker and reloads the same model. Both builds.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { TRM } from '../../web/trm.js';
import { caseWeights, SUDOKU } from './helpers.mjs';

for (const threads of [1, 2]) {
  test(`a trap rejects the pending call and the next solve works (${threads === 1 ? 'single-thread' : 'threads'})`, async () => {
    const trm = await TRM.load(await caseWeights('sudoku_mlp_t'), { threads });
    try {
      const before = await trm.solve(SUDOKU, { halt: 'never' }).result;
      const trap = trm._trapForTesting();
      const queued = trm.memory();  // queued behind the trap: it must fail too, not hang
      await assert.rejects(trap, /the engine crashed \(.*unreachable.*\); it was restarted/);
      await assert.rejects(queued, /the engine crashed/);
      const after = await trm.solve(SUDOKU, { halt: 'never' }).result;
      assert.equal(after.prediction, before.prediction);  // the same model, reloaded
      assert.equal(trm.info.config.hidden_size, 64);
    } finally {
      trm.dispose();
    }
  });
}
