// Which engine runs the network in web/trm-worker.js: WebGPU (web/webgpu/network.js) or the WASM engine, and why.
// `backend: 'auto'` takes WebGPU when navigator.gpu gives an adapter that is not a software fallback and the first step
// of two small built-in check models (attention with RoPE and a puzzle prefix; the token-mixing MLP) computed there
// agrees with the WASM engine's; 'webgpu' takes any adapter (a software one too: the tests run on SwiftShader) and
// still refuses one that fails the check; 'wasm' never looks. The WASM engine is always loaded: it embeds the inputs,
// runs the solve loop and the strategies, and is the fallback.
import { writeSafetensors } from '../safetensors.js';
import { GpuNetwork, openGpu } from './network.js';

export const BACKENDS = ['auto', 'webgpu', 'wasm'];
export const PRECISIONS = ['f32', 'f16', 'auto'];
// The check's bound: max |GPU - WASM| <= 1e-4 x max |WASM| over logits and q values, the bound the WASM builds meet
// against the reference code (tests/js/reference.test.mjs).
export const CHECK_TOLERANCE = 1e-4;
// With float16 weights (precision 'f16'): the bound the int8 path is held to (tests/js/int8.test.mjs).
export const F16_CHECK_TOLERANCE = 1e-2;

// --- the check models --------------------------------------------------------------------------------------------------
// A weight file made here (safetensors, F32, TRM_SPEC.md names) with seeded random weights scaled by 1/sqrt(fan-in).
function checkModel(mlpT) {
  const cfg = {
    seq_len: 10, vocab_size: 6, hidden_size: 32, num_heads: 4, expansion: 2, L_layers: 2, H_cycles: 2, L_cycles: 2,
    halt_max_steps: 2, mlp_t: mlpT, pos_encodings: mlpT ? 'none' : 'rope', puzzle_emb_ndim: mlpT ? 0 : 32,
    puzzle_emb_len: mlpT ? 0 : 1, num_puzzle_identifiers: mlpT ? 1 : 3, rms_norm_eps: 1e-5, rope_theta: 10000,
  };
  const D = 32, V = 6, S = cfg.seq_len + (mlpT ? 0 : 1), I = 256, It = 256;
  let seed = mlpT ? 7 : 3;
  const rand = () => {
    seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
    return (seed / 2 ** 32) * 2 - 1;
  };
  const t = (shape, scale = 1 / Math.sqrt(shape[shape.length - 1])) => ({
    dtype: 'F32', shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * scale * 1.7),
  });
  const w = [['embed_tokens.embedding_weight', t([V, D], 1)], ['lm_head.weight', t([V, D])], ['q_head.weight', t([2, D])],
    ['q_head.bias', t([2], 0.5)], ['H_init', t([D], 1)], ['L_init', t([D], 1)]];
  if (!mlpT) w.push(['puzzle_emb.weights', t([3, D], 1)]);
  for (let i = 0; i < cfg.L_layers; i++) {
    const p = `L_level.layers.${i}.`;
    if (mlpT) w.push([`${p}mlp_t.gate_up_proj.weight`, t([2 * It, S])], [`${p}mlp_t.down_proj.weight`, t([S, It])]);
    else w.push([`${p}self_attn.qkv_proj.weight`, t([3 * D, D])], [`${p}self_attn.o_proj.weight`, t([D, D])]);
    w.push([`${p}mlp.gate_up_proj.weight`, t([2 * I, D])], [`${p}mlp.down_proj.weight`, t([D, I])]);
  }
  const metadata = { format: 'trm/1', config: JSON.stringify(cfg), task: '{"kind":"generic"}', source: 'web/webgpu/backend.js check model' };
  return { bytes: writeSafetensors(w, metadata), cfg };
}

// max |got - want| / max |want|
export function relativeError(got, want) {
  let err = 0, scale = 1e-30;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return err / scale;
}

// The first step of each check model (a batch of two puzzles) on the GPU (in `precision`, GpuNetwork's) and on the
// WASM engine M; resolves to the largest relative error. check(x) turns an Embind failure into an Error.
export async function checkGpu(M, gpu, check, precision = 'f32') {
  let worst = 0;
  for (const mlpT of [false, true]) {
    const { bytes, cfg } = checkModel(mlpT);
    const model = check(M.loadModel(bytes, mlpT ? 'check model (token-mixing MLP)' : 'check model (attention)'));
    const solver = check(M.makeSolver(model, 2, 1));
    let net = null;
    try {
      for (let b = 0; b < 2; b++) {
        check(solver.setPuzzle(b, Int32Array.from({ length: cfg.seq_len }, (_, i) => (i * (b + 2) + b) % cfg.vocab_size),
          mlpT ? 0 : b + 1));
      }
      const request = solver.stepRequest();
      check(solver.step());
      net = new GpuNetwork(gpu, model, { precision });
      const got = await net.step(request);
      const TV = cfg.seq_len * cfg.vocab_size;
      for (let b = 0; b < 2; b++) {
        worst = Math.max(worst, relativeError(got.logits.subarray(b * TV, (b + 1) * TV), solver.logits(b)),
          relativeError([got.qHalt[b], got.qContinue[b]], [solver.qHalt(b), solver.qContinue(b)]));
      }
    } finally {
      net?.destroy();
      solver.delete();
      model.delete();
    }
  }
  return worst;
}

// Decides the backend once per worker: resolves to {gpu, adapter, reason} (gpu null for WASM). `requested`: one of
// BACKENDS. A WebGPU that cannot be used fails a 'webgpu' request (throws) and makes 'auto' fall back with the reason.
export async function selectBackend(M, requested, check) {
  if (!BACKENDS.includes(requested)) {
    throw new Error(`TRM.load: option backend = ${JSON.stringify(requested)}; expected 'auto', 'webgpu' or 'wasm'`);
  }
  if (requested === 'wasm') return { gpu: null, adapter: null, reason: "backend 'wasm' was asked for" };
  const opened = await openGpu({ allowFallback: requested === 'webgpu' });
  const refuse = (reason) => {
    if (requested === 'webgpu') throw new Error(`TRM.load: backend 'webgpu': ${reason}`);
    return { gpu: null, adapter: opened.adapter ?? null, reason: `${reason}; running on WASM` };
  };
  if (!opened.gpu) return refuse(opened.reason);
  const name = [opened.adapter.vendor, opened.adapter.architecture, opened.adapter.description].filter(Boolean).join(' ') || 'unnamed adapter';
  let err;
  try {
    err = await checkGpu(M, opened.gpu, check);
  } catch (e) {
    opened.gpu.device.destroy();
    return refuse(`WebGPU (${name}): the check step failed (${e?.message ?? e})`);
  }
  if (!(err <= CHECK_TOLERANCE)) {
    opened.gpu.device.destroy();
    return refuse(`WebGPU (${name}): the check step differs from the WASM engine's (relative error ${err.toExponential(2)} > ${CHECK_TOLERANCE})`);
  }
  const why = requested === 'webgpu' ? "backend 'webgpu' was asked for" : 'auto: a hardware adapter';
  return { gpu: opened.gpu, adapter: opened.adapter,
    reason: `${why}; ${name}${opened.adapter.fallback ? ' (software fallback)' : ''}; check step agrees with WASM (relative error ${err.toExponential(2)})` };
}

// Which precision the network runs in on the chosen backend (`choice`, from selectBackend): resolves to
// {precision: 'f32' | 'f16', reason}. `requested`: one of PRECISIONS. 'f32': float32 throughout. 'f16': the blocks'
// weights stored as float16 on WebGPU (GpuNetwork), on any adapter, if the check models' first step stays within
// F16_CHECK_TOLERANCE of the WASM engine (else it throws). 'auto': the same where the adapter offers shader-f16 (hardware
// built for half precision), else float32. The WASM engine always computes in float32: there every request gives 'f32'.
export async function choosePrecision(M, choice, requested, check) {
  if (!PRECISIONS.includes(requested)) {
    throw new Error(`TRM.load: option precision = ${JSON.stringify(requested)}; expected 'f32', 'f16' or 'auto'`);
  }
  if (!choice.gpu) return { precision: 'f32', reason: 'the network runs on WASM, in float32' };
  if (requested === 'f32') return { precision: 'f32', reason: "precision 'f32' was asked for" };
  if (requested === 'auto' && !choice.adapter?.shaderF16) {
    return { precision: 'f32', reason: "auto: the adapter does not offer shader-f16; float32" };
  }
  const err = await checkGpu(M, choice.gpu, check, 'f16');
  if (!(err <= F16_CHECK_TOLERANCE)) {
    const why = `the check step with float16 weights differs from the WASM engine's (relative error ${err.toExponential(2)} > ${F16_CHECK_TOLERANCE})`;
    if (requested === 'f16') throw new Error(`TRM.load: precision 'f16': ${why}`);
    return { precision: 'f32', reason: `auto: ${why}; float32` };
  }
  const why = requested === 'f16' ? "precision 'f16' was asked for" : 'auto: the adapter offers shader-f16';
  return { precision: 'f16', reason: `${why}; float16 weights, float32 math; check step within ${F16_CHECK_TOLERANCE} of WASM (relative error ${err.toExponential(2)})` };
}
