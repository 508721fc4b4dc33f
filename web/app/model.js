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

function describeSource(source) {
  if (!source) return 'not stated';
  if (typeof source !== 'string') source = JSON.stringify(source);
  try {
    const s = JSON.parse(source);
    if (s && typeof s === 'object') {
      return Object.entries(s).filter(([k]) => k !== 'sha256').map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('; ');
    }
  } catch { /* plain text */ }
  return source;
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
    ['Engine', `${info.backend}${info.threads > 1 ? `, ${info.threads} threads` : ', 1 thread'}`],
    ['Source', describeSource(info.source)],
    ...(info.notes && info.notes.length ? [['Assumed', info.notes.join(' ')]] : []),
  ];
}
