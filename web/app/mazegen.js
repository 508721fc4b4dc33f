// The project's own maze generator: 30x30 boards in the style of Maze-Hard (random walls at about 37-40%,
// no frame), one start S and one goal G placed far apart, so the shortest path is long.
// A maze is a 900-char row-major string over '# SG' ('#' wall, ' ' open); 'o' marks a path.
export const SIZE = 30;
export const MIN_PATH = 110;  // Maze-Hard keeps mazes whose shortest path is at least this long

// mulberry32: a small seeded generator, so a seed gives the same maze everywhere.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Distances (steps) from cell `from` to every cell over open cells (anything but '#'); -1 where unreachable.
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

function farthest(dist, random) {
  let best = -1, bestCells = [];
  for (let i = 0; i < dist.length; i++) {
    if (dist[i] > best) { best = dist[i]; bestCells = [i]; }
    else if (dist[i] === best) bestCells.push(i);
  }
  return bestCells[Math.floor(random() * bestCells.length)];
}

// Length of the shortest S-G path in steps, or -1 when G can't be reached (or S or G is missing).
export function shortestPath(maze) {
  const s = maze.indexOf('S'), g = maze.indexOf('G');
  if (s < 0 || g < 0) return -1;
  return bfs(maze, s)[g];
}

// One maze: walls at `density`, then S and G at the two ends of a double BFS sweep (close to the diameter
// of the open region S lands in). Tries boards until the shortest path reaches MIN_PATH or `tries` run out,
// and returns the longest found: { maze, length }.
export function generateMaze(random = Math.random, { density = 0.37, tries = 400 } = {}) {
  let best = { maze: '', length: -1 };
  for (let t = 0; t < tries && best.length < MIN_PATH; t++) {
    const cells = Array.from({ length: SIZE * SIZE }, () => (random() < density ? '#' : ' '));
    const open = [];
    for (let i = 0; i < cells.length; i++) if (cells[i] === ' ') open.push(i);
    if (open.length < 2) continue;
    const a = farthest(bfs(cells, open[Math.floor(random() * open.length)]), random);
    const b = farthest(bfs(cells, a), random);
    const length = bfs(cells, a)[b];
    if (length > best.length) {
      cells[a] = 'S';
      cells[b] = 'G';
      best = { maze: cells.join(''), length };
    }
  }
  return best;
}
