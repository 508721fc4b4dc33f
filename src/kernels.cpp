#include "kernels.h"

#include <Eigen/Core>
#include <cmath>

#include "simd.h"

namespace trm {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMat = Eigen::Map<const RowMajor, 0, Eigen::OuterStride<>>;
using Mat = Eigen::Map<RowMajor, 0, Eigen::OuterStride<>>;

void gemm_nt(int M, int N, int K, const float* x, int ldx, const float* w, int ldw, float* y, int ldy) {
    ConstMat X(x, M, K, Eigen::OuterStride<>(ldx));
    ConstMat W(w, N, K, Eigen::OuterStride<>(ldw));
    Mat Y(y, M, N, Eigen::OuterStride<>(ldy));
    Y.noalias() = X * W.transpose();
}

void gemm_nn(int M, int N, int K, const float* a, int lda, const float* b, int ldb, float* y, int ldy) {
    ConstMat A(a, M, K, Eigen::OuterStride<>(lda));
    ConstMat B(b, K, N, Eigen::OuterStride<>(ldb));
    Mat Y(y, M, N, Eigen::OuterStride<>(ldy));
    Y.noalias() = A * B;
}

void add_rms_norm_rows(int rows, int cols, float* h, const float* d, float eps) {
    for (int r = 0; r < rows; ++r) {
        float* hr = h + size_t(r) * cols;
        const float* dr = d + size_t(r) * cols;
        float ss = 0.f;
        for (int c = 0; c < cols; ++c) {
            hr[c] += dr[c];
            ss += hr[c] * hr[c];
        }
        const float inv = 1.f / std::sqrt(ss / float(cols) + eps);
        for (int c = 0; c < cols; ++c) hr[c] *= inv;
    }
}

void add_rms_norm_cols(int rows, int cols, float* h, const float* d, float eps, float* ss) {
    // Column sums accumulated row by row so the inner loop stays contiguous.
    for (int c = 0; c < cols; ++c) ss[c] = 0.f;
    for (int r = 0; r < rows; ++r) {
        float* hr = h + size_t(r) * cols;
        const float* dr = d + size_t(r) * cols;
        for (int c = 0; c < cols; ++c) {
            hr[c] += dr[c];
            ss[c] += hr[c] * hr[c];
        }
    }
    for (int c = 0; c < cols; ++c) ss[c] = 1.f / std::sqrt(ss[c] / float(rows) + eps);
    for (int r = 0; r < rows; ++r) {
        float* hr = h + size_t(r) * cols;
        for (int c = 0; c < cols; ++c) hr[c] *= ss[c];
    }
}

static inline float silu(float g) { return g / (1.f + std::exp(-g)); }

void swiglu_rows(int rows, int I, const float* gu, float* out) {
    for (int r = 0; r < rows; ++r) {
        const float* g = gu + size_t(r) * 2 * I;
        const float* u = g + I;
        float* o = out + size_t(r) * I;
        for (int j = 0; j < I; ++j) o[j] = silu(g[j]) * u[j];
    }
}

void swiglu_blocks(int I, int cols, const float* gu, float* out) {
    const size_t n = size_t(I) * cols;
    const float* u = gu + n;
    for (size_t i = 0; i < n; ++i) out[i] = silu(gu[i]) * u[i];
}

void rope(int S, int heads, int hd, float* v, int ld, const float* cos, const float* sin) {
    const int half = hd / 2;
    for (int s = 0; s < S; ++s) {
        const float* c = cos + size_t(s) * hd;
        const float* sn = sin + size_t(s) * hd;
        for (int h = 0; h < heads; ++h) {
            float* a = v + size_t(s) * ld + size_t(h) * hd;
            float* b = a + half;
            for (int j = 0; j < half; ++j) {
                const float aj = a[j], bj = b[j];
                a[j] = aj * c[j] - bj * sn[j];
                b[j] = bj * c[j + half] + aj * sn[j + half];
            }
        }
    }
}

void softmax_rows(int rows, int cols, float* x, float scale) {
    for (int r = 0; r < rows; ++r) {
        float* xr = x + size_t(r) * cols;
        float mx = -INFINITY;
        for (int c = 0; c < cols; ++c) mx = std::max(mx, xr[c] * scale);
        float sum = 0.f;
        for (int c = 0; c < cols; ++c) {
            xr[c] = std::exp(xr[c] * scale - mx);
            sum += xr[c];
        }
        const float inv = 1.f / sum;
        for (int c = 0; c < cols; ++c) xr[c] *= inv;
    }
}

int32_t argmax(const float* x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; ++i)
        if (x[i] > x[best]) best = i;
    return best;
}

// ---------------------------------------------------------------------------------------------------------------
// SIMD GEMM: one micro-kernel, c[R, 8] = a[R, K] * b[K, 8] with b(k, j) = b[k * kstride + j], R = 1..4.

std::vector<float> pack_panels(const float* w, int N, int K) {
    const int panels = (N + kPanel - 1) / kPanel;
    std::vector<float> out(size_t(panels) * K * kPanel, 0.f);
    for (int n = 0; n < N; ++n)
        for (int k = 0; k < K; ++k) out[(size_t(n / kPanel) * K + k) * kPanel + n % kPanel] = w[size_t(n) * K + k];
    return out;
}

const char* simd_name() { return TRM_SIMD_NAME; }

template <int R>
static inline void tile_rx8(int K, const float* a, int lda, const float* b, int kstride, float* c, int ldc, int ncols) {
    f32x4 acc0[R], acc1[R];
    for (int r = 0; r < R; ++r) acc0[r] = acc1[r] = f32x4_zero();
    for (int k = 0; k < K; ++k) {
        const f32x4 b0 = f32x4_load(b + size_t(k) * kstride);
        const f32x4 b1 = f32x4_load(b + size_t(k) * kstride + 4);
        for (int r = 0; r < R; ++r) {
            const f32x4 ar = f32x4_splat(a[size_t(r) * lda + k]);
            acc0[r] = f32x4_madd(acc0[r], ar, b0);
            acc1[r] = f32x4_madd(acc1[r], ar, b1);
        }
    }
    for (int r = 0; r < R; ++r) {
        float* cr = c + size_t(r) * ldc;
        if (ncols == kPanel) {
            f32x4_store(cr, acc0[r]);
            f32x4_store(cr + 4, acc1[r]);
        } else {
            float tmp[kPanel];
            f32x4_store(tmp, acc0[r]);
            f32x4_store(tmp + 4, acc1[r]);
            for (int j = 0; j < ncols; ++j) cr[j] = tmp[j];
        }
    }
}

// Rows in tiles of 4, then one tile of the 1-3 left over.
static inline void tile_rows(int M, int K, const float* a, int lda, const float* b, int kstride, float* c, int ldc, int ncols) {
    int m = 0;
    for (; m + 4 <= M; m += 4) tile_rx8<4>(K, a + size_t(m) * lda, lda, b, kstride, c + size_t(m) * ldc, ldc, ncols);
    const float* am = a + size_t(m) * lda;
    float* cm = c + size_t(m) * ldc;
    switch (M - m) {
        case 3: tile_rx8<3>(K, am, lda, b, kstride, cm, ldc, ncols); break;
        case 2: tile_rx8<2>(K, am, lda, b, kstride, cm, ldc, ncols); break;
        case 1: tile_rx8<1>(K, am, lda, b, kstride, cm, ldc, ncols); break;
        default: break;
    }
}

void gemm_nt_packed_4x8(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy) {
    for (int n = 0; n < N; n += kPanel)
        tile_rows(M, K, x, ldx, panels + size_t(n / kPanel) * K * kPanel, kPanel, y + n, ldy, std::min(kPanel, N - n));
}

void gemm_nn_4x8(int M, int N, int K, const float* a, int lda, const float* b, int ldb, float* y, int ldy) {
    const int full = N / kPanel * kPanel;
    for (int n = 0; n < full; n += kPanel) tile_rows(M, K, a, lda, b + n, ldb, y + n, ldy, kPanel);
    for (int m = 0; m < M; ++m)  // columns past the last whole panel: too few for a vector
        for (int n = full; n < N; ++n) {
            float s = 0.f;
            for (int k = 0; k < K; ++k) s += a[size_t(m) * lda + k] * b[size_t(k) * ldb + n];
            y[size_t(m) * ldy + n] = s;
        }
}

}  // namespace trm
