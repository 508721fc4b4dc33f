// scripts/plot_training.mjs: which figures of a train.py log reach the SVG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = new URL('../../scripts/plot_training.mjs', import.meta.url).pathname;

function plot(logText) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plot-'));
  const log = path.join(dir, 'log.txt'), out = path.join(dir, 'curve.svg');
  fs.writeFileSync(log, logText);
  execFileSync(process.execPath, [SCRIPT, log, '--svg', '--out', out]);
  return fs.readFileSync(out, 'utf8');
}

const steps = '[00:00:01] step 10 | loss 1.5000 (lm 1.5 q 0) | halted: cell 0.5000 exact 0\n' +
  '[00:00:02] step 20 | loss 1.2000 (lm 1.2 q 0) | halted: cell 0.6000 exact 0\n';
const circles = svg => (svg.match(/<circle /g) || []).length;

test('a log with per-file and mean held-out lines plots only the means, with cells to solve', () => {
  const svg = plot(steps +
    '[00:00:03] held-out a.csv (16 puzzles, EMA weights): exact 0.0000 cell 0.8000 (all steps) | cells to solve 0.3000 (all steps)\n' +
    '[00:00:03] held-out b.csv (16 puzzles, EMA weights): exact 0.0000 cell 0.9000 (all steps) | cells to solve 0.5000 (all steps)\n' +
    '[00:00:03] held-out mean over 2 set(s): exact 0.0000 cell 0.8500 (all steps) | cells to solve 0.4000 (all steps)\n');
  assert.equal(circles(svg), 2, 'one cell dot and one cells-to-solve dot for the one mean line');
  assert.match(svg, /held-out cells to solve/);
});

test('a log from before cells to solve were measured draws no such series', () => {
  const svg = plot(steps + '[00:00:03] held-out a.csv (16 puzzles, EMA weights): exact 0.0000 cell 0.8000 (all steps) | exact 0 (early halting)\n');
  assert.equal(circles(svg), 1);
  assert.doesNotMatch(svg, /cells to solve/);
});

test('a narrow loss range gets axis labels with enough decimals to tell them apart', () => {
  const svg = plot('[00:00:01] step 10 | loss 0.7100 (lm 0.7 q 0) | halted: cell 0.9000 exact 0\n' +
    '[00:00:02] step 20 | loss 0.6900 (lm 0.7 q 0) | halted: cell 0.9100 exact 0\n');
  const labels = [...svg.matchAll(/text-anchor="end">([0-9.]+)<\/text>/g)].map(m => m[1]);
  assert.ok(labels.length >= 3, `loss axis labels: ${labels}`);
  assert.equal(new Set(labels).size, labels.length, `repeated loss axis labels: ${labels}`);
});
