// The WebGPU kernels of the network (TRM_SPEC.md "Forward"), in WGSL, float32. Each kernel is a pure function of the
// buffers it is given: `kernel(gpu, params)` returns a Dispatch {pipeline, bindGroup, groups} that a compute pass
// runs (web/webgpu/network.js records a whole supervision step of them; tests/browser/webgpu.test.mjs runs each
// alone). Matrices are row-major float32 in storage buffers; offsets and strides are in elements and travel in a
// small uniform buffer, so that every dispatch binds whole buffers (no 256-byte binding alignment to meet). Every
// index is checked against its bounds: any shape runs, odd ones included.
//
//   matmul        C[b] = A[b] B[b] (any strides: x W^T, W h, batched or shared weights)   <- where the time goes;
//                 either operand may be float16 storage (packF16: the weights of LoadOptions.precision 'f16')
//   addInto       y += a (+ b)                            the residual inputs of Net(h, inj)
//   addRmsRows    h = rms_norm(h + t) over each row        attention and MLP blocks
//   addRmsCols    h = rms_norm(h + t) over each column     token-mixing block (the norm over S)
//   swiglu        out = silu(gate) * up                    both SwiGLUs
//   rope          rotary positions on q and k, in place
//   attention     softmax(q k^T / sqrt(hd)) v, flash-style: keys in tiles through workgroup memory with an online
//                 softmax, no [S, S] matrix anywhere
//   qHead         q_head on position 0 of every slot (+ bias)

// A grid of `count` workgroups (or threads / size) spread over x and y: WebGPU allows 65535 per dimension.
const GRID_X = 32768;
function grid(count) {
  const n = Math.max(1, count);
  return [Math.min(n, GRID_X), Math.ceil(n / GRID_X), 1];
}
const GRID_WGSL = `fn flat(w: vec3u) -> u32 { return w.y * ${GRID_X}u + w.x; }`;

// The device, its pipelines (one per kernel variant, compiled on first use) and buffer helpers.
// tiled: the kernels that share work through workgroup memory (matmul tiles, the reductions of the row norm,
// attention's key/value tiles), which is what a GPU runs fast. A software adapter (SwiftShader: a CPU) runs each
// workgroup barrier as a switch between coroutines and is 2-300 times slower with them (measured here: a row norm of
// [2748, 64] 1239 ms with a workgroup per row, 4 ms with a thread per row), so there `tiled` is false and the direct
// variants run: the same math, each thread reading its operands from the storage buffers itself.
export class Gpu {
  constructor(device, { tiled = true } = {}) {
    this.device = device;
    this.tiled = tiled;
    this.pipelines = new Map();
  }

  pipeline(key, code) {
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ label: key, code });
      p = this.device.createComputePipeline({ label: key, layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.pipelines.set(key, p);
    }
    return p;
  }

  // A storage buffer of `floats` float32s (at least one), with the given data when there is some.
  storage(floats, data = null, label = '') {
    const size = Math.max(4, Math.ceil(floats) * 4);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffer = this.device.createBuffer({ label, size, usage, mappedAtCreation: data !== null });
    if (data !== null) {
      new Float32Array(buffer.getMappedRange()).set(data);
      buffer.unmap();
    }
    return buffer;
  }

  // A storage buffer of `values` rounded to float16, two to a u32 (packF16), for the matmul operands marked half.
  storageF16(values, label = '') {
    const packed = packF16(values);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffer = this.device.createBuffer({ label, size: Math.max(4, packed.byteLength), usage, mappedAtCreation: true });
    new Uint32Array(buffer.getMappedRange()).set(packed);
    buffer.unmap();
    return buffer;
  }

  // A uniform buffer holding u32 parameters (floats are passed as their bits: see f32bits).
  uniform(values) {
    const size = Math.max(16, Math.ceil(values.length / 4) * 16);
    const buffer = this.device.createBuffer({ size, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
    new Uint32Array(buffer.getMappedRange()).set(values);
    buffer.unmap();
    return buffer;
  }

  bindGroup(pipeline, buffers) {
    return this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  dispatch(key, code, buffers, groups) {
    const pipeline = this.pipeline(key, code);
    return { pipeline, bindGroup: this.bindGroup(pipeline, buffers), groups };
  }

  // Records dispatches into one compute pass (each dispatch sees the previous ones' writes).
  static record(pass, dispatches) {
    for (const d of dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.groups[0], d.groups[1], d.groups[2]);
    }
  }

  // Runs dispatches in one submission and reads `buffer` back (floats from `offset`): for tests and checks.
  async run(dispatches, buffer, floats, offset = 0) {
    const read = this.device.createBuffer({ size: floats * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    Gpu.record(pass, dispatches);
    pass.end();
    enc.copyBufferToBuffer(buffer, offset * 4, read, 0, floats * 4);
    this.device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(read.getMappedRange()).slice();
    read.destroy();
    return out;
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export function f32bits(x) {
  f32[0] = x;
  return u32[0];
}

// --- float16 storage ---------------------------------------------------------------------------------------------------
// Weights stored as float16 (LoadOptions.precision 'f16'): two to a u32, element 2i in the low half, read back with
// WGSL's core unpack2x16float (no shader-f16 needed); the math and its accumulation stay float32. Halves the weights'
// memory and the bytes a product reads; each weight is rounded once, at upload, to the nearest float16 (ties to even;
// beyond 65504 to infinity, below 2^-24 to subnormals and zero, as a GPU's own conversion does).
const f32one = new Float32Array(1);
const u32one = new Uint32Array(f32one.buffer);
export function f16Bits(x) {
  f32one[0] = x;
  const b = u32one[0];
  const sign = (b >>> 16) & 0x8000, exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);  // infinity, NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  let h, rem, half;
  if (e <= 0) {  // a subnormal float16 (or zero): m x 2^-24
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    h = mant >>> shift;
    rem = mant & ((1 << shift) - 1);
    half = 1 << (shift - 1);
  } else {
    h = (e << 10) | (mant >>> 13);
    rem = mant & 0x1fff;
    half = 0x1000;
  }
  if (rem > half || (rem === half && (h & 1))) h += 1;  // a carry into the exponent is right (up to infinity)
  return sign | h;
}
export function packF16(values) {
  const out = new Uint32Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) out[i >> 1] |= f16Bits(values[i]) << ((i & 1) * 16);
  return out;
}
// An operand `name` of the matmuls, float32 or packed float16, and load_<name>(i) that reads its element i as f32.
const operand = (binding, name, half) => half
  ? `@group(0) @binding(${binding}) var<storage, read> ${name}: array<u32>;
fn load_${name}(i: u32) -> f32 { let v = unpack2x16float(${name}[i >> 1u]); return select(v.x, v.y, (i & 1u) == 1u); }`
  : `@group(0) @binding(${binding}) var<storage, read> ${name}: array<f32>;
fn load_${name}(i: u32) -> f32 { return ${name}[i]; }`;

// --- matmul ----------------------------------------------------------------------------------------------------------
// C(m, n) = sum_k A(m, k) B(k, n) for each batch index b:
//   A(m, k) = a[aOff + b*aBatch + m*aRow + k*aCol], B(k, n) = bm[bOff + b*bBatch + k*bRow + n*bCol],
//   C(m, n) = c[cOff + b*cBatch + m*cRow + n].
// y = x W^T (W [N, K] row-major) is B(k, n) = W[n*K + k]: bRow 1, bCol K. A 64x64 tile of C per workgroup of 16x16
// threads, each thread 4x4 of it held as four vec4 accumulators; A and B come through workgroup memory in slices of
// 16 along k, stored as vec4 of 4 rows (A) or 4 columns (B), so that the inner loop is 4 vec4 multiply-adds per k.
// A thread loads 4 elements of each slice; consecutive threads take consecutive k when k is the operand's contiguous
// axis (x and W^T), else consecutive rows/columns (W h), so that neighbours read neighbouring addresses.
// Both variants take the same uniform (the order matmul() writes it) and buffers; aHalf/bHalf: that operand is packed
// float16 (Gpu.storageF16), read through load_a/load_bm.
const MATMUL_BINDINGS = (aHalf, bHalf) => `
struct P { M: u32, N: u32, K: u32, aOff: u32, aBatch: u32, aRow: u32, aCol: u32, bOff: u32,
           bBatch: u32, bRow: u32, bCol: u32, cOff: u32, cBatch: u32, cRow: u32, _a: u32, _b: u32 }
@group(0) @binding(0) var<uniform> p: P;
${operand(1, 'a', aHalf)}
${operand(2, 'bm', bHalf)}
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
`;
const MATMUL_WGSL = (aHalf, bHalf) => `
${MATMUL_BINDINGS(aHalf, bHalf)}const TK = 16u;
var<workgroup> As: array<vec4f, 256>;  // [TK][16]: A(m0 + 4i .. +3, k)
var<workgroup> Bs: array<vec4f, 256>;  // [TK][16]: B(k, n0 + 4j .. +3)

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let m0 = wg.y * 64u;
  let n0 = wg.x * 64u;
  let ab = p.aOff + wg.z * p.aBatch;
  let bb = p.bOff + wg.z * p.bBatch;
  let tx = t % 16u;  // 4 columns of the tile
  let ty = t / 16u;  // 4 rows of the tile
  // Which element of a slice this thread loads (4 of them, i = 0..3).
  let aKFast = p.aCol == 1u;
  let bKFast = p.bRow == 1u;
  var acc0 = vec4f(0.0); var acc1 = vec4f(0.0); var acc2 = vec4f(0.0); var acc3 = vec4f(0.0);
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var i = 0u; i < 4u; i++) {
      let e = t + i * 256u;  // 0..1023 over the 64 x 16 slice
      var r: u32; var k: u32;
      if (aKFast) { k = e % TK; r = e / TK; } else { r = e % 64u; k = e / 64u; }
      var v = 0.0;
      if (m0 + r < p.M && k0 + k < p.K) { v = load_a(ab + (m0 + r) * p.aRow + (k0 + k) * p.aCol); }
      As[k * 16u + r / 4u][r % 4u] = v;
      if (bKFast) { k = e % TK; r = e / TK; } else { r = e % 64u; k = e / 64u; }
      var w = 0.0;
      if (n0 + r < p.N && k0 + k < p.K) { w = load_bm(bb + (k0 + k) * p.bRow + (n0 + r) * p.bCol); }
      Bs[k * 16u + r / 4u][r % 4u] = w;
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let av = As[k * 16u + ty];
      let bv = Bs[k * 16u + tx];
      acc0 += av.x * bv; acc1 += av.y * bv; acc2 += av.z * bv; acc3 += av.w * bv;
    }
    workgroupBarrier();
  }
  let cb = p.cOff + wg.z * p.cBatch;
  let n = n0 + tx * 4u;
  var accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + ty * 4u + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (n + j < p.N) { c[cb + m * p.cRow + n + j] = accs[i][j]; }
    }
  }
}`;

// The direct variant (software adapters): a 4x4 block of C per thread, 8x8 threads per workgroup, operands read
// from the buffers (indices clamped into range, so the loop has no branch; the stores are checked).
const MATMUL_DIRECT_WGSL = (aHalf, bHalf) => `
${MATMUL_BINDINGS(aHalf, bHalf)}@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let m0 = g.y * 4u;
  let n0 = g.x * 4u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  let ab = p.aOff + g.z * p.aBatch;
  let bb = p.bOff + g.z * p.bBatch;
  var ar: vec4u; var bc: vec4u;
  for (var i = 0u; i < 4u; i++) {
    ar[i] = ab + min(m0 + i, p.M - 1u) * p.aRow;
    bc[i] = bb + min(n0 + i, p.N - 1u) * p.bCol;
  }
  var acc: array<vec4f, 4>;
  for (var k = 0u; k < p.K; k++) {
    let ka = k * p.aCol;
    let kb = k * p.bRow;
    let bv = vec4f(load_bm(bc.x + kb), load_bm(bc.y + kb), load_bm(bc.z + kb), load_bm(bc.w + kb));
    acc[0] += load_a(ar.x + ka) * bv; acc[1] += load_a(ar.y + ka) * bv; acc[2] += load_a(ar.z + ka) * bv;
    acc[3] += load_a(ar.w + ka) * bv;
  }
  let cb = p.cOff + g.z * p.cBatch;
  for (var i = 0u; i < 4u; i++) {
    if (m0 + i >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (n0 + j < p.N) { c[cb + (m0 + i) * p.cRow + n0 + j] = acc[i][j]; }
    }
  }
}`;

// params: {M, N, K, batch = 1, a, b, c (GPUBuffers), aOff, aBatch, aRow, aCol, bOff, bBatch, bRow, bCol, cOff, cBatch,
// cRow, aHalf, bHalf} (offsets 0, batches 0, cRow N by default; aHalf/bHalf: that operand is packed float16, its
// offsets and strides still counted in elements).
export function matmul(gpu, q) {
  const d = (v, x) => v ?? x;
  const u = gpu.uniform([q.M, q.N, q.K, d(q.aOff, 0), d(q.aBatch, 0), q.aRow, q.aCol, d(q.bOff, 0), d(q.bBatch, 0), q.bRow,
    q.bCol, d(q.cOff, 0), d(q.cBatch, 0), d(q.cRow, q.N), 0, 0]);
  const aHalf = !!q.aHalf, bHalf = !!q.bHalf, half = `${aHalf ? ' a f16' : ''}${bHalf ? ' b f16' : ''}`;
  if (!gpu.tiled) {
    return gpu.dispatch(`matmulDirect${half}`, MATMUL_DIRECT_WGSL(aHalf, bHalf), [u, q.a, q.b, q.c],
      [Math.ceil(q.N / 32), Math.ceil(q.M / 32), q.batch ?? 1]);
  }
  return gpu.dispatch(`matmul${half}`, MATMUL_WGSL(aHalf, bHalf), [u, q.a, q.b, q.c], [Math.ceil(q.N / 64), Math.ceil(q.M / 64), q.batch ?? 1]);
}

// y = x W^T for x [batch x M, K] (rows at stride ldx from xOff) and W [N, K]: y [M, N] per batch index, rows at ldy.
// wHalf: W is packed float16 (Gpu.storageF16).
export function linear(gpu, { M, N, K, batch = 1, x, xOff = 0, ldx = K, xBatch = M * ldx, w, wOff = 0, wHalf = false, y, yOff = 0, ldy = N, yBatch = M * ldy }) {
  return matmul(gpu, { M, N, K, batch, a: x, aOff: xOff, aBatch: xBatch, aRow: ldx, aCol: 1, b: w, bOff: wOff, bBatch: 0,
    bRow: 1, bCol: K, bHalf: wHalf, c: y, cOff: yOff, cBatch: yBatch, cRow: ldy });
}

// --- elementwise -----------------------------------------------------------------------------------------------------
// y[i] += a[i] (+ b[i], added to a first, as the engine forms inj = zH + x) for i < n.
const ADD_WGSL = (two) => `
struct P { n: u32, _a: u32, _b: u32, _c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
${two ? '@group(0) @binding(3) var<storage, read> b: array<f32>;' : ''}
${GRID_WGSL}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let i = flat(wg) * 256u + t;
  if (i >= p.n) { return; }
  y[i] = y[i] + ${two ? '(a[i] + b[i])' : 'a[i]'};
}`;
export function addInto(gpu, { n, y, a, b = null }) {
  const buffers = [gpu.uniform([n, 0, 0, 0]), y, a];
  if (b) buffers.push(b);
  return gpu.dispatch(b ? 'add2' : 'add1', ADD_WGSL(!!b), buffers, grid(Math.ceil(n / 256)));
}

// out[r*W + j] = silu(g) * u with g = gu[r*2W + j], u = gu[r*2W + W + j]: gate then up in each row of gu. Serves both
// SwiGLUs: the MLP's rows [S, 2I] (W = I) and the token-mixing block's [2I_t, D] per slot (W = I_t * D).
const SWIGLU_WGSL = `
struct P { rows: u32, W: u32, _a: u32, _b: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> gu: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${GRID_WGSL}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let i = flat(wg) * 256u + t;
  if (i >= p.rows * p.W) { return; }
  let r = i / p.W;
  let j = i % p.W;
  let g = gu[r * 2u * p.W + j];
  let u = gu[r * 2u * p.W + p.W + j];
  out[i] = g / (1.0 + exp(-g)) * u;
}`;
export function swiglu(gpu, { rows, W, gu, out }) {
  return gpu.dispatch('swiglu', SWIGLU_WGSL, [gpu.uniform([rows, W, 0, 0]), gu, out], grid(Math.ceil((rows * W) / 256)));
}

// --- RMS norms -------------------------------------------------------------------------------------------------------
// Rows: h[r, :] = x / sqrt(mean(x^2) + eps), x = h[r, :] + t[r, :], for `rows` rows of `cols`; a workgroup per row.
const RMS_ROWS_WGSL = `
struct P { rows: u32, cols: u32, eps: f32, _a: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> h: array<f32>;
@group(0) @binding(2) var<storage, read> d: array<f32>;
var<workgroup> part: array<f32, 256>;
${GRID_WGSL}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let r = flat(wg);
  if (r >= p.rows) { return; }  // uniform across the workgroup
  let base = r * p.cols;
  var ss = 0.0;
  for (var c = t; c < p.cols; c += 256u) {
    let x = h[base + c] + d[base + c];
    h[base + c] = x;
    ss += x * x;
  }
  part[t] = ss;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (t < s) { part[t] += part[t + s]; }
    workgroupBarrier();
  }
  let inv = 1.0 / sqrt(part[0] / f32(p.cols) + p.eps);
  for (var c = t; c < p.cols; c += 256u) { h[base + c] *= inv; }
}`;
// The direct variant, a thread per row, is the column norm below: each row is a matrix [cols, 1].
export function addRmsRows(gpu, { rows, cols, h, t, eps }) {
  if (!gpu.tiled) return addRmsCols(gpu, { batch: rows, rows: cols, cols: 1, h, t, eps });
  return gpu.dispatch('rmsRows', RMS_ROWS_WGSL, [gpu.uniform([rows, cols, f32bits(eps), 0]), h, t], grid(rows));
}

// Columns: for each of `batch` matrices [rows, cols], h[:, c] = x / sqrt(mean over rows of x^2 + eps), x = h + t;
// a thread per column (neighbouring threads read neighbouring columns).
const RMS_COLS_WGSL = `
struct P { batch: u32, rows: u32, cols: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> h: array<f32>;
@group(0) @binding(2) var<storage, read> d: array<f32>;
${GRID_WGSL}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let i = flat(wg) * 64u + t;
  if (i >= p.batch * p.cols) { return; }
  let base = (i / p.cols) * p.rows * p.cols + i % p.cols;
  var ss = 0.0;
  for (var r = 0u; r < p.rows; r++) {
    let x = h[base + r * p.cols] + d[base + r * p.cols];
    h[base + r * p.cols] = x;
    ss += x * x;
  }
  let inv = 1.0 / sqrt(ss / f32(p.rows) + p.eps);
  for (var r = 0u; r < p.rows; r++) { h[base + r * p.cols] *= inv; }
}`;
export function addRmsCols(gpu, { batch = 1, rows, cols, h, t, eps }) {
  return gpu.dispatch('rmsCols', RMS_COLS_WGSL, [gpu.uniform([batch, rows, cols, f32bits(eps)]), h, t],
    grid(Math.ceil((batch * cols) / 64)));
}

// --- RoPE ------------------------------------------------------------------------------------------------------------
// In place on the q and k parts of qkv rows [rows, 3D] (row r at position r % S): per head, halves (a, b) of its
// vector become (a cos - b sin, b cos + a sin) with the tables cos/sin [S, hd] (TRM_SPEC.md "RoPE").
const ROPE_WGSL = `
struct P { rows: u32, S: u32, D: u32, hd: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> cosT: array<f32>;
@group(0) @binding(3) var<storage, read> sinT: array<f32>;
${GRID_WGSL}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let half = p.hd / 2u;
  let i = flat(wg) * 256u + t;  // (row, q|k, head, j < half)
  if (i >= p.rows * p.D) { return; }
  let r = i / p.D;
  let rest = i % p.D;       // 2 * heads * half = D
  let part = rest / (p.D / 2u);
  let hj = rest % (p.D / 2u);
  let head = hj / half;
  let j = hj % half;
  let at = r * 3u * p.D + part * p.D + head * p.hd + j;
  let tab = (r % p.S) * p.hd;
  let a = qkv[at];
  let b = qkv[at + half];
  qkv[at] = a * cosT[tab + j] - b * sinT[tab + j];
  qkv[at + half] = b * cosT[tab + j + half] + a * sinT[tab + j + half];
}`;
export function rope(gpu, { rows, S, D, hd, qkv, cos, sin }) {
  return gpu.dispatch('rope', ROPE_WGSL, [gpu.uniform([rows, S, D, hd]), qkv, cos, sin], grid(Math.ceil((rows * D) / 256)));
}

// --- attention -------------------------------------------------------------------------------------------------------
// For each slot b and head: out = softmax(q k^T * scale) v over all S positions (non-causal), q/k/v the head's slices
// of qkv [B*S, 3D], out [B*S, D]. Flash-style: a workgroup takes 64 queries of one head (one per thread, its q and
// output in registers); keys and values pass through workgroup memory in tiles of 32, and each thread keeps a running
// max and sum (online softmax), rescaling its output once per tile. Nothing of size [S, S] exists. hd is compiled in.
// The direct variant reads keys and values from qkv itself (no workgroup memory, no barrier).
const ATT_Q = 64, ATT_K = 32;
const ATTENTION_WGSL = (hd, tiled) => `
struct P { S: u32, D: u32, heads: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
const HD = ${hd}u;
const TQ = ${ATT_Q}u;
const TK = ${ATT_K}u;
${tiled ? `var<workgroup> Ks: array<f32, ${ATT_K * hd}>;
var<workgroup> Vs: array<f32, ${ATT_K * hd}>;` : ''}
@compute @workgroup_size(${ATT_Q})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let head = wg.y;
  let b = wg.z;
  let qi = wg.x * TQ + t;
  let valid = qi < p.S;
  let row0 = b * p.S;
  let ld = 3u * p.D;
  var q: array<f32, HD>;
  var o: array<f32, HD>;
  if (valid) {
    for (var j = 0u; j < HD; j++) { q[j] = qkv[(row0 + qi) * ld + head * HD + j] * p.scale; }
  }
  for (var j = 0u; j < HD; j++) { o[j] = 0.0; }
  var mx = -3.0e38;
  var sum = 0.0;
  var sc: array<f32, TK>;
  for (var k0 = 0u; k0 < p.S; k0 += TK) {
    let nk = min(TK, p.S - k0);
${tiled ? `    for (var e = t; e < TK * HD; e += TQ) {
      let kk = e / HD;
      let j = e % HD;
      var kv = 0.0; var vv = 0.0;
      if (kk < nk) {
        let at = (row0 + k0 + kk) * ld + head * HD + j;
        kv = qkv[at + p.D];
        vv = qkv[at + 2u * p.D];
      }
      Ks[e] = kv;
      Vs[e] = vv;
    }
    workgroupBarrier();` : ''}
    if (valid) {
      var tmax = mx;
      for (var kk = 0u; kk < nk; kk++) {
        var s = 0.0;
        ${tiled ? 'for (var j = 0u; j < HD; j++) { s += q[j] * Ks[kk * HD + j]; }'
          : 'let at = (row0 + k0 + kk) * ld + p.D + head * HD; for (var j = 0u; j < HD; j++) { s += q[j] * qkv[at + j]; }'}
        sc[kk] = s;
        tmax = max(tmax, s);
      }
      let corr = exp(mx - tmax);
      sum *= corr;
      for (var j = 0u; j < HD; j++) { o[j] *= corr; }
      for (var kk = 0u; kk < nk; kk++) {
        let w = exp(sc[kk] - tmax);
        sum += w;
        ${tiled ? 'for (var j = 0u; j < HD; j++) { o[j] += w * Vs[kk * HD + j]; }'
          : 'let at = (row0 + k0 + kk) * ld + 2u * p.D + head * HD; for (var j = 0u; j < HD; j++) { o[j] += w * qkv[at + j]; }'}
      }
      mx = tmax;
    }
    ${tiled ? 'workgroupBarrier();' : ''}
  }
  if (valid) {
    let inv = 1.0 / sum;
    for (var j = 0u; j < HD; j++) { out[(row0 + qi) * p.D + head * HD + j] = o[j] * inv; }
  }
}`;
export function attention(gpu, { batch = 1, S, D, heads, qkv, out }) {
  const hd = D / heads;
  return gpu.dispatch(`attention${hd}${gpu.tiled ? '' : 'Direct'}`, ATTENTION_WGSL(hd, gpu.tiled),
    [gpu.uniform([S, D, heads, f32bits(1 / Math.sqrt(hd))]), qkv, out], [Math.ceil(S / ATT_Q), heads, batch]);
}

// --- q_head ----------------------------------------------------------------------------------------------------------
// out[b*2 + j] = zH[b, 0, :] . w[j, :] + bias[j] for `batch` slots of [S, D] (q_halt, q_continue).
const QHEAD_WGSL = `
struct P { batch: u32, SD: u32, D: u32, _a: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> zH: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
var<workgroup> part: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let b = wg.x;
  let j = wg.y;
  var s = 0.0;
  for (var k = t; k < p.D; k += 64u) { s += zH[b * p.SD + k] * w[j * p.D + k]; }
  part[t] = s;
  workgroupBarrier();
  for (var h = 32u; h > 0u; h >>= 1u) {
    if (t < h) { part[t] += part[t + h]; }
    workgroupBarrier();
  }
  if (t == 0u) { out[b * 2u + j] = part[0] + bias[j]; }
}`;
export function qHead(gpu, { batch = 1, S, D, zH, w, bias, out }) {
  return gpu.dispatch('qHead', QHEAD_WGSL, [gpu.uniform([batch, S * D, D, 0]), zH, w, bias, out], [batch, 2, 1]);
}
