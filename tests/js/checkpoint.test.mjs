// Official checkpoints through the WASM build (web/checkpoint.js): each reference case's step_0, read piecewise from
// a Blob with only its all_config.yaml, becomes the same weight file byte for byte as `trm convert` writes natively,
// and that file reproduces the reference outputs; every malformed checkpoint gets the native CLI's refusal.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

import { convertCheckpoint } from '../../web/checkpoint.js';
import { TRM } from '../../web/trm.js';
import { argmaxMismatches, CASES, NATIVE_CLI, reference, relativeError, ROOT, VECTORS } from './helpers.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-js-checkpoint-'));

describe('official checkpoints in WASM', () => {
  for (const name of CASES) {
    test(name, async () => {
      const step0 = path.join(VECTORS, name, 'step_0');
      const { bytes, notes } = await convertCheckpoint(await fs.openAsBlob(step0), {
        name: step0, config: fs.readFileSync(path.join(VECTORS, name, 'all_config.yaml'), 'utf8'), dtype: 'f32' });
      const native = path.join(tmp, `${name}.safetensors`);
      execFileSync(NATIVE_CLI, ['convert', step0, '--out', native], { stdio: 'pipe' });
      assert.deepEqual(bytes, new Uint8Array(fs.readFileSync(native)));
      assert.equal(notes.length, name.startsWith('learned_pos') || name.startsWith('sudoku_mlp') ? 0 : 1);

      const ref = reference(name);
      const trm = await TRM.load(bytes, { threads: 1, relaxedSimd: false });
      try {
        const V = trm.info.config.vocab_size;
        const { steps } = await trm.predict(ref.get('inputs'), ref.get('puzzle_identifiers'), { steps: ref.steps });
        steps.forEach((s, k) => {
          assert.ok(relativeError(s.logits, ref.get(`step${k}.logits`)) <= 1e-4, `step ${k} logits`);
          assert.ok(relativeError(s.qHalt, ref.get(`step${k}.q_halt_logits`)) <= 1e-4, `step ${k} q_halt`);
          assert.equal(argmaxMismatches(s.logits, ref.get(`step${k}.logits`), V), 0, `step ${k} argmax`);
        });
      } finally {
        trm.dispose();
      }
    });
  }

  test('malformed and hostile checkpoints: the one-line refusals of tests/malformed/checkpoints/EXPECTED.tsv', async () => {
    const dir = path.join(ROOT, 'tests/malformed/checkpoints');
    const config = fs.readFileSync(path.join(dir, 'all_config.yaml'), 'utf8');
    const rows = fs.readFileSync(path.join(dir, 'EXPECTED.tsv'), 'utf8').trim().split('\n').slice(1);
    assert.ok(rows.length >= 15);
    for (const row of rows) {
      const [file, words] = row.split('\t');
      const blob = await fs.openAsBlob(path.join(dir, file));
      await assert.rejects(convertCheckpoint(blob, { name: file, config }), (e) => {
        assert.ok(e.message.startsWith(`${file}: `) && e.message.includes(words), `${file}: ${e.message}`);
        return true;
      });
    }
  });
});
