// The models the demo ships (weights/index.json): each is in the size budget, has its model card, and loads and
// steps the same in the WASM build (scripts/trm.mjs) and the native one (build/native/trm).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { nativeBuilt, NATIVE_CLI, ROOT, SUDOKU } from './helpers.mjs';

const index = JSON.parse(fs.readFileSync(path.join(ROOT, 'weights/index.json'), 'utf8'));
const card = fs.readFileSync(path.join(ROOT, 'weights/README.md'), 'utf8');
const skip = nativeBuilt() ? false : 'build/native/trm is not built (scripts/build.sh native)';

// An open 30x30 maze inside a wall, S and G in opposite corners.
const MAZE = Array.from({ length: 30 }, (_, r) => Array.from({ length: 30 }, (_, c) => {
  if (r === 0 || c === 0 || r === 29 || c === 29) return '#';
  return r === 1 && c === 1 ? 'S' : r === 28 && c === 28 ? 'G' : ' ';
}).join('')).join('');
const PUZZLES = { sudoku: SUDOKU, maze: MAZE };

const native = (...args) => spawnSync(NATIVE_CLI, args, { encoding: 'utf8' });
const wasm = (...args) => spawnSync(process.execPath, [path.join(ROOT, 'scripts/trm.mjs'), ...args], { encoding: 'utf8' });

test('weights/index.json lists at least one model per demo task, each file under 20 MB with a model card', () => {
  assert.ok(index.models.some(m => m.kind === 'sudoku') && index.models.some(m => m.kind === 'maze'));
  for (const m of index.models) {
    const file = path.join(ROOT, 'weights', m.file);
    assert.ok(fs.existsSync(file), `${m.file} is listed but missing`);
    assert.ok(fs.statSync(file).size < 20e6, `${m.file}: ${fs.statSync(file).size} bytes`);
    assert.match(card, new RegExp(`## Model card: \`${m.file.replace('.', '\\.')}\``), `${m.file} has no model card`);
  }
});

describe('every shipped model in WASM and native', { skip }, () => {
  for (const m of index.models) {
    const file = path.join(ROOT, 'weights', m.file);
    test(`${m.file}: the same info, and two steps give the same answers and q_halt`, () => {
      const ni = native('info', file), wi = wasm('info', file);
      assert.equal(ni.status, 0, ni.stderr);
      assert.equal(wi.status, 0, wi.stderr);
      assert.equal(wi.stdout, ni.stdout);
      assert.match(ni.stdout, new RegExp(`\\b${m.kind}\\b`));
      const args = ['solve', file, PUZZLES[m.kind], '--steps', '2', '--halt', 'never', '--json', '--threads', '1'];
      const n = native(...args), w = wasm(...args);
      assert.equal(n.status, 0, n.stderr);
      assert.equal(w.status, 0, w.stderr);
      const nl = n.stdout.trim().split('\n').map(l => JSON.parse(l)), wl = w.stdout.trim().split('\n').map(l => JSON.parse(l));
      assert.equal(wl.length, nl.length);
      assert.equal(nl.filter(l => 'prediction' in l).length, 2);
      nl.forEach((a, i) => {
        if ('prediction' in a) {
          assert.equal(wl[i].prediction, a.prediction, `step ${a.step}`);
          assert.ok(Math.abs(wl[i].q_halt - a.q_halt) < 1e-3, `step ${a.step}: q_halt ${a.q_halt} vs ${wl[i].q_halt}`);
        } else {
          assert.equal(wl[i].answer, a.answer);
        }
      });
    });
  }
});
