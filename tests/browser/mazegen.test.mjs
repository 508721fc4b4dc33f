// The page's maze generator (web/app/mazegen.js) and puzzle parsers, in plain Node (no browser needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateMaze, rng, bfs, shortestPath, SIZE, MIN_PATH } from '../../web/app/mazegen.js';
import { parseMaze } from '../../web/app/maze.js';
import { parseSudoku } from '../../web/app/sudoku.js';
import { SUDOKU_SAMPLES } from '../../web/app/samples.js';

test('generated mazes: 30x30 over "# SG", one S, one G, a long shortest path, same maze for the same seed', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const { maze, length } = generateMaze(rng(seed));
    assert.equal(maze.length, SIZE * SIZE);
    assert.match(maze, /^[# SG]+$/);
    assert.equal(maze.split('S').length, 2);
    assert.equal(maze.split('G').length, 2);
    assert.equal(shortestPath(maze), length);
    assert.ok(length >= MIN_PATH, `seed ${seed}: shortest path ${length}`);
    assert.equal(generateMaze(rng(seed)).maze, maze);
  }
});

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
  const { maze } = generateMaze(rng(3));
  assert.equal(parseMaze(maze.replace(/ /g, '.')), maze);
  assert.equal(parseMaze(maze.slice(1)), null);
  assert.equal(parseMaze(maze.replace('#', 'x')), null);
});
