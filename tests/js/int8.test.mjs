// int8 weight files in the WASM builds run their products on the integer kernels (src/kernels.h: int8 weights
// times activations quantised to int16; attention's two products on int16 q, k, weights and v). Each reference
// case's weights, stored as int8 by scripts/quantize.py, run in both WASM builds and, as the float reference,
// natively on the Eigen path (the same int8 weights dequantised to float32: `trm predict --kernels eigen`). The only
// difference is the activations' rounding: the bound of tests/cpp/test_reference.cpp, 1e-2 x max |logit|
// (measured there: 7e-5 to 1.1e-3), and the same argmax wherever the float path's top two logits are 1e-2 of that
// scale apart.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

import { TRM } from '../../web/trm.js';
import { argmaxMismatches, CASES, caseWeights, NATIVE_CLI, nativeBuilt, readFile, reference, relativeError, ROOT, VECTORS } from './helpers.mjs';

const skip = nativeBuilt() ? false : 'build/native/trm is not built (scripts/build.sh native)';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-int8-'));

function int8Weights(name) {
  const out = path.join(tmp, `${name}.int8.safetensors`);
  if (!fs.existsSync(out)) {
    execFileSync('/usr/bin/python3', [path.join(ROOT, 'scripts/quantize.py'), caseWeights(name), '--dtype', 'int8', '--out', out], { stdio: 'pipe' });
  }
  return out;
}

function floatPath(name, weights, steps) {
  const out = path.join(tmp, `${name}.eigen.safetensors`);
  if (!fs.existsSync(out)) {
    execFileSync(NATIVE_CLI, ['predict', weights, '--inputs', path.join(VECTORS, name, 'reference.safetensors'), '--steps', String(steps),
      '--out', out, '--kernels', 'eigen', '--threads', '1'], { stdio: 'pipe' });
  }
  const f = readFile(out);
  return (n) => f.tensors.get(n).data;
}

for (const threads of [1, 2]) {
  describe(`int8 weights on the integer kernels, ${threads === 1 ? 'single-thread' : 'threaded'} build`, { skip }, () => {
    for (const name of CASES) {
      test(name, async () => {
        const ref = reference(name);
        const weights = int8Weights(name);
        const want = floatPath(name, weights, ref.steps);
        const trm = await TRM.load(fs.readFileSync(weights), { threads });
        try {
          assert.match(trm.info.storageDtype, /I8/);
          const V = trm.info.config.vocab_size;
          const { steps } = await trm.predict(ref.get('inputs'), ref.get('puzzle_identifiers'), { steps: ref.steps });
          steps.forEach((s, k) => {
            const p = `step${k}.`;
            assert.ok(relativeError(s.logits, want(`${p}logits`)) <= 1e-2, `step ${k} logits`);
            assert.ok(relativeError(s.qHalt, want(`${p}q_halt_logits`)) <= 1e-2, `step ${k} q_halt`);
            assert.equal(argmaxMismatches(s.logits, want(`${p}logits`), V, 1e-2), 0, `step ${k} argmax`);
          });
          // Not the float path in disguise: rounding the activations changes the logits a little.
          assert.ok(relativeError(steps.at(-1).logits, want(`step${ref.steps - 1}.logits`)) > 0);
        } finally {
          trm.dispose();
        }
      });
    }
  });
}
