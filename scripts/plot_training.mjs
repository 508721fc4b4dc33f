#!/usr/bin/env node
// The loss and accuracy curves of training runs, from scripts/train/train.py's log.txt files, as a PNG (or SVG).
//
//   node scripts/plot_training.mjs runs/sudoku_mlp/log.txt runs/sudoku_r2/log.txt --out weights/sudoku_mlp_curve.png \
//        [--title TEXT] [--round-from STEP] [--svg]
//
// Logs are read in the order given, as one run (each resume continues the step count). Top: the training loss
// (mean over each log interval). Bottom: cell accuracy of the puzzles that finished in each interval (training
// batches) and of the held-out slice of the training data (EMA weights, all steps: the selection metric). A
// dashed line marks each resume; --round-from STEP shades this round's part. The PNG is drawn by Debian's
// chromium (the one the browser tests use, CHROMIUM overrides) from the SVG this script writes.
import fs from 'node:fs';
import path from 'node:path';

function fail(message) {
  console.error(`plot_training: ${message}`);
  process.exit(1);
}

const args = process.argv.slice(2);
const opt = {};
const logs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--svg') opt.svg = true;
  else if (args[i].startsWith('--')) opt[args[i].slice(2)] = args[++i];
  else logs.push(args[i]);
}
if (!logs.length || !opt.out) fail('usage: node scripts/plot_training.mjs LOG.txt... --out FILE.png [--title T] [--round-from STEP] [--svg]');
const roundFrom = opt['round-from'] === undefined ? null : Number(opt['round-from']);
if (roundFrom !== null && !Number.isFinite(roundFrom)) fail(`--round-from '${opt['round-from']}': expected a step number`);

// ---- parse: the line formats of train.py's log()
const STEP = /\] step (\d+) \| loss ([\d.]+) .*?halted: cell ([\d.]+)/;
const HELD = /\] held-out .*?: exact ([\d.]+) cell ([\d.]+) \(all steps\)(?: \| cells to solve ([\d.]+))?/;
const RESUME = /\] resumed from .* at step (\d+)/;
const train = [];  // { step, loss, cell }
const held = [];  // { step, cell, exact, toSolve (null in logs from before train.py measured it) }
const resumes = [];  // steps
for (const file of logs) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    fail(`${file}: ${e.message}`);
  }
  // A log that evaluates several held-out sets ends each evaluation with their mean, the selection metric: plot that.
  const meanOnly = /\] held-out mean over /.test(text);
  let step = 0;
  for (const line of text.split('\n')) {
    let m;
    if ((m = STEP.exec(line))) {
      step = Number(m[1]);
      train.push({ step, loss: Number(m[2]), cell: Number(m[3]) });
    } else if ((m = HELD.exec(line)) && (!meanOnly || line.includes('] held-out mean over '))) {
      held.push({ step, exact: Number(m[1]), cell: Number(m[2]), toSolve: m[3] === undefined ? null : Number(m[3]) });
    } else if ((m = RESUME.exec(line))) {
      step = Number(m[1]);
      if (!resumes.includes(step)) resumes.push(step);
    }
  }
}
if (train.length < 2) fail(`${logs.join(', ')}: fewer than two 'step N | loss' lines: is this a train.py log.txt?`);

// ---- draw
const W = 760, H = 520, left = 64, right = 20, top = 44, gap = 46, panelH = (H - top - gap - 44) / 2;
const x0 = Math.min(...train.map(p => p.step)), x1 = Math.max(...train.map(p => p.step), ...held.map(p => p.step));
const X = s => left + ((s - x0) / Math.max(1, x1 - x0)) * (W - left - right);
const esc = s => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceTicks(lo, hi, n = 5) {
  const span = hi - lo || 1, raw = span / n, mag = 10 ** Math.floor(Math.log10(raw));
  const stepSize = [1, 2, 2.5, 5, 10].map(f => f * mag).find(v => span / v <= n) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / stepSize) * stepSize; v <= hi + 1e-9; v += stepSize) out.push(+v.toFixed(10));
  return out;
}

function panel(y, title, lo, hi, series, fmt) {
  const Y = v => y + panelH - ((v - lo) / (hi - lo || 1)) * panelH;
  let s = `<text x="${left}" y="${y - 8}" class="title">${esc(title)}</text>`;
  if (roundFrom !== null) s += `<rect x="${X(Math.max(roundFrom, x0))}" y="${y}" width="${X(x1) - X(Math.max(roundFrom, x0))}" height="${panelH}" fill="#fff4d6"/>`;
  const ticks = niceTicks(lo, hi);
  // as many decimals as the tick spacing has, so that a narrow range does not print one label five times
  const decimals = ticks.length > 1 ? (String(+(ticks[1] - ticks[0]).toFixed(10)).split('.')[1] || '').length : 1;
  for (const v of ticks) {
    s += `<line x1="${left}" x2="${W - right}" y1="${Y(v)}" y2="${Y(v)}" stroke="#e4e4e4"/>`;
    s += `<text x="${left - 6}" y="${Y(v) + 4}" text-anchor="end">${fmt(v, decimals)}</text>`;
  }
  for (const r of resumes) s += `<line x1="${X(r)}" x2="${X(r)}" y1="${y}" y2="${y + panelH}" stroke="#999" stroke-dasharray="4 3"/>`;
  for (const { points, color, dots, width } of series) {
    if (!points.length) continue;
    s += `<polyline fill="none" stroke="${color}" stroke-width="${width || 1.5}" points="${points.map(p => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ')}"/>`;
    if (dots) for (const p of points) s += `<circle cx="${X(p[0])}" cy="${Y(p[1])}" r="3" fill="${color}"/>`;
  }
  s += `<rect x="${left}" y="${y}" width="${W - left - right}" height="${panelH}" fill="none" stroke="#888"/>`;
  return s;
}

const losses = train.map(p => p.loss);
// Cells to solve (the ones not given in the question) show learning that the cell accuracy hides when most
// cells are copied, as in mazes.
const toSolve = held.filter(p => p.toSolve !== null);
const cells = [...train.map(p => p.cell), ...held.map(p => p.cell), ...toSolve.map(p => p.toSolve)];
const yLoss = top, yAcc = top + panelH + gap;
let body = panel(yLoss, 'training loss (cross-entropy per cell + halting loss)', Math.min(...losses) * 0.95,
  Math.max(...losses) * 1.02, [{ points: train.map(p => [p.step, p.loss]), color: '#3566c8' }],
  (v, decimals) => v.toFixed(Math.max(1, decimals)));
body += panel(yAcc, 'cell accuracy', Math.max(0, Math.min(...cells) - 0.02), Math.min(1, Math.max(...cells) + 0.02), [
  { points: train.map(p => [p.step, p.cell]), color: '#9db6e6', width: 1 },
  { points: held.map(p => [p.step, p.cell]), color: '#c8452f', dots: true, width: 2 },
  { points: toSolve.map(p => [p.step, p.toSolve]), color: '#2e8b57', dots: true, width: 2 },
], (v, decimals) => `${(v * 100).toFixed(Math.max(0, decimals - 2))}%`);
for (const v of niceTicks(x0, x1, 8)) {
  body += `<text x="${X(v)}" y="${yAcc + panelH + 16}" text-anchor="middle">${v}</text>`;
}
body += `<text x="${(left + W - right) / 2}" y="${H - 8}" text-anchor="middle">optimiser step${resumes.length ? ' (dashed: resumed)' : ''}${roundFrom !== null ? '; shaded: this round' : ''}</text>`;
const legendY = yAcc + panelH - (toSolve.length ? 37 : 22);  // bottom right: the curves rise away from it
body += `<text x="${W - right - 8}" y="${legendY}" text-anchor="end" fill="#c8452f">● held-out slice of the training data, all steps (selection)</text>`;
body += `<text x="${W - right - 8}" y="${legendY + 15}" text-anchor="end" fill="#6d8fd0">— training puzzles as they finish</text>`;
if (toSolve.length) body += `<text x="${W - right - 8}" y="${legendY + 30}" text-anchor="end" fill="#2e8b57">● held-out cells to solve (not given in the question), all steps</text>`;
const title = opt.title || logs.map(f => path.basename(path.dirname(f))).join(' + ');
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif" font-size="11">
<style>.title { font-weight: bold; font-size: 12px; }</style>
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>
${body}
</svg>
`;

if (opt.svg) {
  fs.writeFileSync(opt.out, svg);
} else {
  const { chromium } = await import('playwright-core');
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) fail(`${executablePath}: no chromium to draw the PNG (scripts/setup.sh installs it; or pass --svg)`);
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: W, height: H } });
  await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
  await page.screenshot({ path: opt.out, clip: { x: 0, y: 0, width: W, height: H } });
  await browser.close();
}
console.log(`${opt.out}: ${train.length} training points, ${held.length} held-out evaluations, steps ${x0}-${x1}`);
