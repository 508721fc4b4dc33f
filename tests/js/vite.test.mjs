// Embedding: tests/vite-app imports 'trm-web' (this package) and is built with Vite. The bundle must carry the
// worker and the four .wasm files (single-thread and threads, each plain and relaxed SIMD); then the built app runs
// in Chromium (when installed), on a plain page (single-thread build) and on a cross-origin-isolated one (threaded
// build), solves a sudoku, and loads the weights from the Cache API on the second visit.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { caseWeights, ROOT, SUDOKU } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

describe('a Vite app built against the package', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-vite-'));
  let files;
  before(() => {
    execFileSync(path.join(ROOT, 'node_modules/.bin/vite'), ['build', 'tests/vite-app', '--config', 'tests/vite-app/vite.config.js',
      '--outDir', out], { cwd: ROOT, stdio: 'pipe' });
    fs.copyFileSync(caseWeights('sudoku_att_rope'), path.join(out, 'weights.safetensors'));
    files = fs.readdirSync(path.join(out, 'assets'));
  });
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  test('the bundle holds the worker and the four WASM builds', () => {
    assert.equal(files.filter((f) => /^trm-wasm-[\w-]+\.wasm$/.test(f)).length, 4, files.join(' '));
    assert.ok(files.some((f) => /^trm-wasm-relaxed-[\w-]+\.wasm$/.test(f)), files.join(' '));
    assert.ok(files.some((f) => /^trm-wasm-threads-relaxed-[\w-]+\.wasm$/.test(f)), files.join(' '));
    assert.ok(files.some((f) => /^trm-wasm-threads-[\w-]+\.wasm$/.test(f)), files.join(' '));
    assert.ok(files.some((f) => /^trm-worker-[\w-]+\.js$/.test(f)), files.join(' '));
  });

  for (const isolated of [false, true]) {
    test(`the built app solves in Chromium (${isolated ? 'cross-origin isolated: threads' : 'plain page: single thread'})`,
      { skip: fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, async () => {
        const server = http.createServer((req, res) => {
          const file = path.join(out, decodeURIComponent(new URL(req.url, 'http://x').pathname));
          if (!file.startsWith(out) || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404).end(); return; }
          const headers = { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
            // No 'unsafe-eval': the glue must not eval. blob: for a pthread worker script the bundler inlined.
            'content-security-policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:" };
          if (isolated) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
          res.writeHead(200, headers).end(fs.readFileSync(file));
        });
        await new Promise((r) => server.listen(0, '127.0.0.1', r));
        const { chromium } = await import('playwright-core');
        const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-vite-chromium-'));
        const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true,
          args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
        try {
          const page = await context.newPage();
          const errors = [];
          page.on('pageerror', (e) => errors.push(String(e)));
          const visit = async () => {
            await page.goto(`http://127.0.0.1:${server.address().port}/index.html?puzzle=${SUDOKU}`);
            await page.waitForFunction(() => document.getElementById('out').textContent !== 'running', null, { timeout: 120_000 });
            const text = await page.$eval('#out', (el) => el.textContent);
            assert.ok(!text.startsWith('error'), text);
            return JSON.parse(text);
          };
          const r = await visit();
          // 'auto' picks the relaxed-SIMD build where the browser runs it (Chromium 114+), with its .wasm bundled too.
          const simd = r.relaxedSimd ? 'wasm-relaxed-simd' : 'wasm-simd';
          assert.equal(r.backend, isolated ? `${simd}-threads` : simd, r.fallback);
          assert.equal(r.step, 3);
          assert.equal(r.prediction.length, 81);
          assert.equal(r.fromCache, false);
          const again = await visit();  // the second visit loads the weights from the Cache API
          assert.equal(again.fromCache, true);
          assert.equal(again.prediction, r.prediction);
          assert.deepEqual(errors, []);
        } finally {
          await context.close().catch(() => {});
          server.close();
          fs.rmSync(profile, { recursive: true, force: true });
        }
      });
  }
});
