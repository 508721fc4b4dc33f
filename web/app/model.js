// Models: which weight files the site ships (weights/index.json), which task a loaded model is for, and
// the model panel's description of it.
export const WEIGHTS_DIR = new URL('../../weights/', import.meta.url);

// The shipped models: [{ file, kind, title }] from weights/index.json; [] when there is none.
export async function shippedModels() {
  try {
    const res = await fetch(new URL('index.json', WEIGHTS_DIR));
    if (!res.ok) return [];
    const index = await res.json();
    return (Array.isArray(index.models) ? index.models : [])
      .filter(m => m && typeof m.file === 'string' && typeof m.kind === 'string' && !m.file.includes('/'));
  } catch {
    return [];
  }
}

// The page view a model serves: its declared task kind, or for a 'generic' model a guess from its shape.
export function modelKind(info) {
  const kind = info.task && info.task.kind;
  if (kind === 'sudoku' || kind === 'maze' || kind === 'arc') return kind;
  const c = info.config;
  if (c.seq_len === 81) return 'sudoku';
  if (c.seq_len === 900) return c.vocab_size === 6 ? 'maze' : 'arc';
  return 'generic';
}

function formatParams(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)} k` : String(n);
}

// The weight file's `source` metadata as an object ({} when it is absent or plain text).
function parseSource(source) {
  if (source && typeof source === 'object') return source;
  try {
    const s = JSON.parse(source);
    return s && typeof s === 'object' && !Array.isArray(s) ? s : {};
  } catch {
    return {};
  }
}

// The source metadata for the raw disclosure: indented JSON when it is JSON, else the text as stored.
export function rawSource(source) {
  if (!source) return 'not stated';
  if (typeof source !== 'string') return JSON.stringify(source, null, 1);
  try {
    return JSON.stringify(JSON.parse(source), null, 1);
  } catch {
    return source;
  }
}

// One decimal near the ends, so that 0.4% does not read 0% and 99.6% does not read 100%.
const pct = x => `${(x > 0 && x < 0.1) || (x > 0.99 && x < 1) ? (x * 100).toFixed(1) : Math.round(x * 100)}%`;
const SOLVED_NAMES = { singles: 'everyday singles-only sudokus', harder: 'harder everyday sudokus',
  '20-40': 'short mazes', '41-80': 'medium mazes', '81-109': 'long mazes', '110-147': 'Maze-Hard mazes' };

// What a shipped model solves alone of the puzzles `key` names (a `solved` key of weights/index.json), as a
// sentence; '' when the entry states no figure for it.
export function solvedSentence(entry, key) {
  const x = entry && entry.solved ? entry.solved[key] : undefined;
  return typeof x === 'number' ? `The shipped model solves ${pct(x)} of ${SOLVED_NAMES[key] || `${key} puzzles`} on its own.` : '';
}

// The best exact accuracy the model reaches alone, { x, of } (what it was measured on), from weights/index.json's
// `solved` (shipped models) or else the file's own `source.accuracy`; null when neither states one.
export function measuredAccuracy(info, entry) {
  const solved = entry && entry.solved ? Object.entries(entry.solved).filter(([, x]) => typeof x === 'number') : [];
  if (solved.length) {
    const [k, x] = solved.reduce((a, b) => (b[1] > a[1] ? b : a));
    return { x, of: SOLVED_NAMES[k] || `${k} puzzles` };
  }
  let best = null;
  for (const m of Object.values(parseSource(info.source).accuracy || {})) {
    for (const r of [m, m && m.early, m && m.never]) {
      if (r && typeof r.exact_accuracy === 'number' && (!best || r.exact_accuracy > best.x)) best = { x: r.exact_accuracy, of: 'the puzzles it was measured on' };
    }
  }
  return best;
}

// The model card in a few sentences, for a newcomer: what it is, how it was trained, what it solves.
// entry: the model's weights/index.json entry when it is the shipped one.
export function modelSummary(info, entry) {
  const c = info.config;
  const src = parseSource(info.source);
  const kind = info.task && info.task.kind ? info.task.kind : 'generic';
  const what = entry && entry.title ? entry.title : `${kind === 'arc' ? 'ARC' : kind[0].toUpperCase() + kind.slice(1)}, ${c.mlp_t ? 'token-mixing MLP' : 'attention'}`;
  const lines = [`${what}: ${formatParams(info.parameters)} parameters, up to ${c.halt_max_steps} steps of recursion.`];
  if (typeof src.steps === 'number') {
    const hours = typeof src.wall_time_s === 'number' ? ` in ${(src.wall_time_s / 3600).toFixed(1)} hours` : '';
    lines.push(`Trained for ${src.steps.toLocaleString('en')} optimiser steps${hours} (the paper's models train for days on GPUs).`);
  } else if (src.converted_from || src.checkpoint) {
    lines.push('Converted from a checkpoint of the reference training code.');
  }
  if (entry && entry.solved) {
    const parts = Object.entries(entry.solved).filter(([, x]) => typeof x === 'number')
      .map(([k, x]) => `${pct(x)} of ${SOLVED_NAMES[k] || k}`);
    if (parts.length) lines.push(`On its own it solves ${parts.join(', ')}.`);
  } else {
    const acc = measuredAccuracy(info, null);
    if (acc) lines.push(`On its own it solves ${pct(acc.x)} of ${acc.of}.`);
  }
  return lines;
}

// Said before a solve when the model is weak (below half of the puzzles solved alone); '' otherwise.
export function weakModelWarning(info, entry) {
  const acc = measuredAccuracy(info, entry);
  if (!acc || acc.x >= 0.5) return '';
  const best = info.bestStrategy && info.bestStrategy !== 'model'
    ? `the ${info.bestStrategy} strategy (the default here) does better.` : 'expect a wrong answer.';
  return `This model is still weak: on its own it solves ${pct(acc.x)} of ${acc.of}; ${best}`;
}

// The engine: the WASM build and its threads, or WebGPU (its adapter) with the WASM build around it.
function engineText(info) {
  const threads = info.threads > 1 ? `, ${info.threads} threads` : ', 1 thread';
  if (info.backend !== 'webgpu') {
    const lost = /^WebGPU failed during a run/.test(info.backendReason ?? '') ? ' (WebGPU failed during a run: moved to WASM)' : '';
    return `${info.backend}${threads}${lost}`;
  }
  const adapter = [info.adapter?.vendor, info.adapter?.architecture].filter(Boolean).join(' ');
  return `WebGPU${adapter ? ` (${adapter})` : ''} with ${info.wasm}${threads}`;
}

// Rows for the model panel: [label, text].
export function modelRows(name, info) {
  const c = info.config;
  const arch = `${c.mlp_t ? 'token-mixing MLP' : 'attention'}, ${c.L_layers} layers × ${c.hidden_size} wide, ` +
    `${c.H_cycles}×${c.L_cycles} recursion, up to ${c.halt_max_steps} steps`;
  return [
    ['File', name],
    ['Task', info.task && info.task.kind ? info.task.kind : 'generic'],
    ['Parameters', formatParams(info.parameters)],
    ['Network', arch],
    ['Stored as', String(info.storageDtype)],
    ['Engine', engineText(info)],
    ...(info.notes && info.notes.length ? [['Assumed', info.notes.join(' ')]] : []),
  ];
}
