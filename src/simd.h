// The few 4-lane float operations the kernels need, mapped once per instruction set (WASM SIMD128, SSE/FMA,
// or plain C++). Kernels are written once against these names.
#pragma once

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define TRM_SIMD_NAME "wasmsimd"
typedef v128_t f32x4;
static inline f32x4 f32x4_load(const float* p) { return wasm_v128_load(p); }
static inline void f32x4_store(float* p, f32x4 v) { wasm_v128_store(p, v); }
static inline f32x4 f32x4_splat(float x) { return wasm_f32x4_splat(x); }
static inline f32x4 f32x4_zero() { return wasm_f32x4_splat(0.f); }
static inline f32x4 f32x4_add(f32x4 a, f32x4 b) { return wasm_f32x4_add(a, b); }
static inline f32x4 f32x4_mul(f32x4 a, f32x4 b) { return wasm_f32x4_mul(a, b); }
// acc + a * b (two instructions: Node 20 has no fused multiply-add for WASM)
static inline f32x4 f32x4_madd(f32x4 acc, f32x4 a, f32x4 b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }
// lane L of v in all four lanes
template <int L> static inline f32x4 f32x4_lane(f32x4 v) { return wasm_i32x4_shuffle(v, v, L, L, L, L); }

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

#else
#define TRM_SIMD_NAME "scalar"
struct f32x4 { float v[4]; };
static inline f32x4 f32x4_load(const float* p) { return {{p[0], p[1], p[2], p[3]}}; }
static inline void f32x4_store(float* p, f32x4 a) { for (int i = 0; i < 4; ++i) p[i] = a.v[i]; }
static inline f32x4 f32x4_splat(float x) { return {{x, x, x, x}}; }
static inline f32x4 f32x4_zero() { return f32x4_splat(0.f); }
static inline f32x4 f32x4_add(f32x4 a, f32x4 b) { for (int i = 0; i < 4; ++i) a.v[i] += b.v[i]; return a; }
static inline f32x4 f32x4_mul(f32x4 a, f32x4 b) { for (int i = 0; i < 4; ++i) a.v[i] *= b.v[i]; return a; }
static inline f32x4 f32x4_madd(f32x4 acc, f32x4 a, f32x4 b) { for (int i = 0; i < 4; ++i) acc.v[i] += a.v[i] * b.v[i]; return acc; }
template <int L> static inline f32x4 f32x4_lane(f32x4 v) { return f32x4_splat(v.v[L]); }
#endif
