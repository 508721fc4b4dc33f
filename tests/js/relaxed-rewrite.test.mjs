// scripts/wasm_relaxed_madd.mjs: the pre-standard f32x4.fma that LLVM 14 emits becomes the standard
// f32x4.relaxed_madd, found by decoding instructions (never in an immediate), and computes x * y + z from its
// operands (x, y, z), the order src/simd.h's f32x4_madd relies on.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { rewriteWasm } from '../../scripts/wasm_relaxed_madd.mjs';
import { NO_RELAXED_SIMD } from './helpers.mjs';

const leb = (n) => { const out = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return out; };
const section = (id, bytes) => [id, ...leb(bytes.length), ...bytes];

// One exported function f(x, y, z: f32) -> f32: an i32.const whose encoding holds the bytes of the prototype
// opcode (22525 = fd af 01 in LEB128), dropped; then lane 0 of OP(splat x, splat y, splat z).
function moduleWith(op) {
  const body = [0x00, 0x41, 0xfd, 0xaf, 0x01, 0x1a];
  for (let i = 0; i < 3; ++i) body.push(0x20, i, 0xfd, 0x13);  // local.get i; f32x4.splat
  body.push(0xfd, ...op, 0xfd, 0x1f, 0x00, 0x0b);                // OP; f32x4.extract_lane 0; end
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 3, 0x7d, 0x7d, 0x7d, 1, 0x7d]),
    ...section(3, [1, 0]),
    ...section(7, [1, 1, 0x66, 0x00, 0]),
    ...section(10, [1, ...leb(body.length), ...body])]);
}

test('only the opcode is rewritten, in place; the immediate with the same bytes stays', () => {
  const wasm = moduleWith([0xaf, 0x01]);
  const before = Uint8Array.from(wasm);
  assert.equal(rewriteWasm(wasm, 'test.wasm'), 1);
  assert.equal(wasm.length, before.length);
  const changed = [...wasm].flatMap((b, i) => (b === before[i] ? [] : [i]));
  const at = before.findLastIndex((b, i) => b === 0xaf && before[i - 1] === 0xfd);  // the opcode, after the const
  assert.deepEqual(changed, [at, at + 1]);
  assert.deepEqual([...wasm.subarray(at - 1, at + 2)], [0xfd, 0x85, 0x02]);
  assert.equal(rewriteWasm(wasm, 'test.wasm'), 0, 'nothing is left to rewrite');
});

test('the rewritten instruction computes x * y + z', { skip: NO_RELAXED_SIMD }, async () => {
  const wasm = moduleWith([0xaf, 0x01]);
  rewriteWasm(wasm, 'test.wasm');
  const { instance } = await WebAssembly.instantiate(wasm);
  assert.equal(instance.exports.f(2, 3, 4), 10);
  assert.equal(instance.exports.f(-1.5, 4, 0.5), -5.5);
});

test('other pre-standard relaxed-SIMD instructions and non-WASM input are refused by name', () => {
  assert.throws(() => rewriteWasm(moduleWith([0xb0, 0x01]), 'fms.wasm'),
    /^Error: fms\.wasm: function 0 of the code section: pre-standard relaxed-SIMD opcode 0xfd b0 at byte \d+; only f32x4\.fma can be rewritten$/);
  assert.throws(() => rewriteWasm(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 'x.bin'),
    { message: 'x.bin: not a WASM binary (version 1 header expected)' });
});
