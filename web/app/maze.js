// The maze board: a 30x30 canvas. Draw with the mouse, a finger or the keyboard (arrows move a cursor,
// Space applies the tool, W/E/S/G pick wall, erase, start, goal). A maze is a 900-char row-major string over
// '# SG'; the model's answer marks its path with 'o'. With a step's logits, each open cell is shaded by how sure the
// model is that the path runs there.
export const SIZE = 30;

// "New maze" difficulty levels: the shortest path's length in cells, S and G included, as the engine's generator
// (src/generators.h) and the evaluation files count it. Maze-Hard's test mazes are 110-147.
export const MAZE_LEVELS = [
  { name: 'Short', path: [20, 40] },
  { name: 'Medium', path: [41, 80] },
  { name: 'Long', path: [81, 109] },
  { name: 'Maze-Hard', path: [110, 147] },
];

// Distances (steps) from cell `from` to every cell over open cells (anything but '#'); -1 where unreachable.
// The page's own copy of the rule, because it describes the board as the user draws, on the main thread.
export function bfs(cells, from) {
  const dist = new Int32Array(SIZE * SIZE).fill(-1);
  const queue = new Int32Array(SIZE * SIZE);
  let head = 0, tail = 0;
  dist[from] = 0;
  queue[tail++] = from;
  while (head < tail) {
    const i = queue[head++];
    const r = Math.floor(i / SIZE), c = i % SIZE;
    for (const [dr, dc] of [[-1, 0], [1, 0], [0, -1], [0, 1]]) {
      const rr = r + dr, cc = c + dc;
      if (rr < 0 || rr >= SIZE || cc < 0 || cc >= SIZE) continue;
      const j = rr * SIZE + cc;
      if (dist[j] >= 0 || cells[j] === '#') continue;
      dist[j] = dist[i] + 1;
      queue[tail++] = j;
    }
  }
  return dist;
}

// Length of the shortest S-G path in steps, or -1 when G can't be reached (or S or G is missing).
export function shortestPath(maze) {
  const s = maze.indexOf('S'), g = maze.indexOf('G');
  if (s < 0 || g < 0) return -1;
  return bfs(maze, s)[g];
}

// One shortest path as the cells from S to G, or null when G can't be reached.
export function shortestCells(maze) {
  const s = maze.indexOf('S'), g = maze.indexOf('G');
  if (s < 0 || g < 0) return null;
  const dist = bfs(maze, g);
  if (dist[s] < 0) return null;
  const cells = [s];
  for (let i = s; i !== g;) {
    const r = Math.floor(i / SIZE), c = i % SIZE;
    i = [[r - 1, c], [r + 1, c], [r, c - 1], [r, c + 1]]
      .filter(([rr, cc]) => rr >= 0 && rr < SIZE && cc >= 0 && cc < SIZE)
      .map(([rr, cc]) => rr * SIZE + cc)
      .find(j => dist[j] === dist[i] - 1);
    cells.push(i);
  }
  return cells;
}

// path, changed, bad and truePath meet WCAG's 3:1 against open (tests/browser/page.test.mjs computes the ratios);
// over a shaded cell they keep a rim of `open` around them, so the ratio holds there too. `sure` is the shade of a
// cell the model is certain lies on its path. The legend in index.html repeats them.
export const COLORS = {
  wall: '#263445', open: '#f7f4ec', grid: '#e3ddd0', path: '#2f7fd8', changed: '#a86b00',
  bad: '#d62839', S: '#1f9d55', G: '#c2410c', cursor: '#7c3aed', truePath: '#177245', sure: '#9fc4ec',
};

const PATH_TOKEN = 5;  // tokens 1-5 are '# SGo' (src/codecs.cpp), as in the reference maze data

// Per cell, the softmax probability of a path token ('o'), from a step's logits [900, vocab].
export function pathCertainties(step) {
  const vocab = step.logits.length / (SIZE * SIZE);
  const out = new Float32Array(SIZE * SIZE);
  for (let i = 0; i < SIZE * SIZE; i++) {
    const row = step.logits.subarray(i * vocab, (i + 1) * vocab);
    const max = Math.max(...row);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    out[i] = Math.exp(row[PATH_TOKEN] - max) / sum;
  }
  return out;
}

// The colour between a and b ('#rrggbb') at t in [0, 1].
export function mix(a, b, t) {
  const [x, y] = [a, b].map(h => h.slice(1).match(/../g).map(v => parseInt(v, 16)));
  return `rgb(${x.map((v, k) => Math.round(v + (y[k] - v) * t)).join(', ')})`;
}

// Accepts '.' or '_' for open cells (handier in links); returns the 900-char maze or null.
export function parseMaze(text) {
  const cells = String(text).replace(/\r?\n/g, '').replace(/[._]/g, ' ');
  if (cells.length !== SIZE * SIZE || !/^[# SGo]+$/.test(cells)) return null;
  return cells.replace(/o/g, ' ');
}

export function createMazeView(canvas, { onChange, tool }) {
  let maze = ' '.repeat(SIZE * SIZE);
  let shown = null, changed = new Set(), bad = new Set();
  let certainty = null;  // per cell, how sure the model is that the path runs there (pathCertainties), or null
  let cursor = 0, busy = false, painting = false, showShortest = false;

  function set(i, ch) {
    if (busy || maze[i] === ch) return;
    if (ch === 'S' || ch === 'G') maze = maze.replace(ch, ' ');  // one start, one goal
    maze = maze.slice(0, i) + ch + maze.slice(i + 1);
    shown = null;
    certainty = null;
    draw();
    onChange(maze);
  }

  function apply(i) {
    const t = tool();
    set(i, t === 'wall' ? '#' : t === 'erase' ? ' ' : t);
  }

  function cellAt(e) {
    const rect = canvas.getBoundingClientRect();
    const c = Math.floor(((e.clientX - rect.left) / rect.width) * SIZE);
    const r = Math.floor(((e.clientY - rect.top) / rect.height) * SIZE);
    return r >= 0 && r < SIZE && c >= 0 && c < SIZE ? r * SIZE + c : -1;
  }

  canvas.addEventListener('pointerdown', e => {
    const i = cellAt(e);
    if (i < 0) return;
    e.preventDefault();
    canvas.focus();
    cursor = i;
    painting = tool() === 'wall' || tool() === 'erase';
    if (painting) canvas.setPointerCapture(e.pointerId);
    apply(i);
    draw();
  });
  canvas.addEventListener('pointermove', e => {
    if (!painting) return;
    const i = cellAt(e);
    if (i < 0) return;
    cursor = i;
    apply(i);
  });
  const stop = () => { painting = false; };
  canvas.addEventListener('pointerup', stop);
  canvas.addEventListener('pointercancel', stop);

  canvas.addEventListener('keydown', e => {
    const moves = { ArrowUp: -SIZE, ArrowDown: SIZE, ArrowLeft: -1, ArrowRight: 1 };
    if (moves[e.key] !== undefined) {
      e.preventDefault();
      const r = Math.floor(cursor / SIZE), c = cursor % SIZE;
      if ((e.key === 'ArrowLeft' && c === 0) || (e.key === 'ArrowRight' && c === SIZE - 1)) return;
      if ((e.key === 'ArrowUp' && r === 0) || (e.key === 'ArrowDown' && r === SIZE - 1)) return;
      cursor += moves[e.key];
      draw();
    } else if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      set(cursor, maze[cursor] === '#' ? ' ' : '#');
    } else if (e.key === 's' || e.key === 'S' || e.key === 'g' || e.key === 'G') {
      e.preventDefault();
      set(cursor, e.key.toUpperCase());
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      set(cursor, ' ');
    }
  });
  canvas.addEventListener('focus', () => draw());
  canvas.addEventListener('blur', () => draw());

  function draw() {
    const dpr = window.devicePixelRatio || 1;
    const px = Math.round(canvas.clientWidth * dpr) || 600;
    if (canvas.width !== px) { canvas.width = px; canvas.height = px; }
    const ctx = canvas.getContext('2d');
    const s = px / SIZE;
    ctx.fillStyle = COLORS.grid;
    ctx.fillRect(0, 0, px, px);
    for (let i = 0; i < SIZE * SIZE; i++) {
      const x = (i % SIZE) * s, y = Math.floor(i / SIZE) * s;
      const ch = maze[i];
      ctx.fillStyle = ch === '#' ? COLORS.wall : ch === 'S' ? COLORS.S : ch === 'G' ? COLORS.G
        : certainty ? mix(COLORS.open, COLORS.sure, certainty[i]) : COLORS.open;
      ctx.fillRect(x + 0.5, y + 0.5, s - 1, s - 1);
    }
    if (showShortest) {
      const cells = shortestCells(maze);
      if (cells) drawLine(ctx, s, cells.slice(0, -1).map((c, k) => [c, cells[k + 1]]), COLORS.truePath, s * 0.5, [s * 0.35, s * 0.25]);
    }
    // The predicted path as a line: a segment joins each two neighbouring cells of it (S and G included).
    if (shown) {
      const onPath = i => shown[i] === 'o' || maze[i] === 'S' || maze[i] === 'G';
      const segments = [];
      for (let i = 0; i < SIZE * SIZE; i++) {
        if (shown[i] !== 'o' || maze[i] !== ' ') continue;
        if (i % SIZE > 0 && onPath(i - 1)) segments.push([i - 1, i]);
        if (i % SIZE < SIZE - 1 && onPath(i + 1) && shown[i + 1] !== 'o') segments.push([i, i + 1]);
        if (i >= SIZE && onPath(i - SIZE)) segments.push([i - SIZE, i]);
        if (i < SIZE * (SIZE - 1) && onPath(i + SIZE) && shown[i + SIZE] !== 'o') segments.push([i, i + SIZE]);
      }
      drawLine(ctx, s, segments, COLORS.path, s * 0.3, []);
    }
    for (let i = 0; i < SIZE * SIZE; i++) {
      const x = (i % SIZE) * s, y = Math.floor(i / SIZE) * s;
      const ch = maze[i];
      // A lone path cell (no neighbour on the path) would draw no line: it gets a dot.
      const lone = shown && shown[i] === 'o' && ch === ' ' && !neighbours(i).some(j => shown[j] === 'o' || maze[j] === 'S' || maze[j] === 'G');
      if (lone || bad.has(i) || changed.has(i)) {
        const inset = s * 0.2;
        ctx.fillStyle = COLORS.open;  // the rim
        ctx.beginPath();
        ctx.arc(x + s / 2, y + s / 2, s / 2 - inset * 0.5, 0, 2 * Math.PI);
        ctx.fill();
        ctx.fillStyle = bad.has(i) ? COLORS.bad : changed.has(i) ? COLORS.changed : COLORS.path;
        ctx.beginPath();
        ctx.arc(x + s / 2, y + s / 2, s / 2 - inset, 0, 2 * Math.PI);
        ctx.fill();
      }
      if (ch === 'S' || ch === 'G') {
        ctx.fillStyle = '#fff';
        ctx.font = `bold ${Math.floor(s * 0.7)}px system-ui, sans-serif`;
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        ctx.fillText(ch, x + s / 2, y + s / 2 + 1);
      }
    }
    if (document.activeElement === canvas) {
      ctx.strokeStyle = COLORS.cursor;
      ctx.lineWidth = Math.max(2, s / 8);
      ctx.strokeRect((cursor % SIZE) * s + 1, Math.floor(cursor / SIZE) * s + 1, s - 2, s - 2);
    }
  }

  new ResizeObserver(() => draw()).observe(canvas);
  // Each segment joins the centres of two neighbouring cells; over shaded cells, a rim of the open colour.
  function drawLine(ctx, s, segments, color, width, dash) {
    ctx.lineCap = 'round';
    for (const [stroke, w] of certainty ? [[COLORS.open, width + s * 0.2], [color, width]] : [[color, width]]) {
      ctx.strokeStyle = stroke;
      ctx.lineWidth = w;
      ctx.setLineDash(stroke === color ? dash : []);
      ctx.beginPath();
      for (const [a, b] of segments) {
        ctx.moveTo((a % SIZE + 0.5) * s, (Math.floor(a / SIZE) + 0.5) * s);
        ctx.lineTo((b % SIZE + 0.5) * s, (Math.floor(b / SIZE) + 0.5) * s);
      }
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }
  function neighbours(i) {
    const r = Math.floor(i / SIZE), c = i % SIZE;
    return [r > 0 && i - SIZE, r < SIZE - 1 && i + SIZE, c > 0 && i - 1, c < SIZE - 1 && i + 1].filter(j => j !== false);
  }
  return {
    get maze() { return maze; },
    setMaze(m) { maze = m; shown = null; certainty = null; changed = new Set(); bad = new Set(); draw(); },
    clearAnswer() { shown = null; certainty = null; changed = new Set(); bad = new Set(); draw(); },
    setBusy(b) { busy = b; canvas.classList.toggle('busy', b); },
    set showShortest(on) { showShortest = on; draw(); },
    // How sure the model is, per cell, that the path runs there, for the step shown; null without logits.
    get certainty() { return certainty; },
    showStep(step) {
      shown = step.prediction;
      certainty = step.logits ? pathCertainties(step) : null;
      changed = new Set(step.changed || []);
      bad = new Set(step.done ? step.badCells || [] : []);
      if (step.done) changed = new Set();
      draw();
    },
    describe() {
      const n = shortestPath(maze);
      const s = (maze.match(/S/g) || []).length, g = (maze.match(/G/g) || []).length;
      if (s !== 1 || g !== 1) return 'A maze needs exactly one start (S) and one goal (G).';
      return n < 0 ? 'The goal can’t be reached from the start.' : `Shortest path: ${n} steps (${n + 1} cells).`;
    },
  };
}
