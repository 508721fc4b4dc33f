// The demo page's ARC view in headless Chromium, with tiny ARC models written by tests/js/arc-model.mjs (random weights,
// named rows for a bundled evaluation task and for a task dropped as a file): the two attempts appear with their
// votes and whether they match the known answer; a task the model has no rows for is refused with the engine's
// message; task names are shown as text, never as HTML. Needs the WASM build; models go to test-output/arc/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, OUT, haveChromium, haveEngine, startServer, launch, watch, screenshot, waitForResult } from './harness.mjs';
import { ARC_TASK, arcModelBytes } from '../js/arc-model.mjs';

const skip = !haveChromium ? 'no chromium at /usr/bin/chromium (scripts/setup.sh installs it)'
  : !haveEngine ? 'no WASM build (scripts/build.sh wasm)' : false;

const BUNDLED = JSON.parse(fs.readFileSync(path.join(ROOT, 'web/app/arc-tasks/index.json'), 'utf8'));
const [TASK, NO_ROWS] = BUNDLED;  // the model has rows for the first bundled task, none for the second
const DROPPED = 'aaaa0001';       // ARC_TASK, whose first test output is its input: the copy model gets it right
const NAMES = ['<blank>', TASK, `${TASK}|||t1|||0123456789`, `${TASK}|||t6|||0987654321`, DROPPED, `${DROPPED}|||t4|||0312456789`];
const DIR = path.join(OUT, 'arc');
const COPY = path.join(DIR, 'arc-copy.safetensors'), RANDOM = path.join(DIR, 'arc-random.safetensors');

let server, browser;
before(async () => {
  if (skip) return;
  fs.mkdirSync(DIR, { recursive: true });
  fs.writeFileSync(COPY, arcModelBytes('copy', { names: NAMES, haltMaxSteps: 2 }));
  fs.writeFileSync(RANDOM, arcModelBytes('random', { names: NAMES, haltMaxSteps: 2 }));
  fs.writeFileSync(path.join(DIR, `${DROPPED}.json`), JSON.stringify(ARC_TASK));
  server = await startServer();
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function open(hash) {
  const page = await browser.context.newPage();
  const seen = watch(page, server.origin);
  await page.goto(server.url + hash);
  return { page, seen };
}

const attempts = page => page.$$eval('[data-testid=arc-attempt]', els => els.map(el => ({
  votes: Number(el.dataset.votes), correct: el.dataset.correct, text: el.textContent, grids: el.querySelectorAll('canvas').length,
})));

async function solveAndWait(page) {
  await page.evaluate(() => { delete document.querySelector('[data-testid=result]').dataset.state; });
  await page.click('#solve');
  return waitForResult(page);
}

test('ARC: a deep link runs the model on a bundled task; the attempts show their votes and match or not', { skip }, async () => {
  const { page, seen } = await open(`#arc=${TASK}&model=../test-output/arc/arc-copy.safetensors&solve=1`);
  const r = await waitForResult(page);
  assert.equal(r.state, 'done', await page.textContent('#verdict'));
  // Every copy predicts its own (augmented) input; restored, all three vote for the test input, not the answer.
  const task = JSON.parse(fs.readFileSync(path.join(ROOT, 'web/app/arc-tasks', `${TASK}.json`), 'utf8'));
  assert.deepEqual(JSON.parse(r.text), [task.test[0].input]);
  assert.equal(r.verified, 'false');
  const shown = await attempts(page);
  assert.equal(shown.length, 1);
  assert.equal(shown[0].votes, 3);
  assert.equal(shown[0].correct, 'false');
  assert.equal(shown[0].grids, 1);
  assert.match(shown[0].text, /Attempt 1: 3 of 3 votes, confidence 27%✗ does not match the answer/);
  assert.match(await page.textContent('#arc-attempts'), /Step 2 of 2: 3 augmented copies voting, 1 distinct answer/);
  assert.match(await page.textContent('#verdict'), /No attempt matches the known answer/);
  assert.match(await page.textContent('#arc-model'), new RegExp(`with 6 task embeddings for 2 tasks.*For task ${TASK} it has 3 embeddings`));
  await screenshot(page, 'arc-attempts');
  await page.setViewportSize({ width: 360, height: 740 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no sideways scrolling at 360 px');
  await screenshot(page, 'arc-attempts-360');
  await page.setViewportSize({ width: 1200, height: 900 });

  // A task file dropped in (the file picker), named so that its name would be markup if it were inserted as HTML.
  await page.setInputFiles('#arc-file', { name: `${DROPPED}.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(ARC_TASK)) });
  await page.waitForFunction(id => document.getElementById('arc-title').textContent === `Task ${id}`, DROPPED);
  assert.ok(await page.isVisible('#arc-test-field'), 'two test inputs: a choice of which');
  const ok = await solveAndWait(page);
  assert.equal(ok.state, 'done');
  assert.equal(ok.verified, 'true');
  const right = await attempts(page);
  assert.deepEqual(right.map(a => [a.votes, a.correct]), [[2, 'true']]);
  assert.match(right[0].text, /✓ matches the answer/);
  assert.match(await page.textContent('#verdict'), /Attempt 1 matches the known answer/);
  await page.selectOption('#arc-test', '1');
  assert.equal((await solveAndWait(page)).verified, 'false');
  await page.selectOption('#arc-copies', '1');
  await solveAndWait(page);
  assert.deepEqual((await attempts(page)).map(a => a.votes), [1]);

  // A bundled task the model has no rows for: said before solving, and the solve ends with the engine's message.
  await page.selectOption('#arc-task', NO_ROWS);
  await page.waitForFunction(id => document.getElementById('arc-title').textContent === `Task ${id}`, NO_ROWS);
  assert.match(await page.textContent('#arc-model'), new RegExp(`no embedding for task ${NO_ROWS}`));
  const refused = await solveAndWait(page);
  assert.equal(refused.state, 'error');
  assert.match(await page.textContent('#verdict'), new RegExp(`no puzzle-embedding row for task '${NO_ROWS}': its embedding must be learned first`));
  assert.equal((await attempts(page)).length, 0);

  const evil = '<img src=x onerror="window.__pwned=1">';
  await page.setInputFiles('#arc-file', { name: `${evil}.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(ARC_TASK)) });
  await page.waitForFunction(t => document.getElementById('arc-title').textContent === t, `Task ${evil}`);
  assert.equal(await page.locator('#view-arc img').count(), 0);
  await solveAndWait(page);
  assert.match(await page.textContent('#verdict'), /no puzzle-embedding row for task '<img src=x/);
  assert.equal(await page.locator('#view-arc img, #verdict img').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.foreign, []);
  await page.close();
});

test('ARC: a model from the file picker; copies that disagree give two ranked attempts', { skip }, async () => {
  const { page, seen } = await open(`#arc=${TASK}`);
  await page.waitForFunction(() => /No ARC model/.test(document.getElementById('arc-model').textContent));
  // The note above is written at start-up, before the deep link opens the ARC view; the verdict follows it.
  await page.waitForFunction(() => /Load an ARC model to solve this task/.test(document.getElementById('verdict').textContent));
  const none = await solveAndWait(page);
  assert.equal(none.state, 'error');
  assert.match(await page.textContent('#verdict'), /No ARC model ships with this copy of the page\. Load one in the model panel/);

  await page.setInputFiles('#model-file', RANDOM);
  await page.waitForFunction(() => /ARC model loaded: arc-random\.safetensors/.test(document.getElementById('arc-model').textContent));
  await page.uncheck('#halt-early');  // every copy runs every step
  const r = await solveAndWait(page);
  assert.equal(r.state, 'done', await page.textContent('#verdict'));
  const shown = await attempts(page);
  assert.equal(shown.length, JSON.parse(r.text).length);
  assert.ok(shown.length >= 1 && shown.length <= 2);
  assert.ok(shown.every(a => a.correct === 'false' || a.correct === 'true'));
  assert.ok(shown.reduce((n, a) => n + a.votes, 0) <= 3);
  if (shown.length === 2) assert.ok(shown[0].votes >= shown[1].votes);
  assert.match(await page.textContent('#step'), /^2 of 2$/);
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.foreign, []);
  await page.close();
});
