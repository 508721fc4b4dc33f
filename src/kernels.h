// The numeric kernels of the forward pass: pure functions over caller-owned buffers, no allocation.
// The matrix products are where the time goes (over 95% of a step); everything else is a single pass.
// Portable path: Eigen (vectorised natively; scalar + compiler auto-vectorisation under WASM).
#pragma once
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
// Same with gate and up stacked as row blocks: gate = gu[0:I, :], up = gu[I:2I, :], each [I, cols].
void swiglu_blocks(int I, int cols, const float* gu, float* out);

// Rotary position embedding in place on `heads` head vectors of width hd at stride `ld` per position:
// (a, b) -> (a*cos - b*sin, b*cos + a*sin) with cos/sin tables [S, hd].
void rope(int S, int heads, int hd, float* v, int ld, const float* cos, const float* sin);

// Softmax of each row of x [rows, cols], in place, after scaling by `scale`.
void softmax_rows(int rows, int cols, float* x, float scale);

// Index of the largest of n values (first on ties).
int32_t argmax(const float* x, int n);

// ---- SIMD GEMM over weights packed once at load (the WASM path; also built natively, for tests) ----
// Panels of 8 output columns, k-major: panel p holds w[8p + j][k] at p*K*8 + k*8 + j; the last panel is
// zero-padded, so every panel load is in bounds.
constexpr int kPanel = 8;
std::vector<float> pack_panels(const float* w, int N, int K);  // w [N, K] -> [ceil(N/8), K, 8]
// y[M, N] = x[M, K] * w^T with w packed; `panels` points at the panel of column 0 of this call (8-aligned).
// Register tile 4 rows x 8 columns (f32x4 x 2), rows in remainder tiles of 3, 2, 1.
void gemm_nt_packed_4x8(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy);
// y[M, N] = a[M, K] * b[K, N] with b row-major (activations): the same 4x8 tile reading b in place;
// the last N % 8 columns in scalar code.
void gemm_nn_4x8(int M, int N, int K, const float* a, int lda, const float* b, int ldb, float* y, int ldy);
const char* simd_name();  // the instruction set these kernels were compiled for

}  // namespace trm
