#include "kernels.h"

#include <Eigen/Core>
#include <cmath>

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

}  // namespace trm
