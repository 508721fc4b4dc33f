// trm.js: the Tiny Recursive Model in WebAssembly, as an ES module for browsers and Node 20.
//
//   import { TRM } from './trm.js';
//   const trm = await TRM.load('weights/sudoku.safetensors', { onProgress, threads: 'auto', cache: true });
//   const run = trm.solve(puzzle, { halt: 'early' });
//   for await (const step of run) show(step.prediction, step.confidence, step.changed);
//   // an ARC model: a task object (or its JSON text), run once per augmented copy the model knows, copies voting
//   for await (const step of arc.solve(task, { taskId: '00576224' })) show(step.attempts);  // top two, with votes
//   trm.dispose();
//   // an official PyTorch checkpoint with its run's all_config.yaml (Files, Blobs or URLs; web/checkpoint.js reads it)
//   const arc = await TRM.load({ checkpoint: stepFile, config: yamlFile, identifiers }, { keepPuzzles: ['00576224'] });
//
// Everything heavy runs in a Worker (web/trm-worker.js: a Web Worker in browsers, worker_threads in Node); this file
// only fetches the weights, picks the build (threads when the page is cross-origin isolated, relaxed SIMD where the
// engine runs it), turns the worker's messages into promises and async iterators, and replaces the worker with a
// fresh one holding the same model when the engine crashed or a cancel could not stop it in time. Types: web/trm.d.ts.
//
// Files: the worker loads the WASM builds from ../build/wasm/ (scripts/build.sh wasm), located with
// new URL(..., import.meta.url): serve the repository root (scripts/serve does), or let a bundler copy them (the
// package's "files" list them; tests/vite-app shows a Vite build). The threaded build needs COOP/COEP headers.

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string' && typeof window === 'undefined';
const nodeImport = (name) => import(/* @vite-ignore */ /* webpackIgnore: true */ name);
const CACHE_NAME = 'trm-weights-v1';

// --- the worker ----------------------------------------------------------------------------------------------------

// In Node, a worker_threads Worker given the Web Worker globals the worker script uses.
const NODE_BOOTSTRAP = `
  const { parentPort, workerData } = require('node:worker_threads');
  globalThis.self = globalThis;
  globalThis.postMessage = (msg, transfer) => parentPort.postMessage(msg, transfer);
  parentPort.on('message', (data) => globalThis.onmessage({ data }));
  import(workerData.url);`;

// Starts the worker and waits until it listens.
async function startWorker() {
  let worker;
  if (isNode) {
    const { Worker } = await nodeImport('node:worker_threads');
    const url = import.meta.url.replace(/[^/]*$/, 'trm-worker.js');
    const w = new Worker(NODE_BOOTSTRAP, { eval: true, workerData: { url } });
    w.unref();  // an idle engine does not keep Node alive; pending requests do (#request)
    worker = {
      post: (msg, transfer) => w.postMessage(msg, transfer),
      listen: (onMessage, onError) => {
        w.removeAllListeners();
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', (code) => onError(new Error(`trm: the worker exited (code ${code})`)));
      },
      terminate: () => w.terminate(),
      ref: (on) => (on ? w.ref() : w.unref()),
    };
  } else {
    const w = new Worker(new URL('./trm-worker.js', import.meta.url), { type: 'module' });
    worker = {
      post: (msg, transfer) => w.postMessage(msg, transfer),
      listen: (onMessage, onError) => {
        w.onmessage = (e) => onMessage(e.data);
        w.onerror = (e) => { e.preventDefault?.(); onError(new Error(e.message || 'trm: the worker failed')); };
      },
      terminate: () => w.terminate(),
      ref: () => {},
    };
  }
  worker.ref(true);
  try {
    await new Promise((resolve, reject) => worker.listen((msg) => msg?.ready && resolve(), reject));
  } catch (e) {
    worker.terminate();
    throw new Error(`trm: the worker failed to start (${e.message})`);
  }
  worker.ref(false);
  return worker;
}

// threads: 'auto' | number -> how many the engine should use; 1 selects the single-thread build. Threads need
// SharedArrayBuffer: in browsers only on cross-origin-isolated pages (COOP/COEP headers).
// The smallest module with an f32x4.relaxed_madd: an engine without relaxed SIMD (Chrome before 114, Node 20 without
// --experimental-wasm-relaxed-simd, others) refuses it. A page and its workers share the engine's features.
const RELAXED_SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0,
  10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11]);
export const relaxedSimdSupported = () => WebAssembly.validate(RELAXED_SIMD_PROBE);

// relaxedSimd: 'auto' | boolean -> whether to run the relaxed-SIMD build (fused multiply-add).
function chooseRelaxedSimd(requested = 'auto') {
  if (requested === 'auto') return relaxedSimdSupported();
  if (typeof requested !== 'boolean') {
    throw new Error(`TRM.load: option relaxedSimd = ${JSON.stringify(requested)}; expected 'auto', true or false`);
  }
  if (requested && !relaxedSimdSupported()) {
    throw new Error('TRM.load: option relaxedSimd = true, but this JavaScript engine does not run WebAssembly relaxed '
      + "SIMD (Chrome 114+, Node 22+, or Node 20 with --experimental-wasm-relaxed-simd); use 'auto' or false");
  }
  return requested;
}

// backend: 'auto' | 'webgpu' | 'wasm' -> which engine runs the network; decided in the worker (web/webgpu/backend.js).
function chooseBackend(requested = 'auto') {
  if (!['auto', 'webgpu', 'wasm'].includes(requested)) {
    throw new Error(`TRM.load: option backend = ${JSON.stringify(requested)}; expected 'auto', 'webgpu' or 'wasm'`);
  }
  return requested;
}

// precision: 'f32' | 'f16' | 'auto' -> what the network's weights are stored in on WebGPU (web/webgpu/backend.js).
function choosePrecision(requested = 'f32') {
  if (!['f32', 'f16', 'auto'].includes(requested)) {
    throw new Error(`TRM.load: option precision = ${JSON.stringify(requested)}; expected 'f32', 'f16' or 'auto'`);
  }
  return requested;
}

// The most threads an engine runs: the same bound as both CLIs' --threads. Each thread is a Worker with its own stack
// and JavaScript heap, so a larger count costs memory long before it gains speed.
export const MAX_THREADS = 256;

// SharedArrayBuffer, which threads and the in-step cancel flag need: Node, and in browsers only cross-origin-isolated
// pages (COOP/COEP headers); elsewhere browsers do not define it.
const sharedMemory = () => typeof SharedArrayBuffer === 'function' && (isNode || globalThis.crossOriginIsolated === true);

async function chooseThreads(requested = 'auto') {
  if (requested !== 'auto' && !(Number.isInteger(requested) && requested >= 1 && requested <= MAX_THREADS)) {
    throw new Error(`TRM.load: option threads = ${JSON.stringify(requested)}; expected 'auto' or an integer in [1, ${MAX_THREADS}]`);
  }
  if (!sharedMemory()) return 1;
  if (requested !== 'auto') return requested;
  const cores = isNode ? (await nodeImport('node:os')).availableParallelism() : globalThis.navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(cores, 8));
}

// How long a cancelled solve may keep the worker busy before the worker is replaced (TRM #cancel). With the shared
// flag the engine stops within one network call, milliseconds for real models: this only catches a network call that
// is longer (a hostile configuration under the compute budget). Without it the engine would finish its step: 0.
const CANCEL_TIMEOUT_SHARED_MS = 1000;

// cancelTimeout: 'auto' | ms -> ms, undefined for 'auto' (decided by the flag, in the TRM constructor).
function chooseCancelTimeout(requested = 'auto') {
  if (requested === 'auto') return undefined;
  if (typeof requested !== 'number' || !(requested >= 0)) {
    throw new Error(`TRM.load: option cancelTimeout = ${JSON.stringify(requested)}; expected 'auto' or milliseconds >= 0 (Infinity: never replace the worker)`);
  }
  return requested;
}

// --- weights -------------------------------------------------------------------------------------------------------

// The body as bytes, or with asBlob as a Blob gathered in parts of 64 MiB, which the browser may keep on disk (a
// checkpoint can be gigabytes).
async function readBody(response, onProgress, label, asBlob = false) {
  // Content-Length counts compressed bytes when the response is encoded: then the total is unknown.
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const total = encoded ? 0 : Number(response.headers.get('content-length')) || 0;
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onProgress?.({ loaded: bytes.length, total: total || bytes.length });
    return asBlob ? new Blob([bytes]) : bytes;
  }
  let chunks = [];
  const parts = [];
  let loaded = 0, held = 0;
  const reader = response.body.getReader();
  onProgress?.({ loaded, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    held += value.length;
    if (asBlob && held >= 2 ** 26) { parts.push(new Blob(chunks)); chunks = []; held = 0; }
    onProgress?.({ loaded, total });
  }
  if (total && loaded !== total) throw new Error(`${label}: download ended after ${loaded} of ${total} bytes`);
  if (asBlob) return new Blob([...parts, ...chunks]);
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.length; }
  return bytes;
}

// Files read whole in Node (weight files, a checkpoint's config): at most this size, refused with the native CLI's
// messages (kMaxFileBytes in src/safetensors.h). A checkpoint is read by offset and has no limit.
export const MAX_FILE_BYTES = 2 ** 30;

// Node: a path or file: URL that must be a regular file (a device such as /dev/zero never ends, a pipe may block).
async function localFile(location, label) {
  const fs = await nodeImport('node:fs/promises');
  let st;
  try { st = await fs.stat(location); } catch { throw new Error(`${label}: cannot open file`); }
  if (!st.isFile()) throw new Error(`${label}: not a regular file`);
  return { fs, size: st.size };
}

async function readLocalFile(location, label) {
  const { fs, size } = await localFile(location, label);
  if (size > MAX_FILE_BYTES) {
    throw new Error(`${label}: file is ${size} bytes; files read whole are limited to ${MAX_FILE_BYTES} bytes (1 GiB)`);
  }
  try {
    return new Uint8Array(await fs.readFile(location));
  } catch {
    throw new Error(`${label}: cannot open file`);  // as trm::read_file says it
  }
}

// Node: a string or URL that names a local file (a path, or a file: URL); null for other URLs.
function localLocation(source) {
  if (!isNode) return null;
  const url = source instanceof URL ? source : /^[a-z][a-z0-9+.-]*:/i.test(source) ? new URL(source) : null;
  return !url ? source : url.protocol === 'file:' ? url : null;
}

// source -> { bytes, label, fromCache }. URLs are fetched (browser: through the Cache API), files read (Node).
async function fetchWeights(source, { onProgress, cache = true } = {}) {
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const bytes = source instanceof ArrayBuffer
      ? new Uint8Array(source)
      : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    onProgress?.({ loaded: bytes.length, total: bytes.length });
    return { bytes: bytes.slice(), label: 'weights', fromCache: false };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const label = nameOf(source, 'weights');
    const { isTorchFile } = await import('./checkpoint.js');
    if (await isTorchFile(source)) throw new Error(`${label}: ${NEEDS_CONFIG}`);
    const bytes = new Uint8Array(await source.arrayBuffer());
    onProgress?.({ loaded: bytes.length, total: bytes.length });
    return { bytes, label, fromCache: false };
  }
  if (typeof source !== 'string' && !(source instanceof URL)) {
    throw new Error('TRM.load: source must be a URL (string or URL), an ArrayBuffer, a Uint8Array, a File or Blob, '
      + 'or a checkpoint set ({checkpoint, config, dataset?, identifiers?} or the Files together)');
  }
  const label = String(source);
  const local = localLocation(source);
  if (local) {  // Node's fetch() cannot read files
    const bytes = await readLocalFile(local, label);
    onProgress?.({ loaded: bytes.length, total: bytes.length });
    return { bytes, label, fromCache: false };
  }
  const url = new URL(source, globalThis.location?.href).href;
  let store = null;
  if (cache && typeof caches !== 'undefined') {
    try { store = await caches.open(CACHE_NAME); } catch { store = null; }  // not a secure context, or disabled
  }
  const hit = store ? await store.match(url).catch(() => undefined) : undefined;
  let response = hit;
  if (!response) {
    try {
      response = await fetch(url);
    } catch (e) {
      throw new Error(`${label}: download failed (${e.message})`);
    }
    if (!response.ok) throw new Error(`${label}: download failed (HTTP ${response.status} ${response.statusText})`);
  }
  const bytes = await readBody(response, onProgress, label);
  if (store && !hit) {
    const headers = { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) };
    await store.put(url, new Response(bytes, { headers })).catch(() => {});
  }
  return { bytes, label, fromCache: Boolean(hit) };
}

// --- official checkpoints (web/checkpoint.js) ----------------------------------------------------------------------

const NEEDS_CONFIG = "a PyTorch checkpoint needs its run's all_config.yaml: load {checkpoint, config} or choose both files together";
const nameOf = (x, fallback) => (x && typeof x.name === 'string' && x.name ? x.name : fallback);
const isFileList = (x) => typeof FileList !== 'undefined' && x instanceof FileList;

// {checkpoint, config, dataset?, identifiers?}, or Files chosen together (an array or a FileList, told apart by name).
function isCheckpointSet(source) {
  return Array.isArray(source) || isFileList(source)
    || (source !== null && typeof source === 'object' && !ArrayBuffer.isView(source) && 'checkpoint' in source);
}

// One file of a checkpoint set as a Blob: a File or Blob as it is; a URL downloaded (with progress); in Node a path
// or file: URL, opened for reading by offset (the checkpoint, `whole` false) or read whole (the others).
async function blobOf(x, role, { onProgress, whole = true } = {}) {
  if (x == null) return undefined;
  if (typeof Blob !== 'undefined' && x instanceof Blob) return x;
  if (typeof x !== 'string' && !(x instanceof URL)) throw new Error(`TRM.load: ${role} must be a File, a Blob or a URL`);
  const label = String(x);
  const local = localLocation(x);
  if (local && whole) return new File([await readLocalFile(local, label)], label);
  if (local) {
    await localFile(local, label);
    return (await nodeImport('node:fs')).openAsBlob(local);
  }
  const url = new URL(x, globalThis.location?.href).href;
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`${label}: download failed (${e.message})`);
  }
  if (!response.ok) throw new Error(`${label}: download failed (HTTP ${response.status} ${response.statusText})`);
  return new File([await readBody(response, whole ? undefined : onProgress, label, true)], label);
}

// A checkpoint set -> { bytes (a trm/1 weight file), label, fromCache, notes (what was assumed) }.
async function readCheckpoint(source, { onProgress, keepPuzzles } = {}) {
  const { convertCheckpoint, sortFiles } = await import('./checkpoint.js');
  const set = Array.isArray(source) || isFileList(source) ? sortFiles([...source]) : source;
  if (set.weights) {
    if (set.checkpoint) throw new Error(`${set.weights.name}, ${set.checkpoint.name}: a weight file and a checkpoint; expected one model`);
    return fetchWeights(set.weights, { onProgress });
  }
  if (set.others?.length) {
    throw new Error(`${set.others[0].name}: not a file of a checkpoint; expected all_config.yaml, dataset.json or identifiers.json`);
  }
  if (set.checkpoint == null) throw new Error('TRM.load: no checkpoint among the files; expected the checkpoint (step_N) with its all_config.yaml');
  const name = nameOf(set.checkpoint, typeof set.checkpoint === 'string' || set.checkpoint instanceof URL ? String(set.checkpoint) : 'checkpoint');
  if (set.config == null) throw new Error(`${name}: ${NEEDS_CONFIG}`);
  const checkpoint = await blobOf(set.checkpoint, 'checkpoint', { onProgress, whole: false });
  const config = await blobOf(set.config, 'config');
  const dataset = await blobOf(set.dataset, 'dataset');
  const identifiers = await blobOf(set.identifiers, 'identifiers');
  const { bytes, notes } = await convertCheckpoint(checkpoint, { name, config, dataset, identifiers, keepPuzzles, onProgress });
  return { bytes, label: name, fromCache: false, notes };
}

// --- a solve in progress: an async iterator of steps -----------------------------------------------------------------

// The engine's side of a Run, for TRM only (not methods, so not part of the API): a step the worker posted, the end of
// the solve (an error, or the steps done), whether cancel() was called.
let deliverStep, finishRun, runCancelled;

class Run {
  #queue = [];
  #wake = null;        // the pending next()
  #ended = false;      // no more steps for the iterator
  #error = null;
  #cancelled = false;
  #last = null;
  #sendCancel;
  #settle;
  stepsComputed = 0;   // steps the engine ran, counting one that finished after cancel()

  constructor(sendCancel) {
    this.#sendCancel = sendCancel;
    this.result = new Promise((resolve, reject) => { this.#settle = { resolve, reject }; });
    this.result.catch(() => {});  // a caller who only iterates hears of errors through next()
  }

  // Stops the solve: the iterator ends now; the engine stops within one network call (TRM #cancel: the shared flag, or
  // a fresh worker in place of a busy one); `result` resolves with the last step delivered (null if none) once the
  // engine has stopped.
  cancel() {
    if (this.#ended) return;
    this.#cancelled = true;
    this.#sendCancel();
    this.#end();
  }

  static {
    deliverStep = (run, step) => run.#step(step);
    finishRun = (run, error, stepsDone) => run.#finish(error, stepsDone);
    runCancelled = (run) => run.#cancelled;
  }

  #step(step) {
    this.stepsComputed = step.step;
    if (this.#ended) return;
    this.#last = step;
    this.#queue.push(step);
    this.#flush();
  }

  #finish(error, stepsDone) {
    if (stepsDone !== undefined) this.stepsComputed = stepsDone;
    if (error && !this.#cancelled) {
      this.#error = error;
      this.#end();
      this.#settle.reject(error);
    } else {
      this.#end();
      this.#settle.resolve(this.#last);
    }
  }

  #end() {
    this.#ended = true;
    this.#flush();
  }

  #flush() {
    const w = this.#wake;
    if (!w) return;
    if (this.#queue.length) w.resolve({ value: this.#queue.shift(), done: false });
    else if (this.#error) w.reject(this.#error);
    else if (this.#ended) w.resolve({ value: undefined, done: true });
    else return;
    this.#wake = null;
  }

  next() {
    return new Promise((resolve, reject) => {
      this.#wake = { resolve, reject };
      this.#flush();
    });
  }

  return() {  // `break` out of for-await
    this.cancel();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator]() { return this; }
}

// --- the engine ----------------------------------------------------------------------------------------------------

export class TRM {
  #worker;
  #nextId = 1;
  #pending = new Map();  // id -> { resolve, reject, msg, run? }, in the order the worker runs them
  #dead = null;          // the error that ended the engine
  #restarting = null;    // a promise while the worker is being replaced (a crash, or a cancel it did not heed)
  #threads = 1;
  #relaxedSimd = false;
  #model = null;         // { bytes, label } of the model in place: a replaced worker loads it again
  #cancelTimeout;        // ms a cancelled solve may keep the worker busy before the worker is replaced (undefined: auto)
  #backend = 'auto';     // LoadOptions.backend: what runs the network (decided in the worker)
  #precision = 'f32';    // LoadOptions.precision: the weights' storage on WebGPU (decided in the worker)
  info = null;

  // A cancel reaches the worker between steps as a message and, where there is shared memory (Node, cross-origin
  // isolated pages), within the step too: the engine reads #cancelFlag before each block (network call).
  #cancelFlag = sharedMemory() ? new Int32Array(new SharedArrayBuffer(4)) : null;

  constructor(worker, threads, relaxedSimd, cancelTimeout, backend = 'auto', precision = 'f32') {
    this.#worker = worker;
    this.#precision = precision;
    this.#threads = threads;
    this.#relaxedSimd = relaxedSimd;
    this.#backend = backend;
    this.#cancelTimeout = cancelTimeout;
    worker.listen((msg) => this.#receive(msg), (err) => this.#fail(err));
  }

  // Starts a worker and loads a weight file into it. See web/trm.d.ts for the options.
  static async load(source, options = {}) {
    const threads = await chooseThreads(options.threads);
    const relaxedSimd = chooseRelaxedSimd(options.relaxedSimd);
    const cancelTimeout = chooseCancelTimeout(options.cancelTimeout);
    const backend = chooseBackend(options.backend);
    const precision = choosePrecision(options.precision);
    const trm = new TRM(await startWorker(), threads, relaxedSimd, cancelTimeout, backend, precision);
    try {
      await trm.loadModel(source, options);
    } catch (e) {
      trm.dispose();
      throw e;
    }
    return trm;
  }

  // Replaces the model with another weight file; on failure the current model stays. The bytes are kept (not handed
  // to the worker) so that a replaced worker can load the same model again.
  async loadModel(source, options = {}) {
    const { bytes, label, fromCache, notes = [] } = isCheckpointSet(source)
      ? await readCheckpoint(source, options) : await fetchWeights(source, options);
    const model = { bytes, label: options.label ?? label };
    const info = await this.#request(this.#loadMessage(model));
    this.#model = model;
    this.info = { ...info, url: typeof source === 'string' || source instanceof URL ? String(source) : null, fromCache, notes };
    return this.info;
  }

  #loadMessage({ bytes, label }) {
    return { type: 'load', bytes: bytes.buffer, label, threads: this.#threads, relaxedSimd: this.#relaxedSimd, backend: this.#backend,
      precision: this.#precision };
  }

  solve(puzzle, options = {}) {
    let input = puzzle;
    const arcObject = puzzle !== null && typeof puzzle === 'object' && ('train' in puzzle || 'test' in puzzle);
    if (arcObject || (typeof puzzle === 'string' && (this.info?.task?.kind === 'arc' || options.taskId !== undefined))) {
      return this.#solveArc(arcObject ? JSON.stringify(puzzle) : puzzle, options);
    }
    if (typeof puzzle !== 'string') {
      if (!puzzle || typeof puzzle !== 'object' || !puzzle.tokens) {
        throw new TypeError('solve: puzzle must be a string, an ARC task or {tokens, puzzleId}');
      }
      input = { tokens: Int32Array.from(puzzle.tokens), puzzleId: puzzle.puzzleId ?? 0 };
    }
    const { strategy, copies, commit, roundSteps, maxCalls, backtracks, threshold, carry, seed } = options;
    return this.#run({ type: 'solve', input, halt: options.halt ?? 'early', maxSteps: options.maxSteps,
      logits: Boolean(options.logits), strategy, copies, commit, roundSteps, maxCalls, backtracks, threshold, carry, seed });
  }

  // An ARC task (its JSON text): the test input `options.test`, once per augmented copy the model has a
  // puzzle-embedding row for, the copies voting after each step.
  #solveArc(task, options) {
    const { taskId, test = 0, maxCopies = 0 } = options;
    if (typeof taskId !== 'string' || !taskId) {
      throw new TypeError("solve: an ARC task needs options.taskId, the task's id as the model's puzzle_identifiers name it");
    }
    return this.#run({ type: 'solveArc', task, label: options.label ?? taskId, taskId, test, maxCopies,
      halt: options.halt ?? 'early', maxSteps: options.maxSteps, certainty: Boolean(options.certainty) });
  }

  #run(msg) {
    const id = this.#nextId++;
    const run = new Run(() => this.#cancel(id));
    this.#request({ ...msg, cancelFlag: this.#cancelFlag }, id, run).then((v) => finishRun(run, null, v.stepsDone), (e) => finishRun(run, e));
    return run;
  }

  // Cancel within one network call. The worker hears of it between steps (a message) and inside a step through the
  // shared flag where there is one. Should the worker still be busy with the solve after #cancelTimeout ms (at once
  // without the flag: the step would run to its end; with it, only a network call longer than the timeout), the worker
  // is replaced by a fresh one with the same model: the solve ends as cancelled, the requests queued behind it go to
  // the new worker, and the object stays usable.
  #cancel(id) {
    if (this.#cancelFlag) Atomics.store(this.#cancelFlag, 0, id);
    this.#post({ type: 'cancel', target: id });
    // On WebGPU the worker awaits the GPU during a step, so it hears the cancel at once, shared flag or not.
    const timeout = this.#cancelTimeout
      ?? (this.#cancelFlag || this.info?.backend === 'webgpu' ? CANCEL_TIMEOUT_SHARED_MS : 0);
    if (timeout === Infinity) return;
    const check = () => { if (this.#busyWith(id)) this.#replaceWorker(null); };
    if (timeout <= 0) {
      check();
    } else {
      const timer = setTimeout(check, timeout);
      timer?.unref?.();  // Node: a pending request keeps the process alive, not this timer
    }
  }

  // Whether the worker is running request `id` now: the worker runs requests one at a time in the order they were
  // sent, so the oldest pending one is the one it runs.
  #busyWith(id) {
    return !this.#dead && !this.#restarting && this.#pending.keys().next().value === id;
  }

  // Runs `steps` supervision steps on a batch of raw inputs (tokens [B * seq_len], puzzleIds [B]) and returns every
  // step's outputs, as `trm predict` writes them.
  predict(tokens, puzzleIds, { steps, zH = false } = {}) {
    const t = Int32Array.from(tokens), p = Int32Array.from(puzzleIds);
    return this.#request({ type: 'predict', tokens: t, puzzleIds: p, steps: steps ?? this.info.config.halt_max_steps, zH });
  }

  // WASM memory: heapSize (bytes of linear memory) and heapUsed (bytes allocated by malloc).
  memory() { return this.#request({ type: 'memory' }); }

  // A new puzzle for this model's task, from the engine's generators (the ones that make the evaluation files):
  // sudoku { grade: 'singles' | 'harder', givens: [lo, hi] }, maze { path: [lo, hi] } (shortest-path cells, S and G
  // included). The same seed gives the same puzzle on every platform. Resolves to { question, answer }.
  generate({ seed = Math.floor(Math.random() * 2 ** 32), grade = 'singles', givens = [28, 36], path = [20, 40] } = {}) {
    const kind = this.info.task?.kind;
    if (kind !== 'sudoku' && kind !== 'maze') {
      return Promise.reject(new Error(`generate: this model's task is '${kind}'; puzzles are generated for sudoku and maze`));
    }
    const range = kind === 'sudoku' ? givens : path;
    const name = kind === 'sudoku' ? 'givens' : 'path';
    if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isInteger)) {
      return Promise.reject(new Error(`generate: option ${name} = ${JSON.stringify(range)}; expected [lo, hi], two integers`));
    }
    return this.#request({ type: 'generate', kind, seed, range, grade: kind === 'sudoku' ? grade : '' });
  }

  dispose() {
    if (this.#dead) return;
    this.#fail(new Error('trm: disposed'));
    this.#worker.terminate();
    this.#model = null;
  }

  #post(msg) {
    if (!this.#dead && !this.#restarting) this.#worker.post(msg);
  }

  // Messages are copied to the worker, not transferred: each pending request keeps its message, so that it can be sent
  // again to a worker that replaces this one.
  #request(msg, id = this.#nextId++, run = null) {
    if (this.#dead) return Promise.reject(this.#dead);
    if (this.#restarting) return this.#restarting.then(() => this.#request(msg, id, run));
    return new Promise((resolve, reject) => {
      const p = { resolve, reject, msg: { ...msg, id }, run };
      this.#pending.set(id, p);
      this.#worker.ref(true);
      this.#post(p.msg);
    });
  }

  #receive(msg) {
    if (msg.fatal) { this.#replaceWorker(new Error(msg.error)); return; }
    // The GPU failed during a run and the worker moved the network to WASM (web/trm-worker.js leaveGpu).
    if (msg.backendChanged) { if (this.info) this.info = { ...this.info, ...msg.backendChanged }; return; }
    const p = this.#pending.get(msg.id);
    if (!p) return;
    if (msg.step) { if (p.run) deliverStep(p.run, msg.step); return; }
    this.#pending.delete(msg.id);
    if (this.#pending.size === 0) this.#worker.ref(false);
    if (msg.error !== undefined) p.reject(new Error(msg.error));
    else p.resolve(msg.value);
  }

  // Terminates the worker and starts a fresh one with the same model, so the API stays usable. `error`: the engine
  // trapped, and every pending request fails with its message. null: a cancelled solve kept the worker busy; the
  // cancelled solves end as cancelled and the other pending requests run on the new worker, in their order. Until the
  // new worker has the model, new requests wait (#request), `info` stays that of the model, which does not change.
  #replaceWorker(error) {
    const old = this.#worker;
    old.listen(() => {}, () => {});
    old.terminate();
    const carried = [];
    for (const [id, p] of this.#pending) {
      if (error) p.reject(error);
      else if (p.run && runCancelled(p.run)) p.reject(new Error('trm: cancelled'));  // Run settles as cancelled
      else carried.push([id, p]);
    }
    this.#pending.clear();
    const restart = (async () => {
      let worker;
      try {
        worker = await startWorker();
      } catch (e) {
        this.#restarting = null;
        for (const [, p] of carried) p.reject(e);
        this.#fail(new Error(`trm: the worker could not be replaced (${e.message})`));
        return;
      }
      if (this.#dead) {  // disposed meanwhile
        worker.terminate();
        for (const [, p] of carried) p.reject(this.#dead);
        return;
      }
      this.#worker = worker;
      worker.listen((m) => this.#receive(m), (e) => this.#fail(e));
      this.#restarting = null;
      if (this.#model) {
        const model = this.#model;
        this.#request(this.#loadMessage(model)).then((info) => {
          if (this.#model === model && this.info) {
            const { url, fromCache, notes } = this.info;
            this.info = { ...info, url, fromCache, notes };
          }
        }, (e) => this.#fail(new Error(`trm: the worker was replaced but could not load the model again (${e.message})`)));
      }
      for (const [id, p] of carried) {
        if (p.run && runCancelled(p.run)) { p.reject(new Error('trm: cancelled')); continue; }  // cancelled while carried
        this.#pending.set(id, p);
        this.#worker.ref(true);
        this.#post(p.msg);
      }
    })();
    this.#restarting = restart;
  }

  #fail(err) {
    if (this.#dead) return;
    this.#dead = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#worker.ref(false);
  }
}

export default TRM;
