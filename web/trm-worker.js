// The engine's worker: loads a WASM build, holds the model, runs solves step by step and posts every step.
// A Web Worker in browsers, a worker_threads Worker in Node (with Web Worker globals). Thin glue: the engine, the task
// codecs and the validators are the C++ ones (bindings/trm_bindings.cpp). Requests, answered in order, with their `id`:
//   {type: 'load', bytes, label, threads, relaxedSimd, backend, precision}
//                                                  -> {id, value: info}; atomic (a failure keeps the current model)
//   {type: 'solve', input, halt, maxSteps, logits, strategy, copies, commit, roundSteps, maxCalls, backtracks,
//    threshold, carry, seed}
//                                                  -> {id, step} for every step, then {id, value: {stepsDone}}
//   {type: 'solveArc', task, label, taskId, test, maxCopies, halt, maxSteps, certainty}
//                                                  -> {id, step} for every step, then {id, value: {stepsDone, copies}}
//   {type: 'cancel', target}                       -> (no answer) the solve `target` stops before its next step; sooner,
//                                                     within one network call, through `cancelFlag` (Int32Array on a
//                                                     SharedArrayBuffer) sent with solve/solveArc and set to the id.
//                                                     Without the flag, or when a network call outlasts the page's
//                                                     cancelTimeout, web/trm.js terminates this worker instead.
//   {type: 'info'}                                 -> {id, value: info of the model in place, or null}
//   {type: 'predict', tokens, puzzleIds, steps, zH}-> {id, value: {steps: [{logits, qHalt, qContinue, zH?}]}}
//   {type: 'memory'}                               -> {id, value: {heapSize, heapUsed}}
// A failure answers {id, error: message}, the C++ message verbatim; a crash adds fatal: true (this worker is done).
// The worker says {ready: true} once listening, and {backendChanged: {backend, backendReason}} when the GPU failed
// during a run and the network moved to the WASM engine (see leaveGpu).
import { choosePrecision, selectBackend } from './webgpu/backend.js';
import { GpuNetwork } from './webgpu/network.js';

// The builds (scripts/build_wasm.sh). Written as new URL(literal, import.meta.url) so that bundlers ship them. Each
// has a relaxed-SIMD .wasm (fused multiply-add) that runs with the same glue. Only the build chosen is fetched.
const BUILDS = {
  single: {
    js: new URL('../build/wasm/trm-wasm.mjs', import.meta.url),
    wasm: new URL('../build/wasm/trm-wasm.wasm', import.meta.url),
    relaxedWasm: new URL('../build/wasm/trm-wasm-relaxed.wasm', import.meta.url),
  },
  threads: {
    js: new URL('../build/wasm/trm-wasm-threads.mjs', import.meta.url),
    wasm: new URL('../build/wasm/trm-wasm-threads.wasm', import.meta.url),
    relaxedWasm: new URL('../build/wasm/trm-wasm-threads-relaxed.wasm', import.meta.url),
    worker: new URL('../build/wasm/trm-wasm-threads.worker.js', import.meta.url),
  },
};

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';
const nodeImport = (name) => import(/* @vite-ignore */ /* webpackIgnore: true */ name);
// In Node, web/trm.js's bootstrap gives this worker the Web Worker globals (self, postMessage, onmessage).
const post = (msg, transfer) => self.postMessage(msg, transfer);

// Lets queued messages (a cancel) in between two steps.
const yieldToEvents = typeof setImmediate === 'function'
  ? () => new Promise((r) => setImmediate(r))
  : (() => {
      const ch = new MessageChannel();
      let wake = null;
      ch.port1.onmessage = () => wake();
      return () => new Promise((r) => { wake = r; ch.port2.postMessage(0); });
    })();

// --- engine ------------------------------------------------------------------------------------------------------
let M = null;        // the Emscripten module
let backend = null;  // 'wasm-simd' | 'wasm-relaxed-simd', with '-threads' for the pthreads build
let threads = 1;
let fallback = null; // why the threaded build was not used, when it was asked for
let files = [];      // the URLs of the build in use: a page keeps them for offline use (web/sw.js)
let model = null;    // Embind Model
let solver = null;   // one-slot Solver, reused by every solve (see oneSlotSolver)
const cancelled = new Set();
// The solve running now and the page's shared cancel flag (an Int32Array on a SharedArrayBuffer, where there is one):
// the page writes a run's id there when it cancels it, and the engine reads it before each block of a step
// (bindings: Module.trmInterrupted), so a cancel takes effect within one network call instead of after the step.
let running = 0;
let cancelFlag = null;
function interrupted() { return cancelFlag !== null && running !== 0 && Atomics.load(cancelFlag, 0) === running; }

// --- WebGPU (web/webgpu/) -----------------------------------------------------------------------------------------
// When chosen, the network's steps run on the GPU; the WASM engine still runs everything around them (embedding, the
// solve loop, strategies, decoding), asking for each step through stepRequest/beginStep and taking the answer back.
let gpuChoice = null; // {requested, gpu, adapter, reason}: decided once per worker (web/webgpu/backend.js)
let chosen = null;    // the choice the current model was loaded with
let precision = null; // {precision, reason} of the current model (web/webgpu/backend.js choosePrecision)
let gpuNet = null;    // GpuNetwork of the current model, when the backend is WebGPU
let gpuLost = null;   // resolves to an Error once the chosen device is lost (GPUDevice.lost)
let wakeOnCancel = null;  // set while a GPU step is awaited: a cancel ends the wait at once
async function chooseBackend(requested = 'auto') {
  if (gpuChoice?.requested === requested) return gpuChoice;
  if (requested === 'wasm' && !gpuChoice) return { requested, gpu: null, reason: "backend 'wasm' was asked for" };
  gpuChoice = { requested, ...(await selectBackend(M, requested, check)) };
  if (gpuChoice.gpu) {
    gpuLost = gpuChoice.gpu.device.lost.then((i) => new Error(`the WebGPU device was lost (${i.reason}: ${i.message || 'no message'})`));
  }
  return gpuChoice;
}
// One network step of `request` (bindings' stepRequest) on the GPU; null when the run `id` is cancelled meanwhile
// (the GPU finishes the step unseen: the run is dropped). Throws when the step fails or the device is lost meanwhile
// (a read-back may never settle on a lost device): the caller moves to WASM (leaveGpu).
async function gpuStep(id, request, options) {
  let wake;
  const cancelledMeanwhile = new Promise((r) => { wake = r; });
  wakeOnCancel = (target) => { if (target === id) wake(null); };
  const lost = gpuLost.then((e) => { throw e; });
  try {
    return await Promise.race([gpuNet.step(request, options), cancelledMeanwhile, lost]);
  } finally {
    wakeOnCancel = null;
  }
}

// The GPU failed during a run (`error`: its device lost, or a step's submission or read-back failed): the network
// moves to the WASM engine for good in this worker (a later load too; TRM.load anew to try WebGPU again), and the
// page hears of it (backendChanged, then trm.info). The run goes on from the carry the GPU holds when it can still be
// read and is that of the last step the run saw: each of the run's slots is handed to takeCarry(b, zH, zL) and this
// resolves to true. Otherwise (a lost device keeps its buffers) it resolves to false and the caller starts the run
// again on WASM, recomputing the `stepsSeen` steps already delivered without delivering them again.
async function leaveGpu(error, takeCarry, stepsSeen) {
  const net = gpuNet, device = net.gpu.device;
  gpuNet = null;
  const lost = await Promise.race([gpuLost, null]);
  let carried = false;
  if (!lost && error.carryIntact) {
    try {
      const { zH, zL } = await Promise.race([net.readCarry(), gpuLost.then((e) => { throw e; })]);
      for (let b = 0; b < zH.length; b++) check(takeCarry(b, zH[b], zL[b]));
      carried = true;
    } catch {
      carried = false;  // then the run starts again
    }
  }
  try {
    net.destroy();
    device.destroy();
  } catch { /* a lost device's objects are gone already */ }
  const cause = (lost ?? error).message;
  const run = carried ? 'the run in progress went on from its carry, read back from the GPU'
    : stepsSeen === 0 ? 'the run in progress ran its first step on WASM'
    : `the GPU's carry could not be read back, so the run in progress started again on WASM (its ${stepsSeen} step${stepsSeen === 1 ? '' : 's'} so far recomputed, not delivered again)`;
  const reason = `WebGPU failed during a run (${cause}); running on WASM since: ${run}`;
  gpuChoice = chosen = { requested: chosen.requested, gpu: null, adapter: chosen.adapter, reason };
  precision = { precision: 'f32', reason: 'the network runs on WASM, in float32' };
  post({ backendChanged: { backend, backendReason: reason, precision: precision.precision, precisionReason: precision.reason } });
  return carried;
}

// Embind results: null/false means failure, with the C++ message in lastError().
function check(x) {
  if (x === null || x === false || x === undefined) throw new Error(M.lastError());
  return x;
}

async function nodeFile(url) {
  const [{ readFile }, { fileURLToPath }, { createRequire }] =
    await Promise.all([nodeImport('node:fs/promises'), nodeImport('node:url'), nodeImport('node:module')]);
  // Emscripten's Node path uses CommonJS globals (TOOLCHAIN.md: EXPORT_ES6 __dirname).
  globalThis.require ??= createRequire(import.meta.url);
  globalThis.__dirname ??= fileURLToPath(new URL('.', url));
  return { bytes: await readFile(url), path: fileURLToPath(url) };
}

async function startSingle(relaxed) {
  const wasm = relaxed ? BUILDS.single.relaxedWasm : BUILDS.single.wasm;
  const opts = { locateFile: (p) => (p.endsWith('.wasm') ? wasm.href : p) };
  if (isNode) opts.wasmBinary = (await nodeFile(wasm)).bytes;  // Node's fetch() cannot read files
  // Imported here, by its URL as the threaded glue is (bundlers copy it as an asset; a worker bundle has no chunks to
  // split into), so that a page on the threaded build never fetches it.
  const { default: create } = await import(/* @vite-ignore */ BUILDS.single.js.href);
  const engine = await create(opts);
  files = [BUILDS.single.js.href, wasm.href];
  return engine;
}

async function startThreads(n, relaxed) {
  const b = BUILDS.threads;
  const wasm = relaxed ? b.relaxedWasm : b.wasm;
  const { default: create } = await import(/* @vite-ignore */ b.js.href);
  // A bundler may inline the small pthread worker script as a data: URL, from which a Worker cannot import the glue:
  // serve it from a blob: URL of this origin instead.
  let workerUrl = b.worker.href;
  if (b.worker.protocol === 'data:') {  // decoded here: a CSP may forbid fetch() of data: URLs
    const [head, body] = workerUrl.split(',');
    const bytes = head.endsWith(';base64') ? Uint8Array.from(atob(body), (c) => c.charCodeAt(0)) : decodeURIComponent(body);
    workerUrl = URL.createObjectURL(new Blob([bytes], { type: 'text/javascript' }));
  }
  const opts = {
    trmPoolSize: n - 1,             // PTHREAD_POOL_SIZE (bindings/wasm.cmake): the solver's threads besides this one
    mainScriptUrlOrBlob: b.js.href, // what the pthread workers import
    locateFile: (p) => (p.endsWith('.wasm') ? wasm.href : p.endsWith('.worker.js') ? workerUrl : p),
  };
  if (isNode) {
    opts.wasmBinary = (await nodeFile(wasm)).bytes;
    const worker = (await nodeFile(b.worker)).path;  // Node's Worker wants a path
    opts.locateFile = (p) => (p.endsWith('.worker.js') ? worker : p);
  }
  // The module waits for its pthread Workers; one that cannot start would leave it waiting for ever.
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('its pthread workers did not start within 60 s')), 60_000);
  });
  try {
    const engine = await Promise.race([create(opts), timeout]);
    files = [b.js.href, wasm.href, b.worker.href];
    return engine;
  } finally {
    clearTimeout(timer);
  }
}

// relaxed: the relaxed-SIMD build, chosen by web/trm.js where the engine runs it.
async function start(requested, relaxed) {
  if (M) return;
  const simd = relaxed ? 'wasm-relaxed-simd' : 'wasm-simd';
  if (requested > 1) {
    try {
      M = await startThreads(requested, relaxed);
      backend = `${simd}-threads`;
      threads = requested;
      return;
    } catch (e) {
      fallback = `threaded build unavailable (${e?.message ?? e}); using the single-thread build`;
    }
  }
  M = await startSingle(relaxed);
  backend = simd;
  threads = 1;
}

function startRun(id, flag) {
  if (flag instanceof Int32Array && flag.buffer instanceof SharedArrayBuffer) cancelFlag = flag;
  running = id;
  M.trmInterrupted = interrupted;
}

function info(m = model, s = oneSlotSolver(), choice = chosen, prec = precision) {
  const config = JSON.parse(m.configJson());
  const out = {
    config, task: JSON.parse(m.taskJson()), parameters: m.parameterCount(), storageDtype: m.storageDtype(),
    source: m.source(), backend: choice?.gpu ? 'webgpu' : backend, wasm: backend, threads: s.threads(), bestStrategy: m.bestStrategy(), files,
    positions: m.positions(), prefixLen: m.prefixLen(),
    configJson: m.configJson(), taskJson: m.taskJson(),  // as the native CLI prints them
  };
  if (fallback) out.fallback = fallback;
  if (choice) Object.assign(out, { backendReason: choice.reason, adapter: choice.adapter ?? null });
  if (prec) Object.assign(out, { precision: prec.precision, precisionReason: prec.reason });
  return out;
}

// At most one Solver lives at a time: each holds threads, and the threaded build's pthread pool (its Workers must
// exist before a blocking call needs them) is sized for one solver.
function dropSolver() {
  solver?.delete();
  solver = null;
}
function oneSlotSolver() {
  solver ??= check(M.makeSolver(model, 1, threads));
  return solver;
}

// The engine's bad_alloc names nothing; the user needs to know which file did not fit.
function outOfMemory(label, bytes, f) {
  try {
    return f();
  } catch (e) {
    if (e.message !== 'out of memory') throw e;
    throw new Error(`load: ${label}: out of memory: its weights (${(bytes.byteLength / 1e6).toFixed(1)} MB in the file) ` +
      "and the solver's activations did not fit in the memory this browser gives the engine");
  }
}

// Atomic: the new model, its solver and its info are all made before anything changes; if any of them fails, the
// current model stays in place with everything that describes it (the solver is only a cache, made again on use).
async function load({ bytes, label, threads: requested, relaxedSimd, backend: requestedBackend, precision: requestedPrecision = 'f32' }) {
  await start(requested, relaxedSimd);
  const choice = await chooseBackend(requestedBackend);
  choice.precisions ??= {};  // decided once per worker and request: 'f16' runs the check models again
  const prec = choice.precisions[requestedPrecision] ??= await choosePrecision(M, choice, requestedPrecision, check);
  const next = outOfMemory(label, bytes, () => check(M.loadModel(new Uint8Array(bytes), label)));
  let nextSolver = null, nextNet = null;
  try {
    dropSolver();  // one solver at a time (see above)
    nextSolver = outOfMemory(label, bytes, () => check(M.makeSolver(next, 1, threads)));
    if (choice.gpu) nextNet = new GpuNetwork(choice.gpu, next, { precision: prec.precision });
    const nextInfo = info(next, nextSolver, choice, prec);
    model?.delete();
    gpuNet?.destroy();
    model = next;
    solver = nextSolver;
    gpuNet = nextNet;
    chosen = choice;
    precision = prec;
    return nextInfo;
  } catch (e) {
    nextNet?.destroy();
    nextSolver?.delete();
    next.delete();
    throw e;
  }
}

// One puzzle through the engine's solve loop (bindings SolveRun over src/solve.h): halting, decoding, verification and
// the strategy are decided in C++; this posts each step and lets a cancel in between. The run's solver replaces the
// one-slot solver while it lives.
const SOLVE_OPTIONS = ['strategy', 'copies', 'commit', 'roundSteps', 'maxCalls', 'backtracks', 'threshold', 'carry', 'seed'];
async function solve(id, msg) {
  const { input, halt = 'early', maxSteps, logits = false } = msg;
  if (!model) throw new Error('solve: no model is loaded');
  if (halt !== 'early' && halt !== 'never') throw new Error(`solve: halt = '${halt}'; expected early or never`);
  if (maxSteps !== undefined && (!Number.isInteger(maxSteps) || maxSteps < 1)) {
    throw new Error(`solve: maxSteps = ${maxSteps}; expected an integer >= 1`);
  }
  const options = { earlyHalt: halt === 'early', threads };
  startRun(id, msg.cancelFlag);
  if (maxSteps !== undefined) options.maxSteps = maxSteps;
  for (const k of SOLVE_OPTIONS) if (msg[k] !== undefined) options[k] = msg[k];
  const raw = typeof input !== 'string';
  dropSolver();
  const make = () => check(M.makeSolveRun(model, raw ? input.tokens : input, raw ? input.puzzleId ?? 0 : 0, JSON.stringify(options)));
  let run = make();
  try {
    let k = 0;
    while (!run.done() && !cancelled.has(id)) {
      let step;
      if (gpuNet) {
        const request = check(run.beginStep());
        let out;
        try {
          out = await gpuStep(id, request);
        } catch (e) {
          if (await leaveGpu(e, (b, zH, zL) => run.takeCarry(b, zH, zL), k)) {
            step = check(run.finishStep(logits));  // the begun step, on WASM from the GPU's carry
          } else {
            run.delete();
            run = null;
            run = make();
            for (let j = 0; j < k; j++) check(run.step(false));
            step = check(run.step(logits));
          }
        }
        if (!step && !out) break;
        step ??= check(run.endStep(out.slots, out.logits, out.qHalt, out.qContinue, logits));
      } else {
        step = check(run.step(logits));
      }
      k = step.step;
      const transfer = [step.tokens.buffer];
      if (raw) transfer.push(step.prediction.buffer);
      if (logits) transfer.push(step.logits.buffer);
      post({ id, step }, transfer);
      await yieldToEvents();
    }
    cancelled.delete(id);
    return { stepsDone: k };
  } finally {
    run?.delete();
  }
}

// ARC: the test input of a task, once per augmented copy the model has a row for, the copies voting after each step
// (bindings ArcRun over src/arc_solver.h). The run's solver replaces the one-slot solver while it lives.
async function solveArc(id, { task, label = 'task', taskId, test = 0, maxCopies = 0, halt = 'early', maxSteps, certainty = false, cancelFlag: flag }) {
  if (!model) throw new Error('solve: no model is loaded');
  if (halt !== 'early' && halt !== 'never') throw new Error(`solve: halt = '${halt}'; expected early or never`);
  const max = maxSteps ?? JSON.parse(model.configJson()).halt_max_steps;
  if (!Number.isInteger(max) || max < 1) throw new Error(`solve: maxSteps = ${maxSteps}; expected an integer >= 1`);
  if (!Number.isInteger(test) || test < 0) throw new Error(`solve: test = ${test}; expected an integer >= 0`);
  if (!Number.isInteger(maxCopies) || maxCopies < 0) throw new Error(`solve: maxCopies = ${maxCopies}; expected 0 (all) or an integer >= 1`);
  startRun(id, flag);
  dropSolver();
  const make = () => check(M.makeArcRun(model, task, label, taskId, test, maxCopies, threads));
  let run = make();
  try {
    const copies = run.copies();
    let k = 0;
    while (k < max && run.active() && !cancelled.has(id)) {
      k += 1;
      const t0 = performance.now();
      if (gpuNet) {
        let out;
        try {
          out = await gpuStep(id, run.stepRequest());
        } catch (e) {
          if (!(await leaveGpu(e, (b, zH, zL) => run.takeCarry(b, zH, zL), k - 1))) {
            run.delete();
            run = null;
            run = make();
            for (let j = 1; j < k; j++) {  // the steps delivered, as the loop below ran them
              check(run.step());
              if (halt === 'early') run.haltConfident();
            }
          }
          out = undefined;
          check(run.step());
        }
        if (out === null) { k -= 1; break; }  // cancelled while the step ran: it does not count
        if (out) check(run.stepResult(out.slots, out.logits, out.qHalt, out.qContinue));
      } else {
        check(run.step());
      }
      const ms = performance.now() - t0;
      const active = run.active();  // the copies that ran this step
      const voted = run.attemptsJson(2, certainty);
      if (!voted) throw new Error(M.lastError());
      const { distinct, attempts } = JSON.parse(voted);
      if (halt === 'early') run.haltConfident();
      post({ id, step: { step: k, maxSteps: max, copies, active, distinct, attempts, ms, done: k === max || !run.active() } });
      await yieldToEvents();
    }
    cancelled.delete(id);
    return { stepsDone: k, copies };
  } finally {
    run?.delete();
  }
}

async function predict({ tokens, puzzleIds, steps, zH = false }) {
  if (!model) throw new Error('predict: no model is loaded');
  const cfg = JSON.parse(model.configJson());
  const B = puzzleIds.length, T = cfg.seq_len;
  if (tokens.length !== B * T) {
    throw new Error(`predict: ${tokens.length} tokens for ${B} puzzles; expected ${B} x seq_len ${T} = ${B * T}`);
  }
  dropSolver();
  const make = () => {
    const made = check(M.makeSolver(model, B, threads));
    try {
      for (let b = 0; b < B; ++b) check(made.setPuzzle(b, tokens.subarray(b * T, (b + 1) * T), puzzleIds[b]));
    } catch (e) {
      made.delete();
      throw e;
    }
    return made;
  };
  let s = make();
  try {
    const out = [];
    const SD = model.positions() * cfg.hidden_size;
    for (let k = 0; k < steps; ++k) {
      let gpuZH = null;  // zH [B, S, D] read back with the step's outputs on WebGPU (the carry lives there)
      if (gpuNet) {
        try {
          const o = await gpuStep(0, s.stepRequest(), { zH });
          check(s.stepResult(o.slots, o.logits, o.qHalt, o.qContinue));
          if (zH) {
            gpuZH = new Float32Array(B * SD);
            o.slots.forEach((b, i) => gpuZH.set(o.zH.subarray(i * SD, (i + 1) * SD), b * SD));
          }
        } catch (e) {
          if (!(await leaveGpu(e, (b, h, l) => s.takeCarry(b, h, l), k))) {
            s.delete();
            s = null;
            s = make();
            for (let j = 0; j < k; j++) check(s.step());
          }
          check(s.step());
        }
      } else {
        check(s.step());
      }
      const TV = T * cfg.vocab_size;
      const r = { logits: new Float32Array(B * TV), qHalt: new Float32Array(B), qContinue: new Float32Array(B) };
      if (zH) r.zH = gpuZH ?? new Float32Array(B * SD);
      for (let b = 0; b < B; ++b) {
        r.logits.set(s.logits(b), b * TV);
        r.qHalt[b] = s.qHalt(b);
        r.qContinue[b] = s.qContinue(b);
        if (zH && !gpuZH) r.zH.set(s.zH(b), b * SD);
      }
      out.push(r);
    }
    return { steps: out };
  } finally {
    s?.delete();
  }
}

// A puzzle from the engine's generators (src/generators.h), so the page draws by the evaluation files' rules.
function generate({ kind, seed, range, grade }) {
  return check(M.generatePuzzle(kind, seed, range[0], range[1], grade ?? ''));
}

function memory() {
  return M ? { heapSize: M.heapSize(), heapUsed: M.heapUsed() } : { heapSize: 0, heapUsed: 0 };
}

// --- dispatch: one request at a time, in order; cancel acts at once -------------------------------------------------
let chain = Promise.resolve();
self.onmessage = ({ data: msg }) => {
  if (msg.type === 'cancel') {
    cancelled.add(msg.target);
    wakeOnCancel?.(msg.target);
    return;
  }
  chain = chain.then(async () => {
    try {
      let value;
      if (msg.type === 'load') value = await load(msg);
      else if (msg.type === 'solve') value = await solve(msg.id, msg);
      else if (msg.type === 'solveArc') value = await solveArc(msg.id, msg);
      else if (msg.type === 'predict') value = await predict(msg);
      else if (msg.type === 'memory') value = memory();
      else if (msg.type === 'info') value = model ? info() : null;
      else if (msg.type === 'generate') value = generate(msg);
      else throw new Error(`trm-worker: unknown request '${msg.type}'`);
      running = 0;
      post({ id: msg.id, value });
    } catch (e) {
      cancelled.delete(msg.id);
      running = 0;
      // A trap (or an Emscripten abort) leaves the module's memory in an unknown state: web/trm.js starts a fresh
      // worker with the model's bytes (it keeps them). C++ exceptions arrive as plain Errors and are not fatal.
      // A stack overflow is a RangeError from inside the module: like a trap, it skipped every C++ destructor.
      if (e instanceof WebAssembly.RuntimeError || (e instanceof RangeError && /call stack/i.test(e.message))) {
        post({ id: msg.id, error: `trm: the engine crashed (${e.message}); it was restarted`, fatal: true });
        chain = new Promise(() => {});  // this worker takes no more requests
        return;
      }
      post({ id: msg.id, error: e?.message ?? String(e) });
    }
  });
};
post({ ready: true });
