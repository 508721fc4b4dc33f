// Official TRM checkpoints in the browser: torch.save's step_N and the run's all_config.yaml, read from the user's
// File with Blob.slice (never whole: a 2 GB ARC checkpoint costs the network and the kept puzzle-embedding rows),
// parsed by the C++ reader (src/checkpoint_loader.h) in the single-thread WASM build, and returned as the project's
// trm/1 weight file, which TRM.load(bytes) takes and the page can offer to save.
//
//   const { bytes, notes } = await convertCheckpoint(file, { config: yamlFile, identifiers, keepPuzzles, dtype: 'f16' });
//   const trm = await TRM.load(bytes);
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
    // Imported when first used: a page that never reads a checkpoint never fetches the glue.
    const { default: createModule } = await import('../build/wasm/trm-wasm.mjs');
    return createModule(opts);
  })();
  return engine;
}

// The most of a checkpoint read (the network and the kept puzzle-embedding rows): the WASM engine's memory is 2 GiB,
// and the weights are held again as the weight file it returns.
const MAX_READ_BYTES = 2 ** 30;

// A File, Blob or string, as text ('' when not given); an array of lines (task ids) as one a line.
async function text(x) {
  if (x == null) return '';
  if (Array.isArray(x)) return x.join('\n');
  return typeof x === 'string' ? x : x.text();
}
const nameOf = (x, fallback) => (x && typeof x.name === 'string' && x.name ? x.name : fallback);

// Whether a Blob is a torch.save file: a zip, or the legacy pickle's magic number (src/checkpoint_loader.cpp
// torch_file), which the reader then refuses by name.
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
export async function isTorchFile(blob) {
  const b = new Uint8Array(await blob.slice(0, LEGACY_MAGIC.length).arrayBuffer());
  return (b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4) || LEGACY_MAGIC.every((x, i) => b[i] === x);
}

// Files chosen or dropped together, told apart by name: {weights} (*.safetensors), {checkpoint, config, dataset,
// identifiers} (the checkpoint is the one file that is none of the others: step_N, *.pt), {others} (other .json).
// Throws when two files claim one role.
export function sortFiles(files) {
  const set = { others: [] };
  const put = (role, f) => {
    if (set[role]) throw new Error(`${set[role].name} and ${f.name}: two files for the ${role}; expected one`);
    set[role] = f;
  };
  for (const f of files) {
    const n = f.name.toLowerCase();
    if (n.endsWith('.safetensors')) put('weights', f);
    else if (n.endsWith('.yaml') || n.endsWith('.yml')) put('config', f);
    else if (n.endsWith('.json') && n.includes('identifiers')) put('identifiers', f);
    else if (n.endsWith('.json') && n.includes('dataset')) put('dataset', f);
    else if (n.endsWith('.json')) set.others.push(f);
    else put('checkpoint', f);
  }
  return set;
}

/**
 * @param {Blob} checkpoint  torch.save file (a File, or a Blob with options.name)
 * @param {{config: Blob|string, dataset?: Blob|string, identifiers?: Blob|string, keepPuzzles?: Blob|string|string[],
 *          dtype?: ''|'f32'|'f16'|'bf16'|'int8', name?: string,
 *          onProgress?: (p: {loaded: number, total: number}) => void}} options  dtype '' keeps the stored precision;
 *   strings are texts; keepPuzzles: task ids (ARC), one a line; onProgress: bytes of the checkpoint read so far, of
 *   those asked for so far (the reader asks in a few rounds, so total grows)
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
  if (o.keepPuzzles != null && !inputs.keep.split('\n').some((l) => l.trim())) {
    throw new Error(`${inputs.keepLabel}: no task ids; expected one per line`);  // as src/checkpoint_loader.cpp
  }
  const size = checkpoint.size;
  const label = o.name ?? nameOf(checkpoint, 'checkpoint');
  const pieces = new M.CheckpointPieces(size, label);
  let loaded = 0, total = 0;
  const read = async (at, n) => {
    const len = Math.min(size - at, n);
    pieces.add(at, new Uint8Array(await checkpoint.slice(at, at + len).arrayBuffer()));
    loaded += len;
    o.onProgress?.({ loaded, total });
  };
  const readAll = async (ranges) => {
    total += ranges.reduce((t, [at, n]) => t + Math.min(size - at, n), 0);
    if (total > MAX_READ_BYTES) {  // refused before it is read: the engine's memory could not hold it
      throw new Error(`${label}: the model needs ${total} bytes of this checkpoint, more than the ${MAX_READ_BYTES} `
        + 'the engine can hold; an ARC checkpoint needs its identifiers.json and the task ids to keep (keepPuzzles), so '
        + 'that only their puzzle-embedding rows are read');
    }
    for (const [at, n] of ranges) await read(at, n);
  };
  try {
    // The two ends first: the magic number and data.pkl, the zip directory. Then what the reader asks for: the
    // local headers (16 KiB each, so that one also holds data.pkl), then every tensor range at once.
    const tail = Math.min(size, 1 << 20);
    await readAll(size > tail ? [[size - tail, tail], [0, Math.min(size - tail, 1 << 16)]] : [[0, size]]);
    for (let round = 0; round < 100; ++round) {
      const r = M.checkpointWeights(pieces, inputs);
      if (r.error) throw new Error(r.error);
      if (r.bytes) return { bytes: r.bytes, notes: r.notes };
      await readAll(r.need.map(([at, n]) => [at, Math.max(n, 1 << 14)]));
    }
    throw new Error(`${label}: still incomplete after 100 rounds of reads`);
  } finally {
    pieces.delete();
  }
}
