// The TRM network on WebGPU: one supervision step (TRM_SPEC.md "One supervision step") of a batch of puzzles as one
// command submission, for web/trm-worker.js. The C++ engine (WASM) still owns everything around the network: the
// input embeddings, the solve loop, halting, strategies, decoding and verification; it asks for a step through
// Solver::set_outputs' protocol (bindings: stepRequest / beginStep) and this answers it:
//   request: [{slot, x: Float32Array [S*D] | null, resetCarry}]   the slots to run, in order
//   answer:  {slots: Int32Array, logits: Float32Array [n, seq_len, V], qHalt, qContinue: Float32Array [n]}
//            (+ zH: Float32Array [n, S, D] when asked for: predict's latent-state output)
// The weights are uploaded once; each slot's carry (zH, zL) and input x stay on the GPU between steps; a step reads
// back only the logits and q_head outputs. Bind groups and uniforms are made once per chunk size (slots run
// together), the working buffers once for the largest chunk, and every step reuses them.
import { addInto, addRmsCols, addRmsRows, attention, Gpu, linear, matmul, qHead, rope, swiglu } from './kernels.js';

// Why WebGPU cannot be used here, or null: navigator.gpu, an adapter, and (unless allowFallback) not a software one.
// Resolves to {gpu, adapter: {vendor, architecture, description, fallback}} or {reason}.
export async function openGpu({ allowFallback = false } = {}) {
  const gpuApi = globalThis.navigator?.gpu;
  if (!gpuApi) return { reason: 'WebGPU is not available here (no navigator.gpu)' };
  let adapter;
  try {
    adapter = await gpuApi.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { reason: `WebGPU: requestAdapter failed (${e?.message ?? e})` };
  }
  if (!adapter) return { reason: 'WebGPU: no adapter (the browser offers none on this machine)' };
  const i = adapter.info ?? {};
  const info = { vendor: i.vendor ?? '', architecture: i.architecture ?? '', description: i.description ?? '',
    fallback: !!(i.isFallbackAdapter ?? adapter.isFallbackAdapter) };
  if (info.fallback && !allowFallback) {
    return { reason: `WebGPU: the adapter is a software fallback (${info.vendor} ${info.architecture}), slower than WASM`, adapter: info };
  }
  const want = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize'];
  const requiredLimits = {};
  for (const k of want) if (adapter.limits[k]) requiredLimits[k] = adapter.limits[k];
  // shader-f16: what LoadOptions.precision 'auto' looks for (web/webgpu/backend.js choosePrecision).
  info.shaderF16 = adapter.features.has('shader-f16');
  try {
    const device = await adapter.requestDevice({ requiredLimits });
    return { gpu: new Gpu(device, { tiled: !info.fallback }), adapter: info };  // kernels.js: Gpu's `tiled`
  } catch (e) {
    return { reason: `WebGPU: requestDevice failed (${e?.message ?? e})`, adapter: info };
  }
}

// Sizes of a model (the engine's configJson; the SwiGLU widths from the weights, as the engine sized them).
function sizes(cfg, model) {
  const P = model.prefixLen(), S = cfg.seq_len + P, D = cfg.hidden_size;
  const width = (name, rows) => model.weight(`L_level.layers.0.${name}.down_proj.weight`).length / rows;
  return { S, D, T: cfg.seq_len, V: cfg.vocab_size, P, H: cfg.num_heads, hd: D / cfg.num_heads,
    I: width('mlp', D), It: cfg.mlp_t ? width('mlp_t', S) : 0 };
}

export const PRECISIONS = ['f32', 'f16'];

export class GpuNetwork {
  // gpu: a Gpu (kernels.js); model: the engine's Embind Model (weights as loaded, float32: Model::weight).
  // precision 'f16': the weights of the blocks' products (qkv, o, both SwiGLUs, the token-mixing MLP) stored as float16
  // (kernels.js packF16), read as float32 by the matmuls; lm_head, q_head, the carry and every activation stay float32.
  constructor(gpu, model, { precision = 'f32' } = {}) {
    if (!PRECISIONS.includes(precision)) throw new Error(`webgpu: precision '${precision}'; expected 'f32' or 'f16'`);
    this.gpu = gpu;
    this.half = precision === 'f16';
    this.cfg = JSON.parse(model.configJson());
    this.z = sizes(this.cfg, model);
    const { S, D } = this.z;
    const upload = (name, half = false) => {
      const w = model.weight(name);
      if (!w) throw new Error(`webgpu: the model has no weight '${name}'`);
      return half ? gpu.storageF16(w, name) : gpu.storage(w.length, w, name);
    };
    const h = this.half;
    this.w = {
      lm: upload('lm_head.weight'), qw: upload('q_head.weight'), qb: upload('q_head.bias'),
      layers: Array.from({ length: this.cfg.L_layers }, (_, i) => {
        const p = `L_level.layers.${i}.`;
        const L = { gateUp: upload(`${p}mlp.gate_up_proj.weight`, h), down: upload(`${p}mlp.down_proj.weight`, h) };
        if (this.cfg.mlp_t) {
          L.tGateUp = upload(`${p}mlp_t.gate_up_proj.weight`, h);
          L.tDown = upload(`${p}mlp_t.down_proj.weight`, h);
        } else {
          L.qkv = upload(`${p}self_attn.qkv_proj.weight`, h);
          L.o = upload(`${p}self_attn.o_proj.weight`, h);
        }
        return L;
      }),
    };
    this.rope = this.cfg.pos_encodings === 'rope' && !this.cfg.mlp_t;
    if (this.rope) {
      const c = model.ropeCos(), s = model.ropeSin();
      this.w.cos = gpu.storage(c.length, c, 'rope cos');
      this.w.sin = gpu.storage(s.length, s, 'rope sin');
    }
    // The carry's starting rows, broadcast to every position once here.
    const broadcast = (v) => {
      const out = new Float32Array(S * D);
      for (let s = 0; s < S; s++) out.set(v, s * D);
      return out;
    };
    this.init = { zH: broadcast(model.weight('H_init')), zL: broadcast(model.weight('L_init')) };
    // Slots run together in chunks small enough for one binding of the largest scratch buffer.
    const { I, It } = this.z;
    const perSlot = 4 * Math.max(S * 3 * D, S * 2 * I, 2 * It * D, S * I);
    const limit = Math.min(gpu.device.limits.maxStorageBufferBindingSize, gpu.device.limits.maxBufferSize);
    this.maxChunk = Math.max(1, Math.min(64, Math.floor(limit / perSlot)));
    if (perSlot > limit) throw new Error(`webgpu: one puzzle needs a ${perSlot}-byte buffer; the device allows ${limit}`);
    this.slots = [];          // per slot: its input x and carry zH, zL [S, D] (one buffer each: no size limit on batches)
    this.plans = new Map();   // chunk size -> {dispatches, buffers}
    this.staging = [];        // read-back buffers not in use
  }

  #ensure(count) {
    const SD = this.z.S * this.z.D;
    while (this.slots.length < count) {
      const b = this.slots.length;
      this.slots.push({ x: this.gpu.storage(SD, null, `slot ${b} x`), zH: this.gpu.storage(SD, null, `slot ${b} zH`),
        zL: this.gpu.storage(SD, null, `slot ${b} zL`) });
    }
  }

  // The dispatches of one supervision step of n slots held in the plan's working buffers x, zH, zL [n, S, D].
  // Working buffers for up to n slots, shared by the plans of every chunk size up to n (a smaller chunk uses their
  // first rows): made again, larger, when a larger chunk comes, so memory stays that of the largest chunk.
  #buffers(n) {
    if (this.scratch?.n >= n) return this.scratch;
    this.#dropPlans();
    const c = this.cfg, { S, D, T, V, I, It } = this.z, R = n * S;
    const buf = (floats, label) => this.gpu.storage(floats, null, label);
    const b = {
      x: buf(R * D, 'x'), zH: buf(R * D, 'zH'), zL: buf(R * D, 'zL'), tmp: buf(R * D, 'tmp'),
      gu: buf(c.mlp_t ? Math.max(n * 2 * It * D, R * 2 * I) : R * 2 * I, 'gate_up'),
      act: buf(Math.max(R * I, n * It * D), 'act'),
      logits: buf(n * T * V, 'logits'), q: buf(n * 2, 'q'),
    };
    if (!c.mlp_t) {
      b.qkv = buf(R * 3 * D, 'qkv');
      b.attn = buf(R * D, 'attn');
    }
    this.scratch = { n, b };
    return this.scratch;
  }

  #dropPlans() {
    for (const b of Object.values(this.scratch?.b ?? {})) b.destroy();
    this.scratch = null;
    this.plans.clear();
  }

  #plan(n) {
    let plan = this.plans.get(n);
    if (plan) return plan;
    const { b } = this.#buffers(n);
    const g = this.gpu, c = this.cfg, { S, D, T, V, P, H, I, It } = this.z, R = n * S, eps = c.rms_norm_eps, half = this.half;
    const d = [];
    const block = (h, L) => {
      if (c.mlp_t) {  // h^T = rms(h^T + SwiGLU_t(h^T)) over S, computed as W h per slot
        d.push(matmul(g, { M: 2 * It, N: D, K: S, batch: n, a: L.tGateUp, aHalf: half, aRow: S, aCol: 1, b: h, bBatch: S * D, bRow: D, bCol: 1,
          c: b.gu, cBatch: 2 * It * D }));
        d.push(swiglu(g, { rows: n, W: It * D, gu: b.gu, out: b.act }));
        d.push(matmul(g, { M: S, N: D, K: It, batch: n, a: L.tDown, aHalf: half, aRow: It, aCol: 1, b: b.act, bBatch: It * D, bRow: D, bCol: 1,
          c: b.tmp, cBatch: S * D }));
        d.push(addRmsCols(g, { batch: n, rows: S, cols: D, h, t: b.tmp, eps }));
      } else {        // h = rms(h + o_proj(attention(rope(q), rope(k), v)))
        d.push(linear(g, { M: R, N: 3 * D, K: D, x: h, w: L.qkv, wHalf: half, y: b.qkv }));
        if (this.rope) d.push(rope(g, { rows: R, S, D, hd: D / H, qkv: b.qkv, cos: this.w.cos, sin: this.w.sin }));
        d.push(attention(g, { batch: n, S, D, heads: H, qkv: b.qkv, out: b.attn }));
        d.push(linear(g, { M: R, N: D, K: D, x: b.attn, w: L.o, wHalf: half, y: b.tmp }));
        d.push(addRmsRows(g, { rows: R, cols: D, h, t: b.tmp, eps }));
      }
      // h = rms(h + SwiGLU(h))
      d.push(linear(g, { M: R, N: 2 * I, K: D, x: h, w: L.gateUp, wHalf: half, y: b.gu }));
      d.push(swiglu(g, { rows: R, W: I, gu: b.gu, out: b.act }));
      d.push(linear(g, { M: R, N: D, K: I, x: b.act, w: L.down, wHalf: half, y: b.tmp }));
      d.push(addRmsRows(g, { rows: R, cols: D, h, t: b.tmp, eps }));
    };
    const net = (h, a, a2 = null) => {  // Net(h, inj): h += inj, then every block
      d.push(addInto(g, { n: R * D, y: h, a, b: a2 }));
      for (const L of this.w.layers) block(h, L);
    };
    for (let hc = 0; hc < c.H_cycles; hc++) {
      for (let lc = 0; lc < c.L_cycles; lc++) net(b.zL, b.zH, b.x);  // zL = Net(zL, zH + x)
      net(b.zH, b.zL);                                              // zH = Net(zH, zL)
    }
    // lm_head over the token positions of each slot, q_head on position 0.
    d.push(linear(g, { M: T, N: V, K: D, batch: n, x: b.zH, xOff: P * D, xBatch: S * D, w: this.w.lm, y: b.logits }));
    d.push(qHead(g, { batch: n, S, D, zH: b.zH, w: this.w.qw, bias: this.w.qb, out: b.q }));
    plan = { dispatches: d, buffers: b, n };
    this.plans.set(n, plan);
    return plan;
  }

  #stagingBuffer(floats) {
    const i = this.staging.findIndex((s) => s.size >= floats * 4);
    if (i >= 0) return this.staging.splice(i, 1)[0];
    return this.gpu.device.createBuffer({ label: 'read-back', size: floats * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  // One supervision step of the requested slots (see the top of this file): one submission, one read-back; with zH,
  // the slots' zH after the step too. WebGPU reports a failure (out of memory, a buffer past the device's limits, a
  // device lost) through error scopes, not exceptions: they are checked here, so that a failed step throws instead of
  // handing back stale numbers. The error's `carryIntact` is true when the step's commands never ran (recording or
  // submission failed), so that the slots' carry is still that of the previous step (readCarry); false when the
  // read-back failed, after which the carry may be a step ahead of what the caller knows.
  async step(request, { zH = false } = {}) {
    const dev = this.gpu.device;
    dev.pushErrorScope('out-of-memory');
    dev.pushErrorScope('validation');
    let result, failure = null, intact = true;
    try {
      result = this.#record(request, zH);
    } catch (e) {
      failure = e;
    }
    // A lost device may reject these (older Chromium): its read-back fails too, which is what is reported then.
    const errors = Promise.all([dev.popErrorScope(), dev.popErrorScope()]).catch(() => [null, null]);
    if (result) {
      try {
        result = await result.read();
      } catch (e) {
        failure ??= e;
        intact = false;
      }
    }
    const [validation, memory] = await errors;
    const error = memory ?? validation;
    const line = (m) => String(m).replace(/\s+/g, ' ').trim();  // Dawn's messages span lines
    if (error) failure = new Error(`webgpu: the step failed (${line(error.message)})`);
    else if (failure) failure = new Error(`webgpu: the step failed (${line(failure.message ?? failure)})`);
    if (failure) {
      failure.carryIntact = error ? true : intact;
      throw failure;
    }
    return result;
  }

  // The carry of every slot this network has run, read back: {zH, zL}, arrays of Float32Array [S*D] indexed by slot.
  // What the WASM engine goes on from when the GPU fails mid-run (web/trm-worker.js); throws on a lost device.
  async readCarry() {
    const dev = this.gpu.device, SD = this.z.S * this.z.D, n = this.slots.length;
    if (n === 0) return { zH: [], zL: [] };
    dev.pushErrorScope('validation');
    const staging = dev.createBuffer({ label: 'carry read-back', size: n * 2 * SD * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const enc = dev.createCommandEncoder({ label: 'carry read-back' });
      this.slots.forEach((st, b) => {
        enc.copyBufferToBuffer(st.zH, 0, staging, 2 * b * SD * 4, SD * 4);
        enc.copyBufferToBuffer(st.zL, 0, staging, (2 * b + 1) * SD * 4, SD * 4);
      });
      dev.queue.submit([enc.finish()]);
      const error = dev.popErrorScope();
      await staging.mapAsync(GPUMapMode.READ);
      const all = new Float32Array(staging.getMappedRange()).slice();
      const e = await error;
      if (e) throw new Error(`webgpu: reading the carry back failed (${e.message})`);
      return {
        zH: this.slots.map((_, b) => all.subarray(2 * b * SD, (2 * b + 1) * SD)),
        zL: this.slots.map((_, b) => all.subarray((2 * b + 1) * SD, (2 * b + 2) * SD)),
      };
    } finally {
      staging.destroy();
    }
  }

  #record(request, withZH) {
    const { S, D, T, V } = this.z, SD = S * D, dev = this.gpu.device;
    const n = request.length;
    const slots = Int32Array.from(request, (r) => r.slot);
    const empty = { slots, logits: new Float32Array(0), qHalt: new Float32Array(0), qContinue: new Float32Array(0),
      ...(withZH ? { zH: new Float32Array(0) } : {}) };
    if (n === 0) return { read: async () => empty };
    this.#ensure(Math.max(...slots) + 1);
    for (const r of request) {
      const st = this.slots[r.slot];
      if (r.x) dev.queue.writeBuffer(st.x, 0, r.x);
      if (r.resetCarry) {
        dev.queue.writeBuffer(st.zH, 0, this.init.zH);
        dev.queue.writeBuffer(st.zL, 0, this.init.zL);
      }
    }
    this.#buffers(Math.min(n, this.maxChunk));  // before recording: a larger set replaces the buffers
    const TV = T * V, zAt = n * (TV + 2), outFloats = zAt + (withZH ? n * SD : 0);  // logits, q, zH
    const staging = this.#stagingBuffer(outFloats);
    const enc = dev.createCommandEncoder({ label: 'supervision step' });
    for (let c0 = 0; c0 < n; c0 += this.maxChunk) {
      const m = Math.min(this.maxChunk, n - c0);
      const { dispatches, buffers: b } = this.#plan(m);
      for (let i = 0; i < m; i++) {  // the chunk's slots into the working buffers
        const st = this.slots[slots[c0 + i]];
        for (const k of ['x', 'zH', 'zL']) enc.copyBufferToBuffer(st[k], 0, b[k], i * SD * 4, SD * 4);
      }
      const pass = enc.beginComputePass();
      Gpu.record(pass, dispatches);
      pass.end();
      for (let i = 0; i < m; i++) {  // the carry back to its slots
        const st = this.slots[slots[c0 + i]];
        for (const k of ['zH', 'zL']) enc.copyBufferToBuffer(b[k], i * SD * 4, st[k], 0, SD * 4);
      }
      enc.copyBufferToBuffer(b.logits, 0, staging, c0 * TV * 4, m * TV * 4);
      enc.copyBufferToBuffer(b.q, 0, staging, (n * TV + 2 * c0) * 4, m * 2 * 4);
      if (withZH) enc.copyBufferToBuffer(b.zH, 0, staging, (zAt + c0 * SD) * 4, m * SD * 4);
    }
    dev.queue.submit([enc.finish()]);
    return {
      read: async () => {
        await staging.mapAsync(GPUMapMode.READ, 0, outFloats * 4);
        const out = new Float32Array(staging.getMappedRange(0, outFloats * 4)).slice();
        staging.unmap();
        this.staging.push(staging);
        const q = out.subarray(n * TV, zAt);
        return {
          slots, logits: out.subarray(0, n * TV),
          qHalt: Float32Array.from({ length: n }, (_, i) => q[2 * i]),
          qContinue: Float32Array.from({ length: n }, (_, i) => q[2 * i + 1]),
          ...(withZH ? { zH: out.subarray(zAt) } : {}),
        };
      },
    };
  }

  destroy() {
    this.#dropPlans();
    for (const st of this.slots) for (const b of Object.values(st)) b.destroy();
    this.slots = [];
    for (const b of this.staging) b.destroy();
    const w = this.w;
    for (const b of [w.lm, w.qw, w.qb, w.cos, w.sin]) b?.destroy();
    for (const L of w.layers) for (const b of Object.values(L)) b.destroy();
  }
}
