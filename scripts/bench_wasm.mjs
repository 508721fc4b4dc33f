#!/usr/bin/env node
// ms per supervision step on a paper-size sudoku model (TRM_SPEC.md: hidden 512, 8 heads, expansion 4, 2 layers,
// mlp_t, no positions, seq 81, puzzle prefix 16, H_cycles 3 x L_cycles 6: about 25 GFLOP a step), random weights:
// native (build/native/trm solve --json), WASM single-thread and WASM threads (web/trm.js in Node).
//   node scripts/bench_wasm.mjs [--steps N] [--threads T] [--keep W.safetensors]
// The first step of each run is a warm-up and is not counted.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { TRM } from '../web/trm.js';
import { writeSafetensors } from './trm.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NATIVE = path.join(ROOT, 'build/native/trm');
const PUZZLE = '..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3..';

const CONFIG = {
  seq_len: 81, vocab_size: 11, hidden_size: 512, num_heads: 8, expansion: 4, L_layers: 2, H_cycles: 3, L_cycles: 6,
  halt_max_steps: 16, mlp_t: true, pos_encodings: 'none', puzzle_emb_ndim: 512, puzzle_emb_len: 16,
  num_puzzle_identifiers: 1, rms_norm_eps: 1e-5, rope_theta: 10000,
};

const swigluWidth = (w) => Math.ceil(Math.round((CONFIG.expansion * w * 2) / 3) / 256) * 256;

// A valid trm/1 file for CONFIG with uniform random weights (xorshift32; no tiny values, so no denormals).
function randomModel() {
  const D = CONFIG.hidden_size, V = CONFIG.vocab_size, S = CONFIG.seq_len + CONFIG.puzzle_emb_len;
  const I = swigluWidth(D), It = swigluWidth(S);
  let seed = 12345;
  const rand = (shape, scale) => {
    const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
    for (let i = 0; i < a.length; ++i) {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      a[i] = ((seed >>> 0) / 4294967296 - 0.5) * 2 * scale;
    }
    return [shape, a];
  };
  const t = {
    'embed_tokens.embedding_weight': rand([V, D], 1), 'lm_head.weight': rand([V, D], 0.05), 'q_head.weight': rand([2, D], 0.05),
    'q_head.bias': rand([2], 0.1), H_init: rand([D], 1), L_init: rand([D], 1), 'puzzle_emb.weights': rand([1, D], 1),
  };
  for (let i = 0; i < CONFIG.L_layers; ++i) {
    const p = `L_level.layers.${i}.`;
    t[`${p}mlp_t.gate_up_proj.weight`] = rand([2 * It, S], 0.1);
    t[`${p}mlp_t.down_proj.weight`] = rand([S, It], 0.05);
    t[`${p}mlp.gate_up_proj.weight`] = rand([2 * I, D], 0.05);
    t[`${p}mlp.down_proj.weight`] = rand([D, I], 0.03);
  }
  const entries = Object.entries(t).map(([name, [shape, data]]) => [name, { dtype: 'F32', shape, data }]);
  return writeSafetensors(entries, {
    format: 'trm/1', config: JSON.stringify(CONFIG), task: '{"kind":"sudoku"}',
    source: 'random weights for timing (scripts/bench_wasm.mjs)',
  });
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

function native(file, steps, threads) {
  const out = execFileSync(NATIVE, ['solve', file, PUZZLE, '--json', '--halt', 'never', '--steps', String(steps), '--threads', String(threads)],
    { encoding: 'utf8' });
  return out.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.step).map((r) => r.ms);
}

async function wasm(bytes, steps, threads) {
  const trm = await TRM.load(bytes, { threads });
  try {
    const ms = [];
    for await (const s of trm.solve(PUZZLE, { halt: 'never', maxSteps: steps })) ms.push(s.ms);
    return { ms, backend: trm.info.backend, threads: trm.info.threads };
  } finally {
    trm.dispose();
  }
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
  const steps = Number(opt('--steps', 4));
  const cores = os.availableParallelism();
  const threads = Number(opt('--threads', cores));
  const file = opt('--keep', path.join(os.tmpdir(), `trm-bench-${process.pid}.safetensors`));
  const bytes = randomModel();
  fs.writeFileSync(file, bytes);
  console.log(`paper-size sudoku model (hidden 512, mlp_t, seq 81 + 16, H3 x L6), random weights; ${steps} steps, ` +
    `first one not counted; ${cores} hardware threads (${os.cpus()[0]?.model ?? 'unknown CPU'})`);
  const rows = [];
  const report = (name, ms) => {
    const per = mean(ms.slice(1));
    rows.push({ name, per });
    console.log(`${name.padEnd(30)} ${per.toFixed(1).padStart(9)} ms/step   ${((16 * per) / 1000).toFixed(2).padStart(7)} s per 16-step puzzle`);
  };
  try {
    if (fs.existsSync(NATIVE)) {
      report('native, 1 thread', native(file, steps, 1));
      if (threads > 1) report(`native, ${threads} threads`, native(file, steps, threads));
    } else console.log('native: build/native/trm is not built (scripts/build.sh native); skipped');
    const st = await wasm(bytes, steps, 1);
    report(`${st.backend}, ${st.threads} thread`, st.ms);
    if (threads > 1) {
      const mt = await wasm(bytes, steps, threads);
      report(`${mt.backend}, ${mt.threads} threads`, mt.ms);
    }
  } finally {
    if (!args.includes('--keep')) fs.rmSync(file, { force: true });
  }
  return rows;
}

await main();
