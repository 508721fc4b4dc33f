// A stand-in for web/trm.js with the same API, for working on the page before the WASM engine exists
// (served in place of /web/trm.js by a Playwright route). It reads the weight file's header like the real
// loader, and "solves" by filling cells at random, a step every 150 ms.
function readHeader(bytes) {
  if (bytes.length < 8) throw new Error('weights: file shorter than its 8-byte header length');
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.length - 8) throw new Error('weights: header length runs past the end of the file');
  let header;
  try { header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))); }
  catch { throw new Error('weights: header is not valid JSON'); }
  const meta = header.__metadata__ || {};
  if (meta.format !== 'trm/1') throw new Error('weights: metadata "format" must be "trm/1"');
  return meta;
}

function sudokuConflicts(p) {
  const bad = new Set();
  for (let i = 0; i < 81; i++) for (let j = i + 1; j < 81; j++) {
    const ri = Math.floor(i / 9), ci = i % 9, rj = Math.floor(j / 9), cj = j % 9;
    const peer = ri === rj || ci === cj || (Math.floor(ri / 3) === Math.floor(rj / 3) && Math.floor(ci / 3) === Math.floor(cj / 3));
    if (peer && p[i] === p[j]) { bad.add(i); bad.add(j); }
  }
  return [...bad];
}

export class TRM {
  static async load(source, { onProgress } = {}) {
    let bytes = source;
    if (typeof source === 'string' || source instanceof URL) {
      const res = await fetch(source);
      if (!res.ok) throw new Error(`weights: HTTP ${res.status} for ${source}`);
      bytes = new Uint8Array(await res.arrayBuffer());
      if (onProgress) onProgress({ loaded: bytes.length, total: bytes.length });
    } else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
    const meta = readHeader(bytes);
    return new TRM({
      config: JSON.parse(meta.config), task: JSON.parse(meta.task || '{"kind":"generic"}'), parameters: 398018,
      storageDtype: 'F32', source: meta.source, backend: 'wasm-simd', threads: 1,
    });
  }

  constructor(info) { this.info = info; }
  dispose() {}

  solve(puzzle, { maxSteps } = {}) {
    const total = maxSteps || this.info.config.halt_max_steps;
    let cancelled = false, resolve, reject;
    const result = new Promise((res, rej) => { resolve = res; reject = rej; });
    result.catch(() => {});
    const sudoku = puzzle.length === 81;
    let prediction = sudoku ? puzzle.replace(/\./g, '1') : puzzle;
    async function* steps() {
      let last = null;
      for (let k = 1; k <= total && !cancelled; k++) {
        await new Promise(r => setTimeout(r, 150));
        if (cancelled) break;
        const cells = [...prediction], changed = [];
        for (let i = 0; i < cells.length; i++) {
          if (sudoku && puzzle[i] === '.' && Math.random() < 0.3) { cells[i] = String(1 + Math.floor(Math.random() * 9)); changed.push(i); }
          if (!sudoku && puzzle[i] === ' ' && Math.random() < 0.05) { cells[i] = 'o'; changed.push(i); }
        }
        prediction = cells.join('');
        const badCells = sudoku ? sudokuConflicts(prediction) : changed.slice(0, 5);
        const done = k === total;
        last = {
          step: k, maxSteps: total, prediction, tokens: [], confidence: k / (total + 1), qHalt: 0, qContinue: 0, changed,
          verified: badCells.length === 0, message: badCells.length ? 'fake: conflicts' : 'solved', badCells, ms: 150, done,
        };
        yield last;
      }
      if (cancelled) reject(new Error('cancelled')); else resolve(last);
    }
    const it = steps();
    return { [Symbol.asyncIterator]: () => it, cancel() { cancelled = true; }, result };
  }
}
