// Cancel on a page that is not cross-origin isolated (issue 22), in headless Chromium: an embedder's page served
// without COOP/COEP (scripts/serve --no-isolation) has no SharedArrayBuffer, so the engine cannot see a cancel inside a
// step; web/trm.js replaces the busy worker with a fresh one holding the same model. The cancelled run ends before the
// step would have (an engine loaded with cancelTimeout: Infinity, cancelled at the same moment, shows when that is), a
// call queued behind it is answered by the new worker, `info` stays the same, and the next solve gives the other
// engine's answer. The page and the model are written to test-output/cancel/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { OUT, session, skipReason, watch } from './harness.mjs';
import { modelBytes } from '../js/hostile-models.mjs';

const skip = skipReason();

const DIR = path.join(OUT, 'cancel');

const env = session({ skip, server: { isolated: false }, prepare() {
  fs.mkdirSync(DIR, { recursive: true });
  // Two network calls a step, each seconds long (as tests/js/cancel-restart.test.mjs).
  fs.writeFileSync(path.join(DIR, 'slow.safetensors'),
    modelBytes({ seq_len: 4096, hidden_size: 384, num_heads: 6, H_cycles: 1, L_cycles: 1 }, { task: { kind: 'generic' } }));
  fs.writeFileSync(path.join(DIR, 'embed.html'), '<!doctype html><meta charset="utf-8"><title>embed</title><link rel="icon" href="/web/icon.svg"><p>an embedder</p>\n');
} });

test('a page without COOP/COEP: cancel replaces the busy worker, before the step would have ended', { skip }, async () => {
  const page = await env.browser.context.newPage();
  const seen = watch(page, env.server.origin);
  await page.goto(`${env.server.origin}/test-output/cancel/embed.html`);
  const out = await page.evaluate(async () => {
    const { TRM } = await import('/web/trm.js');
    const order = [];
    const note = (name, p) => p.then((v) => { order.push(name); return v; });
    const waiting = await TRM.load('slow.safetensors', { cache: false, cancelTimeout: Infinity });
    const trm = await TRM.load('slow.safetensors', { cache: false });
    try {
      const info = trm.info;
      const puzzle = { tokens: new Int32Array(4096).fill(1) };
      const slow = waiting.solve(puzzle, { halt: 'never', maxSteps: 1 });
      const run = trm.solve(puzzle, { halt: 'never', maxSteps: 1 });
      const queued = trm.memory();
      slow.cancel();
      run.cancel();
      const infoKept = trm.info === info;
      const [result] = await Promise.all([note('cancelled', run.result), note('queued', queued), note('next', trm.memory()),
        note('step ended', slow.result)]);
      const [mine, theirs] = await Promise.all([trm.solve(puzzle, { halt: 'never', maxSteps: 1 }).result,
        waiting.solve(puzzle, { halt: 'never', maxSteps: 1 }).result]);
      return {
        isolated: globalThis.crossOriginIsolated, sharedArrayBuffer: typeof SharedArrayBuffer, threads: trm.info.threads,
        order, result, stepsComputed: run.stepsComputed, waitingSteps: slow.stepsComputed, infoKept,
        sameInfo: JSON.stringify(trm.info) === JSON.stringify(info),
        nextStep: mine.step, sameAnswer: mine.tokens.join() === theirs.tokens.join(),
      };
    } finally {
      trm.dispose();
      waiting.dispose();
    }
  });
  assert.equal(out.isolated, false);
  assert.equal(out.sharedArrayBuffer, 'undefined', 'no SharedArrayBuffer: no cancel flag, no threads');
  assert.equal(out.threads, 1);
  for (const name of ['cancelled', 'queued', 'next']) {
    assert.ok(out.order.indexOf(name) < out.order.indexOf('step ended'), `${name} before the step ended: ${out.order.join(', ')}`);
  }
  assert.equal(out.result, null);
  assert.equal(out.stepsComputed, 0);
  assert.equal(out.waitingSteps, 1, 'the engine that was not replaced ran its step to the end');
  assert.ok(out.infoKept && out.sameInfo, 'info unchanged');
  assert.equal(out.nextStep, 1);
  assert.ok(out.sameAnswer, 'the next solve: the same answer as the other engine');
  assert.deepEqual(seen.errors, []);
  await page.close();
});
