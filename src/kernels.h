// The numeric kernels of the forward pass: pure functions over caller-owned buffers, no allocation.
// The matrix products are where the time goes (over 95% of a step); everything else is a single pass.
// Portable path: Eigen (vectorised natively; scalar + compiler auto-vectorisation under WASM).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace trm {

// y[M, N] = x[M, K] * w[N, K]^T  (a PyTorch Linear without bias). ld* are row strides in floats.
void gemm_nt(int M, int N, int K, const float* x, int ldx, const float* w, int ldw, float* y, int ldy);
// y[M, N] = a[M, K] * b[K, N]
void gemm_nn(int M, int N, int K, const float* a, int lda, const float* b, int ldb, float* y, int ldy);

// h[r, :] = rms_norm(h[r, :] + d[r, :]) for each of `rows` rows of width `cols` (residual then RMS norm, no weight).
void add_rms_norm_rows(int rows, int cols, float* h, const float* d, float eps);
// Same, but the norm runs down each column (the position axis of the token-mixing block). ss: [cols] scratch.
void add_rms_norm_cols(int rows, int cols, float* h, const float* d, float eps, float* ss);

// SwiGLU gating: out[r, j] = silu(gu[r, j]) * gu[r, I + j] for r < rows, j < I; gu rows are 2I wide.
void swiglu_rows(int rows, int I, const float* gu, float* out);
// Same over n contiguous values: out[i] = silu(gate[i]) * up[i] (gate and up: row blocks of one matrix).
void swiglu(size_t n, const float* gate, const float* up, float* out);

// Rotary position embedding in place on `heads` head vectors of width hd at stride `ld` per position:
// (a, b) -> (a*cos - b*sin, b*cos + a*sin) with cos/sin tables [S, hd].
void rope(int S, int heads, int hd, float* v, int ld, const float* cos, const float* sin);

// Softmax of each row of x [rows, cols], in place, after scaling by `scale`.
void softmax_rows(int rows, int cols, float* x, float scale);

// Index of the largest of n values (first on ties).
int32_t argmax(const float* x, int n);

// ---- SIMD GEMM over weights packed once at load (the WASM path; also built natively, for tests) ----
// Written once against the f32x4 layer of simd.h, so `__f32x4` means WASM SIMD128 in WASM builds (with relaxed SIMD's
// fused multiply-add in the relaxed builds) and SSE (with FMA where the CPU has it) natively; simd_name() says which.
// Panels of 8 output columns, k-major: panel p holds w[8p + j][k] at p*K*8 + k*8 + j; the last panel is
// zero-padded, so every panel load is in bounds.
constexpr int kPanel = 8;
size_t packed_size(int N, int K);                                      // floats in the panels of an [N, K] matrix
std::vector<float> pack_panels(const float* w, int N, int K);          // w [N, K] -> [ceil(N/8), K, 8]
void pack_panels_into(int N, int K, const float* w, int ldw, float* out);     // same, into out[packed_size(N, K)]
void pack_panels_kn_into(int K, int N, const float* b, int ldb, float* out);  // b [K, N] row-major (b^T as w)

// y[M, N] = x[M, K] * w^T with w packed; `panels` points at the panel of column 0 of this call (8-aligned).
// Name: register tile (rows x columns), then the variant: plain kernels splat one x value per row and k;
// `_lanes` ones load 4 k-values of a row at once and broadcast each lane by a shuffle. Remainder rows and the last
// partial panel run the same code with a smaller tile. Every one is tested against gemm_nt (Eigen).
using GemmPackedFn = void (*)(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
void gemm_nt_packed_4x8__f32x4(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
void gemm_nt_packed_6x8__f32x4(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
void gemm_nt_packed_8x8__f32x4(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
void gemm_nt_packed_4x16__f32x4(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
void gemm_nt_packed_4x8__f32x4_lanes(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
void gemm_nt_packed_6x8__f32x4_lanes(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
void gemm_nt_packed_8x8__f32x4_lanes(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
void gemm_nt_packed_4x16__f32x4_lanes(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
// `_kc256`: K in blocks of 256 (y accumulated block by block), so that a panel's slice stays in L1 for large K.
void gemm_nt_packed_4x8__f32x4_kc256(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
void gemm_nt_packed_4x8__f32x4_lanes_kc256(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
void gemm_nt_packed_6x8__f32x4_lanes_kc256(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
struct GemmPackedKernel {
    const char* name;
    GemmPackedFn fn;
};
extern const GemmPackedKernel kGemmPackedKernels[];  // every variant above, for tests and the benchmark
extern const int kGemmPackedKernelCount;

// The packed kernel the engine runs (Solver::linear, Solver::matmul after packing its right operand, attention):
// the one place that dispatches, chosen by measurement.
void gemm_nt_packed(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
// ---- Fused SwiGLU: act[M, I] = silu(x w_gate^T) * (x w_up^T), w_gate/w_up = rows [0, I) / [I, 2I) of a
// gate_up matrix [2I, K], packed once as pair panels: per 8 output columns the gate panel, then the up panel. The
// gate_up product's [M, 2I] never exists; each tile applies the gating to its own sums.
inline size_t swiglu_packed_size(int I, int K) { return 2 * packed_size(I, K); }
void pack_swiglu_panels_into(int I, int K, const float* gate_up, float* out);  // gate_up [2I, K] -> pair panels
using GemmSwigluFn = void (*)(int M, int I, int K, const float* x, int ldx, const float* pairs, float* y, int ldy);
void gemm_swiglu_packed_4x16__f32x4(int M, int I, int K, const float* x, int ldx, const float* pairs, float* y, int ldy);
void gemm_swiglu_packed_4x16__f32x4_lanes(int M, int I, int K, const float* x, int ldx, const float* pairs, float* y, int ldy);
void gemm_swiglu_packed_3x16__f32x4_lanes(int M, int I, int K, const float* x, int ldx, const float* pairs, float* y, int ldy);
void gemm_swiglu_packed_4x8__f32x4(int M, int I, int K, const float* x, int ldx, const float* pairs, float* y, int ldy);
void gemm_swiglu_packed_6x8__f32x4(int M, int I, int K, const float* x, int ldx, const float* pairs, float* y, int ldy);
struct GemmSwigluKernel {
    const char* name;
    GemmSwigluFn fn;
};
extern const GemmSwigluKernel kGemmSwigluKernels[];
extern const int kGemmSwigluKernelCount;
// The one the engine runs; `pairs` points at the pair of column 0 of this call (8-aligned).
void gemm_swiglu_packed(int M, int I, int K, const float* x, int ldx, const float* pairs, float* y, int ldy);

// ---- Integer GEMM for int8 weights (also written once against simd.h) ----
// Both operands as int16 (int8 weights widened, activations quantised to int16 at a range that cannot overflow);
// products summed in pairs of k into int32 lanes (i32x4.dot_i16x8 / pmaddwd), exact; then y = acc * sa[m] * sb[n].
// K is padded to even (Kp) with zeros. The right operand is packed as "pair panels" of 8 columns:
// panel p, pair kk holds (b[8p + j][2kk], b[8p + j][2kk + 1]) for j = 0..7 at p*Kp*8 + kk*16 + 2j (+1).
constexpr int i16_padded_k(int K) { return K + (K & 1); }
size_t pair_panels_size(int N, int K);  // int16s in the pair panels of an [N, K] matrix
void pack_pair_panels_i8(int N, int K, const int8_t* w, int16_t* out);  // w [N, K] int8 (row-major) -> panels
// The largest |q| of one operand over K when the other's is at most `other`: Kp * other * q < 2^31, so no sum
// overflows (other = 127: activations against int8 weights).
int i16_range(int K, int other = 127);
// One range for both operands: Kp * q^2 < 2^31 (two quantised activations: attention's products in int8 models).
int i16_range_both(int K);
// Quantisation to int16 with one scale per row or column: q = round(x / scale), scale = absmax / range, so
// |q| <= range; an all-zero row gets scale 0.
// x [M, K] -> q [M, Kp] (row stride ldq, zero-padded), scale [M].
void quantize_rows_i16(int M, int K, const float* x, int ldx, int range, int16_t* q, int ldq, float* scale);
// w [N, K] (row stride ldw) -> pair panels of w (w as the right operand), scale [N].
void quantize_rows_to_pair_panels(int N, int K, const float* w, int ldw, int range, int16_t* panels, float* scale);
// b [K, N] row-major -> pair panels of b^T (b^T as the [N, K] right operand), one scale per column, scale [N].
void quantize_cols_to_pair_panels(int K, int N, const float* b, int ldb, int range, int16_t* panels, float* scale);
// softmax_rows(x * scale) of x [rows, cols], quantised: q [rows, Kp] (row stride ldq, zero-padded), with the row's
// largest probability at `range`, and qscale [rows], so that the probabilities are q * qscale. x is not written.
void softmax_rows_i16(int rows, int cols, const float* x, float scale, int range, int16_t* q, int ldq, float* qscale);
// y[M, N] = (a[M, Kp] * panels^T) * sa[m] * sb[n]; a's rows at stride lda (int16s); panels from column 0 of this
// call (8-aligned), sb likewise.
using GemmI16Fn = void (*)(int M, int N, int K, const int16_t* a, int lda, const float* sa, const int16_t* panels,
                           const float* sb, float* y, int ldy);
void gemm_nt_pairs_4x8__i16x8(int M, int N, int K, const int16_t* a, int lda, const float* sa, const int16_t* panels,
                              const float* sb, float* y, int ldy);
void gemm_nt_pairs_6x8__i16x8(int M, int N, int K, const int16_t* a, int lda, const float* sa, const int16_t* panels,
                              const float* sb, float* y, int ldy);
struct GemmI16Kernel {
    const char* name;
    GemmI16Fn fn;
};
extern const GemmI16Kernel kGemmI16Kernels[];
extern const int kGemmI16KernelCount;
void gemm_nt_pairs(int M, int N, int K, const int16_t* a, int lda, const float* sa, const int16_t* panels,
                   const float* sb, float* y, int ldy);  // the one the engine runs

const char* simd_name();  // the instruction set these kernels were compiled for

}  // namespace trm
