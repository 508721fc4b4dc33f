// A small safetensors reader and writer (DESIGN.md "Weight file"; the layout src/safetensors.cpp writes), for the
// browser and Node: the WebGPU check models are written with it (web/webgpu/backend.js), scripts/trm.mjs reads inputs
// and writes outputs with it, and the JavaScript tests build weight files with it. It checks what it needs to read a
// file; the engine's reader (src/safetensors.cpp) is the one that validates.

const DTYPES = { F32: [4, Float32Array], I32: [4, Int32Array], F16: [2, Uint16Array], BF16: [2, Uint16Array], I8: [1, Int8Array] };

// bytes -> { metadata, tensors: Map(name -> {dtype, shape, data: TypedArray}) }. Throws naming `label`.
export function readSafetensors(bytes, label) {
  const fail = (why) => new Error(`${label}: ${why}`);
  if (bytes.length < 8) throw fail(`file is ${bytes.length} bytes; a safetensors file needs at least the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) throw fail(`header length ${n} runs past the end of the file (${bytes.length} bytes)`);
  let header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw fail('header is not well-formed JSON');
  }
  const data = bytes.subarray(8 + n);
  const tensors = new Map();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const dt = DTYPES[e.dtype];
    if (!dt) throw fail(`tensor '${name}' has dtype ${e.dtype}; expected one of ${Object.keys(DTYPES).join(', ')}`);
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * dt[0] || end > data.length) throw fail(`tensor '${name}': data_offsets do not match its shape`);
    const copy = data.slice(begin, end);  // aligned copy
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data: new dt[1](copy.buffer, 0, count) });
  }
  return { metadata: header.__metadata__ ?? {}, tensors };
}

// [[name, {dtype, shape, data}], ...] (in order) -> bytes, header padded with spaces to 8 bytes, as trm::SafetensorsWriter.
export function writeSafetensors(entries, metadata = null) {
  const header = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let h = JSON.stringify(header);
  while ((8 + h.length) % 8) h += ' ';
  const hb = new TextEncoder().encode(h);
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let at = 8 + hb.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
