// Official TRM checkpoints in the browser: torch.save's step_N and the run's all_config.yaml, read from the user's
// File with Blob.slice (never whole: a 2 GB ARC checkpoint costs the network and the kept puzzle-embedding rows),
// parsed by the C++ reader (src/checkpoint_loader.h) in the single-thread WASM build, and returned as the project's
// trm/1 weight file, which TRM.load(bytes) takes and the page can offer to save.
//
//   const { bytes, notes } = await convertCheckpoint(file, { config: yamlFile, identifiers, keepPuzzles, dtype: 'f16' });
//   const trm = await TRM.load(bytes);
import createModule from '../build/wasm/trm-wasm.mjs';

const isNode = typeof process === 'object' && !!process.versions?.node;
let engine;

function loadEngine() {
  engine ??= (async () => {
    const wasm = new URL('../build/wasm/trm-wasm.wasm', import.meta.url);
    const opts = { locateFile: (p) => (p.endsWith('.wasm') ? wasm.href : p) };
    if (isNode) {  // Node's fetch() cannot read files; Emscripten's Node path uses CommonJS globals (TOOLCHAIN.md)
      const [{ readFile }, { fileURLToPath }, { createRequire }] = await Promise.all(
        ['node:fs/promises', 'node:url', 'node:module'].map((m) => import(/* @vite-ignore */ /* webpackIgnore: true */ m)));
      globalThis.require ??= createRequire(import.meta.url);
      globalThis.__dirname ??= fileURLToPath(new URL('.', wasm));
      opts.wasmBinary = await readFile(wasm);
    }
    return createModule(opts);
  })();
  return engine;
}

// A File, Blob or string, as text; '' when not given.
async function text(x) {
  if (x == null) return '';
  return typeof x === 'string' ? x : x.text();
}
const nameOf = (x, fallback) => (x && typeof x.name === 'string' && x.name ? x.name : fallback);

/**
 * @param {Blob} checkpoint  torch.save file (a File, or a Blob with options.name)
 * @param {{config: Blob|string, dataset?: Blob|string, identifiers?: Blob|string, keepPuzzles?: Blob|string,
 *          dtype?: ''|'f32'|'f16'|'bf16'|'int8', name?: string}} options  dtype '' keeps the stored precision
 * @returns {Promise<{bytes: Uint8Array, notes: string[]}>}  notes: what was assumed about the architecture
 */
export async function convertCheckpoint(checkpoint, options = {}) {
  const M = await loadEngine();
  const o = options;
  const inputs = {
    config: await text(o.config), configLabel: nameOf(o.config, 'all_config.yaml'),
    dataset: await text(o.dataset), datasetLabel: nameOf(o.dataset, 'dataset.json'),
    identifiers: await text(o.identifiers), identifiersLabel: nameOf(o.identifiers, 'identifiers.json'),
    keep: await text(o.keepPuzzles), keepLabel: nameOf(o.keepPuzzles, 'task list'),
    dtype: o.dtype ?? '',
  };
  if (!inputs.config) throw new Error(`${nameOf(checkpoint, o.name ?? 'checkpoint')}: a PyTorch checkpoint needs its run's all_config.yaml (options.config)`);
  const size = checkpoint.size;
  const pieces = new M.CheckpointPieces(size, o.name ?? nameOf(checkpoint, 'checkpoint'));
  const read = async (at, n) => {
    const len = Math.min(size - at, n);
    pieces.add(at, new Uint8Array(await checkpoint.slice(at, at + len).arrayBuffer()));
  };
  try {
    // The two ends first: the magic number and data.pkl, the zip directory. Then what the reader asks for: the
    // local headers (16 KiB each, so that one also holds data.pkl), then every tensor range at once.
    const tail = Math.min(size, 1 << 20);
    await read(size - tail, tail);
    if (size > tail) await read(0, Math.min(size - tail, 1 << 16));
    for (let round = 0; round < 100; ++round) {
      const r = M.checkpointWeights(pieces, inputs);
      if (r.error) throw new Error(r.error);
      if (r.bytes) return { bytes: r.bytes, notes: r.notes };
      for (const [at, n] of r.need) await read(at, Math.max(n, 1 << 14));
    }
    throw new Error(`${nameOf(checkpoint, 'checkpoint')}: still incomplete after 100 rounds of reads`);
  } finally {
    pieces.delete();
  }
}
