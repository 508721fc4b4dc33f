// Rewrites the pre-standard relaxed-SIMD fused multiply-add that Debian's Emscripten 3.1.6 (LLVM 14) emits into
// the standard instruction that browsers run (TOOLCHAIN.md: Node 20 and Chrome reject the old opcode):
//   f32x4.fma (prototype, 0xfd 0xaf)  ->  f32x4.relaxed_madd (standard, 0xfd 0x105)
// Both encode in three bytes, so function sizes stay as they are. The standard instruction computes a * b + c from
// its operands (a, b, c); src/simd.h writes its f32x4_madd for that order (the prototype's meaning, a + b * c, is
// never run). Every instruction of the code section is decoded, so only opcodes are rewritten, never an immediate
// that happens to hold the same bytes; any other pre-standard relaxed instruction is refused.
//   node scripts/wasm_relaxed_madd.mjs FILE...   (a .wasm, or a -sSINGLE_FILE .cjs/.mjs with the wasm inlined)
import fs from 'node:fs';

const PROTOTYPE_FMA = 0xaf;
const MADD = [0x85, 0x02];  // LEB128 of 0x105
// The other opcodes LLVM 14 gives relaxed-SIMD prototypes (gaps of the standard SIMD numbering): refused.
const PROTOTYPE_OTHERS = new Set([0xa2, 0xa5, 0xa6, 0xb0, 0xb2, 0xb3, 0xb4, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3,
  0xd4, 0xe2, 0xee]);

class Reader {
  constructor(bytes, pos, file) { this.b = bytes; this.pos = pos; this.file = file; }
  byte() {
    if (this.pos >= this.b.length) throw new Error(`${this.file}: unexpected end of the code section`);
    return this.b[this.pos++];
  }
  u32() {
    let v = 0, shift = 0, byte;
    do { byte = this.byte(); v += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    return v;
  }
  sleb() { let byte; do byte = this.byte(); while (byte & 0x80); }  // the value is never needed, only its length
  skip(n) { this.pos += n; }
  memarg() { this.u32(); this.u32(); }
}

// Decodes one function body's instructions from r.pos to end, rewriting prototype fma opcodes in place.
function rewriteBody(r, end, where) {
  let rewritten = 0;
  const locals = r.u32();
  for (let i = 0; i < locals; ++i) { r.u32(); r.byte(); }
  while (r.pos < end) {
    const at = r.pos;
    const op = r.byte();
    if (op === 0x02 || op === 0x03 || op === 0x04) r.sleb();                                 // block type
    else if (op === 0x0c || op === 0x0d || op === 0x10 || op === 0x12 || (op >= 0x20 && op <= 0x26) || op === 0xd2) r.u32();
    else if (op === 0x0e) { const n = r.u32(); for (let i = 0; i <= n; ++i) r.u32(); }          // br_table
    else if (op === 0x11 || op === 0x13) { r.u32(); r.u32(); }                                 // call_indirect
    else if (op === 0x1c) { const n = r.u32(); r.skip(n); }                                    // select t*
    else if (op >= 0x28 && op <= 0x3e) r.memarg();
    else if (op === 0x3f || op === 0x40 || op === 0xd0) r.byte();
    else if (op === 0x41 || op === 0x42) r.sleb();
    else if (op === 0x43) r.skip(4);
    else if (op === 0x44) r.skip(8);
    else if (op === 0xfc) {
      const sub = r.u32();
      if (sub === 8) { r.u32(); r.byte(); } else if (sub === 10) r.skip(2); else if (sub === 11) r.byte();
      else if (sub === 12 || sub === 14) { r.u32(); r.u32(); } else if (sub === 9 || sub === 13 || (sub >= 15 && sub <= 17)) r.u32();
      else if (sub > 17) throw new Error(`${where}: unknown instruction 0xfc ${sub} at byte ${at}`);
    } else if (op === 0xfd) {
      const subAt = r.pos;
      const sub = r.u32();
      if (sub <= 11 || sub === 92 || sub === 93) r.memarg();                                   // loads, stores
      else if (sub === 12 || sub === 13) r.skip(16);                                           // v128.const, shuffle
      else if (sub >= 21 && sub <= 34) r.byte();                                               // lane index
      else if (sub >= 84 && sub <= 91) { r.memarg(); r.byte(); }                               // load/store lane
      else if (sub === PROTOTYPE_FMA) {
        if (r.pos - subAt !== 2) throw new Error(`${where}: f32x4.fma at byte ${at} is not encoded in 2 bytes`);
        r.b.set(MADD, subAt);
        rewritten++;
      } else if (PROTOTYPE_OTHERS.has(sub)) {
        throw new Error(`${where}: pre-standard relaxed-SIMD opcode 0xfd ${sub.toString(16)} at byte ${at}; only f32x4.fma can be rewritten`);
      }
    } else if (op === 0xfe) {
      const sub = r.u32();
      if (sub === 3) r.byte(); else r.memarg();                                                // atomic.fence
    } else if ((op >= 0x06 && op <= 0x09) || op === 0x18 || op === 0x19) {
      throw new Error(`${where}: exception-handling instruction 0x${op.toString(16)} at byte ${at}: not supported`);
    }
    // every other opcode (numeric, parametric, end, else, return...) has no immediates
  }
  if (r.pos !== end) throw new Error(`${where}: a function body ends at byte ${r.pos}, its size says ${end}`);
  return rewritten;
}

// Rewrites a WASM binary in place; returns how many instructions changed.
export function rewriteWasm(bytes, file) {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (!magic.every((x, i) => bytes[i] === x)) throw new Error(`${file}: not a WASM binary (version 1 header expected)`);
  const r = new Reader(bytes, 8, file);
  let rewritten = 0, codeSections = 0;
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 10) {
      codeSections++;
      const count = r.u32();
      for (let f = 0; f < count; ++f) {
        const bodySize = r.u32();
        const bodyEnd = r.pos + bodySize;
        rewritten += rewriteBody(r, bodyEnd, `${file}: function ${f} of the code section`);
      }
      if (r.pos !== end) throw new Error(`${file}: the code section ends at byte ${r.pos}, its size says ${end}`);
    }
    r.pos = end;
  }
  if (codeSections !== 1) throw new Error(`${file}: ${codeSections} code sections; expected 1`);
  return rewritten;
}

function rewriteFile(file) {
  const data = fs.readFileSync(file);
  if (file.endsWith('.wasm')) {
    const n = rewriteWasm(data, file);
    fs.writeFileSync(file, data);
    return n;
  }
  // -sSINGLE_FILE: the binary is a base64 data URI inside the JavaScript.
  const text = data.toString('utf8');
  const prefix = 'data:application/octet-stream;base64,';
  const start = text.indexOf(`${prefix}AGFzbQ`);  // "\0asm": the glue also holds the prefix alone
  if (start < 0) throw new Error(`${file}: no ${prefix} WASM inside (build with -sSINGLE_FILE=1, or pass the .wasm)`);
  const from = start + prefix.length;
  const to = text.indexOf('"', from);
  const wasm = Buffer.from(text.slice(from, to), 'base64');
  const n = rewriteWasm(wasm, file);
  fs.writeFileSync(file, text.slice(0, from) + wasm.toString('base64') + text.slice(to));
  return n;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: node scripts/wasm_relaxed_madd.mjs FILE.wasm|FILE.cjs...');
    process.exit(2);
  }
  for (const file of files) {
    const n = rewriteFile(file);
    // A relaxed build without a single fused multiply-add means the compiler flags did not take.
    if (n === 0) { console.error(`${file}: no f32x4.fma found; was it compiled with -mrelaxed-simd?`); process.exit(1); }
    console.log(`${file}: ${n} f32x4.fma -> f32x4.relaxed_madd`);
  }
}
