// Shared by the node --test suites: paths, the reference cases (converted weights), and the comparison rules of
// tests/cpp/test_reference.cpp.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { readSafetensors } from '../../web/safetensors.js';
import { relaxedSimdSupported } from '../../web/trm.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const VECTORS = path.join(ROOT, 'tests/vectors');
export const NATIVE_CLI = path.join(ROOT, 'build/native/trm');
export const CASES = fs.readdirSync(VECTORS).filter((c) => fs.statSync(path.join(VECTORS, c)).isDirectory()).sort();

export const SUDOKU = '..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3..';

// The worker web/trm.js starts, and tests/js/fault-worker.mjs, which runs it with faults a test can arm.
export const ENGINE_WORKER = pathToFileURL(path.join(ROOT, 'web/trm-worker.js')).href;
export const FAULT_WORKER = pathToFileURL(path.join(ROOT, 'tests/js/fault-worker.mjs')).href;

// Until restore(), every engine worker web/trm.js starts is tests/js/fault-worker.mjs around web/trm-worker.js (web/trm.js
// takes Worker from node:worker_threads when it starts one). arm(fault) arms a fault there in the worker started last.
export function faultWorkers() {
  const threads = createRequire(import.meta.url)('node:worker_threads');
  const Real = threads.Worker;
  let last = null;
  threads.Worker = class extends Real {
    constructor(code, options) {
      const engine = String(options?.workerData?.url).endsWith('/web/trm-worker.js');
      super(code, engine ? { ...options, workerData: { ...options.workerData, url: FAULT_WORKER, worker: ENGINE_WORKER } } : options);
      if (engine) last = this;
    }
  };
  syncBuiltinESMExports();
  return {
    arm(fault) {
      if (!last) throw new Error('faultWorkers: arm() before web/trm.js started a worker');
      last.postMessage({ fault });
    },
    restore() {
      threads.Worker = Real;
      syncBuiltinESMExports();
    },
  };
}

let tmp = null;
// The converted weight file of a reference case: ctest's (build/native/vectors), else converted here once.
export function caseWeights(name) {
  const built = path.join(ROOT, 'build/native/vectors', `${name}.safetensors`);
  if (fs.existsSync(built)) return built;
  tmp ??= fs.mkdtempSync(path.join(os.tmpdir(), 'trm-js-vectors-'));
  const out = path.join(tmp, `${name}.safetensors`);
  if (!fs.existsSync(out)) {
    execFileSync('/usr/bin/python3', [path.join(ROOT, 'scripts/convert_checkpoint.py'), path.join(VECTORS, name, 'step_0'),
      '--config', path.join(VECTORS, name, 'all_config.yaml'), '--out', out], { stdio: 'pipe' });
  }
  return out;
}

export function readFile(p) {
  const b = fs.readFileSync(p);
  return readSafetensors(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), p);
}

export function reference(name) {
  const ref = readFile(path.join(VECTORS, name, 'reference.safetensors'));
  let steps = 0;
  while (ref.tensors.has(`step${steps}.logits`)) steps += 1;
  return { ...ref, steps, get: (n) => ref.tensors.get(n).data };
}

// max |got - ref| / max |ref|
export function relativeError(got, ref) {
  if (got.length !== ref.length) throw new Error(`length ${got.length} != ${ref.length}`);
  let err = 0, scale = 0;
  for (let i = 0; i < ref.length; ++i) {
    err = Math.max(err, Math.abs(got[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return err / Math.max(scale, 1e-30);
}

// Positions whose argmax differs although the reference's top two logits are more than gap x scale apart.
export function argmaxMismatches(got, ref, V, gap = 1e-3) {
  let scale = 0;
  for (const x of ref) scale = Math.max(scale, Math.abs(x));
  let bad = 0;
  for (let p = 0; p < ref.length / V; ++p) {
    const r = ref.subarray(p * V, (p + 1) * V), g = got.subarray(p * V, (p + 1) * V);
    let rb = 0, gb = 0;
    for (let v = 1; v < V; ++v) { if (r[v] > r[rb]) rb = v; if (g[v] > g[gb]) gb = v; }
    let second = -Infinity;
    for (let v = 0; v < V; ++v) if (v !== rb) second = Math.max(second, r[v]);
    if (r[rb] - second > gap * scale && rb !== gb) bad += 1;
  }
  return bad;
}

// x rounded to the nearest float16 (ties to even; past 65504 to infinity), computed apart from web/webgpu/kernels.js's
// bit manipulation: the multiple of the float16 spacing at |x|'s binade (2^-24 below the normal range) nearest to x.
export function f16Round(x) {
  if (x === 0 || !Number.isFinite(x)) return x;
  let e = Math.floor(Math.log2(Math.abs(x)));
  if (2 ** e > Math.abs(x)) e -= 1;  // log2 rounded up just below a power of two
  else if (2 ** (e + 1) <= Math.abs(x)) e += 1;
  e = Math.max(e, -14);
  const q = 2 ** (e - 10), r = x / q, f = Math.floor(r);
  const n = r - f > 0.5 || (r - f === 0.5 && f % 2 !== 0) ? f + 1 : f;
  const y = n === 0 ? (x < 0 ? -0 : 0) : n * q;
  return Math.abs(y) > 65504 ? Math.sign(y) * Infinity : y;
}

export const nativeBuilt = () => fs.existsSync(NATIVE_CLI);

// The build TRM.load picks by default here: relaxed SIMD where this Node runs it (scripts/test.sh runs the suites
// with --experimental-wasm-relaxed-simd, which Node 20 needs), else plain SIMD.
export const RELAXED_SIMD = relaxedSimdSupported();
export const SIMD_BACKEND = RELAXED_SIMD ? 'wasm-relaxed-simd' : 'wasm-simd';
export const NO_RELAXED_SIMD = RELAXED_SIMD ? false
  : 'this Node does not run WASM relaxed SIMD (run node with --experimental-wasm-relaxed-simd, as scripts/test.sh does)';
