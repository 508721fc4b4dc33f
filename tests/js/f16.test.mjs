// The float16 rounding of web/webgpu/kernels.js (f16Bits, packF16): how LoadOptions.precision 'f16' stores the weights
// on WebGPU. Bit patterns from IEEE 754 binary16; rounding to nearest, ties to even.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { f16Bits, packF16 } from '../../web/webgpu/kernels.js';
import { f16Round } from './helpers.mjs';

// The value of float16 bits.
function f16Value(h) {
  const sign = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
}

test('f16Bits: normal numbers, ties to even, overflow, subnormals, zeros, NaN', () => {
  const cases = [
    [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [65504, 0x7bff], [-65504, 0xfbff],
    [65519.99, 0x7bff], [65520, 0x7c00], [1e9, 0x7c00], [-Infinity, 0xfc00],  // 65520 ties away from the largest
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [1 + 2 ** -11 + 2 ** -20, 0x3c01],  // ties to even
    [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -15 + 2 ** -24, 0x0201], [2 ** -25, 0x0000],
    [2 ** -25 + 2 ** -35, 0x0001], [3 * 2 ** -25, 0x0002], [1e-10, 0x0000], [-1e-10, 0x8000], [0, 0], [-0, 0x8000],
    [2 ** -14 - 2 ** -25, 0x0400],  // the largest subnormal rounds up into the normal range
  ];
  for (const [x, want] of cases) assert.equal(f16Bits(x), want, `f16Bits(${x}) = 0x${f16Bits(x).toString(16)}; expected 0x${want.toString(16)}`);
  assert.equal(f16Bits(NaN) & 0x7c00, 0x7c00);
  assert.notEqual(f16Bits(NaN) & 0x3ff, 0);
});

test('packF16: element 2i in the low half of u32 i (unpack2x16float order), an odd count padded with zero', () => {
  assert.deepEqual(Array.from(packF16(Float32Array.from([1, -2, 0.1]))), [(0xc000 << 16 | 0x3c00) >>> 0, 0x2e66]);
  assert.equal(packF16(new Float32Array(0)).length, 0);
});

test('f16Bits agrees with rounding by the float16 spacing (tests/js/helpers.mjs f16Round) on 20,000 values', () => {
  let seed = 9;
  for (let i = 0; i < 20000; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const x = Math.fround((seed / 2 ** 32 - 0.5) * 2 ** ((i % 48) - 30));  // magnitudes 2^-31 .. 2^17
    assert.equal(f16Value(f16Bits(x)), f16Round(x), `x = ${x}`);
  }
});
