// Official checkpoints through the page's model panel, in headless Chromium: the reference cases of tests/vectors/
// (step_0 and all_config.yaml exactly as the official code writes them) chosen together in the file picker load
// and solve; the panel shows its reading progress and what it assumed, saves the model as a .safetensors file that
// the native CLI reads and the panel loads again; an ARC checkpoint with identifiers.json asks which task to keep
// and solves it; a checkpoint without its config is refused in one line. Files go to test-output/checkpoint/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, OUT, launch, session, skipReason, watch, waitForResult, screenshot } from './harness.mjs';
import { ARC_TASK, ARC_TASK_ID } from '../js/arc-model.mjs';

const NATIVE = path.join(ROOT, 'build/native/trm');
const skip = skipReason({ more: [[!fs.existsSync(NATIVE), 'no native build (scripts/build.sh native)']] });

const SUDOKU_CASE = path.join(ROOT, 'tests/vectors/sudoku_att_rope');
const ARC_CASE = path.join(ROOT, 'tests/vectors/arc_att_rope_puzzle_emb');
const DIR = path.join(OUT, 'checkpoint');
// The reference ARC case has 5 puzzle-embedding rows; named here so that the task has 2 (itself and one copy).
const IDENTIFIERS = path.join(DIR, 'identifiers.json');
const NAMES = ['<blank>', ARC_TASK_ID, 'bbbb0002', `${ARC_TASK_ID}|||t1|||0123456789`, 'bbbb0002|||t2|||0213456789'];

const env = session({ skip, browser: { acceptDownloads: true }, prepare() {
  fs.mkdirSync(DIR, { recursive: true });
  fs.writeFileSync(IDENTIFIERS, JSON.stringify(NAMES));
} });

async function open(hash = '') {
  const page = await env.browser.context.newPage();
  const seen = watch(page, env.server.origin);
  await page.goto(env.server.url + hash);
  // every status line the panel shows, to see the reading progress that passes quickly
  await page.evaluate(() => {
    window.__statuses = [];
    new MutationObserver(() => window.__statuses.push(document.getElementById('model-status').textContent))
      .observe(document.getElementById('model-status'), { childList: true, characterData: true, subtree: true });
  });
  return { page, seen };
}

async function solveAndWait(page) {
  await page.evaluate(() => { delete document.querySelector('[data-testid=result]').dataset.state; });
  await page.click('#solve');
  return waitForResult(page);
}

const infoRow = (page, label) => page.evaluate(l => {
  const dt = [...document.querySelectorAll('#model-info dt')].find(d => d.textContent === l);
  return dt ? dt.nextElementSibling.textContent : null;
}, label);

test('a sudoku checkpoint with its all_config.yaml: read with progress, solved, saved as safetensors and loaded again', { skip }, async () => {
  const { page, seen } = await open();
  await page.waitForFunction(() => /Loaded for sudoku|No sudoku model/.test(document.getElementById('model-status').textContent));
  await page.setInputFiles('#model-file', [path.join(SUDOKU_CASE, 'step_0'), path.join(SUDOKU_CASE, 'all_config.yaml')]);
  await page.waitForFunction(() => [...document.querySelectorAll('#model-info dd')].some(d => d.textContent === 'step_0'));
  assert.match(await page.textContent('#model-status'), /Loaded for sudoku/);
  assert.ok((await page.evaluate(() => window.__statuses)).some(s => /^Reading step_0… [\d.]+ of [\d.]+ MB$/.test(s)));
  assert.match(await infoRow(page, 'Assumed'), /seq_len 81 assumed for the sudoku task/);
  assert.match(await page.textContent('#model-source-text'), /"converted_from": "\.\/step_0",\s*"config": "all_config\.yaml"/);
  assert.match(await page.textContent('#model-summary'), /^Sudoku, .* Converted from a checkpoint of the reference training code\./);
  const r = await solveAndWait(page);
  assert.equal(r.state, 'done', r.verdict);
  assert.equal(r.text.length, 81);

  // Save as f16: a file the native CLI reads as the same network, stored in half the bytes.
  assert.ok(await page.isVisible('#model-save'));
  await page.selectOption('#model-save-dtype', 'f16');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#model-save-button')]);
  assert.equal(download.suggestedFilename(), 'step_0.f16.safetensors');
  const saved = path.join(DIR, 'step_0.f16.safetensors');
  await download.saveAs(saved);
  await page.waitForFunction(() => /^Saved step_0\.f16\.safetensors/.test(document.getElementById('model-save-note').textContent));
  const info = execFileSync(NATIVE, ['info', saved], { encoding: 'utf8' });
  assert.match(info, /storage F16/);
  const f32 = path.join(DIR, 'step_0.f32.safetensors');
  execFileSync(NATIVE, ['convert', path.join(SUDOKU_CASE, 'step_0'), '--out', f32], { stdio: 'pipe' });
  assert.ok(fs.statSync(saved).size < 0.6 * fs.statSync(f32).size);

  // The next visit: the small file alone, no checkpoint, and no save offered for it.
  await page.setInputFiles('#model-file', saved);
  await page.waitForFunction(() => [...document.querySelectorAll('#model-info dd')].some(d => d.textContent === 'step_0.f16.safetensors'));
  assert.equal(await infoRow(page, 'Stored as'), 'F16');
  assert.ok(!(await page.isVisible('#model-save')));
  assert.equal((await solveAndWait(page)).state, 'done');
  await screenshot(page, 'checkpoint-sudoku');
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.foreign, []);
  await page.close();
});

test('an ARC checkpoint with identifiers.json asks which task, keeps its rows and solves it', { skip }, async () => {
  const { page, seen } = await open('#arc=');
  await page.click('#tab-arc');
  await page.setInputFiles('#arc-file', { name: `${ARC_TASK_ID}.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(ARC_TASK)) });
  await page.waitForFunction(id => document.getElementById('arc-title').textContent === `Task ${id}`, ARC_TASK_ID);
  await page.setInputFiles('#model-file', ['step_0', 'all_config.yaml', 'dataset.json'].map(f => path.join(ARC_CASE, f)).concat(IDENTIFIERS));
  await page.waitForSelector('#checkpoint-ask:not([hidden])');
  assert.equal(await page.inputValue('#checkpoint-tasks'), ARC_TASK_ID, 'the task the ARC view shows is suggested');
  await page.click('#checkpoint-ask button[type=submit]');
  await page.waitForFunction(() => /ARC model loaded: step_0/.test(document.getElementById('arc-model').textContent));
  assert.match(await page.textContent('#arc-model'), new RegExp(`with 2 task embeddings for 1 tasks.*For task ${ARC_TASK_ID} it has 2 embeddings`));
  const r = await solveAndWait(page);
  assert.equal(r.state, 'done', r.verdict);
  assert.ok(JSON.parse(r.text).length >= 1);
  assert.match(await page.textContent('#arc-attempts'), /2 augmented copies voting/);
  // Beside each attempt, how sure the model is of each of its cells, as for a weight file.
  const maps = await page.$$eval('[data-testid=arc-attempt]', els => els.map(el =>
    el.querySelector('[data-testid=arc-certainty]')?.dataset.certainty.split(',').map(Number) ?? []));
  JSON.parse(r.text).forEach((grid, i) => {
    assert.equal(maps[i].length, grid.flat().length, `attempt ${i + 1}: a probability a cell`);
    assert.ok(maps[i].every(p => p > 0 && p <= 1), String(maps[i]));
  });
  assert.ok(await page.isVisible('#model-save'));
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.foreign, []);
  await page.close();
});

// The pids of Chromium's browser processes (those started with a profile by harness.mjs launch()).
function browserPids() {
  const pids = new Set();
  for (const pid of fs.readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('trm-chromium-') && cmd.includes('--user-data-dir') && !cmd.includes('--type=')) pids.add(Number(pid));
    } catch { /* gone */ }
  }
  return pids;
}

// Peak resident memory (VmHWM, MB) of the renderer processes under a browser process: where the page, its workers
// and both WASM engines run.
function rendererPeaksMb(browserPid) {
  const status = pid => fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const parent = new Map();
  for (const pid of fs.readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    try { parent.set(Number(pid), Number(/PPid:\s+(\d+)/.exec(status(pid))[1])); } catch { /* gone */ }
  }
  const under = pid => { for (let p = parent.get(pid); p; p = parent.get(p)) if (p === browserPid) return true; return false; };
  const peaks = [];
  for (const pid of parent.keys()) {
    try {
      if (!under(pid) || !fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      peaks.push(Number(/VmHWM:\s+(\d+) kB/.exec(status(pid))[1]) / 1024);
    } catch { /* gone */ }
  }
  return peaks;
}

test('the 1 GiB test checkpoint through the panel: one ARC task kept and solved, the page under 300 MB', { skip }, async () => {
  // tests/cpp/test_checkpoint.cpp "[bigfile]" writes it (sparse: 524,288 puzzle-embedding rows of 512, hidden 64)
  const big = path.join(DIR, 'bigfile');
  fs.mkdirSync(big, { recursive: true });
  const own = await (async () => {
    execFileSync(path.join(ROOT, 'build/native/tests/cpp/trm_tests'), ['[bigfile]'], { env: { ...process.env, TRM_BIGFILE_DIR: big }, stdio: 'pipe' });
    const before = browserPids();
    const b = await launch();
    return { b, pid: [...browserPids()].find(p => !before.has(p)) };
  })();
  try {
    assert.ok(fs.statSync(path.join(big, 'step_0')).size > 2 ** 30);
    assert.ok(own.pid, 'the browser process');
    const page = await own.b.context.newPage();
    const seen = watch(page, env.server.origin);
    await page.goto(env.server.url + '#arc=');
    await page.click('#tab-arc');
    await page.setInputFiles('#arc-file', { name: 'abc.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(ARC_TASK)) });
    await page.waitForFunction(() => document.getElementById('arc-title').textContent === 'Task abc');
    const before = Math.max(...rendererPeaksMb(own.pid));  // the page with its service worker, before the files
    const t0 = Date.now();
    await page.setInputFiles('#model-file', ['step_0', 'all_config.yaml', 'identifiers.json'].map(f => path.join(big, f)));
    await page.waitForSelector('#checkpoint-ask:not([hidden])');
    await page.click('#checkpoint-ask button[type=submit]');
    await page.waitForFunction(() => /ARC model loaded: step_0/.test(document.getElementById('arc-model').textContent), null, { timeout: 120_000 });
    const loadMs = Date.now() - t0;
    assert.match(await page.textContent('#arc-model'), /with 2 task embeddings for 1 tasks/);
    const r = await solveAndWait(page);
    assert.equal(r.state, 'done', r.verdict);
    const peaks = rendererPeaksMb(own.pid);
    const browserPeak = Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${own.pid}/status`, 'utf8'))[1]) / 1024;
    console.log(`checkpoint-bigfile (browser): load ${loadMs} ms, renderer peak RSS ${peaks.map(p => p.toFixed(0)).join(', ')} MB ` +
      `(the page's ${before.toFixed(0)} MB before the files), browser process ${browserPeak.toFixed(0)} MB`);
    // The gigabyte never enters memory: the page's renderer (the reader, the engine, the solve) grows by the kept
    // rows, the network and the parsed identifiers.json (12.9 MB of names), and peaks under 300 MB in all.
    assert.ok(Math.max(...peaks) - before < 200, `the renderer grew from ${before} to ${Math.max(...peaks)} MB`);
    assert.ok(Math.max(...peaks) < 300, `renderer peak RSS ${Math.max(...peaks)} MB`);
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.foreign, []);
  } finally {
    await own.b.close();
    fs.rmSync(big, { recursive: true, force: true });
  }
});

test('a checkpoint without its config, or with a stranger, is refused in one line and the page keeps working', { skip }, async () => {
  const { page, seen } = await open();
  await page.setInputFiles('#model-file', path.join(SUDOKU_CASE, 'step_0'));
  await page.waitForSelector('#model-error:not([hidden])');
  assert.equal(await page.textContent('#model-error'),
    "step_0: a PyTorch checkpoint needs its run's all_config.yaml; choose or drop both files together");
  const bad = path.join(DIR, 'bad', 'all_config.yaml');
  fs.mkdirSync(path.dirname(bad), { recursive: true });
  fs.writeFileSync(bad, 'arch:\n\tx: 1\n');
  await page.setInputFiles('#model-file', [path.join(SUDOKU_CASE, 'step_0'), bad]);
  await page.waitForFunction(() => /all_config\.yaml:2: /.test(document.getElementById('model-error').textContent));
  assert.ok(!(await page.textContent('#model-error')).includes('\n'));
  assert.equal((await solveAndWait(page)).state, 'done', 'the shipped or previous model still solves');
  assert.deepEqual(seen.foreign, []);
  await page.close();
});
