// The page's puzzle parsers, its shortest-path and clash rules and its wording of messages (web/app/), in plain Node
// (no browser needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMaze, bfs, shortestPath, shortestCells, SIZE } from '../../web/app/maze.js';
import { parseSudoku, clashes } from '../../web/app/sudoku.js';
import { loadError, plainError, singular } from '../../web/app/messages.js';
import { SUDOKU_SAMPLES } from '../../web/app/samples.js';
import { solvedSentence, weakModelWarning } from '../../web/app/model.js';

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

test('messages: the engine\'s wording in plain sentences, singular for one cell', () => {
  assert.equal(singular('1 cells are not filled with a digit; the answer changes 1 given cells'),
    '1 cell is not filled with a digit; the answer changes 1 given cell');
  assert.equal(singular('12 cells are not filled with a digit'), '12 cells are not filled with a digit');
  const e = plainError("sudoku: puzzle has 80 characters; expected 81 (row-major, '.' or '0' for blanks)");
  assert.doesNotMatch(e, /sudoku:/);
  assert.match(e, /^The model could not run this puzzle: puzzle has 80 characters; .*\. Change the puzzle, or load another model, and press Solve again\.$/);
  assert.equal(loadError('a.safetensors', "metadata 'task.puzzle_identifiers' is empty"),
    "a.safetensors: the file is incomplete: its metadata entry task.puzzle_identifiers is empty. Choose a TRM weight file (.safetensors) or an official checkpoint (step_N) with its all_config.yaml.");
  assert.equal(loadError('step_0', "step_0: a PyTorch checkpoint needs its run's all_config.yaml; choose or drop both files together"),
    "step_0: a PyTorch checkpoint needs its run's all_config.yaml; choose or drop both files together", 'a message that says what to choose stays');
});

test('sudoku: clashing givens are found with the rule they break', () => {
  assert.deepEqual(clashes(SUDOKU_SAMPLES[0].puzzle), { cells: new Set(), why: '' });
  const p = `55${'.'.repeat(79)}`;
  assert.deepEqual([...clashes(p).cells], [0, 1]);
  assert.equal(clashes(p).why, 'row 1 has two 5s');
  assert.equal(clashes(`5${'.'.repeat(8)}5${'.'.repeat(71)}`).why, 'column 1 has two 5s');
});

test('maze: one shortest path, cell by cell from S to G', () => {
  const maze = `S${'#'.repeat(28)} ${' '.repeat(869)}G`;
  const cells = shortestCells(maze);
  assert.equal(cells.length, shortestPath(maze) + 1);
  assert.equal(cells[0], 0);
  assert.equal(cells.at(-1), SIZE * SIZE - 1);
  const rc = i => [Math.floor(i / SIZE), i % SIZE];
  for (let k = 1; k < cells.length; k++) {
    const [[r0, c0], [r1, c1]] = [rc(cells[k - 1]), rc(cells[k])];
    assert.equal(Math.abs(r1 - r0) + Math.abs(c1 - c0), 1, 'each step goes to a neighbouring cell');
    assert.notEqual(maze[cells[k]], '#');
  }
  assert.equal(shortestCells(maze.replace('G', ' ')), null);
});

test('a model is named weak before Solve while its best measured figure is under half', () => {
  const info = { source: '{}', bestStrategy: 'commit' };
  assert.match(weakModelWarning(info, { solved: { singles: 0.49, harder: 0.1 } }),
    /^This model is still weak: on its own it solves 49% of everyday singles-only sudokus; the commit strategy \(the default here\) does better\.$/);
  assert.equal(weakModelWarning(info, { solved: { singles: 0.52, harder: 0.18 } }), '');
  assert.match(weakModelWarning({ source: '{}', bestStrategy: 'model' }, { solved: { '20-40': 0 } }), /expect a wrong answer\.$/);
  assert.equal(weakModelWarning({ source: '{}' }, null), '', 'nothing measured: nothing said');
});

test('the sentence beside New puzzle / New maze names the grade or level and its measured figure', () => {
  const entry = { solved: { singles: 0.52, '110-147': 0 } };
  assert.equal(solvedSentence(entry, 'singles'), 'The shipped model solves 52% of everyday singles-only sudokus on its own.');
  assert.equal(solvedSentence(entry, '110-147'), 'The shipped model solves 0% of Maze-Hard mazes on its own.');
  assert.equal(solvedSentence(entry, 'harder'), '', 'no figure: nothing said');
  assert.equal(solvedSentence(undefined, 'singles'), '', 'a model the user loaded');
  assert.equal(solvedSentence({ solved: { singles: 0.996, harder: 1 } }, 'singles'),
    'The shipped model solves 99.6% of everyday singles-only sudokus on its own.', 'not rounded up to all of them');
  assert.match(solvedSentence({ solved: { harder: 1 } }, 'harder'), / 100% of /);
  assert.match(solvedSentence({ solved: { '20-40': 0.004 } }, '20-40'), / 0\.4% of /);
});
