// TRM#generate: the engine's puzzle generators (src/generators.h) through WASM, as the page's "New maze" uses them.
// The same seed must give the puzzle `trm generate` writes, so the page and the evaluation files agree.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

import { TRM } from '../../web/trm.js';
import { caseWeights, NATIVE_CLI } from './helpers.mjs';
import { shortestPath } from '../../web/app/maze.js';

const maze = await TRM.load(fs.readFileSync(caseWeights('maze_att_rope')), { label: 'maze_att_rope', threads: 1 });
const sudoku = await TRM.load(fs.readFileSync(caseWeights('sudoku_att_rope')), { label: 'sudoku_att_rope', threads: 1 });
after(() => { maze.dispose(); sudoku.dispose(); });

const nativeFirst = (args) => execFileSync(NATIVE_CLI, ['generate', ...args, '--count', '1'], { encoding: 'utf8' })
  .split('\n')[1].split(',');

test('mazes: the asked path length, the same maze as the native CLI for the same seed', { skip: !fs.existsSync(NATIVE_CLI) && 'no native build' }, async () => {
  for (const [seed, lo, hi] of [[1, 20, 40], [2, 41, 80], [3, 110, 147]]) {
    const m = await maze.generate({ seed, path: [lo, hi] });
    assert.equal(m.question.length, 900);
    const cells = shortestPath(m.question) + 1;
    assert.ok(cells >= lo && cells <= hi, `seed ${seed}: ${cells} path cells, asked ${lo}-${hi}`);
    assert.deepEqual([m.question, m.answer], nativeFirst(['maze', '--seed', String(seed), '--path', `${lo}-${hi}`]));
  }
});

test('sudokus: the grade and givens asked, the same puzzle as the native CLI', { skip: !fs.existsSync(NATIVE_CLI) && 'no native build' }, async () => {
  for (const grade of ['singles', 'harder']) {
    const p = await sudoku.generate({ seed: 5, grade, givens: [30, 32] });
    const givens = p.question.replace(/\./g, '').length;
    assert.ok(givens >= 30 && givens <= 32, `${grade}: ${givens} givens`);
    for (let i = 0; i < 81; i++) if (p.question[i] !== '.') assert.equal(p.question[i], p.answer[i]);
    assert.deepEqual([p.question, p.answer], nativeFirst(['sudoku', '--seed', '5', '--grade', grade, '--givens', '30-32']));
  }
  const a = await sudoku.generate({ seed: 6 }), b = await sudoku.generate({ seed: 7 });
  assert.notEqual(a.question, b.question);
});

test('bad options are refused with the option and what was expected', async () => {
  await assert.rejects(maze.generate({ path: [40, 20] }), /path cells 40-20; expected a range within 2-900/);
  await assert.rejects(maze.generate({ path: 30 }), /option path = 30; expected \[lo, hi\]/);
  await assert.rejects(sudoku.generate({ grade: 'easy' }), /grade 'easy'; expected 'singles' or 'harder'/);
  await assert.rejects(sudoku.generate({ seed: -1 }), /seed -1.*expected an integer in \[0, 2\^53\)/);
  await assert.rejects(sudoku.generate({ grade: 'harder', givens: [75, 80] }), /no harder puzzle with 75-80 givens/);
  // The engine still works after a refusal.
  assert.equal((await maze.generate({ seed: 9 })).question.length, 900);
});
