// Shared set-up for the browser tests: the project's server on a free port, Debian's chromium driven by
// playwright-core in a fresh profile, and a watch on console errors and requests to other origins.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { createServer } from '../../scripts/serve.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const OUT = path.join(ROOT, 'test-output');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Flags from TOOLCHAIN.md; playwright adds --headless and the profile (--user-data-dir) itself.
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];

// The sudoku weights the tests use: the shipped model when it is there, else the tiny random reference model
// that ctest converts (its answers won't verify; the page must then show that verdict).
export function sudokuModel() {
  for (const rel of ['weights/sudoku_mlp.safetensors', 'build/native/vectors/sudoku_mlp_t.safetensors']) {
    if (fs.existsSync(path.join(ROOT, rel))) return { path: rel, shipped: rel.startsWith('weights/') };
  }
  return null;
}

export const haveChromium = fs.existsSync(CHROMIUM);

// A maze from the engine's generator (the native CLI, as `trm generate` makes the evaluation files): the question,
// 900 characters. cells: the shortest path's range in cells, S and G included.
export function generatedMaze(seed, cells = '110-147') {
  const csv = execFileSync(path.join(ROOT, 'build/native/trm'), ['generate', 'maze', '--count', '1', '--seed', String(seed), '--path', cells],
    { encoding: 'utf8' });
  return csv.split('\n')[1].split(',')[0];
}
export const haveEngine = fs.existsSync(path.join(ROOT, 'web/trm.js')) && fs.existsSync(path.join(ROOT, 'build/wasm/trm-wasm.wasm'));

// Why a browser test file cannot run, or false: no Chromium, no WASM build (unless engine is false), then the first
// of `more` ([missing, why] pairs) that is missing.
export function skipReason({ engine = true, more = [] } = {}) {
  if (!haveChromium) return `no chromium at ${CHROMIUM} (scripts/setup.sh installs it)`;
  if (engine && !haveEngine) return 'no WASM build (scripts/build.sh wasm)';
  return more.find(([missing]) => missing)?.[1] ?? false;
}

// Besides what the page needs, the server gives the tests their models: the converted reference cases, the files the
// tests write and the reference checkpoints.
export const TEST_FILES = ['build/native/vectors/', 'test-output/', 'tests/vectors/'];

// `sent` lists every file the server sent in full (status 200): { path, bytes }, in order (a 304 sends no body).
// isolated: false serves without COOP/COEP, so the page is not cross-origin isolated (the single-thread build).
export async function startServer(root = ROOT, { isolated = true } = {}) {
  const server = createServer(root, { allow: TEST_FILES, log: () => {}, isolated });
  const sent = [];
  server.on('request', (req, res) => res.on('finish', () => {
    if (req.method !== 'GET' || res.statusCode !== 200) return;
    const rel = decodeURIComponent(req.url.split(/[?#]/, 1)[0]).replace(/\/$/, '/index.html').slice(1);
    sent.push({ path: rel, bytes: fs.statSync(path.join(root, rel), { throwIfNoEntry: false })?.size ?? 0 });
  }));
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    url: `${origin}/web/`,
    sent,
    stop: () => new Promise(resolve => { server.close(resolve); server.closeAllConnections(); }),
  };
}

// WebGPU on SwiftShader (Chromium 156, Debian 12, checked here; no GPU needed): `--enable-unsafe-webgpu
// --use-webgpu-adapter=swiftshader` gives navigator.gpu an adapter {vendor 'google', architecture 'swiftshader',
// isFallbackAdapter true} whose compute shaders run, --disable-gpu or not (--enable-features=Vulkan and
// --use-angle=swiftshader change nothing). navigator.gpu exists only in a secure context: a page of the test server
// (http://127.0.0.1 counts as secure), not about:blank. No shader-f16 there. Pass `{ webgpu: true }` to launch.
export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

export async function launch({ webgpu = false, ...options } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: webgpu ? [...FLAGS, ...WEBGPU_FLAGS] : FLAGS,
    viewport: { width: 1200, height: 900 }, timeout: 60_000, ...options,
  });
  context.setDefaultTimeout(30_000);
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Records console errors, uncaught page errors and every request that leaves `origin`.
export function watch(page, origin) {
  const seen = { errors: [], foreign: [] };
  page.on('console', msg => { if (msg.type() === 'error') seen.errors.push(msg.text()); });
  page.on('pageerror', err => seen.errors.push(String(err)));
  page.context().on('request', req => {
    const url = req.url();
    if (!url.startsWith(origin + '/') && !url.startsWith('data:') && !url.startsWith('blob:')) seen.foreign.push(url);
  });
  return seen;
}

// A blank page of the test server (test-output/blank.html): a secure origin that module scripts and the weights
// can be imported and fetched from, without the demo page around them.
export async function blankPage(context, origin) {
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'blank.html'), '<!doctype html><meta charset="utf-8"><title>blank</title>\n');
  const page = await context.newPage();
  await page.goto(`${origin}/test-output/blank.html`);
  return page;
}

export async function screenshot(page, name) {
  fs.mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

// Waits until the solve panel's result says a solve ended; returns { state, verified, text, verdict }.
export async function waitForResult(page, timeout = 120_000) {
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid=result]');
    return el && ['done', 'error'].includes(el.dataset.state);
  }, null, { timeout });
  return page.$eval('[data-testid=result]', el => ({
    state: el.dataset.state, verified: el.dataset.verified, text: el.textContent,
    verdict: document.getElementById('verdict').textContent,
  }));
}

// A test file's server and browser: started before its tests (after prepare(), which writes the files they serve),
// stopped after them, neither when `skip`. The returned object holds them once started: server, browser, and with
// blank a blank page of the server (blankPage). server, browser: options of startServer and launch.
export function session({ skip, prepare, server = {}, browser = {}, blank = false }) {
  const s = { server: null, browser: null, page: null };
  before(async () => {
    if (skip) return;
    await prepare?.();
    s.server = await startServer(ROOT, server);
    s.browser = await launch(browser);
    if (blank) s.page = await blankPage(s.browser.context, s.server.origin);
  });
  after(async () => {
    await s.browser?.close();
    await s.server?.stop();
  });
  return s;
}
