// The page's puzzle parsers and its shortest-path rule (web/app/), in plain Node (no browser needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMaze, bfs, shortestPath, SIZE } from '../../web/app/maze.js';
import { parseSudoku } from '../../web/app/sudoku.js';
import { SUDOKU_SAMPLES } from '../../web/app/samples.js';

test('bfs counts steps around walls', () => {
  const cells = ' '.repeat(SIZE * SIZE).split('');
  for (let r = 0; r < SIZE - 1; r++) cells[r * SIZE + 1] = '#';  // a wall down column 1, open at the bottom
  const dist = bfs(cells.join(''), 0);
  assert.equal(dist[2], 2 * (SIZE - 1) + 2);
  assert.equal(dist[1], -1);
});

test('parsers: sudoku and maze text from links and pastes', () => {
  const p = SUDOKU_SAMPLES[0].puzzle;
  assert.equal(parseSudoku(p.replace(/\./g, '0')), p);
  assert.equal(parseSudoku(p.match(/.{9}/g).join('\n')), p);
  assert.equal(parseSudoku(p.slice(1)), null);
  assert.equal(parseSudoku(p.replace('.', 'x')), null);
  for (const s of SUDOKU_SAMPLES) assert.match(s.puzzle, /^[1-9.]{81}$/);
  const maze = `S${'#'.repeat(28)} ${' '.repeat(869)}G`;
  assert.equal(parseMaze(maze.replace(/ /g, '.')), maze);
  assert.equal(parseMaze(maze.slice(1)), null);
  assert.equal(parseMaze(maze.replace('#', 'x')), null);
  assert.equal(shortestPath(maze), 2 * (SIZE - 1));  // corner to corner around the wall in row 0
  assert.equal(shortestPath(maze.replace('G', ' ')), -1);
});
