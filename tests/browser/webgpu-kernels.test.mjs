// Each WebGPU kernel (web/webgpu/kernels.js) alone, in headless Chromium on SwiftShader's WebGPU adapter, against a
// float64 JavaScript reference of the same math (TRM_SPEC.md; the C++ engine computes the same, in float32), on small
// and odd shapes: sizes that are not multiples of the tiles (64, 16, 32, 256), batches, offsets, one position.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { session, skipReason } from './harness.mjs';
import { f16Round } from '../js/helpers.mjs';

const skip = skipReason({ engine: false });

const env = session({ skip, browser: { webgpu: true }, blank: true });

// Deterministic inputs in [-1, 1).
function random(n, seed) {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

// Runs kernels[name](gpu, {...params, ...buffers made from inputs}) alone and reads back `out` (outLen floats), with
// the tiled kernels (workgroup memory: what GPUs run) or the direct ones (what software adapters run): see Gpu.
// Inputs named in `half` are stored as packed float16 (Gpu.storageF16), as LoadOptions.precision 'f16' stores weights.
let tiled = true;
async function run(name, params, inputs, out, outLen, half = []) {
  return env.page.evaluate(async ({ name, params, inputs, out, outLen, tiled, half }) => {
    const K = await import('/web/webgpu/kernels.js');
    if (!window.device) window.device = await (await navigator.gpu.requestAdapter()).requestDevice();
    const gpu = new K.Gpu(window.device, { tiled });
    const buffers = {};
    for (const [k, v] of Object.entries(inputs)) {
      buffers[k] = half.includes(k) ? gpu.storageF16(new Float32Array(v)) : gpu.storage(v.length, new Float32Array(v));
    }
    const d = K[name](gpu, { ...params, ...buffers });
    const got = await gpu.run([d], buffers[out], outLen);
    for (const b of Object.values(buffers)) b.destroy();
    return Array.from(got);
  }, { name, params, inputs, out, outLen, tiled, half });
}

function close(got, want, tol = 2e-5) {
  assert.equal(got.length, want.length);
  let err = 0, scale = 1e-30;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  assert.ok(err <= tol * scale, `max |error| ${err} > ${tol} x max |reference| ${scale}`);
}

for (const mode of ['tiled', 'direct'])
describe(`WebGPU kernels on SwiftShader, ${mode} variants`, { skip }, () => {
  before(() => { tiled = mode === 'tiled'; });

  test('the adapter is there, and is a fallback (software) adapter', async () => {
    const info = await env.page.evaluate(async () => {
      const a = await navigator.gpu?.requestAdapter();
      return a && { architecture: a.info.architecture, fallback: a.info.isFallbackAdapter };
    });
    assert.deepEqual(info, { architecture: 'swiftshader', fallback: true });
  });

  // y = x W^T, batched x and shared W, with offsets and row strides wider than the rows.
  for (const [M, N, K, B] of [[1, 1, 1, 1], [37, 45, 29, 3], [130, 70, 67, 1], [64, 64, 16, 2]]) {
    test(`linear: y = x W^T, M ${M}, N ${N}, K ${K}, batch ${B}`, async () => {
      const ldx = K + 3, xOff = 5, ldy = N + 2, yOff = 7;
      const x = random(xOff + B * M * ldx, 1), w = random(N * K, 2);
      const y = new Array(yOff + B * M * ldy).fill(0);
      const want = y.slice();
      for (let b = 0; b < B; b++)
        for (let m = 0; m < M; m++)
          for (let n = 0; n < N; n++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += x[xOff + b * M * ldx + m * ldx + k] * w[n * K + k];
            want[yOff + b * M * ldy + m * ldy + n] = s;
          }
      const got = await run('linear', { M, N, K, batch: B, xOff, ldx, yOff, ldy }, { x, w, y }, 'y', y.length);
      close(got, want);
    });
  }

  // C[b] = W h[b]: the token-mixing products (shared left operand, batched right operand, both row-major).
  test('matmul: C[b] = W h[b], M 51, N 19, K 97, batch 2', async () => {
    const M = 51, N = 19, K = 97, B = 2;
    const a = random(M * K, 3), bm = random(B * K * N, 4), c = new Array(B * M * N).fill(0);
    const want = c.slice();
    for (let b = 0; b < B; b++)
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += a[m * K + k] * bm[b * K * N + k * N + n];
          want[b * M * N + m * N + n] = s;
        }
    const got = await run('matmul', { M, N, K, batch: B, aRow: K, aCol: 1, bBatch: K * N, bRow: N, bCol: 1, cBatch: M * N },
      { a, b: bm, c }, 'c', c.length);
    close(got, want);
  });

  // Weights stored as float16 (precision 'f16'): the products read them as float32 and accumulate in float32, so the
  // result is the float64 product of the rounded weights up to float32 rounding. Odd element counts (the last u32
  // half used) and offsets that start in the middle of a u32.
  test('linear with float16 weights: M 37, N 45, K 29, batch 2, W at an odd offset', async () => {
    const M = 37, N = 45, K = 29, B = 2, wOff = 3;
    const x = random(B * M * K, 11), w = random(wOff + N * K, 12), y = new Array(B * M * N).fill(0);
    const wh = w.map(f16Round);
    const want = y.slice();
    let moved = 0;
    for (let b = 0; b < B; b++)
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          let s = 0, s32 = 0;
          for (let k = 0; k < K; k++) {
            s += x[(b * M + m) * K + k] * wh[wOff + n * K + k];
            s32 += x[(b * M + m) * K + k] * w[wOff + n * K + k];
          }
          want[(b * M + m) * N + n] = s;
          moved = Math.max(moved, Math.abs(s - s32));
        }
    const got = await run('linear', { M, N, K, batch: B, wOff, wHalf: true }, { x, w, y }, 'y', y.length, ['w']);
    close(got, want);
    assert.ok(moved > 1e-4, 'the rounding to float16 changes the products');  // else the test could not tell
  });

  test('matmul with a float16 left operand: C[b] = W h[b], M 51, N 19, K 97, batch 2', async () => {
    const M = 51, N = 19, K = 97, B = 2;
    const a = random(M * K, 13), bm = random(B * K * N, 14), c = new Array(B * M * N).fill(0);
    const ah = a.map(f16Round);
    const want = c.slice();
    for (let b = 0; b < B; b++)
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += ah[m * K + k] * bm[b * K * N + k * N + n];
          want[b * M * N + m * N + n] = s;
        }
    const got = await run('matmul', { M, N, K, batch: B, aRow: K, aCol: 1, aHalf: true, bBatch: K * N, bRow: N, bCol: 1, cBatch: M * N },
      { a, b: bm, c }, 'c', c.length, ['a']);
    close(got, want);
  });

  test('addInto: y += a, and y += (a + b)', async () => {
    const n = 1000, y = random(n, 5), a = random(n, 6), b = random(n, 7);
    close(await run('addInto', { n }, { y, a }, 'y', n), y.map((v, i) => v + a[i]), 1e-6);
    close(await run('addInto', { n }, { y, a, b }, 'y', n), y.map((v, i) => v + (a[i] + b[i])), 1e-6);
  });

  test('swiglu: rows 5, width 37', async () => {
    const rows = 5, W = 37, gu = random(rows * 2 * W, 8).map((v) => 4 * v), out = new Array(rows * W).fill(0);
    const want = out.map((_, i) => {
      const r = Math.floor(i / W), j = i % W, g = gu[r * 2 * W + j];
      return (g / (1 + Math.exp(-g))) * gu[r * 2 * W + W + j];
    });
    close(await run('swiglu', { rows, W }, { gu, out }, 'out', out.length), want);
  });

  for (const [rows, cols] of [[7, 300], [1, 5], [3, 512]]) {
    test(`addRmsRows: ${rows} rows of ${cols}`, async () => {
      const h = random(rows * cols, 9), t = random(rows * cols, 10), eps = 1e-5;
      const want = [];
      for (let r = 0; r < rows; r++) {
        const x = h.slice(r * cols, (r + 1) * cols).map((v, c) => v + t[r * cols + c]);
        const inv = 1 / Math.sqrt(x.reduce((s, v) => s + v * v, 0) / cols + eps);
        want.push(...x.map((v) => v * inv));
      }
      close(await run('addRmsRows', { rows, cols, eps }, { h, t }, 'h', h.length), want);
    });
  }

  test('addRmsCols: batch 2 of [13, 70], the norm over the 13 rows', async () => {
    const B = 2, rows = 13, cols = 70, eps = 1e-5, h = random(B * rows * cols, 11), t = random(B * rows * cols, 12);
    const want = h.map((v, i) => v + t[i]);
    for (let b = 0; b < B; b++)
      for (let c = 0; c < cols; c++) {
        let ss = 0;
        for (let r = 0; r < rows; r++) ss += want[b * rows * cols + r * cols + c] ** 2;
        const inv = 1 / Math.sqrt(ss / rows + eps);
        for (let r = 0; r < rows; r++) want[b * rows * cols + r * cols + c] *= inv;
      }
    close(await run('addRmsCols', { batch: B, rows, cols, eps }, { h, t }, 'h', h.length), want);
  });

  test('rope: 2 slots of 5 positions, 4 heads of 6, on q and k only', async () => {
    const S = 5, B = 2, D = 24, hd = 6, half = hd / 2, rows = B * S;
    const qkv = random(rows * 3 * D, 13), cos = [], sin = [];
    for (let s = 0; s < S; s++)
      for (let k = 0; k < hd; k++) {
        const a = s * 10000 ** (-(2 * (k % half)) / hd);
        cos.push(Math.cos(a));
        sin.push(Math.sin(a));
      }
    const want = qkv.slice();
    for (let r = 0; r < rows; r++)
      for (let part = 0; part < 2; part++)
        for (let h = 0; h < D / hd; h++)
          for (let j = 0; j < half; j++) {
            const at = r * 3 * D + part * D + h * hd + j, tab = (r % S) * hd;
            const a = qkv[at], b = qkv[at + half];
            want[at] = a * cos[tab + j] - b * sin[tab + j];
            want[at + half] = b * cos[tab + j + half] + a * sin[tab + j + half];
          }
    close(await run('rope', { rows, S, D, hd }, { qkv, cos, sin }, 'qkv', qkv.length), want, 1e-6);
  });

  for (const [B, S, D, heads] of [[2, 70, 24, 3], [1, 1, 8, 2], [1, 97, 64, 1], [3, 33, 24, 4]]) {
    test(`attention: batch ${B}, ${S} positions, ${heads} heads of ${D / heads}`, async () => {
      const hd = D / heads, qkv = random(B * S * 3 * D, 14).map((v) => 3 * v), out = new Array(B * S * D).fill(0);
      const want = out.slice();
      for (let b = 0; b < B; b++)
        for (let h = 0; h < heads; h++)
          for (let i = 0; i < S; i++) {
            const sc = [];
            for (let j = 0; j < S; j++) {
              let s = 0;
              for (let e = 0; e < hd; e++) s += qkv[(b * S + i) * 3 * D + h * hd + e] * qkv[(b * S + j) * 3 * D + D + h * hd + e];
              sc.push(s / Math.sqrt(hd));
            }
            const mx = Math.max(...sc), p = sc.map((s) => Math.exp(s - mx)), sum = p.reduce((a, v) => a + v, 0);
            for (let e = 0; e < hd; e++) {
              let o = 0;
              for (let j = 0; j < S; j++) o += p[j] * qkv[(b * S + j) * 3 * D + 2 * D + h * hd + e];
              want[(b * S + i) * D + h * hd + e] = o / sum;
            }
          }
      close(await run('attention', { batch: B, S, D, heads }, { qkv, out }, 'out', out.length), want);
    });
  }

  test('qHead: 3 slots, position 0 of each, with bias', async () => {
    const B = 3, S = 4, D = 37, zH = random(B * S * D, 15), w = random(2 * D, 16), bias = [0.25, -0.5], out = new Array(2 * B).fill(0);
    const want = out.map((_, i) => {
      const b = Math.floor(i / 2), j = i % 2;
      let s = bias[j];
      for (let k = 0; k < D; k++) s += zH[b * S * D + k] * w[j * D + k];
      return s;
    });
    close(await run('qHead', { batch: B, S, D }, { zH, w, bias, out }, 'out', out.length), want);
  });
});

// A whole supervision step (web/webgpu/network.js) with the tiled kernels against the direct ones, on a small model
// made here (GpuNetwork reads only configJson, prefixLen, weight, ropeCos and ropeSin of the engine's model): the
// direct path is checked against the WASM engine end to end (webgpu.test.mjs); this covers the tiled path as GPUs
// compose it, which SwiftShader runs too slowly for the reference cases. Also a batch run in chunks (maxChunk).
describe('a whole step: tiled kernels as the direct ones', { skip }, () => {
  for (const mlpT of [false, true]) {
    test(mlpT ? 'token-mixing MLP' : 'attention, RoPE, puzzle prefix', async () => {
      const r = await env.page.evaluate(async (mlpT) => {
        const { Gpu } = await import('/web/webgpu/kernels.js');
        const { GpuNetwork } = await import('/web/webgpu/network.js');
        const cfg = { seq_len: 10, vocab_size: 6, hidden_size: 32, num_heads: 4, expansion: 2, L_layers: 2, H_cycles: 2,
          L_cycles: 2, halt_max_steps: 2, mlp_t: mlpT, pos_encodings: mlpT ? 'none' : 'rope', puzzle_emb_ndim: mlpT ? 0 : 32,
          puzzle_emb_len: mlpT ? 0 : 1, num_puzzle_identifiers: 2, rms_norm_eps: 1e-5, rope_theta: 10000 };
        const D = 32, V = 6, P = mlpT ? 0 : 1, S = 10 + P, I = 256, hd = 8;
        let seed = 5;
        const rand = (n, scale) => Float32Array.from({ length: n }, () => {
          seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
          return ((seed / 2 ** 32) * 2 - 1) * scale;
        });
        const w = { 'lm_head.weight': rand(V * D, 0.3), 'q_head.weight': rand(2 * D, 0.3), 'q_head.bias': rand(2, 0.5),
          H_init: rand(D, 1), L_init: rand(D, 1) };
        for (let i = 0; i < 2; i++) {
          const p = `L_level.layers.${i}.`;
          if (mlpT) Object.assign(w, { [`${p}mlp_t.gate_up_proj.weight`]: rand(2 * I * S, 0.5), [`${p}mlp_t.down_proj.weight`]: rand(S * I, 0.1) });
          else Object.assign(w, { [`${p}self_attn.qkv_proj.weight`]: rand(3 * D * D, 0.3), [`${p}self_attn.o_proj.weight`]: rand(D * D, 0.3) });
          Object.assign(w, { [`${p}mlp.gate_up_proj.weight`]: rand(2 * I * D, 0.3), [`${p}mlp.down_proj.weight`]: rand(D * I, 0.1) });
        }
        const cos = new Float32Array(S * hd), sin = new Float32Array(S * hd);
        for (let s = 0; s < S; s++)
          for (let k = 0; k < hd; k++) {
            const a = s * 10000 ** (-(2 * (k % (hd / 2))) / hd);
            cos[s * hd + k] = Math.cos(a);
            sin[s * hd + k] = Math.sin(a);
          }
        const model = { configJson: () => JSON.stringify(cfg), prefixLen: () => P, weight: (n) => w[n] ?? null,
          ropeCos: () => cos, ropeSin: () => sin };
        const device = await (await navigator.gpu.requestAdapter()).requestDevice();
        const request = () => [0, 1].map((slot) => ({ slot, x: rand(S * D, 4), resetCarry: true }));
        const out = {};
        for (const [name, tiled, chunk] of [['tiled', true, 0], ['direct', false, 0], ['chunked', false, 1]]) {
          seed = 9;
          const net = new GpuNetwork(new Gpu(device, { tiled }), model);
          if (chunk) net.maxChunk = chunk;  // slots one at a time through the working buffers
          const first = await net.step(request());
          const second = await net.step([{ slot: 1, x: null, resetCarry: false }]);  // slot 1's carry goes on
          out[name] = [first, second].map((o) => ({
            slots: Array.from(o.slots), logits: Array.from(o.logits), q: [...o.qHalt, ...o.qContinue] }));
          if (name === 'direct') {  // a failure WebGPU reports through its error scopes is thrown, not handed back
            net.w.lm.destroy();
            out.failure = await net.step([{ slot: 0, x: null, resetCarry: false }]).then(() => 'no error', (e) => e.message);
          }
          net.destroy();
        }
        return out;
      }, mlpT);
      assert.deepEqual(r.tiled.map((s) => s.slots), [[0, 1], [1]]);
      r.tiled.forEach((s, k) => {
        close(s.logits, r.direct[k].logits, 1e-4);
        close(s.q, r.direct[k].q, 1e-4);
      });
      assert.deepEqual(r.chunked, r.direct, 'a batch run in chunks of one slot');
      assert.match(r.failure, /^webgpu: the step failed \(.*destroyed/i);
      assert.ok(r.tiled[1].logits.some((v, i) => Math.abs(v - r.tiled[0].logits[60 + i]) > 1e-3), 'the second step moved on');
    });
  }
});
