#!/usr/bin/env node
// One supervision step per backend, in the same page of headless Chromium: this engine on WebGPU and on WASM
// (single thread), and onnxruntime-web's WebGPU and WASM backends on the same model exported to ONNX
// (scripts/export_onnx.py). Paper-size models with random weights (scripts/make_random_weights.py, as scripts/bench.mjs
// makes them in build/bench/):
//   sudoku_mlp  token-MLP, hidden 512, 81 + 16 positions, H3 x L6   (~25.6 GFLOP a step)
//   maze_att    attention, hidden 512, 8 heads, 900 + 16 positions, H3 x L4   (~190 GFLOP a step)
//
//   node scripts/bench_webgpu.mjs [--models sudoku_mlp] [--steps 3] [--gpu] [--f16] [--skip-ort] [--skip-wasm]
//
// --f16 also times ours on WebGPU with float16 weights (TRM.load precision 'f16': ours_webgpu_f16).
//
// Without --gpu, Chromium runs WebGPU on SwiftShader (--use-webgpu-adapter=swiftshader: a CPU implementation of
// Vulkan, what a machine without a GPU has): its times show that the path works, not what a GPU does. With --gpu it
// asks for the machine's own adapter (--enable-unsafe-webgpu --enable-features=Vulkan --ignore-gpu-blocklist) and
// says which one it got. Each figure is ms per step: after one warm-up step, `steps` steps timed one at a time (ours:
// TRM.predict of one step, embedding and read-back included; onnxruntime-web: session.run of its one-step graph from
// the carry), the best and the mean. Prints one JSON line.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { createServer } from './serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BENCH = path.join(ROOT, 'build/bench');
const PY = '/usr/bin/python3';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function args(argv) {
  const o = { models: ['sudoku_mlp'], steps: 3, gpu: false, f16: false, ort: true, wasm: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--models') o.models = argv[++i].split(',');
    else if (a === '--steps') o.steps = Number(argv[++i]);
    else if (a === '--gpu') o.gpu = true;
    else if (a === '--f16') o.f16 = true;
    else if (a === '--skip-ort') o.ort = false;
    else if (a === '--skip-wasm') o.wasm = false;
    else throw new Error(`bench_webgpu: unknown argument ${a}`);
  }
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new Error('bench_webgpu: --steps wants an integer >= 1');
  return o;
}

// The weight file (and, for onnxruntime-web, the ONNX export) of a bench model, made when missing.
function files(name, ort) {
  const file = path.join(BENCH, `${name}.safetensors`), onnx = path.join(BENCH, `${name}.onnx`);
  if (!fs.existsSync(file)) execFileSync(PY, [path.join(ROOT, 'scripts/make_random_weights.py'), '--which', name], { stdio: 'inherit' });
  if (ort && !fs.existsSync(onnx)) execFileSync(PY, [path.join(ROOT, 'scripts/export_onnx.py'), file, '--out', onnx], { stdio: 'inherit' });
  const bytes = fs.readFileSync(file);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString());
  return { name, file, onnx: ort ? onnx : null, cfg: JSON.parse(header.__metadata__.config) };
}

// In the page: each backend's ms per step for one model.
async function measure({ model, onnx, steps, S, D, T, wasm, f16 }) {
  const { TRM } = await import('/web/trm.js');
  const stats = (ms) => ({ best: Math.min(...ms), mean: ms.reduce((a, b) => a + b, 0) / ms.length });
  const out = {};
  const tokens = new Int32Array(T).fill(1);
  const runs = [['webgpu', 'f32'], ...(f16 ? [['webgpu', 'f16']] : []), ...(wasm ? [['wasm', 'f32']] : [])];
  for (const [backend, precision] of runs) {
    const key = `ours_${backend}${precision === 'f16' ? '_f16' : ''}`;
    try {
      const trm = await TRM.load(model, { backend, precision, threads: 1 });
      out[key] = { engine: trm.info.backend, reason: trm.info.backendReason, precision: trm.info.precision };
      const ms = [];
      for (let k = 0; k <= steps; k++) {
        const t0 = performance.now();
        await trm.predict(tokens, [0], { steps: 1 });
        if (k) ms.push(performance.now() - t0);
      }
      Object.assign(out[key], stats(ms));
      trm.dispose();
    } catch (e) {
      out[key] = { error: String(e.message ?? e) };
    }
  }
  if (onnx) {
    const ort = await import('/node_modules/onnxruntime-web/dist/ort.webgpu.bundle.min.mjs');
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    const bytes = new Uint8Array(await (await fetch(onnx)).arrayBuffer());
    for (const ep of wasm ? ['webgpu', 'wasm'] : ['webgpu']) {
      try {
        const session = await ort.InferenceSession.create(bytes, { executionProviders: [ep], graphOptimizationLevel: 'all' });
        const n = S * D;
        let seed = 7;
        const rand = () => Float32Array.from({ length: n }, () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32 - 0.5; });
        let feeds = { z_H: new ort.Tensor('float32', rand(), [1, S, D]), z_L: new ort.Tensor('float32', rand(), [1, S, D]),
          x: new ort.Tensor('float32', rand(), [1, S, D]) };
        const ms = [];
        for (let k = 0; k <= steps; k++) {
          const t0 = performance.now();
          const r = await session.run(feeds);
          await r.logits.getData?.();
          if (k) ms.push(performance.now() - t0);
          feeds = { z_H: r.z_H_out, z_L: r.z_L_out, x: feeds.x };
        }
        out[`ort_${ep}`] = stats(ms);
        await session.release();
      } catch (e) {
        out[`ort_${ep}`] = { error: String(e.message ?? e) };
      }
    }
  }
  return out;
}

async function main() {
  const o = args(process.argv.slice(2));
  const models = o.models.map((m) => files(m, o.ort));
  const server = createServer(ROOT, { allow: ['build/bench/', 'node_modules/onnxruntime-web/dist/'], log: () => {} });
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  fs.mkdirSync(path.join(ROOT, 'test-output'), { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-bench-webgpu-'));
  const flags = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    '--enable-unsafe-webgpu', ...(o.gpu ? ['--enable-features=Vulkan', '--ignore-gpu-blocklist'] : ['--disable-gpu', '--use-webgpu-adapter=swiftshader'])];
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: flags, bypassCSP: true });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(0);
    // A page of this server (a secure origin) with nothing on it: the demo's manifest is as good as any.
    await page.goto(`${origin}/web/manifest.webmanifest`);
    const adapter = await page.evaluate(async () => {
      const a = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' });
      return a ? { vendor: a.info.vendor, architecture: a.info.architecture, description: a.info.description, fallback: a.info.isFallbackAdapter } : null;
    });
    const rows = [];
    for (const m of models) {
      const S = m.cfg.seq_len + m.cfg.puzzle_emb_len, D = m.cfg.hidden_size;
      const r = await page.evaluate(measure, { model: `/build/bench/${m.name}.safetensors`, onnx: m.onnx && `/build/bench/${m.name}.onnx`,
        steps: o.steps, S, D, T: m.cfg.seq_len, wasm: o.wasm, f16: o.f16 });
      const row = { model: m.name, ...r };
      if (r.ours_webgpu?.best && r.ort_webgpu?.best) row.webgpu_speedup_vs_ort = +(r.ort_webgpu.best / r.ours_webgpu.best).toFixed(2);
      if (r.ours_webgpu?.best && r.ours_wasm?.best) row.webgpu_speedup_vs_wasm = +(r.ours_wasm.best / r.ours_webgpu.best).toFixed(2);
      if (r.ours_webgpu?.best && r.ours_webgpu_f16?.best) row.f16_speedup_vs_f32 = +(r.ours_webgpu.best / r.ours_webgpu_f16.best).toFixed(2);
      rows.push(row);
    }
    const note = !adapter ? 'no WebGPU adapter'
      : adapter.fallback || adapter.architecture === 'swiftshader'
        ? 'SwiftShader (software WebGPU on the CPU): these figures show the path works, not what a GPU does'
        : 'hardware adapter';
    console.log(JSON.stringify({ adapter, note, steps: o.steps, load: os.loadavg()[0], rows }));
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
    server.close();
    server.closeAllConnections();
  }
}

main().catch((e) => {
  console.error(`bench_webgpu: ${e.message}`);
  process.exit(1);
});
