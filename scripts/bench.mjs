#!/usr/bin/env node
// This engine against onnxruntime-web, one supervision step at batch 1, random weights, paper-size models:
//   sudoku_mlp  token-MLP, hidden 512, seq 81 + 16 prefix, H_cycles 3 x L_cycles 6   (~25.6 GFLOP a step)
//   maze_att    attention, hidden 512, 8 heads, RoPE, 900 + 16 positions, H3 x L4    (~190 GFLOP a step)
// Ours: WASM single-thread and WASM threads (web/trm.js in Node), each as the relaxed-SIMD build (fused multiply-add,
// what Chrome 114+ and Node 22+ run) and the plain SIMD build (every other engine); the relaxed build with the weights
// stored as int8 (scripts/quantize.py; the integer kernels); native (build/native/trm solve --json). Under a Node
// without relaxed SIMD by default (Node 20), the script runs itself again with --experimental-wasm-relaxed-simd.
// onnxruntime-web (npm, WASM backend with SIMD) runs the same weights exported by scripts/export_onnx.py.
// Also the machine's WASM SIMD GEMM peak: the best kernel of build/wasm/tests/gemm_bench[_relaxed].cjs on a 512^3
// product, for each build.
//
//   node scripts/bench.mjs [--models sudoku_mlp,maze_att] [--threads 1,2] [--steps N] [--skip-ort] [--skip-native]
//                          [--skip-int8] [--skip-plain-simd]
//
// Weights (scripts/make_random_weights.py) and ONNX files (scripts/export_onnx.py) are made in build/bench/ when
// missing. The WASM runtimes of a model, at every thread count, are timed in turns, one step each per round (ours
// f32 at 1 thread, ours int8, onnxruntime-web, ..., then the same at 2 threads, again...), so that a busy spell of
// a shared machine slows all of them rather than one; native runs after them. onnxruntime-web reads its thread
// count once per module instance, so each thread count gets its own instance in a worker thread. Each figure is ms
// per supervision step over the rounds after the first (a warm-up): the best (used for the JSON and GFLOP/s: on a
// shared machine the least disturbed) and the mean; read them with the load average printed beside them. Each
// ratio (against onnxruntime-web, int8 against f32, N threads against the first thread count) is given best
// against best and as the median over the rounds of the two runtimes' ratio within a round ("_paired").
// Prints a table, then, last, one JSON line: the sudoku_mlp single-thread figures at the top level (model,
// threads, ours_wasm_ms_per_step, ...) and every measured row under "rows".
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

import { TRM, relaxedSimdSupported as hasRelaxedSimd } from '../web/trm.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BENCH = path.join(ROOT, 'build/bench');
const NATIVE = path.join(ROOT, 'build/native/trm');
const GEMM_BENCH = path.join(ROOT, 'build/wasm/tests/gemm_bench.cjs');
const GEMM_BENCH_RELAXED = path.join(ROOT, 'build/wasm/tests/gemm_bench_relaxed.cjs');
const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
const PY = '/usr/bin/python3';

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const MODELS = opt('--models', 'sudoku_mlp,maze_att').split(',');
const THREADS = opt('--threads', '1,2').split(',').map(Number);
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

// --- the models ---------------------------------------------------------------------------------------------
const swiglu = (e, w) => Math.ceil(Math.round((e * w * 2) / 3) / 256) * 256;

function modelInfo(name) {
  const file = path.join(BENCH, `${name}.safetensors`);
  const onnx = path.join(BENCH, `${name}.onnx`);
  if (!fs.existsSync(file)) execFileSync(PY, [path.join(ROOT, 'scripts/make_random_weights.py'), '--which', name], { stdio: 'inherit' });
  const header = JSON.parse(fs.readFileSync(file).subarray(8, 8 + Number(fs.readFileSync(file).readBigUInt64LE(0))).toString());
  const cfg = JSON.parse(header.__metadata__.config);
  const D = cfg.hidden_size, S = cfg.seq_len + cfg.puzzle_emb_len, I = swiglu(cfg.expansion, D), It = swiglu(cfg.expansion, S);
  // Multiply-adds x 2 of one Net call, then of a step (H_cycles x (L_cycles + 1) calls; lm_head is negligible).
  const perLayer = cfg.mlp_t
    ? 2 * (2 * It * S * D + S * It * D) + 2 * (S * 2 * I * D + S * I * D)
    : 2 * (S * 3 * D * D + 2 * S * S * D + S * D * D) + 2 * (S * 2 * I * D + S * I * D);
  const flopsPerStep = perLayer * cfg.L_layers * cfg.H_cycles * (cfg.L_cycles + 1);
  return { name, file, onnx, cfg, S, D, flopsPerStep };
}

// A puzzle for the model: tokens 1.. (sudoku: a real puzzle; maze: open cells, start, goal).
function puzzle(m) {
  if (m.cfg.seq_len === 81) return '..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3..';
  const cells = Array.from({ length: 900 }, (_, i) => ((i % 30) % 4 === 3 && Math.floor(i / 30) % 7 !== 0 ? '#' : ' '));
  cells[31] = 'S';
  cells[868] = 'G';
  return cells.join('');
}

// --- ours ---------------------------------------------------------------------------------------------------
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
// Steps after the first (a warm-up): the best (least disturbed on a shared machine) and the mean.
const summarise = (ms) => ({ ms: Math.min(...ms.slice(1)), mean: mean(ms.slice(1)) });

// The same weights as int8 (scripts/quantize.py): the engine runs those products on its integer kernels.
function int8File(m) {
  const file = m.file.replace(/\.safetensors$/, '.int8.safetensors');
  if (!fs.existsSync(file)) execFileSync(PY, [path.join(ROOT, 'scripts/quantize.py'), m.file, '--dtype', 'int8', '--out', file], { stdio: 'inherit' });
  return file;
}

// A runtime in the turns: step() times one supervision step (ms). Ours: a one-step solve each time (the first
// step of a solve costs what any step costs; the worker times the step itself, not the messages).
async function oursWasm(m, threads, file = m.file, relaxedSimd = 'auto') {
  const trm = await TRM.load(fs.readFileSync(file), { threads, relaxedSimd });
  return {
    backend: trm.info.backend,
    async step() {
      let ms = 0;
      for await (const s of trm.solve(puzzle(m), { halt: 'never', maxSteps: 1 })) ms = s.ms;
      return ms;
    },
    close: () => trm.dispose(),
  };
}

function oursNative(m, threads, steps) {
  const out = execFileSync(NATIVE, ['solve', m.file, puzzle(m), '--json', '--halt', 'never', '--steps', String(steps),
    '--threads', String(threads)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = out.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.step).map((r) => r.ms);
  return summarise(ms);
}

// --- onnxruntime-web --------------------------------------------------------------------------------------------
// In a worker thread of its own (a fresh module instance reads env.wasm.numThreads); it answers each message
// with the ms of one session.run, the carry going on from run to run as in a solve.
async function ortWorkerMain({ onnx, threads, S, D }) {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(fs.readFileSync(onnx), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const n = S * D;
  let seed = 7;
  const rand = () => { const a = new Float32Array(n); for (let i = 0; i < n; ++i) { seed = (seed * 1664525 + 1013904223) >>> 0; a[i] = seed / 2 ** 32 - 0.5; } return a; };
  const dims = [1, S, D];
  let feeds = { z_H: new ort.Tensor('float32', rand(), dims), z_L: new ort.Tensor('float32', rand(), dims), x: new ort.Tensor('float32', rand(), dims) };
  parentPort.on('message', async (msg) => {
    if (msg === 'close') { await session.release(); parentPort.close(); return; }
    const t0 = performance.now();
    const out = await session.run(feeds);
    const ms = performance.now() - t0;
    feeds = { z_H: out.z_H_out, z_L: out.z_L_out, x: feeds.x };
    parentPort.postMessage(ms);
  });
  parentPort.postMessage('ready');
}

async function ortWasm(m, threads) {
  if (!fs.existsSync(m.onnx)) {
    execFileSync(PY, [path.join(ROOT, 'scripts/export_onnx.py'), m.file, '--out', m.onnx], { stdio: 'inherit' });
  }
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { ort: { onnx: m.onnx, threads, S: m.S, D: m.D } } });
  const next = () => new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const ready = await next();
  if (ready !== 'ready') throw new Error(`onnxruntime-web worker: ${ready}`);
  return {
    async step() { const r = next(); worker.postMessage('step'); return r; },
    async close() { worker.postMessage('close'); await new Promise((resolve) => worker.once('exit', resolve)); },
  };
}

// --- GEMM peak ----------------------------------------------------------------------------------------------
function gemmPeak(file) {
  if (!fs.existsSync(file)) return null;
  const flags = process.execArgv.filter((a) => a === RELAXED_FLAG);
  const out = execFileSync(process.execPath, [...flags, file, '--shapes', 'peak', '--reps', '9'], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)).summary;
}

// --- main ---------------------------------------------------------------------------------------------------
async function main() {
  console.log(`${os.cpus().length} hardware threads (${os.cpus()[0]?.model ?? 'unknown CPU'}), load average ${load()}`);
  const relaxed = hasRelaxedSimd();
  if (!relaxed) console.log('this Node does not run WASM relaxed SIMD: only the plain SIMD build is timed');
  const plainPeak = gemmPeak(GEMM_BENCH);
  const relaxedPeak = relaxed ? gemmPeak(GEMM_BENCH_RELAXED) : null;
  const peak = relaxed ? relaxedPeak : plainPeak;  // of the build that 'auto' picks here
  for (const [name, p] of [['SIMD', plainPeak], ['relaxed-SIMD', relaxedPeak]]) {
    if (!p) continue;
    console.log(`WASM ${name} GEMM peak (512^3, best of 9): ${p.peak_gflops.toFixed(1)} GFLOP/s (${p.peak_kernel}); `
      + `core clock ~${p.clock_ghz_estimate} GHz (dependent-multiply estimate): ${p.peak_flops_per_cycle} flop/cycle; load ${load()}`);
  }
  if (!peak) console.log('WASM GEMM benchmark not built (scripts/build.sh wasm); peak skipped');
  const rows = [];
  for (const name of MODELS) {
    const m = modelInfo(name);
    const steps = Number(opt('--steps', m.flopsPerStep > 1e11 ? 2 : 4));
    if (!Number.isInteger(steps) || steps < 2) throw new Error(`bench: --steps ${opt('--steps')}: expected a whole number of at least 2 (the first round is a warm-up)`);
    console.log(`\n${name}: S ${m.S}, hidden ${m.D}, ${(m.flopsPerStep / 1e9).toFixed(1)} GFLOP a step; ${steps} steps, first not counted`);
    console.log(`${'runtime'.padEnd(34)} ${'threads'.padStart(7)} ${'best ms'.padStart(10)} ${'mean ms'.padStart(10)} ${'GFLOP/s'.padStart(8)}   load`);
    // Every WASM runtime of every thread count in turns, one step each per round; the first round is a warm-up.
    // Taking turns across thread counts too means the 2-thread figures and their 1-thread baseline see the same
    // spells of the shared machine's load.
    const runtimes = [];
    try {
      for (const threads of THREADS) {
        const add = (key, label, rt) => runtimes.push({ threads, key, label, rt });
        const w = await oursWasm(m, threads);
        add('ours_wasm_ms_per_step', `ours ${w.backend}`, w);
        if (relaxed && !args.includes('--skip-plain-simd')) {
          const p = await oursWasm(m, threads, m.file, false);
          add('ours_wasm_plain_simd_ms_per_step', `ours ${p.backend}`, p);
        }
        if (!args.includes('--skip-int8')) {
          const q = await oursWasm(m, threads, int8File(m));
          add('ours_wasm_int8_ms_per_step', `ours ${q.backend}, int8 weights`, q);
        }
        if (!args.includes('--skip-ort')) add('ort_wasm_ms_per_step', 'onnxruntime-web wasm (simd)', await ortWasm(m, threads));
      }
      for (const r of runtimes) r.ms = [];
      for (let round = 0; round < steps; ++round)
        for (const r of runtimes) r.ms.push(await r.rt.step());
    } finally {
      for (const r of runtimes) await r.rt.close();
    }
    const modelRows = [];
    for (const threads of THREADS) {
      const row = { model: name, threads, flops_per_step: m.flopsPerStep };
      const show = (label, r) => {
        console.log(`${label.padEnd(34)} ${String(threads).padStart(7)} ${r.ms.toFixed(1).padStart(10)} ${r.mean.toFixed(1).padStart(10)} ${(m.flopsPerStep / r.ms / 1e6).toFixed(1).padStart(8)}   ${load()}`);
      };
      const mine = runtimes.filter((r) => r.threads === threads);
      for (const r of mine) {
        const s = summarise(r.ms);
        show(r.label, s);
        row[r.key] = +s.ms.toFixed(2);
      }
      // Ratios of two runtimes: best against best, and the median of the ratios within each round (after the
      // warm-up), which a slow spell that spans a round's turns affects least.
      const times = (t, key) => runtimes.find((r) => r.threads === t && r.key === key)?.ms;
      const ratio = (num, den) => +(num / den).toFixed(2);
      const pairedMedian = (num, den) => {
        const rs = num.slice(1).map((x, i) => x / den[i + 1]).sort((a, b) => a - b);
        const h = rs.length >> 1;
        return +(rs.length % 2 ? rs[h] : (rs[h - 1] + rs[h]) / 2).toFixed(2);
      };
      const ours = times(threads, 'ours_wasm_ms_per_step');
      const int8 = times(threads, 'ours_wasm_int8_ms_per_step'), plain = times(threads, 'ours_wasm_plain_simd_ms_per_step');
      const ort = times(threads, 'ort_wasm_ms_per_step');
      if (int8) [row.int8_speedup, row.int8_speedup_paired] = [ratio(row.ours_wasm_ms_per_step, row.ours_wasm_int8_ms_per_step), pairedMedian(ours, int8)];
      if (ort) {
        [row.speedup_vs_ort, row.speedup_vs_ort_paired] = [ratio(row.ort_wasm_ms_per_step, row.ours_wasm_ms_per_step), pairedMedian(ort, ours)];
        if (plain) [row.plain_simd_speedup_vs_ort, row.plain_simd_speedup_vs_ort_paired] = [ratio(row.ort_wasm_ms_per_step, row.ours_wasm_plain_simd_ms_per_step), pairedMedian(ort, plain)];
      }
      if (threads !== THREADS[0]) {  // against the first thread count (1 in the default --threads 1,2)
        const base = modelRows[0];
        for (const key of ['ours_wasm_ms_per_step', 'ours_wasm_plain_simd_ms_per_step', 'ours_wasm_int8_ms_per_step', 'ort_wasm_ms_per_step']) {
          if (!row[key]) continue;
          const label = key.replace(/_ms_per_step$/, '');
          row[`${label}_thread_speedup`] = ratio(base[key], row[key]);
          row[`${label}_thread_speedup_paired`] = pairedMedian(times(THREADS[0], key), times(threads, key));
        }
      }
      if (!args.includes('--skip-native') && fs.existsSync(NATIVE)) {
        const n = oursNative(m, threads, steps);
        show('ours native', n);
        row.native_ms_per_step = +n.ms.toFixed(2);
      }
      row.ours_gflops = +(m.flopsPerStep / row.ours_wasm_ms_per_step / 1e6).toFixed(2);
      if (row.ours_wasm_plain_simd_ms_per_step) {
        row.plain_simd_gflops = +(m.flopsPerStep / row.ours_wasm_plain_simd_ms_per_step / 1e6).toFixed(2);
      }
      if (threads === 1) {  // the peaks are single-thread figures
        if (peak) row.fraction_of_peak = +(row.ours_gflops / peak.peak_gflops).toFixed(2);
        if (row.plain_simd_gflops && plainPeak) row.plain_simd_fraction_of_peak = +(row.plain_simd_gflops / plainPeak.peak_gflops).toFixed(2);
      }
      row.load = load();
      const shown = Object.entries(row).filter(([k]) => /speedup/.test(k)).map(([k, v]) => `${k} ${v}`);
      console.log(`  ratios (best/best, then the median per round): ${shown.join(', ')}`);
      modelRows.push(row);
    }
    rows.push(...modelRows);
  }
  const head = rows.find((r) => r.model === 'sudoku_mlp' && r.threads === 1) ?? rows[0];
  console.log(JSON.stringify({ ...head, relaxed_simd: relaxed, gemm_peak_gflops: peak?.peak_gflops ?? null,
    gemm_peak_kernel: peak?.peak_kernel ?? null, plain_simd_gemm_peak_gflops: plainPeak?.peak_gflops ?? null,
    clock_ghz_estimate: peak?.clock_ghz_estimate ?? null, rows }));
}

// Node 20 runs relaxed SIMD only behind a V8 flag, which NODE_OPTIONS does not take: run again with it.
function rerunWithRelaxedSimd() {
  if (hasRelaxedSimd() || process.execArgv.includes(RELAXED_FLAG)) return false;
  if (spawnSync(process.execPath, [RELAXED_FLAG, '-e', '0']).status !== 0) return false;  // a Node without the flag
  const r = spawnSync(process.execPath, [RELAXED_FLAG, ...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

if (isMainThread) rerunWithRelaxedSimd() || await main();
else await ortWorkerMain(workerData.ort);
