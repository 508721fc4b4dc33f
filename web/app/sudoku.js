// The sudoku board: 81 cells edited with mouse and keyboard (arrows move, 1-9 fill, 0 . Delete Backspace
// clear; pasting 81 characters anywhere on the grid fills it). A puzzle is an 81-char string, '.' for blank.
// While a solve runs the board shows the model's prediction: givens stay bold, predicted digits are blue,
// the cells a step changed are highlighted, and at the end the cells at fault are marked (a given the model
// changed shows the model's digit, in red). Givens that clash are marked in red as they are typed. With the step's
// logits, a bar under each predicted digit shows how sure the model is of it.
export const BLANK = '.'.repeat(81);

// '0' and '.' are blanks; whitespace, '|', '-' and '+' (pretty-printed grids) are ignored. Returns the
// 81-char puzzle, or null when the text doesn't hold exactly 81 cells.
export function parseSudoku(text) {
  const cells = String(text).replace(/[\s|+\-]/g, '').replace(/0/g, '.');
  return /^[1-9.]{81}$/.test(cells) ? cells : null;
}

// Givens that break a rule: { cells: Set of the clashing cells, why: 'row 1 has two 5s' (the first found) }.
export function clashes(puzzle) {
  const cells = new Set();
  let why = '';
  const units = [];
  for (let u = 0; u < 9; u++) {
    units.push([`row ${u + 1}`, [...Array(9)].map((_, k) => u * 9 + k)]);
    units.push([`column ${u + 1}`, [...Array(9)].map((_, k) => k * 9 + u)]);
    units.push([`box ${u + 1}`, [...Array(9)].map((_, k) => (Math.floor(u / 3) * 3 + Math.floor(k / 3)) * 9 + (u % 3) * 3 + (k % 3))]);
  }
  for (const [name, unit] of units) {
    for (const d of '123456789') {
      const at = unit.filter(i => puzzle[i] === d);
      if (at.length < 2) continue;
      for (const i of at) cells.add(i);
      why ||= `${name} has ${at.length === 2 ? 'two' : at.length} ${d}s`;
    }
  }
  return { cells, why };
}

// Per cell, the softmax probability of the digit the step shows (token = digit + 1), from its logits [81, vocab].
export function certainties(step) {
  const vocab = step.logits.length / 81;
  const out = new Float32Array(81);
  for (let i = 0; i < 81; i++) {
    const row = step.logits.subarray(i * vocab, (i + 1) * vocab);
    const d = Number(step.prediction[i]);
    if (!(d >= 1 && d <= 9)) continue;
    const max = Math.max(...row);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    out[i] = Math.exp(row[d + 1] - max) / sum;
  }
  return out;
}

export function createSudokuView(grid, { onChange }) {
  let puzzle = BLANK;
  let shown = null;  // the prediction on display, or null
  let focused = 0;
  const cells = [];
  for (let i = 0; i < 81; i++) {
    const r = Math.floor(i / 9), c = i % 9;
    const cell = document.createElement('input');
    cell.type = 'text';
    cell.inputMode = 'numeric';
    cell.autocomplete = 'off';
    cell.maxLength = 2;
    cell.className = 'cell';
    if (c % 3 === 2 && c < 8) cell.classList.add('box-right');
    if (r % 3 === 2 && r < 8) cell.classList.add('box-bottom');
    cell.setAttribute('aria-label', `Row ${r + 1}, column ${c + 1}`);
    cell.tabIndex = i === 0 ? 0 : -1;
    cell.addEventListener('focus', () => moveFocus(i, false));
    cell.addEventListener('keydown', e => onKey(e, i));
    cell.addEventListener('input', () => {
      const digit = cell.value.replace(/[^1-9]/g, '').slice(-1);
      setCell(i, digit || '.');
    });
    cell.addEventListener('paste', e => {
      const p = parseSudoku(e.clipboardData.getData('text'));
      if (p) { e.preventDefault(); setPuzzle(p); onChange(puzzle); }
    });
    cells.push(cell);
    grid.append(cell);
  }

  function moveFocus(i, focus = true) {
    cells[focused].tabIndex = -1;
    focused = i;
    cells[i].tabIndex = 0;
    if (focus) cells[i].focus();
  }

  function onKey(e, i) {
    const r = Math.floor(i / 9), c = i % 9;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[e.key]) {
      e.preventDefault();
      const [dr, dc] = moves[e.key];
      moveFocus(((r + dr + 9) % 9) * 9 + ((c + dc + 9) % 9));
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      moveFocus(r * 9 + (e.key === 'Home' ? 0 : 8));
    } else if (/^[1-9]$/.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      setCell(i, e.key);
    } else if (['0', '.', ' ', 'Delete', 'Backspace'].includes(e.key)) {
      e.preventDefault();
      setCell(i, '.');
    }
  }

  function setCell(i, ch) {
    if (grid.classList.contains('busy')) return draw();
    puzzle = puzzle.slice(0, i) + ch + puzzle.slice(i + 1);
    shown = null;
    draw();
    onChange(puzzle);
  }

  // certainty: per cell, the model's probability of the digit shown (from the step's logits), or null.
  function draw(changed = [], bad = [], certainty = null) {
    const changedSet = new Set(changed), badSet = new Set(bad);
    const clash = shown ? new Set() : clashes(puzzle).cells;
    for (let i = 0; i < 81; i++) {
      const given = puzzle[i] !== '.';
      // A given shows the model's digit only when the final verdict says the model changed it.
      const changedGiven = given && shown && badSet.has(i) && /[1-9]/.test(shown[i]) && shown[i] !== puzzle[i];
      const ch = given && !changedGiven ? puzzle[i] : shown ? shown[i] : '.';
      const cell = cells[i];
      cell.title = changedGiven ? `The model changed this given (it is ${puzzle[i]})`
        : clash.has(i) ? 'This given clashes with another one' : '';
      cell.value = /[1-9]/.test(ch) ? ch : '';
      cell.classList.toggle('given', given);
      cell.classList.toggle('predicted', !given && !!shown);
      // A given keeps showing its own digit while a step changes it, so it is not highlighted as changed.
      cell.classList.toggle('changed', !given && changedSet.has(i));
      cell.classList.toggle('bad', badSet.has(i) || clash.has(i));
      cell.setAttribute('aria-invalid', badSet.has(i) || clash.has(i) ? 'true' : 'false');
      const sure = certainty && !given && cell.value ? certainty[i] : null;
      cell.classList.toggle('sure', sure !== null);
      if (sure !== null) {
        cell.style.setProperty('--certainty', sure.toFixed(3));
        cell.title ||= `The model is ${Math.round(sure * 100)}% sure of this digit`;
      } else {
        cell.style.removeProperty('--certainty');
      }
    }
  }

  function setPuzzle(p) {
    puzzle = p;
    shown = null;
    draw();
  }

  draw();
  return {
    get puzzle() { return puzzle; },
    // Why the givens break a rule ('row 1 has two 5s'), or ''.
    get clash() { return clashes(puzzle).why; },
    setPuzzle,
    clearAnswer() { shown = null; draw(); },
    setBusy(busy) {
      grid.classList.toggle('busy', busy);
      for (const cell of cells) cell.readOnly = busy;
    },
    showStep(step) {
      shown = step.prediction;
      draw(step.done ? [] : step.changed || [], step.done ? step.badCells || [] : [], step.logits ? certainties(step) : null);
    },
  };
}
