// Writes the README's screenshots to web/screenshots/: the sudoku view on a laptop after all the plain model's steps, and the maze view
// on a phone after a solve (the model's path as a line, cells shaded by its certainty) with a shortest path shown.
// Uses the shipped models when they are there (else the tiny random reference model for sudoku); the maze is the
// native generator's seed 11 when build/native/trm is there, else one the page draws.
//   node tests/browser/screenshots.mjs
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, sudokuModel, startServer, launch, waitForResult, generatedMaze } from './harness.mjs';
import { SUDOKU_SAMPLES } from '../../web/app/samples.js';

const out = path.join(ROOT, 'web/screenshots');
fs.mkdirSync(out, { recursive: true });
const model = sudokuModel();
const server = await startServer();
const browser = await launch();
try {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1100, height: 760 });
  const modelParam = model && !model.shipped ? `&model=../${model.path}` : '';
  // The plain model through all its steps, so that the timeline and the chart show the whole recursion.
  await page.goto(`${server.url}#sudoku=${SUDOKU_SAMPLES[0].puzzle}${modelParam}`);
  await page.waitForSelector('#model-info dt', { state: 'attached', timeout: 60_000 });
  await page.selectOption('#strategy', 'model');
  await page.uncheck('#halt-early');
  await page.click('#solve');
  console.log((await waitForResult(page)).verdict);
  await page.evaluate(() => Promise.all(document.getAnimations().map(a => a.finished)));  // the cells' fades
  await page.screenshot({ path: path.join(out, 'sudoku.png') });

  await page.setViewportSize({ width: 390, height: 844 });
  const native = fs.existsSync(path.join(ROOT, 'build/native/trm'));
  await page.goto(native ? `${server.url}#maze=${encodeURIComponent(generatedMaze(11, '20-40').replace(/ /g, '.'))}` : server.url);
  await page.reload();
  if (!native) await page.click('#tab-maze');
  await page.waitForFunction(() => /Shortest path/.test(document.getElementById('maze-info').textContent), null, { timeout: 60_000 });
  await page.click('#solve');
  await waitForResult(page);
  await page.check('#maze-show-shortest');
  await page.evaluate(() => scrollTo(0, 0));
  await page.screenshot({ path: path.join(out, 'maze-phone.png') });
  console.log(`wrote ${out}/sudoku.png and maze-phone.png (sudoku model: ${model ? model.path : 'none'})`);
} finally {
  await browser.close();
  await server.stop();
}
