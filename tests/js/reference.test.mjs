// The WASM builds reproduce every reference case of the official TRM code, step by step, within the tolerances of
// tests/cpp/test_reference.cpp: max |error| <= 1e-4 x max |reference| for logits, q_halt and q_continue, and the
// same argmax wherever the reference is not a near-tie.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { TRM } from '../../web/trm.js';
import { argmaxMismatches, CASES, caseWeights, NO_RELAXED_SIMD, reference, relativeError } from './helpers.mjs';

for (const relaxedSimd of [false, true])
for (const threads of [1, 2]) {
  const backend = `wasm-${relaxedSimd ? 'relaxed-' : ''}simd${threads === 1 ? '' : '-threads'}`;
  describe(`reference cases, ${backend} build`, { skip: relaxedSimd && NO_RELAXED_SIMD }, () => {
    for (const name of CASES) {
      test(name, async () => {
        const ref = reference(name);
        const trm = await TRM.load(caseWeights(name), { threads, relaxedSimd });
        try {
          assert.equal(trm.info.backend, backend);
          const V = trm.info.config.vocab_size;
          const { steps } = await trm.predict(ref.get('inputs'), ref.get('puzzle_identifiers'), { steps: ref.steps });
          assert.equal(steps.length, ref.steps);
          steps.forEach((s, k) => {
            const p = `step${k}.`;
            assert.ok(relativeError(s.logits, ref.get(`${p}logits`)) <= 1e-4, `step ${k} logits`);
            assert.ok(relativeError(s.qHalt, ref.get(`${p}q_halt_logits`)) <= 1e-4, `step ${k} q_halt`);
            assert.ok(relativeError(s.qContinue, ref.get(`${p}q_continue_logits`)) <= 1e-4, `step ${k} q_continue`);
            assert.equal(argmaxMismatches(s.logits, ref.get(`${p}logits`), V), 0, `step ${k} argmax`);
          });
        } finally {
          trm.dispose();
        }
      });
    }
  });
}
