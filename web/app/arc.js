// The ARC view: a task's demonstration pairs and test inputs in the standard ARC colours, and the model's attempts,
// each with a map of how sure the model is of every cell. Task files are the ARC JSON format:
// { train: [{input, output}], test: [{input, output?}] }, grids being 1-30 rows of 1-30 colours 0-9.
import { mix } from './maze.js';

export const ARC_COLORS = ['#000000', '#0074d9', '#ff4136', '#2ecc40', '#ffdc00',
  '#aaaaaa', '#f012be', '#ff851b', '#7fdbff', '#870c25'];

function checkGrid(g, where) {
  if (!Array.isArray(g) || g.length < 1 || g.length > 30) throw new Error(`${where}: expected 1-30 rows`);
  const cols = Array.isArray(g[0]) ? g[0].length : -1;
  if (cols < 1 || cols > 30) throw new Error(`${where}: expected 1-30 columns`);
  for (const row of g) {
    if (!Array.isArray(row) || row.length !== cols) throw new Error(`${where}: rows must all have ${cols} cells`);
    if (!row.every(v => Number.isInteger(v) && v >= 0 && v <= 9)) throw new Error(`${where}: colours are integers 0-9`);
  }
}

// Checks a parsed task JSON and returns it; throws an Error naming what is wrong.
export function checkArcTask(task) {
  if (!task || typeof task !== 'object') throw new Error('not an ARC task: expected a JSON object');
  for (const part of ['train', 'test']) {
    if (!Array.isArray(task[part]) || task[part].length === 0) throw new Error(`not an ARC task: "${part}" must be a non-empty list`);
  }
  task.train.forEach((p, i) => { checkGrid(p.input, `train[${i}].input`); checkGrid(p.output, `train[${i}].output`); });
  task.test.forEach((p, i) => { checkGrid(p.input, `test[${i}].input`); if (p.output) checkGrid(p.output, `test[${i}].output`); });
  return task;
}

// A canvas for a rows x cols grid, `cell` pixels a cell, lines of `line` between the cells.
function blankGrid(rows, cols, line) {
  const cell = Math.max(4, Math.min(24, Math.floor(240 / Math.max(rows, cols))));
  const canvas = document.createElement('canvas');
  canvas.width = cols * cell;
  canvas.height = rows * cell;
  canvas.className = 'arc-grid';
  canvas.setAttribute('role', 'img');
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = line;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  return { canvas, ctx, cell };
}

export function gridCanvas(grid, label) {
  const rows = grid.length, cols = grid[0].length;
  const { canvas, ctx, cell } = blankGrid(rows, cols, '#555');
  canvas.setAttribute('aria-label', `${label}: ${rows} by ${cols} grid`);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      ctx.fillStyle = ARC_COLORS[grid[r][c]];
      ctx.fillRect(c * cell + 0.5, r * cell + 0.5, cell - 1, cell - 1);
    }
  }
  return canvas;
}

// How sure the model is of each cell of an attempt, drawn beside its grid: each cell shaded from `open` (0) to `sure`
// (1) by the probability of the colour shown there, and a dot of `unsure` on a cell it is less than half sure of.
// The dot meets WCAG's 3:1 against `open` and keeps a rim of `open` around it, so the ratio holds over any shade
// (tests/browser/page.test.mjs computes the ratios). The legend in index.html repeats them.
export const CERTAINTY_COLORS = { open: '#f7f4ec', sure: '#1d5fa8', unsure: '#1b2430', line: '#d9d3c7' };

// certainty: rows of probabilities, the attempt's shape (trm.solve's `certainty: true`).
export function certaintyCanvas(certainty, label) {
  const rows = certainty.length, cols = certainty[0].length;
  const { canvas, ctx, cell } = blankGrid(rows, cols, CERTAINTY_COLORS.line);
  const { open, sure, unsure } = CERTAINTY_COLORS;
  const all = certainty.flat();
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const p = certainty[r][c], x = c * cell, y = r * cell;
      ctx.fillStyle = mix(open, sure, p);
      ctx.fillRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
      if (p >= 0.5) continue;
      for (const [color, radius] of [[open, cell * 0.4], [unsure, cell * 0.25]]) {
        ctx.fillStyle = color;
        ctx.beginPath();
        ctx.arc(x + cell / 2, y + cell / 2, radius, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
  }
  const mean = all.reduce((s, p) => s + p, 0) / all.length, under = all.filter(p => p < 0.5).length;
  canvas.classList.add('arc-certainty');
  canvas.dataset.testid = 'arc-certainty';
  canvas.dataset.certainty = all.join(',');
  canvas.setAttribute('aria-label', `${label}: how sure the model is of each cell, ${Math.round(100 * mean)}% on average; ` +
    `${under ? `${under} of ${all.length} cell${all.length === 1 ? '' : 's'} under half` : 'every cell at least half'}`);
  return canvas;
}

function figure(grid, label) {
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = label;
  fig.append(gridCanvas(grid, label), cap);
  return fig;
}

function pair(title, input, output, outputLabel) {
  const div = document.createElement('div');
  div.className = 'arc-pair';
  const h = document.createElement('h3');
  h.textContent = title;
  const row = document.createElement('div');
  row.className = 'arc-row';
  row.append(figure(input, 'Input'));
  if (output) {
    const arrow = document.createElement('span');
    arrow.className = 'arrow';
    arrow.setAttribute('aria-hidden', 'true');
    arrow.textContent = '→';
    row.append(arrow, figure(output, outputLabel));
  }
  div.append(h, row);
  return div;
}

// Shows `task` in `container` (replacing what was there). The test outputs, when the file has them, stay
// folded away: they are the answers.
export function showArcTask(container, task) {
  container.replaceChildren();
  task.train.forEach((p, i) => container.append(pair(`Example ${i + 1}`, p.input, p.output, 'Output')));
  task.test.forEach((p, i) => {
    const div = pair(`Test ${task.test.length > 1 ? i + 1 : ''}`.trim(), p.input, null);
    div.classList.add('arc-test');
    if (p.output) {
      const details = document.createElement('details');
      const summary = document.createElement('summary');
      summary.textContent = 'Show the expected answer';
      details.append(summary, figure(p.output, 'Expected output'));
      div.append(details);
    }
    container.append(div);
  });
}

// The attempts of an ARC solve: the top two answers of the model's augmented copies, each with its votes, how sure
// the model is of each cell (when the step has it) and, when the task file holds the test output, whether it matches.
// Everything is drawn or set as text (never as HTML). legend: shown while attempts with certainty maps are.
export function createArcAttempts(container, legend = null) {
  let busy = false;
  const attempt = (a, i, copies) => {
    const fig = document.createElement('figure');
    fig.className = 'arc-attempt';
    fig.dataset.testid = 'arc-attempt';
    fig.dataset.votes = String(a.votes);
    if (a.correct !== undefined) fig.dataset.correct = String(a.correct);
    const label = `Attempt ${i + 1}`;
    if (a.grid.length) {
      const grids = document.createElement('div');
      grids.className = 'arc-attempt-grids';
      grids.append(gridCanvas(a.grid, label));
      if (a.certainty && a.certainty.length) grids.append(certaintyCanvas(a.certainty, label));
      fig.append(grids);
    } else {
      const empty = document.createElement('p');
      empty.className = 'arc-empty';
      empty.textContent = 'No grid: the prediction has no cell in its top-left corner.';
      fig.append(empty);
    }
    const cap = document.createElement('figcaption');
    const votes = document.createElement('span');
    votes.textContent = `${label}: ${a.votes} of ${copies} vote${copies === 1 ? '' : 's'}, confidence ${Math.round(100 * a.confidence)}%`;
    cap.append(votes);
    if (a.correct !== undefined) {
      const mark = document.createElement('span');
      mark.className = `arc-match ${a.correct ? 'good' : 'bad'}`;
      mark.textContent = a.correct ? '✓ matches the answer' : '✗ does not match the answer';
      cap.append(mark);
    }
    fig.append(cap);
    return fig;
  };
  return {
    // One step of trm.solve(task): { step, maxSteps, copies, distinct, attempts }.
    showStep(step) {
      const head = document.createElement('p');
      head.className = 'arc-attempts-head';
      head.textContent = `Step ${step.step} of ${step.maxSteps}: ${step.copies} augmented cop${step.copies === 1 ? 'y' : 'ies'} voting, ` +
        `${step.distinct} distinct answer${step.distinct === 1 ? '' : 's'}`;
      const row = document.createElement('div');
      row.className = 'arc-row';
      step.attempts.forEach((a, i) => row.append(attempt(a, i, step.copies)));
      container.replaceChildren(head, row);
      container.hidden = false;
      if (legend) legend.hidden = !step.attempts.some(a => a.certainty);
    },
    clearAnswer() {
      container.replaceChildren();
      container.hidden = true;
      if (legend) legend.hidden = true;
    },
    setBusy(on) { busy = on; container.setAttribute('aria-busy', String(busy)); },
  };
}

// How many puzzle-embedding rows (the task and its augmented copies) a model's metadata names for `taskId`.
export function rowsForTask(info, taskId) {
  const names = (info && info.task && Array.isArray(info.task.puzzle_identifiers)) ? info.task.puzzle_identifiers : [];
  return names.filter(n => typeof n === 'string' && n.split('|||')[0] === taskId).length;
}

// Distinct task ids among a model's rows (the reference's unused row 0, '<blank>', is none).
export function tasksOf(info) {
  const names = (info && info.task && Array.isArray(info.task.puzzle_identifiers)) ? info.task.puzzle_identifiers : [];
  return new Set(names.map(n => String(n).split('|||')[0]).filter(id => id !== '<blank>')).size;
}
