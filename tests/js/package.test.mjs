// The npm package: `npm pack` ships what package.json "files" lists, and an app that installs the tarball imports
// 'trm-web' (package "exports") in Node and solves with both builds.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

import { caseWeights, ROOT, SUDOKU } from './helpers.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-pack-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('an app that installs the packed package solves a sudoku in Node', () => {
  const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--offline', '--loglevel=error'],
    { cwd, encoding: 'utf8' });
  const tarball = npm(['pack', '--pack-destination', tmp], ROOT).trim().split('\n').at(-1);
  const app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  npm(['install', path.join(tmp, tarball)], app);
  fs.writeFileSync(path.join(app, 'main.mjs'), `
    import { TRM } from 'trm-web';
    const out = [];
    for (const threads of [1, 2]) {
      const trm = await TRM.load(process.argv[2], { threads });
      const last = await trm.solve(process.argv[3], { halt: 'never' }).result;
      out.push({ backend: trm.info.backend, step: last.step, prediction: last.prediction });
      trm.dispose();
    }
    console.log(JSON.stringify(out));`);
  const out = JSON.parse(execFileSync(process.execPath, ['main.mjs', caseWeights('sudoku_att_rope'), SUDOKU], { cwd: app, encoding: 'utf8' }));
  assert.deepEqual(out.map((r) => r.backend), ['wasm-simd', 'wasm-simd-threads']);
  assert.deepEqual(out.map((r) => r.step), [3, 3]);
  assert.equal(out[0].prediction, out[1].prediction);
  assert.ok(fs.existsSync(path.join(app, 'node_modules/trm-web/web/trm.d.ts')));
});
