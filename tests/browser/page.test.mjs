// End-to-end tests of the demo page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core).
// Needs the WASM build (scripts/build.sh wasm) and a sudoku model: weights/sudoku_mlp.safetensors when it is
// there, else the tiny random reference model that ctest writes to build/native/vectors/ (whose answers don't
// verify: then the tests check that the page says so correctly). Screenshots go to test-output/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT, session, skipReason, sudokuModel, startServer, launch, watch, screenshot, waitForResult, generatedMaze,
} from './harness.mjs';
import { SUDOKU_SAMPLES } from '../../web/app/samples.js';
import { shortestPath } from '../../web/app/maze.js';

const MAZE_MODEL = 'build/native/vectors/maze_att_rope.safetensors';
const ARC_MODEL = 'build/native/vectors/arc_att_rope_puzzle_emb.safetensors';
const sudoku = sudokuModel();
const skip = skipReason({ more: [[!sudoku, 'no sudoku model (weights/ or build/native/vectors/: run ctest --test-dir build/native)']] });

const PUZZLE = SUDOKU_SAMPLES[0].puzzle;
// The deep link to a sudoku; names the model unless the shipped one is there (the page loads that by itself).
const sudokuLink = (p, extra = '') => `#sudoku=${p}${extra}${sudoku && !sudoku.shipped ? `&model=../${sudoku.path}` : ''}`;

// A grid that keeps the givens and has no repeated digit in any row, column or box.
function isValidSolution(puzzle, answer) {
  if (!/^[1-9]{81}$/.test(answer)) return false;
  for (let i = 0; i < 81; i++) if (puzzle[i] !== '.' && puzzle[i] !== answer[i]) return false;
  for (let u = 0; u < 9; u++) {
    const row = new Set(), col = new Set(), box = new Set();
    for (let k = 0; k < 9; k++) {
      row.add(answer[u * 9 + k]);
      col.add(answer[k * 9 + u]);
      box.add(answer[(Math.floor(u / 3) * 3 + Math.floor(k / 3)) * 9 + (u % 3) * 3 + (k % 3)]);
    }
    if (row.size < 9 || col.size < 9 || box.size < 9) return false;
  }
  return true;
}

const env = session({ skip });

// Measures the longest gap between timer ticks on the main thread (the worker solves meanwhile).
const startProbe = page => page.evaluate(() => {
  window.__gaps = { max: 0, ticks: 0 };
  let last = performance.now();
  window.__probe = setInterval(() => {
    const now = performance.now();
    window.__gaps.max = Math.max(window.__gaps.max, now - last);
    window.__gaps.ticks++;
    last = now;
  }, 10);
});
const stopProbe = page => page.evaluate(() => { clearInterval(window.__probe); return window.__gaps; });

async function open(hash, { width = 1200, height = 900 } = {}) {
  const page = await env.browser.context.newPage();
  await page.setViewportSize({ width, height });
  const seen = watch(page, env.server.origin);
  await page.goto(env.server.url + hash);
  return { page, seen };
}

// Waits for the model panel to show a loaded model; fails at once, with the page's message, if loading failed.
async function modelLoaded(page) {
  await page.waitForFunction(() => document.querySelector('#model-info dt') ||
    /could not be loaded/.test(document.getElementById('model-status').textContent), null, { timeout: 60_000 });
  const status = await page.textContent('#model-status');
  assert.doesNotMatch(status, /could not be loaded/, status);
}

test('serve: COOP/COEP, a strict CSP and the right MIME types', { skip }, async () => {
  const res = await fetch(`${env.server.url}index.html`);
  assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.match(res.headers.get('content-security-policy'), /default-src 'self'/);
  assert.doesNotMatch(res.headers.get('content-security-policy'), /'unsafe-eval'|'unsafe-inline'|\*/);
  assert.equal((await fetch(`${env.server.origin}/build/wasm/trm-wasm.wasm`)).headers.get('content-type'), 'application/wasm');
  assert.match((await fetch(`${env.server.url}app/main.js`)).headers.get('content-type'), /^text\/javascript/);
  assert.equal((await fetch(`${env.server.origin}/.git/HEAD`)).status, 404);
  assert.equal((await fetch(`${env.server.origin}/web/..%2f..%2fetc/passwd`)).status, 404);
});

test('the page loads without console errors, shows each view, and asks nothing of other origins', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  await modelLoaded(page);
  // The default strategy is 'best', and the page names what it runs for the loaded model (the engine's choice).
  assert.equal(await page.inputValue('#strategy'), 'best');
  await page.waitForFunction(() => /^Best measured for this model: vote /.test(document.getElementById('strategy-note').textContent));
  assert.equal(await page.locator('.sudoku .cell').count(), 81);
  assert.equal(await page.locator('.sudoku .cell.given').count(), PUZZLE.replace(/\./g, '').length);
  await screenshot(page, 'sudoku');

  // "New maze" draws from the engine's generator at the chosen level: Short (20-40 cells) first, then Maze-Hard.
  await page.click('#tab-maze');
  await page.waitForFunction(() => /Shortest path: \d+ steps/.test(document.getElementById('maze-info').textContent));
  const steps = Number((await page.textContent('#maze-info')).match(/(\d+) steps/)[1]);
  assert.ok(steps >= 19 && steps <= 39, `a short generated maze has a ${steps}-step shortest path`);
  if (fs.existsSync(path.join(ROOT, 'weights/maze_att.safetensors'))) {
    await page.waitForFunction(() => /shipped model solves \d+% of short mazes/.test(document.getElementById('maze-level-note').textContent));
  }
  await page.selectOption('#maze-level', { label: 'Maze-Hard: path of 110-147 cells' });
  await page.waitForFunction(() => /Shortest path: (\d{3}) steps/.test(document.getElementById('maze-info').textContent));
  const hard = Number((await page.textContent('#maze-info')).match(/(\d+) steps/)[1]);
  assert.ok(hard >= 109 && hard <= 146, `a Maze-Hard level maze has a ${hard}-step shortest path`);
  await screenshot(page, 'maze');

  await page.click('#tab-arc');
  await page.waitForSelector('#arc-pairs canvas');
  assert.match(await page.textContent('#arc-model'), /No ARC model is loaded/);
  await screenshot(page, 'arc');

  await page.setViewportSize({ width: 360, height: 740 });
  await page.click('#tab-sudoku');
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no sideways scrolling at 360 px');
  await screenshot(page, 'sudoku-360');
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.foreign, []);
  await page.close();
});

// WCAG's contrast ratio of two CSS colours ('rgb(r, g, b)' or '#rrggbb'), computed in the page.
const CONTRAST = `(a, b) => {
  const rgb = c => (c.startsWith('#') ? c.slice(1).match(/../g).map(h => parseInt(h, 16)) : c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number));
  const lum = c => rgb(c).map(v => v / 255).map(v => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}`;

test('the model panel: a short model card, the raw metadata behind a disclosure, a weak model named before Solve', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE), { width: 1280, height: 800 });
  await modelLoaded(page);
  assert.match(await page.textContent('#model-summary'), /^Sudoku, token-mixing MLP: [\d.]+ [kM] parameters, up to \d+ steps of recursion\./);
  assert.equal(await page.$eval('#model-source', d => d.open), false, 'the raw metadata starts folded');
  assert.ok(await page.isHidden('#model-source-text'));
  assert.match(await page.textContent('#model-source-text'), /"trained_with"|not stated/);
  assert.match(await page.textContent('#model-info'), /Networktoken-mixing MLP/);
  if (sudoku.shipped) {
    assert.match(await page.textContent('#model-summary'), /Trained for [\d,]+ optimiser steps.*On its own it solves [\d.]+% of everyday singles-only sudokus/);
    // Named weak before Solve only while its best measured figure (weights/index.json) is under half.
    const entry = JSON.parse(fs.readFileSync(path.join(ROOT, 'weights/index.json'), 'utf8')).models.find(m => m.kind === 'sudoku');
    const verdict = await page.textContent('#verdict');
    if (Math.max(...Object.values(entry.solved)) < 0.5) {
      assert.match(verdict, /^Press Solve to watch the model work\. This model is still weak: on its own it solves \d+% of everyday singles-only sudokus; the vote strategy \(the default here\) does better\.$/);
    } else {
      assert.equal(verdict, 'Press Solve to watch the model work.');
    }
    assert.equal(await page.getAttribute('#model-card-link a', 'href'), '../weights/README.md');
  }
  // The metadata no longer makes the page tall: everything fits in well under two desktop screens.
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  assert.ok(height < 1500, `the desktop page is ${height} px tall`);
  await page.click('#model-source summary');
  assert.ok(await page.isVisible('#model-source-text'));
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('a legend names the cell colours, the highlights meet 3:1 contrast, and the page links the paper, README and model card', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  await modelLoaded(page);
  assert.deepEqual((await page.locator('#view-sudoku .legend li').allTextContents()).map(t => t.replace(/^\d\s*/, '').trim()),
    ['given', 'the model’s digit', 'changed in this step', 'wrong, or givens that clash', 'bar: how sure the model is']);
  assert.deepEqual((await page.locator('#view-maze .legend li').allTextContents()).map(t => t.trim()),
    ['the model’s path', 'changed in this step', 'wrong', 'a shortest path (when shown)', 'shade: how sure the model is that the path runs there']);
  assert.deepEqual((await page.locator('#arc-legend li').allTextContents()).map(t => t.trim()),
    ['shade, right of each attempt: how sure the model is of the cell’s colour', 'less than half sure']);
  const ratios = await page.evaluate(async contrast => {
    contrast = eval(contrast);
    const grid = document.getElementById('sudoku-grid');
    const probe = cls => {
      const el = document.createElement('input');
      el.className = cls;
      grid.append(el);
      const style = getComputedStyle(el);
      const out = { bg: style.backgroundColor, ring: style.boxShadow.match(/rgb\([^)]*\)/)?.[0], color: style.color };
      el.remove();
      return out;
    };
    const plain = probe('cell'), changed = probe('cell changed'), bad = probe('cell bad'), predicted = probe('cell predicted');
    const { COLORS, mix } = await import(new URL('app/maze.js', location.href));
    const { CERTAINTY_COLORS: ARC } = await import(new URL('app/arc.js', location.href));
    return {
      // ARC's dot on a cell the model is less than half sure of: against its rim, and against the darkest shade it sits on.
      'arc dot': contrast(ARC.unsure, ARC.open), 'arc dot on 50%': contrast(ARC.unsure, mix(ARC.open, ARC.sure, 0.5)),
      changedRing: contrast(changed.ring, plain.bg), changedRingOnFill: contrast(changed.ring, changed.bg),
      changedText: contrast(changed.color, changed.bg), bad: contrast(bad.ring, plain.bg), badText: contrast(bad.color, bad.bg),
      predicted: contrast(predicted.color, plain.bg),
      ...Object.fromEntries(['path', 'changed', 'bad', 'truePath', 'S', 'G'].map(k => [`maze ${k}`, contrast(COLORS[k], COLORS.open)])),
    };
  }, CONTRAST);
  for (const [what, ratio] of Object.entries(ratios)) {
    const need = /Text|predicted/.test(what) ? 4.5 : 3;
    assert.ok(ratio >= need, `${what}: contrast ${ratio.toFixed(2)}:1, under ${need}:1`);
  }
  assert.equal(await page.locator('a[href="https://arxiv.org/abs/2510.04871"]').count(), 1);
  assert.equal(await page.locator('footer a[href="../README.md"]').count(), 1);
  assert.equal(await page.locator('footer a[href="../weights/README.md"]').count(), 1);
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('a given the model overwrites keeps its digit and is not highlighted as changed', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  const cells = await page.evaluate(async () => {
    const { createSudokuView } = await import(new URL('app/sudoku.js', location.href));
    const grid = document.createElement('div');
    document.body.append(grid);
    const view = createSudokuView(grid, { onChange() {} });
    view.setPuzzle(`5${'.'.repeat(80)}`);
    view.showStep({ prediction: `6${'1'.repeat(80)}`, changed: [0, 1], done: false });
    const out = [0, 1].map(i => ({ value: grid.children[i].value, changed: grid.children[i].classList.contains('changed') }));
    grid.remove();
    return out;
  });
  assert.deepEqual(cells, [{ value: '5', changed: false }, { value: '1', changed: true }]);
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('givens that clash are marked as they are typed, and Solve says what to change', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  await modelLoaded(page);
  await page.click('#sudoku-clear');
  await page.locator('.sudoku .cell').nth(0).click();
  await page.keyboard.press('5');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('5');
  assert.equal(await page.locator('.sudoku .cell.bad').count(), 2);
  assert.equal(await page.locator('.sudoku .cell[aria-invalid=true]').count(), 2);
  const clash = /^Two givens clash \(row 1 has two 5s\), so the puzzle has no solution: change one of the cells marked in red\.$/;
  assert.match(await page.textContent('#verdict'), clash);
  await page.click('#solve');
  assert.match(await page.textContent('#verdict'), clash);
  assert.equal(await page.getAttribute('[data-testid=result]', 'data-state'), null, 'no solve started');
  await page.locator('.sudoku .cell').nth(1).click();
  await page.keyboard.press('Backspace');
  assert.equal(await page.locator('.sudoku .cell.bad').count(), 0);
  assert.match(await page.textContent('#verdict'), /^Press Solve/);
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('switching puzzles during a solve leaves no stale "Cancelled" message', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  await modelLoaded(page);
  await page.uncheck('#halt-early');
  await page.evaluate(() => {
    new MutationObserver((_, obs) => {
      if (/^1 of/.test(document.getElementById('step').textContent)) {
        obs.disconnect();
        const select = document.getElementById('sudoku-sample');
        select.selectedIndex = 3;
        select.dispatchEvent(new Event('change'));
      }
    }).observe(document.getElementById('step'), { childList: true, characterData: true, subtree: true });
  });
  await page.click('#solve');
  await page.waitForFunction(() => document.getElementById('sudoku-sample').selectedIndex === 3);
  await page.waitForFunction(() => document.getElementById('cancel').disabled && !document.getElementById('solve').disabled);
  assert.match(await page.textContent('#verdict'), /^Press Solve/);
  assert.equal(await page.textContent('#step'), '–');
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('maze: the predicted path is drawn as a line, and a shortest path can be shown over it', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  // The board's own drawing, read back from the canvas: pixels of a colour along the segment between two cells.
  const counts = await page.evaluate(async () => {
    const { createMazeView, COLORS, SIZE } = await import(new URL('app/maze.js', location.href));
    const canvas = document.createElement('canvas');
    canvas.style.width = '300px';
    document.body.append(canvas);
    const view = createMazeView(canvas, { onChange() {}, tool: () => 'wall' });
    const rgb = hex => hex.slice(1).match(/../g).map(h => parseInt(h, 16));
    const along = (a, b, hex) => {
      const [r, g, bl] = rgb(hex);
      const s = canvas.width / SIZE, ctx = canvas.getContext('2d');
      let n = 0;
      for (let t = 0; t <= 20; t++) {
        const x = ((a % SIZE) + 0.5 + (b % SIZE - a % SIZE) * t / 20) * s, y = (Math.floor(a / SIZE) + 0.5 + (Math.floor(b / SIZE) - Math.floor(a / SIZE)) * t / 20) * s;
        const [pr, pg, pb] = ctx.getImageData(Math.floor(x), Math.floor(y), 1, 1).data;
        if (Math.abs(pr - r) + Math.abs(pg - g) + Math.abs(pb - bl) < 12) n++;
      }
      return n;
    };
    // S at (0,0), G at (0,4); the model's path runs along row 0, a shortest path too.
    const maze = `S   G${' '.repeat(SIZE * SIZE - 5)}`;
    view.setMaze(maze);
    const before = along(1, 2, COLORS.path);
    view.showStep({ prediction: `Sooo${maze.slice(4)}`, changed: [], done: true, badCells: [] });
    const line = along(1, 2, COLORS.path);
    const gap = along(1, 2, COLORS.open);
    view.clearAnswer();
    const trueBefore = along(1, 2, COLORS.truePath);
    view.showShortest = true;
    const trueAfter = along(1, 2, COLORS.truePath);
    canvas.remove();
    return { before, line, gap, trueBefore, trueAfter };
  });
  assert.equal(counts.before, 0);
  assert.equal(counts.line, 21, 'the line runs unbroken from one path cell to the next');
  assert.equal(counts.gap, 0);
  assert.equal(counts.trueBefore, 0);
  assert.ok(counts.trueAfter >= 8, `the shortest path is drawn (dashed): ${counts.trueAfter} of 21 points`);
  // On the page: the checkbox shows it.
  await page.click('#tab-maze');
  await page.waitForFunction(() => /Shortest path: \d+ steps/.test(document.getElementById('maze-info').textContent));
  const green = () => page.evaluate(async () => {
    const { COLORS } = await import(new URL('app/maze.js', location.href));
    const canvas = document.getElementById('maze-board');
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const [r, g, b] = COLORS.truePath.slice(1).match(/../g).map(h => parseInt(h, 16));
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 12) n++;
    return n;
  });
  assert.equal(await green(), 0);
  await page.check('#maze-show-shortest');
  assert.ok(await green() > 100, 'the board shows a shortest path');
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('maze: each open cell is shaded by how sure the model is that the path runs there, the line keeping its rim', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  const got = await page.evaluate(async () => {
    const { createMazeView, COLORS, SIZE } = await import(new URL('app/maze.js', location.href));
    const canvas = document.createElement('canvas');
    document.body.append(canvas);
    canvas.style.width = '600px';
    const view = createMazeView(canvas, { onChange() {}, tool: () => 'wall' });
    const maze = `S    G${' '.repeat(SIZE * SIZE - 6)}`;
    view.setMaze(maze);
    // Logits over the 6 tokens (PAD and '# SGo'): cell 1 sure of the path, cell 2 torn between open and path, cell 3
    // sure it is off the path.
    const logits = new Float32Array(SIZE * SIZE * 6).fill(-30);
    for (let i = 0; i < SIZE * SIZE; i++) logits[i * 6 + 2] = 10;
    logits[1 * 6 + 5] = 40;
    logits[2 * 6 + 5] = 10;
    view.showStep({ prediction: `Soo  G${maze.slice(6)}`, logits, changed: [], done: false });
    const s = canvas.width / SIZE, ctx = canvas.getContext('2d');
    const at = (i, dx, dy) => [...ctx.getImageData(Math.floor((i % SIZE + dx) * s), Math.floor((Math.floor(i / SIZE) + dy) * s), 1, 1).data.slice(0, 3)];
    const rgb = hex => hex.slice(1).match(/../g).map(h => parseInt(h, 16));
    const out = { p: [1, 2, 3].map(i => view.certainty[i]), corner: [1, 2, 3].map(i => at(i, 0.12, 0.12)),
      rim: at(1, 0.5, 0.3), line: at(1, 0.5, 0.5), open: rgb(COLORS.open), sure: rgb(COLORS.sure), path: rgb(COLORS.path) };
    view.clearAnswer();
    out.cleared = view.certainty;
    canvas.remove();
    return out;
  });
  const near = (a, b, what) => assert.ok(a.every((v, k) => Math.abs(v - b[k]) <= 3), `${what}: ${a} is not ${b}`);
  assert.ok(got.p[0] > 0.99 && Math.abs(got.p[1] - 0.5) < 1e-3 && got.p[2] < 0.01, JSON.stringify(got.p));
  near(got.corner[0], got.sure, 'a cell sure to be on the path');
  near(got.corner[1], got.open.map((v, k) => Math.round((v + got.sure[k]) / 2)), 'a cell at 50%');
  near(got.corner[2], got.open, 'a cell off the path');
  near(got.rim, got.open, 'the rim around the line over a shaded cell');
  near(got.line, got.path, 'the line');
  assert.equal(got.cleared, null);
  assert.deepEqual(seen.errors, []);
  await page.close();
});

// Every open cell's colour away from the line, read from the board: how many are shaded, and whether each is a shade
// between `open` and `sure`. maze: the board's maze (900 characters).
const mazeShading = (page, maze) => page.evaluate(async maze => {
  const { COLORS, SIZE } = await import(new URL('app/maze.js', location.href));
  const canvas = document.getElementById('maze-board');
  const ctx = canvas.getContext('2d'), s = canvas.width / SIZE;
  const rgb = hex => hex.slice(1).match(/../g).map(h => parseInt(h, 16));
  const [open, sure] = [rgb(COLORS.open), rgb(COLORS.sure)];
  let shaded = 0, between = true;
  for (let i = 0; i < SIZE * SIZE; i++) {
    const px = [...ctx.getImageData(Math.floor((i % SIZE + 0.12) * s), Math.floor((Math.floor(i / SIZE) + 0.12) * s), 1, 1).data.slice(0, 3)];
    if (maze[i] !== ' ') continue;
    const t = (px[0] - open[0]) / (sure[0] - open[0]);
    if (px.some((v, k) => Math.abs(v - (open[k] + t * (sure[k] - open[k]))) > 4)) between = false;
    else if (t > 0.02) shaded++;
  }
  return { shaded, between };
}, maze);

test('official checkpoints show their recursion the same way: maze shading, sudoku certainty bars, the timeline and the chart', { skip }, async () => {
  const maze = `${' '.repeat(30)}S${' '.repeat(28)}G${' '.repeat(840)}`;
  const { page, seen } = await open(`#maze=${maze.replace(/ /g, '.')}`);
  await page.waitForFunction(() => /Shortest path: 29 steps/.test(document.getElementById('maze-info').textContent));
  const dir = path.join(ROOT, 'tests/vectors/maze_att_rope');
  await page.setInputFiles('#model-file', ['step_0', 'all_config.yaml', 'dataset.json'].map(f => path.join(dir, f)));
  await page.waitForFunction(() => [...document.querySelectorAll('#model-info dd')].some(d => d.textContent === 'step_0'), null, { timeout: 60_000 });
  assert.match(await page.textContent('#model-status'), /Loaded for maze: step_0/);
  await page.uncheck('#halt-early');
  await page.selectOption('#strategy', 'model');
  await page.click('#solve');
  const r = await waitForResult(page);
  assert.equal(r.state, 'done', r.verdict);
  const n = Number(await page.getAttribute('#timeline', 'max'));
  assert.ok(n > 1 && await page.isEnabled('#timeline'), `${n} steps to scrub`);
  assert.equal((await page.getAttribute('#halt-chart', 'data-values')).split(',').length, n);
  const last = await mazeShading(page, maze);
  assert.ok(last.between, 'every open cell is a shade between open and sure');
  assert.ok(last.shaded > 0, 'the model’s certainty shows on the board');
  await page.focus('#timeline');
  await page.keyboard.press('Home');
  assert.match(await page.textContent('#step'), /^1 of \d+ \(looking back/);
  assert.ok((await mazeShading(page, maze)).between);

  // A sudoku checkpoint: the page moves to its view, and each digit shows how sure the model is.
  const sudokuDir = path.join(ROOT, 'tests/vectors/sudoku_att_rope');
  await page.setInputFiles('#model-file', ['step_0', 'all_config.yaml', 'dataset.json'].map(f => path.join(sudokuDir, f)));
  await page.waitForFunction(() => /Loaded for sudoku: step_0/.test(document.getElementById('model-status').textContent), null, { timeout: 60_000 });
  await page.evaluate(() => { delete document.querySelector('[data-testid=result]').dataset.state; });
  await page.click('#solve');
  assert.equal((await waitForResult(page)).state, 'done');
  assert.ok(await page.locator('.sudoku .cell.sure').count() > 0, 'certainty bars on the model’s digits');
  assert.ok(Number(await page.getAttribute('#timeline', 'max')) > 1);
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('focus stays where the user acted: Solve pressed from the keyboard keeps the focus on the solve panel', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  await modelLoaded(page);
  await page.focus('#solve');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement.id === 'cancel');
  await waitForResult(page);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'solve');
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('at 390 px the model download shows its progress on screen, above the board', { skip }, async () => {
  const page = await env.browser.context.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  const seen = watch(page, env.server.origin);
  // Every text the note shows while the model loads, with where it is on the screen then.
  await page.addInitScript(() => document.addEventListener('DOMContentLoaded', () => {
    const note = document.getElementById('load-note');
    window.__notes = [];
    new MutationObserver(() => {
      const r = note.getBoundingClientRect();
      if (!note.hidden) window.__notes.push({ text: note.textContent, top: r.top, bottom: r.bottom });
    }).observe(note, { childList: true, characterData: true, subtree: true, attributes: true });
  }));
  await page.goto(env.server.url + sudokuLink(PUZZLE));
  await modelLoaded(page);
  const notes = await page.evaluate(() => window.__notes);
  assert.ok(notes.length > 0, 'the note showed the download');
  for (const n of notes) {
    assert.match(n.text, /^Downloading the model… [\d.]+ (of [\d.]+ )?MB$/);
    assert.ok(n.top >= 0 && n.bottom <= 844, `the progress is at ${Math.round(n.top)}-${Math.round(n.bottom)} px`);
  }
  assert.ok(await page.isHidden('#load-note'), 'gone once loaded');
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('at 390 px the keyboard moves down the page in the order it is shown', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE), { width: 390, height: 844 });
  await modelLoaded(page);
  await page.focus('#tab-sudoku');
  const stops = [];
  for (let k = 0; k < 60; k++) {
    await page.keyboard.press('Tab');
    const here = await page.evaluate(() => {
      const el = document.activeElement;
      const r = el.getBoundingClientRect();
      return { what: el.id || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30), top: r.top + scrollY };
    });
    if (stops.length && here.what === stops[0].what) break;
    stops.push(here);
    if (here.what === 'the model card') break;  // the last link in the footer
  }
  assert.ok(stops.length > 15, `${stops.length} tab stops`);
  for (let k = 1; k < stops.length; k++) {
    assert.ok(stops[k].top >= stops[k - 1].top - 4,
      `Tab goes up the page from ${stops[k - 1].what} (${Math.round(stops[k - 1].top)} px) to ${stops[k].what} (${Math.round(stops[k].top)} px)`);
  }
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('the timeline scrubs back to step 1 and forward again, the chart plots the confidence of every step, and each digit shows how sure the model is', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  await modelLoaded(page);
  await page.selectOption('#strategy', 'model');
  await page.uncheck('#halt-early');
  assert.ok(await page.isDisabled('#timeline'), 'nothing to scrub before a solve');
  // The board as each step drew it, recorded as the solve runs.
  await page.evaluate(() => {
    window.__boards = [];
    new MutationObserver(() => {
      if (/^\d+ of/.test(document.getElementById('step').textContent)) window.__boards.push([...document.querySelectorAll('.sudoku .cell')].map(c => c.value || '.').join(''));
    }).observe(document.getElementById('step'), { childList: true, characterData: true, subtree: true });
  });
  await page.click('#solve');
  const r = await waitForResult(page);
  assert.equal(r.state, 'done', r.verdict);
  const [, calls, plural] = r.verdict.match(/\(strategy model, (\d+) model call(s?)\)/);
  assert.equal(plural, calls === '1' ? '' : 's', r.verdict);
  const boards = await page.evaluate(() => window.__boards);
  const board = () => page.$$eval('.sudoku .cell', cells => cells.map(c => c.value || '.').join(''));
  const n = boards.length;
  assert.ok(n > 1, `${n} steps`);
  assert.ok(await page.isEnabled('#timeline'));
  assert.equal(Number(await page.getAttribute('#timeline', 'max')), n);
  const values = (await page.getAttribute('#halt-chart', 'data-values')).split(',').map(Number);
  assert.equal(values.length, n);
  assert.equal(await page.locator('#halt-chart polyline').count(), 1);

  await page.focus('#timeline');
  await page.keyboard.press('Home');
  assert.match(await page.textContent('#step'), /^1 of \d+ \(looking back; the solve had \d+ steps\)$/);
  assert.equal(await board(), boards[0], 'the board shows step 1 again');
  assert.equal(await page.textContent('#confidence'), `${Math.round(values[0] * 100)}%`);
  assert.equal(await page.getAttribute('#timeline', 'aria-valuetext'), `step 1 of ${n}`);
  await page.keyboard.press('ArrowRight');
  assert.equal(await board(), boards[1], 'and step 2');
  await page.keyboard.press('End');
  assert.equal(await board(), boards[n - 1], 'and the last step');
  assert.equal(await page.textContent('#confidence'), `${Math.round(values[n - 1] * 100)}%`);
  assert.doesNotMatch(await page.textContent('#step'), /looking back/);
  // Each digit the model filled in shows how sure it is of it, as a probability.
  const sure = await page.$$eval('.sudoku .cell', cells => cells.filter(c => !c.classList.contains('given') && c.value)
    .map(c => ({ sure: c.classList.contains('sure'), p: Number(c.style.getPropertyValue('--certainty')), title: c.title })));
  assert.ok(sure.length > 0);
  for (const c of sure) {
    assert.ok(c.sure && c.p >= 0 && c.p <= 1, JSON.stringify(c));
    assert.match(c.title, /^The model is \d+% sure of this digit$|given/);
  }
  assert.ok(sure.some(c => c.p > 0.5), 'most of the model’s digits are likely ones');
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('New puzzle draws an everyday sudoku of the chosen grade from the engine, and says what the shipped model solves', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  await modelLoaded(page);
  for (const grade of ['singles', 'harder']) {
    const before = await page.inputValue('#sudoku-text');
    await page.selectOption('#sudoku-grade', grade);
    await page.click('#sudoku-generate');
    await page.waitForFunction(b => document.getElementById('sudoku-text').value !== b, before);
    const p = await page.inputValue('#sudoku-text');
    const givens = p.replace(/\./g, '').length;
    assert.ok(givens >= 28 && givens <= 36, `${grade}: ${givens} givens`);
    assert.equal(await page.locator('.sudoku .cell.given').count(), givens);
    if (sudoku.shipped) assert.match(await page.textContent('#sudoku-grade-note'), /The shipped model solves [\d.]+% of/);
  }
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('keyboard and mouse editing: sudoku cells, paste, samples, maze walls, start and goal', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  await modelLoaded(page);
  await page.click('#sudoku-clear');
  const cells = page.locator('.sudoku .cell');
  await cells.nth(0).click();
  await page.keyboard.press('5');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('3');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('9');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('7');
  assert.equal(await page.inputValue('#sudoku-text'), '53' + '.'.repeat(7) + '7' + '.'.repeat(71));
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Row 2, column 1');
  // Pasting 81 characters into any cell fills the grid.
  const hard = SUDOKU_SAMPLES[2].puzzle;
  await page.evaluate(text => {
    const dt = new DataTransfer();
    dt.setData('text/plain', text);
    document.activeElement.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, hard.replace(/\./g, '0'));
  assert.equal(await page.inputValue('#sudoku-text'), hard);
  await page.selectOption('#sudoku-sample', { index: 2 });
  assert.equal(await page.inputValue('#sudoku-text'), SUDOKU_SAMPLES[1].puzzle);
  assert.equal(await cells.nth(0).inputValue(), SUDOKU_SAMPLES[1].puzzle[0]);

  await page.click('#tab-maze');
  await page.waitForFunction(() => /Shortest path/.test(document.getElementById('maze-info').textContent));
  await page.evaluate(() => { location.hash = `maze=${'.'.repeat(899)}S`; });
  await page.waitForFunction(() => /one start \(S\) and one goal/.test(document.getElementById('maze-info').textContent));
  // Checking a tool may scroll the board out of view: it is brought back, and its place read, after each.
  let box;
  const at = (r, c) => ({ x: box.x + (c + 0.5) * box.width / 30, y: box.y + (r + 0.5) * box.height / 30 });
  await page.check('input[name=maze-tool][value=G]');
  await page.locator('#maze-board').scrollIntoViewIfNeeded();
  box = await page.locator('#maze-board').boundingBox();
  await page.mouse.click(at(0, 0).x, at(0, 0).y);
  assert.match(await page.textContent('#maze-info'), /Shortest path: 58 steps/);
  await page.check('input[name=maze-tool][value=wall]');
  await page.locator('#maze-board').scrollIntoViewIfNeeded();
  box = await page.locator('#maze-board').boundingBox();
  await page.mouse.move(at(1, 0).x, at(1, 0).y);
  await page.mouse.down();
  await page.mouse.move(at(1, 28).x, at(1, 28).y, { steps: 40 });
  await page.mouse.up();
  assert.match(await page.textContent('#maze-info'), /Shortest path: 58 steps/);
  await page.keyboard.press('ArrowDown');  // the cursor sits on the last cell painted, (1, 28)
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('s');
  await page.click('#maze-link');
  const maze = decodeURIComponent(new URL(page.url()).hash.replace(/^#maze=/, ''));
  assert.equal(maze.indexOf('S'), 2 * 30 + 27);
  assert.equal(maze.indexOf('G'), 0);
  assert.equal(maze.slice(30, 59), '#'.repeat(29));
  assert.match(await page.textContent('#maze-info'), /Shortest path: \d+ steps/);
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('a sudoku deep link with &solve=1 ends with the right verdict, and the main thread stays responsive', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE, '&solve=1'));
  await startProbe(page);
  const r = await waitForResult(page);
  const gaps = await stopProbe(page);
  assert.equal(r.state, 'done', r.verdict);
  assert.equal(r.text.length, 81);
  const valid = isValidSolution(PUZZLE, r.text);
  assert.equal(r.verified, String(valid), 'data-verified matches an independent check of the answer');
  const givens = await page.$$eval('.sudoku .cell.given', cells => cells.map(c => c.value));
  assert.ok(givens.every(v => /^[1-9]$/.test(v)), 'every given still shows a digit');
  const verdictClass = await page.getAttribute('#verdict', 'class');
  if (valid) {
    assert.match(verdictClass, /good/);
    assert.equal(await page.locator('.sudoku .cell.bad').count(), 0);
  } else {
    assert.match(verdictClass, /bad/);
    assert.ok(await page.locator('.sudoku .cell.bad').count() > 0, 'conflicting cells are marked');
  }
  assert.ok(gaps.max < 250, `main thread blocked for ${gaps.max.toFixed(0)} ms during the solve`);
  await screenshot(page, 'sudoku-solved');
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.foreign, []);
  await page.close();
});

test('cancel stops a solve, and the next solve still works', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  await modelLoaded(page);
  await page.uncheck('#halt-early');
  // Press Cancel as soon as the first step is drawn.
  await page.evaluate(() => {
    new MutationObserver((_, obs) => {
      if (/^1 of/.test(document.getElementById('step').textContent)) { obs.disconnect(); document.getElementById('cancel').click(); }
    }).observe(document.getElementById('step'), { childList: true, characterData: true, subtree: true });
  });
  await page.click('#solve');
  await page.waitForFunction(() => document.querySelector('[data-testid=result]').dataset.state === 'cancelled');
  assert.match(await page.textContent('#verdict'), /Cancelled after 1 step/);
  assert.equal(await page.getAttribute('[data-testid=result]', 'data-verified'), null);
  assert.ok(await page.isEnabled('#solve'));
  assert.ok(await page.isDisabled('#cancel'));
  await page.click('#solve');
  const again = await waitForResult(page);
  assert.equal(again.state, 'done', again.verdict);
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('moving to another view cancels a solve and leaves the board editable', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  await modelLoaded(page);
  await page.uncheck('#halt-early');
  await page.evaluate(() => {
    new MutationObserver((_, obs) => {
      if (/^1 of/.test(document.getElementById('step').textContent)) { obs.disconnect(); document.getElementById('tab-maze').click(); }
    }).observe(document.getElementById('step'), { childList: true, characterData: true, subtree: true });
  });
  await page.click('#solve');
  await page.waitForFunction(() => document.getElementById('tab-maze').getAttribute('aria-selected') === 'true');
  await page.waitForFunction(() => document.getElementById('cancel').disabled);
  assert.match(await page.textContent('#verdict'), /Press Solve/);
  await page.click('#tab-sudoku');
  assert.equal(await page.locator('.sudoku .cell[readonly]').count(), 0);
  assert.ok(await page.isEnabled('#solve'));
  await page.click('#solve');
  const r = await waitForResult(page);
  assert.equal(r.state, 'done', r.verdict);
  assert.deepEqual(seen.errors, []);
  await page.close();
});

test('a dropped malformed weight file shows an error and the page keeps working', { skip }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  await modelLoaded(page);
  const before = await page.textContent('#model-info');
  await page.evaluate(() => {
    const bytes = new Uint8Array(64);
    new DataView(bytes.buffer).setBigUint64(0, 1000n, true);  // a header length past the end of the file
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'broken.safetensors'));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.waitForSelector('#model-error:not([hidden])');
  assert.match(await page.textContent('#model-error'),
    /^broken\.safetensors: its header does not fit in the file \(the file is cut short, or not a safetensors file\)\. Choose a TRM weight file/);
  assert.equal(await page.textContent('#model-info'), before, 'the loaded model is still there');
  await page.click('#solve');
  const again = await waitForResult(page);
  assert.equal(again.state, 'done', again.verdict);
  await screenshot(page, 'bad-weights');
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.foreign, []);
  await page.close();
});

test('a model that is not there is reported, with how to load one', { skip }, async () => {
  const { page, seen } = await open(`#sudoku=${PUZZLE}&solve=1&model=../weights/not-there.safetensors`);
  const r = await waitForResult(page);
  assert.equal(r.state, 'error');
  assert.equal(r.verified, undefined);
  assert.match(await page.textContent('#verdict'), /not-there\.safetensors could not be loaded: .*404.* Load one in the model panel/);
  assert.match(await page.textContent('#model-status'), /Load a TRM weight file/);
  assert.deepEqual(seen.foreign, []);
  await page.close();
});

test('an ARC model loaded from the file picker opens the ARC view, which says what it can do', { skip: skip || (!fs.existsSync(path.join(ROOT, ARC_MODEL)) && 'no ARC model') }, async () => {
  const { page, seen } = await open(sudokuLink(PUZZLE));
  await modelLoaded(page);
  await page.setInputFiles('#model-file', path.join(ROOT, ARC_MODEL));
  await page.waitForFunction(() => document.getElementById('tab-arc').getAttribute('aria-selected') === 'true');
  await page.waitForSelector('#model-info dt', { state: 'attached' });
  assert.match(await page.textContent('#arc-model'), /ARC model loaded: arc_att_rope_puzzle_emb\.safetensors/);
  assert.match(await page.textContent('#model-info'), /Taskarc/);
  // The reference case's file names no rows (converted without identifiers.json): the view says it can't run the task.
  assert.match(await page.textContent('#arc-model'), /It has no embedding for task \w+, so it cannot run it/);
  assert.ok(await page.isVisible('#solve'));
  await page.click('#tab-sudoku');
  await page.waitForSelector('#model-info dt', { state: 'attached' });
  assert.match(await page.textContent('#model-info'), /Tasksudoku/, 'the sudoku model is still loaded');
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.foreign, []);
  await page.close();
});

test('maze: a deep link solves with the maze model and the verdict is shown', { skip: skip || (!fs.existsSync(path.join(ROOT, MAZE_MODEL)) && 'no maze model') }, async () => {
  const maze = generatedMaze(7);
  const length = shortestPath(maze);
  assert.ok(length >= 109, `generated maze: ${length}-step shortest path`);
  const link = `#maze=${encodeURIComponent(maze.replace(/ /g, '.'))}&solve=1&model=../${MAZE_MODEL}`;
  const { page, seen } = await open(link);
  await startProbe(page);
  const r = await waitForResult(page);
  const gaps = await stopProbe(page);
  assert.ok(gaps.max < 250, `main thread blocked for ${gaps.max.toFixed(0)} ms during the solve`);
  assert.equal(r.state, 'done', r.verdict);
  assert.equal(r.text.length, 900);
  assert.ok(['true', 'false'].includes(r.verified));
  assert.match(await page.getAttribute('#verdict', 'class'), r.verified === 'true' ? /good/ : /bad/);
  await screenshot(page, 'maze-solved');
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.foreign, []);
  await page.close();
});

// The engine build a page runs, from the model panel's Engine row ('wasm-relaxed-simd-threads, 8 threads'): its files.
function buildFiles(engineRow) {
  const threads = /-threads/.test(engineRow), relaxed = /relaxed/.test(engineRow);
  const name = threads ? 'trm-wasm-threads' : 'trm-wasm';
  return [`${name}.mjs`, `${name}${relaxed ? '-relaxed' : ''}.wasm`, ...(threads ? [`${name}.worker.js`] : [])].map(f => `build/wasm/${f}`);
}
const engineRow = page => page.evaluate(() =>
  [...document.querySelectorAll('#model-info dt')].find(d => d.textContent === 'Engine').nextElementSibling.textContent);

// The first visit to a page served by a server of its own, then an offline reload. isolated: whether the server sends
// COOP/COEP (a cross-origin isolated page runs the threaded build, any other the single-thread one); maze: the maze tab
// is opened too (its model is fetched then, not on the first load).
async function firstVisit(t, { isolated, maze }) {
  const own = await startServer(ROOT, { isolated });
  const b = await launch();
  const MAZE = 'weights/maze_att.safetensors';
  try {
    const page = await b.context.newPage();
    const seen = watch(page, own.origin);
    await page.goto(own.url + sudokuLink(PUZZLE));
    await modelLoaded(page);
    assert.equal(await page.evaluate(() => crossOriginIsolated), isolated);
    const build = buildFiles(await engineRow(page));
    assert.equal(build[0], isolated ? 'build/wasm/trm-wasm-threads.mjs' : 'build/wasm/trm-wasm.mjs', `engine ${await engineRow(page)}`);
    // The service worker is active and has kept the build the page ran (web/trm.js keeps the model).
    await page.waitForFunction(async urls => {
      await navigator.serviceWorker.ready;
      return (await Promise.all(urls.map(u => caches.match(u)))).every(Boolean);
    }, [...build, sudoku.path].map(f => `${own.origin}/${f}`), { timeout: 60_000, polling: 250 });
    await page.waitForTimeout(500);  // anything still on its way
    const first = own.sent.slice();
    const bytes = first.reduce((n, f) => n + f.bytes, 0);
    const of = re => first.filter(f => re.test(f.path)).reduce((n, f) => n + f.bytes, 0);
    t.diagnostic(`first visit: ${first.length} files, ${bytes} bytes (engine ${of(/^build\//)}, model ${of(/\.safetensors$/)}, ` +
      `page ${of(/^web\//)}, other ${of(/^(?!build\/|web\/).*(?<!\.safetensors)$/)}): ${build.join(', ')}`);
    assert.deepEqual(first.filter(f => f.path.startsWith('build/')).map(f => f.path).sort(), [...build].sort(),
      'the one build this browser runs, each file once');
    assert.deepEqual(first.filter(f => f.path.endsWith('.safetensors')).map(f => f.path), [sudoku.path], 'the open tab’s model only');
    for (const f of first) assert.match(f.path, /^(web\/|build\/wasm\/|weights\/index\.json$|weights\/sudoku_mlp\.safetensors$|build\/native\/vectors\/)/, f.path);

    // The maze tab, opened: its model now, and nothing of the engine that the first load did not fetch.
    const haveMaze = maze && fs.existsSync(path.join(ROOT, MAZE));
    if (haveMaze) {
      await page.click('#tab-maze');
      await page.waitForFunction(() => /Shortest path: \d+ steps/.test(document.getElementById('maze-info').textContent), null, { timeout: 60_000 });
      const later = own.sent.slice(first.length).map(f => f.path);
      assert.deepEqual(later.filter(p => !p.startsWith('web/')), [MAZE]);
      await page.click('#tab-sudoku');
    }

    const engine = await page.textContent('#model-info');
    await own.stop();
    await page.reload();
    await modelLoaded(page);
    assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller), 'the service worker serves the page');
    assert.equal(await page.textContent('#model-info'), engine, 'same model, same engine build as online');
    await page.click('#solve');
    const r = await waitForResult(page);
    assert.equal(r.state, 'done', r.verdict);
    assert.equal(r.text.length, 81);
    if (haveMaze) {  // offline, the maze tab that was used works too: its model, a new maze from its engine, a solve
      await page.click('#tab-maze');
      await page.waitForFunction(() => /Shortest path: \d+ steps/.test(document.getElementById('maze-info').textContent), null, { timeout: 60_000 });
      await page.click('#solve');
      const m = await waitForResult(page);
      assert.equal(m.state, 'done', m.verdict);
      assert.equal(m.text.length, 900);
    }
    assert.deepEqual(seen.foreign, []);
  } finally {
    await b.close();
    await own.stop();
  }
}

test('first visit: only the engine build this browser runs and the open tab’s model are downloaded; offline, a reload works for what was used', { skip },
  t => firstVisit(t, { isolated: true, maze: true }));

test('first visit to a page that is not cross-origin isolated: only the single-thread build and the open tab’s model; offline, a reload works', { skip },
  t => firstVisit(t, { isolated: false, maze: false }));
