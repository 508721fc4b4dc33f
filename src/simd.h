// The few 4-lane float operations the kernels need, mapped once per instruction set (WASM SIMD128 with or without
// relaxed SIMD, SSE/FMA, or plain C++). Kernels are written once against these names.
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#if defined(__wasm_relaxed_simd__)
#define TRM_SIMD_NAME "wasmsimd-relaxed"
#else
#define TRM_SIMD_NAME "wasmsimd"
#endif
typedef v128_t f32x4;
static inline f32x4 f32x4_load(const float* p) { return wasm_v128_load(p); }
static inline void f32x4_store(float* p, f32x4 v) { wasm_v128_store(p, v); }
static inline f32x4 f32x4_splat(float x) { return wasm_f32x4_splat(x); }
static inline f32x4 f32x4_zero() { return wasm_f32x4_splat(0.f); }
static inline f32x4 f32x4_add(f32x4 a, f32x4 b) { return wasm_f32x4_add(a, b); }
static inline f32x4 f32x4_mul(f32x4 a, f32x4 b) { return wasm_f32x4_mul(a, b); }
#if defined(__wasm_relaxed_simd__)
// acc + a * b in one relaxed-SIMD instruction (a fused multiply-add on x86 with FMA and on ARM; relaxed SIMD lets
// an engine without one round twice). LLVM 14 knows only the pre-standard f32x4.fma; the build rewrites it to the
// standard f32x4.relaxed_madd (scripts/wasm_relaxed_madd.mjs), which computes x * y + z from its operands (x, y, z):
// hence this order. Run unrewritten, the prototype would compute a + b * acc.
typedef float trm_f32x4_vec __attribute__((vector_size(16)));
static inline f32x4 f32x4_madd(f32x4 acc, f32x4 a, f32x4 b) {
    return (f32x4)__builtin_wasm_fma_f32x4((trm_f32x4_vec)a, (trm_f32x4_vec)b, (trm_f32x4_vec)acc);
}
#else
// acc + a * b in two instructions: plain WASM SIMD has no fused multiply-add
static inline f32x4 f32x4_madd(f32x4 acc, f32x4 a, f32x4 b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }
#endif
// lane L of v in all four lanes
template <int L> static inline f32x4 f32x4_lane(f32x4 v) { return wasm_i32x4_shuffle(v, v, L, L, L, L); }
static inline f32x4 f32x4_sub(f32x4 a, f32x4 b) { return wasm_f32x4_sub(a, b); }
static inline f32x4 f32x4_div(f32x4 a, f32x4 b) { return wasm_f32x4_div(a, b); }
static inline f32x4 f32x4_min(f32x4 a, f32x4 b) { return wasm_f32x4_pmin(a, b); }
static inline f32x4 f32x4_max(f32x4 a, f32x4 b) { return wasm_f32x4_pmax(a, b); }
static inline f32x4 f32x4_round(f32x4 v) { return wasm_f32x4_nearest(v); }  // to nearest integer, ties to even
// Float to integer without i32x4.trunc_sat_f32x4, which V8 compiles to five x64 instructions (its NaN and
// overflow fixes): for |v| < 2^22, v + 1.5 * 2^23 lands in [2^23, 2^24), where floats are the integers, so the add
// rounds v to nearest (ties to even) and the sum's bits are 0x4B400000 + round(v).
static inline v128_t i32x4_round_f32x4(f32x4 v) {
    return wasm_i32x4_sub(wasm_f32x4_add(v, wasm_f32x4_splat(12582912.f)), wasm_i32x4_splat(0x4B400000));
}
// 2^n for integer-valued n in [-126, 127]: (n + 127) << 23 as float bits; the sum's 0x4B400000 shifts out of the word
static inline f32x4 f32x4_exp2i(f32x4 n) {
    return wasm_i32x4_add(wasm_i32x4_shl(wasm_f32x4_add(n, wasm_f32x4_splat(12582912.f)), 23), wasm_i32x4_splat(127 << 23));
}

// Integer lanes for the int8 kernels: i16x8 products summed in pairs into i32x4 (WASM i32x4.dot_i16x8_s, SSE2
// pmaddwd: the same operation), exact in 32 bits.
typedef v128_t i32x4;
static inline i32x4 i32x4_zero() { return wasm_i32x4_splat(0); }
static inline i32x4 i16x8_load(const int16_t* p) { return wasm_v128_load(p); }
static inline i32x4 i16x2_splat(const int16_t* p) { return wasm_v128_load32_splat(p); }  // (p[0], p[1]) x 4
static inline i32x4 i32x4_add(i32x4 a, i32x4 b) { return wasm_i32x4_add(a, b); }
static inline i32x4 i32x4_dot_i16x8(i32x4 a, i32x4 b) { return wasm_i32x4_dot_i16x8(a, b); }
static inline f32x4 f32x4_from_i32x4(i32x4 v) { return wasm_f32x4_convert_i32x4(v); }
static inline f32x4 f32x4_abs(f32x4 v) { return wasm_f32x4_abs(v); }
// v rounded to the nearest integer (ties to even) as 4 int16s at p, saturating (for |v| < 2^22: quantised values)
static inline void f32x4_store_i16(int16_t* p, f32x4 v) {
    const v128_t i = i32x4_round_f32x4(v);
    wasm_v128_store64_lane(p, wasm_i16x8_narrow_i32x4(i, i), 0);
}
// a and b rounded as above, interleaved as 8 int16s at p: a0 b0 a1 b1 a2 b2 a3 b3 (a pair panel's layout)
static inline void f32x4_store_i16_pairs(int16_t* p, f32x4 a, f32x4 b) {
    const v128_t ab = wasm_i16x8_narrow_i32x4(i32x4_round_f32x4(a), i32x4_round_f32x4(b));  // a0..a3 b0..b3
    wasm_v128_store(p, wasm_i16x8_shuffle(ab, ab, 0, 4, 1, 5, 2, 6, 3, 7));
}

#elif defined(__SSE2__)
#include <immintrin.h>
#define TRM_SIMD_NAME "sse"
typedef __m128 f32x4;
static inline f32x4 f32x4_load(const float* p) { return _mm_loadu_ps(p); }
static inline void f32x4_store(float* p, f32x4 v) { _mm_storeu_ps(p, v); }
static inline f32x4 f32x4_splat(float x) { return _mm_set1_ps(x); }
static inline f32x4 f32x4_zero() { return _mm_setzero_ps(); }
static inline f32x4 f32x4_add(f32x4 a, f32x4 b) { return _mm_add_ps(a, b); }
static inline f32x4 f32x4_mul(f32x4 a, f32x4 b) { return _mm_mul_ps(a, b); }
#if defined(__FMA__)
static inline f32x4 f32x4_madd(f32x4 acc, f32x4 a, f32x4 b) { return _mm_fmadd_ps(a, b, acc); }
#else
static inline f32x4 f32x4_madd(f32x4 acc, f32x4 a, f32x4 b) { return _mm_add_ps(acc, _mm_mul_ps(a, b)); }
#endif
template <int L> static inline f32x4 f32x4_lane(f32x4 v) { return _mm_shuffle_ps(v, v, _MM_SHUFFLE(L, L, L, L)); }
static inline f32x4 f32x4_sub(f32x4 a, f32x4 b) { return _mm_sub_ps(a, b); }
static inline f32x4 f32x4_div(f32x4 a, f32x4 b) { return _mm_div_ps(a, b); }
static inline f32x4 f32x4_min(f32x4 a, f32x4 b) { return _mm_min_ps(a, b); }
static inline f32x4 f32x4_max(f32x4 a, f32x4 b) { return _mm_max_ps(a, b); }
static inline f32x4 f32x4_round(f32x4 v) { return _mm_cvtepi32_ps(_mm_cvtps_epi32(v)); }  // MXCSR default: nearest
static inline f32x4 f32x4_exp2i(f32x4 n) {
    return _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(_mm_cvttps_epi32(n), _mm_set1_epi32(127)), 23));
}

typedef __m128i i32x4;
static inline i32x4 i32x4_zero() { return _mm_setzero_si128(); }
static inline i32x4 i16x8_load(const int16_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
static inline i32x4 i16x2_splat(const int16_t* p) { int32_t v; std::memcpy(&v, p, 4); return _mm_set1_epi32(v); }
static inline i32x4 i32x4_add(i32x4 a, i32x4 b) { return _mm_add_epi32(a, b); }
static inline i32x4 i32x4_dot_i16x8(i32x4 a, i32x4 b) { return _mm_madd_epi16(a, b); }
static inline f32x4 f32x4_from_i32x4(i32x4 v) { return _mm_cvtepi32_ps(v); }
static inline f32x4 f32x4_abs(f32x4 v) { return _mm_andnot_ps(_mm_set1_ps(-0.f), v); }
static inline void f32x4_store_i16(int16_t* p, f32x4 v) {  // cvtps rounds to nearest (MXCSR default); packs saturates
    const __m128i i = _mm_cvtps_epi32(v);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi32(i, i));
}
static inline void f32x4_store_i16_pairs(int16_t* p, f32x4 a, f32x4 b) {
    const __m128i ia = _mm_cvtps_epi32(a), ib = _mm_cvtps_epi32(b);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm_unpacklo_epi16(_mm_packs_epi32(ia, ia), _mm_packs_epi32(ib, ib)));
}

#else
#define TRM_SIMD_NAME "scalar"
#include <cmath>
struct f32x4 { float v[4]; };
static inline f32x4 f32x4_load(const float* p) { return {{p[0], p[1], p[2], p[3]}}; }
static inline void f32x4_store(float* p, f32x4 a) { for (int i = 0; i < 4; ++i) p[i] = a.v[i]; }
static inline f32x4 f32x4_splat(float x) { return {{x, x, x, x}}; }
static inline f32x4 f32x4_zero() { return f32x4_splat(0.f); }
static inline f32x4 f32x4_add(f32x4 a, f32x4 b) { for (int i = 0; i < 4; ++i) a.v[i] += b.v[i]; return a; }
static inline f32x4 f32x4_mul(f32x4 a, f32x4 b) { for (int i = 0; i < 4; ++i) a.v[i] *= b.v[i]; return a; }
static inline f32x4 f32x4_madd(f32x4 acc, f32x4 a, f32x4 b) { for (int i = 0; i < 4; ++i) acc.v[i] += a.v[i] * b.v[i]; return acc; }
template <int L> static inline f32x4 f32x4_lane(f32x4 v) { return f32x4_splat(v.v[L]); }
static inline f32x4 f32x4_sub(f32x4 a, f32x4 b) { for (int i = 0; i < 4; ++i) a.v[i] -= b.v[i]; return a; }
static inline f32x4 f32x4_div(f32x4 a, f32x4 b) { for (int i = 0; i < 4; ++i) a.v[i] /= b.v[i]; return a; }
static inline f32x4 f32x4_min(f32x4 a, f32x4 b) { for (int i = 0; i < 4; ++i) a.v[i] = b.v[i] < a.v[i] ? b.v[i] : a.v[i]; return a; }
static inline f32x4 f32x4_max(f32x4 a, f32x4 b) { for (int i = 0; i < 4; ++i) a.v[i] = a.v[i] < b.v[i] ? b.v[i] : a.v[i]; return a; }
static inline f32x4 f32x4_round(f32x4 v) { for (int i = 0; i < 4; ++i) v.v[i] = std::nearbyint(v.v[i]); return v; }
static inline f32x4 f32x4_exp2i(f32x4 n) { for (int i = 0; i < 4; ++i) n.v[i] = std::ldexp(1.f, int(n.v[i])); return n; }
struct i32x4 { int32_t v[8]; };  // 8 lanes so that one type holds both i16x8 inputs (widened) and i32x4 sums
static inline i32x4 i32x4_zero() { return {}; }
static inline i32x4 i16x8_load(const int16_t* p) { i32x4 r; for (int i = 0; i < 8; ++i) r.v[i] = p[i]; return r; }
static inline i32x4 i16x2_splat(const int16_t* p) { i32x4 r; for (int i = 0; i < 8; ++i) r.v[i] = p[i % 2]; return r; }
static inline i32x4 i32x4_add(i32x4 a, i32x4 b) { for (int i = 0; i < 4; ++i) a.v[i] += b.v[i]; return a; }
static inline i32x4 i32x4_dot_i16x8(i32x4 a, i32x4 b) {
    i32x4 r{};
    for (int i = 0; i < 4; ++i) r.v[i] = a.v[2 * i] * b.v[2 * i] + a.v[2 * i + 1] * b.v[2 * i + 1];
    return r;
}
static inline f32x4 f32x4_from_i32x4(i32x4 a) { return {{float(a.v[0]), float(a.v[1]), float(a.v[2]), float(a.v[3])}}; }
static inline f32x4 f32x4_abs(f32x4 a) { for (int i = 0; i < 4; ++i) a.v[i] = std::fabs(a.v[i]); return a; }
static inline void f32x4_store_i16(int16_t* p, f32x4 a) {
    for (int i = 0; i < 4; ++i) p[i] = int16_t(std::fmin(std::fmax(std::nearbyint(a.v[i]), -32768.f), 32767.f));
}
static inline void f32x4_store_i16_pairs(int16_t* p, f32x4 a, f32x4 b) {
    int16_t qa[4], qb[4];
    f32x4_store_i16(qa, a);
    f32x4_store_i16(qb, b);
    for (int i = 0; i < 4; ++i) p[2 * i] = qa[i], p[2 * i + 1] = qb[i];
}
#endif

// 2^n * 2^f for integer-valued n in [-126, 127] and |f| <= 1/2: 2^f by a degree-5 polynomial fitted for relative
// error on [-1/2, 1/2] (about 2e-7). The two exponentials below reduce their argument to this.
static inline f32x4 f32x4_exp2_reduced(f32x4 n, f32x4 f) {
    f32x4 p = f32x4_splat(1.326472731307149e-3f);
    p = f32x4_madd(f32x4_splat(9.671512991189957e-3f), p, f);
    p = f32x4_madd(f32x4_splat(5.550733581185341e-2f), p, f);
    p = f32x4_madd(f32x4_splat(2.4022242426872253e-1f), p, f);
    p = f32x4_madd(f32x4_splat(6.931470036506653e-1f), p, f);
    p = f32x4_madd(f32x4_splat(1.f), p, f);
    return f32x4_mul(p, f32x4_exp2i(n));
}
constexpr float kLog2e = 1.44269504088896341f;
// 2^t for t in [-126, 127] (clamped); relative error about 2e-7. Softmax folds log2 e into its scale and uses this:
// its arguments are <= 0, and the rounding of t (|t| * 2^-24) matters only where 2^t is negligible against the sum.
static inline f32x4 f32x4_exp2(f32x4 t) {
    t = f32x4_min(f32x4_max(t, f32x4_splat(-126.f)), f32x4_splat(127.f));
    const f32x4 n = f32x4_round(t);
    return f32x4_exp2_reduced(n, f32x4_sub(t, n));
}
// e^x for x in [-87, 88] (clamped), relative error about 2e-7 over the whole range (SwiGLU's e^-g): x = n ln2 + r
// with ln2 in two parts (Cephes), so that r is exact and 2^(r log2 e) adds only r's small rounding.
static inline f32x4 f32x4_exp(f32x4 x) {
    x = f32x4_min(f32x4_max(x, f32x4_splat(-87.f)), f32x4_splat(88.f));
    const f32x4 n = f32x4_round(f32x4_mul(x, f32x4_splat(kLog2e)));
    f32x4 r = f32x4_sub(x, f32x4_mul(n, f32x4_splat(0.693359375f)));
    r = f32x4_sub(r, f32x4_mul(n, f32x4_splat(-2.12194440e-4f)));
    return f32x4_exp2_reduced(n, f32x4_mul(r, f32x4_splat(kLog2e)));
}
