// Writes the README's screenshots to web/screenshots/: the sudoku view on a laptop after a solve, and the maze view
// on a phone with a shortest path shown. Uses the shipped sudoku model when it is there (else the tiny random
// reference model).
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
  await page.goto(`${server.url}#sudoku=${SUDOKU_SAMPLES[0].puzzle}&solve=1${modelParam}`);
  await waitForResult(page);
  await page.evaluate(() => Promise.all(document.getAnimations().map(a => a.finished)));  // the cells' fades
  await page.screenshot({ path: path.join(out, 'sudoku.png') });

  await page.setViewportSize({ width: 390, height: 844 });
  const maze = generatedMaze(11);
  await page.goto(`${server.url}#maze=${encodeURIComponent(maze.replace(/ /g, '.'))}`);
  await page.reload();
  await page.waitForFunction(() => /Shortest path/.test(document.getElementById('maze-info').textContent));
  await page.check('#maze-show-shortest');
  await page.evaluate(() => scrollTo(0, 0));
  await page.screenshot({ path: path.join(out, 'maze-phone.png') });
  console.log(`wrote ${out}/sudoku.png and maze-phone.png (sudoku model: ${model ? model.path : 'none'})`);
} finally {
  await browser.close();
  await server.stop();
}
