// A crash inside the engine (a WASM trap in the middle of a step, as a bug would cause) rejects the pending call with
// the message, and the API stays usable: web/trm.js replaces the worker and reloads the same model. Both builds. The
// trap is made by tests/js/fault-worker.mjs, where the engine looks at the cancel flag.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { TRM } from '../../web/trm.js';
import { caseWeights, faultWorkers, SUDOKU } from './helpers.mjs';

const faults = faultWorkers();
after(() => faults.restore());

for (const threads of [1, 2]) {
  test(`a trap rejects the pending call and the next solve works (${threads === 1 ? 'single-thread' : 'threads'})`, async () => {
    const trm = await TRM.load(await caseWeights('sudoku_mlp_t'), { threads });
    try {
      const before = await trm.solve(SUDOKU, { halt: 'never' }).result;
      faults.arm('trap');
      const trapped = trm.solve(SUDOKU, { halt: 'never' });
      const queued = trm.memory();  // queued behind the trap: it must fail too, not hang
      await assert.rejects(trapped.result, { message: /^trm: the engine crashed \(.*unreachable.*\); it was restarted$/ });
      await assert.rejects(queued, /the engine crashed/);
      const after = await trm.solve(SUDOKU, { halt: 'never' }).result;
      assert.equal(after.prediction, before.prediction);  // the same model, reloaded
      assert.equal(trm.info.config.hidden_size, 64);
    } finally {
      trm.dispose();
    }
  });
}
