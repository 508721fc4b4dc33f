// An accessibility audit of the demo page with axe-core (npm devDependency), in headless Chromium: each view (sudoku
// after a solve, maze before and after one, ARC before and after one) and the model panel's details opened, at desktop and phone widths. No violation of impact
// serious or critical may remain. The axe script is read from node_modules and run in the page; nothing is fetched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, session, skipReason, sudokuModel, watch, waitForResult } from './harness.mjs';
import { SUDOKU_SAMPLES } from '../../web/app/samples.js';
import { ARC_TASK, ARC_TASK_ID, arcModelBytes } from '../js/arc-model.mjs';

const AXE = path.join(ROOT, 'node_modules/axe-core/axe.min.js');
const sudoku = sudokuModel();
const skip = skipReason({ more: [[!sudoku, 'no sudoku model (weights/ or build/native/vectors/)'],
  [!fs.existsSync(AXE), 'no axe-core (npm install)']] });

const env = session({ skip });

// axe-core's findings of impact serious or critical, one line each: rule, impact, the elements, what to fix.
async function audit(page) {
  // page.evaluate runs outside the page's Content-Security-Policy, which refuses inline scripts.
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(fs.readFileSync(AXE, 'utf8'));
  const violations = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations));
  return violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', ')}: ${v.nodes[0].failureSummary}`);
}

for (const width of [1280, 390]) {
  test(`axe-core finds no serious or critical violation in any view at ${width} px`, { skip }, async () => {
    const page = await env.browser.context.newPage();
    await page.setViewportSize({ width, height: 844 });
    const seen = watch(page, env.server.origin);
    const model = sudoku.shipped ? '' : `&model=../${sudoku.path}`;
    await page.goto(`${env.server.url}#sudoku=${SUDOKU_SAMPLES[0].puzzle}&solve=1${model}`);
    const r = await waitForResult(page);
    assert.equal(r.state, 'done', r.verdict);
    const found = { sudoku: await audit(page) };

    await page.click('#tab-maze');
    await page.waitForFunction(() => /Shortest path|draw one instead/.test(document.getElementById('maze-info').textContent), null, { timeout: 60_000 });
    found.maze = await audit(page);
    if (/Shortest path/.test(await page.textContent('#maze-info'))) {  // a maze model is there: its answer, shown
      await page.click('#solve');
      assert.equal((await waitForResult(page)).state, 'done');
      await page.click('.answer summary');
      found['maze solved, its answer open'] = await audit(page);
    }

    await page.click('#tab-arc');
    await page.waitForSelector('#arc-pairs canvas');
    found.arc = await audit(page);
    // Solved with a tiny ARC model (tests/js/arc-model.mjs): the attempts, their certainty maps and the legend.
    await page.setInputFiles('#arc-file', { name: `${ARC_TASK_ID}.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(ARC_TASK)) });
    await page.setInputFiles('#model-file', { name: 'arc-copy.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(arcModelBytes('copy')) });
    await page.waitForFunction(() => /ARC model loaded/.test(document.getElementById('arc-model').textContent));
    await page.click('#solve');
    assert.equal((await waitForResult(page)).state, 'done');
    assert.ok(await page.isVisible('[data-testid=arc-certainty]') && await page.isVisible('#arc-legend'));
    found['arc solved'] = await audit(page);

    await page.click('#tab-sudoku');
    await page.waitForSelector('#model-info dt', { state: 'attached' });
    await page.click('#model-source summary');
    assert.ok(await page.isVisible('#model-source-text'));
    found['model panel'] = await audit(page);

    for (const [view, lines] of Object.entries(found)) assert.deepEqual(lines, [], `${view} at ${width} px:\n${lines.join('\n')}`);
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.foreign, []);
    await page.close();
  });
}
