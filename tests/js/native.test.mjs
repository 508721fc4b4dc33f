// WASM and native agree: `node scripts/trm.mjs` and build/native/trm on the same inputs give the same outputs
// (numbers within the reference tolerance), the same text, the same errors and exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { argmaxMismatches, caseWeights, nativeBuilt, NATIVE_CLI, readFile, relativeError, ROOT, SUDOKU, VECTORS } from './helpers.mjs';

const skip = nativeBuilt() ? false : 'build/native/trm is not built (scripts/build.sh native)';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-js-native-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const native = (...args) => spawnSync(NATIVE_CLI, args, { encoding: 'utf8' });
const wasm = (...args) => spawnSync(process.execPath, [path.join(ROOT, 'scripts/trm.mjs'), ...args], { encoding: 'utf8' });

describe('scripts/trm.mjs against build/native/trm', { skip }, () => {
  const W = caseWeights('sudoku_att_rope');

  for (const threads of ['1', '2']) {
    test(`predict: the same tensors, within 1e-4 of the native scale (--threads ${threads})`, () => {
      const inputs = path.join(VECTORS, 'sudoku_att_rope/reference.safetensors');
      const n = native('predict', W, '--inputs', inputs, '--steps', '3', '--out', path.join(tmp, 'n.safetensors'));
      assert.equal(n.status, 0, n.stderr);
      const w = wasm('predict', W, '--inputs', inputs, '--steps', '3', '--out', path.join(tmp, 'w.safetensors'), '--threads', threads);
      assert.equal(w.status, 0, w.stderr);
      const a = readFile(path.join(tmp, 'n.safetensors')), b = readFile(path.join(tmp, 'w.safetensors'));
      assert.deepEqual([...b.tensors.keys()], [...a.tensors.keys()]);
      for (const [name, t] of a.tensors) {
        assert.deepEqual(b.tensors.get(name).shape, t.shape, name);
        assert.ok(relativeError(b.tensors.get(name).data, t.data) <= 1e-4, name);
        if (name.endsWith('.logits')) assert.equal(argmaxMismatches(b.tensors.get(name).data, t.data, t.shape[2]), 0, name);
      }
    });
  }

  test('info: identical output', () => {
    const n = native('info', W), w = wasm('info', W);
    assert.equal(w.status, 0, w.stderr);
    assert.equal(w.stdout, n.stdout);
  });

  test('solve --json: the same lines, keys and answers; numbers within tolerance', () => {
    const n = native('solve', W, SUDOKU, '--json', '--halt', 'never');
    const w = wasm('solve', W, SUDOKU, '--json', '--halt', 'never');
    assert.equal(w.status, 0, w.stderr);
    const nl = n.stdout.trim().split('\n'), wl = w.stdout.trim().split('\n');
    assert.equal(wl.length, nl.length);
    nl.forEach((line, i) => {
      const a = JSON.parse(line), b = JSON.parse(wl[i]);
      assert.deepEqual(Object.keys(b), Object.keys(a));
      for (const k of Object.keys(a)) {
        if (k === 'ms') continue;
        if (typeof a[k] === 'number' && !Number.isInteger(a[k])) assert.ok(Math.abs(a[k] - b[k]) < 1e-4, `${k}: ${a[k]} vs ${b[k]}`);
        else assert.deepEqual(b[k], a[k], k);
      }
    });
  });

  test('solve: the same text (up to timings and the last digit of q_halt)', () => {
    const mask = (s) => s.replace(/^(step .*?confidence).*$/gm, '$1');
    const n = native('solve', W, SUDOKU), w = wasm('solve', W, SUDOKU);
    assert.equal(w.status, 0, w.stderr);
    assert.equal(mask(w.stdout), mask(n.stdout));
    assert.match(w.stdout, /^step 1\/3  confidence [ \d.]+% \(q_halt [+-]\d\.\d{3}\)  81 cells changed  [\d.]+ ms$/m);
  });

  test('errors: the same message and exit status', () => {
    const cut = path.join(tmp, 'cut.safetensors');
    fs.writeFileSync(cut, fs.readFileSync(W).subarray(0, 3000));
    const cases = [
      ['info', cut], ['info', path.join(tmp, 'missing.safetensors')], ['solve', W, '123'], ['solve', W, SUDOKU, '--halt', 'x'],
      ['solve', W, SUDOKU, '--frobnicate', '1'], ['solve', W], ['solve', W, SUDOKU, '--steps', '0'], ['predict', W, '--steps', '1'],
      ['solve', W, SUDOKU, '--task', 'maze'], ['frobnicate'], [],
    ];
    for (const args of cases) {
      const n = native(...args), w = wasm(...args);
      assert.equal(w.status, n.status, args.join(' '));
      assert.equal(w.stderr.split('\n')[0], n.stderr.split('\n')[0], args.join(' '));
    }
  });
});
