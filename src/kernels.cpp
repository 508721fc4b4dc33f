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
// silu(g) * u on 4 lanes: g / (1 + e^-g) * u with the polynomial exp of simd.h.
static inline f32x4 swiglu4(f32x4 g, f32x4 u) {
    const f32x4 e = f32x4_exp(f32x4_sub(f32x4_zero(), g));
    return f32x4_mul(f32x4_div(g, f32x4_add(f32x4_splat(1.f), e)), u);
}

void swiglu_rows(int rows, int I, const float* gu, float* out) {
    for (int r = 0; r < rows; ++r) {
        const float* g = gu + size_t(r) * 2 * I;
        const float* u = g + I;
        float* o = out + size_t(r) * I;
        int j = 0;
        for (; j + 4 <= I; j += 4) f32x4_store(o + j, swiglu4(f32x4_load(g + j), f32x4_load(u + j)));
        for (; j < I; ++j) o[j] = silu(g[j]) * u[j];
    }
}

void swiglu(size_t n, const float* gate, const float* up, float* out) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) f32x4_store(out + i, swiglu4(f32x4_load(gate + i), f32x4_load(up + i)));
    for (; i < n; ++i) out[i] = silu(gate[i]) * up[i];
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

// The row's largest x*scale, 4 lanes at a time (a scalar max is a serial chain the compiler keeps as is).
static float max_scaled(const float* x, int cols, float scale) {
    const f32x4 vscale = f32x4_splat(scale);
    f32x4 vmax = f32x4_splat(-INFINITY);
    int c = 0;
    for (; c + 4 <= cols; c += 4) vmax = f32x4_max(vmax, f32x4_mul(f32x4_load(x + c), vscale));
    float lanes[4];
    f32x4_store(lanes, vmax);
    float mx = std::max(std::max(lanes[0], lanes[1]), std::max(lanes[2], lanes[3]));
    for (; c < cols; ++c) mx = std::max(mx, x[c] * scale);
    return mx;
}

// e_c = 2^(x_c * scale2 - mx) along a row, 4 lanes at a time with the polynomial exp2 of simd.h (arguments <= 0;
// below -126 it gives 2^-126 ~ 1.2e-38 instead of a smaller number or 0: nothing against a sum of at least 1);
// put4(c, e) takes each 4 values, put1(c, e) each of the remainder. Returns the row's sum. Softmax computes
// e^(x*scale - max) this way, with log2 e folded into scale2: the exponential without its own multiply.
template <class Put4, class Put1>
static inline float exp2_row(const float* xr, int cols, float scale2, float mx, Put4 put4, Put1 put1) {
    const f32x4 vscale = f32x4_splat(scale2), vmx = f32x4_splat(mx);
    f32x4 vsum = f32x4_zero();
    int c;
    for (c = 0; c + 4 <= cols; c += 4) {
        const f32x4 e = f32x4_exp2(f32x4_sub(f32x4_mul(f32x4_load(xr + c), vscale), vmx));
        put4(c, e);
        vsum = f32x4_add(vsum, e);
    }
    float lanes[4];
    f32x4_store(lanes, vsum);
    float sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; c < cols; ++c) {
        const float e = std::exp2(xr[c] * scale2 - mx);
        put1(c, e);
        sum += e;
    }
    return sum;
}

void softmax_rows(int rows, int cols, float* x, float scale) {
    const float scale2 = scale * kLog2e;
    for (int r = 0; r < rows; ++r) {
        float* xr = x + size_t(r) * cols;
        const float sum = exp2_row(xr, cols, scale2, max_scaled(xr, cols, scale2),
                                   [&](int c, f32x4 e) { f32x4_store(xr + c, e); }, [&](int c, float e) { xr[c] = e; });
        const float inv = 1.f / sum;
        const f32x4 vinv = f32x4_splat(inv);
        int c;
        for (c = 0; c + 4 <= cols; c += 4) f32x4_store(xr + c, f32x4_mul(f32x4_load(xr + c), vinv));
        for (; c < cols; ++c) xr[c] *= inv;
    }
}

int32_t argmax(const float* x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; ++i)
        if (x[i] > x[best]) best = i;
    return best;
}

// ---------------------------------------------------------------------------------------------------------------
// SIMD GEMM over the f32x4 layer of simd.h. One register-tile template, c[R, 4*NB] = a[R, K] * b[K, 4*NB], where
// b's row k is read from panel rows of 8 floats: its first LO vectors from lo + 8k, the rest from hi + 8k (two
// 8-column panels; SwiGLU: the gate columns from lo, the matching up columns from hi). LANES: read a 4 k-values at
// a time with one vector load and broadcast each lane by a shuffle (one shuffle instead of a scalar load + splat per
// row and k).

size_t packed_size(int N, int K) { return size_t((N + kPanel - 1) / kPanel) * size_t(K) * kPanel; }

void pack_panels_into(int N, int K, const float* w, int ldw, float* out) {
    const int panels = (N + kPanel - 1) / kPanel;
    for (int p = 0; p < panels; ++p) {
        float* o = out + size_t(p) * K * kPanel;
        const int n0 = p * kPanel, nn = std::min(kPanel, N - n0);
        for (int j = 0; j < nn; ++j) {
            const float* wr = w + size_t(n0 + j) * ldw;
            for (int k = 0; k < K; ++k) o[size_t(k) * kPanel + j] = wr[k];
        }
        for (int j = nn; j < kPanel; ++j)
            for (int k = 0; k < K; ++k) o[size_t(k) * kPanel + j] = 0.f;
    }
}

void pack_panels_kn_into(int K, int N, const float* b, int ldb, float* out) {
    const int panels = (N + kPanel - 1) / kPanel;
    for (int p = 0; p < panels; ++p) {
        float* o = out + size_t(p) * K * kPanel;
        const int n0 = p * kPanel, nn = std::min(kPanel, N - n0);
        for (int k = 0; k < K; ++k) {
            const float* br = b + size_t(k) * ldb + n0;
            float* ok = o + size_t(k) * kPanel;
            int j = 0;
            for (; j < nn; ++j) ok[j] = br[j];
            for (; j < kPanel; ++j) ok[j] = 0.f;
        }
    }
}

std::vector<float> pack_panels(const float* w, int N, int K) {
    std::vector<float> out(packed_size(N, K));
    pack_panels_into(N, K, w, K, out.data());
    return out;
}

const char* simd_name() { return TRM_SIMD_NAME; }

namespace {

// The first ncols (<= 4 * N) of the 4 * N values v into c: whole vectors when all fit.
template <int N>
static inline void store_cols(float* c, const f32x4 (&v)[N], int ncols) {
    if (ncols == 4 * N) {
        for (int j = 0; j < N; ++j) f32x4_store(c + 4 * j, v[j]);
        return;
    }
    float tmp[4 * N];
    for (int j = 0; j < N; ++j) f32x4_store(tmp + 4 * j, v[j]);
    for (int j = 0; j < ncols; ++j) c[j] = tmp[j];
}

template <int R, int NB>
struct Acc {
    f32x4 v[R][NB];
};

// The NB vectors of b at one k: LO from lo, the rest from hi.
template <int R, int NB, int LO>
static inline void fma_k(Acc<R, NB>& acc, const f32x4 (&av)[R], const float* lo, const float* hi) {
    f32x4 bv[NB];
    for (int j = 0; j < NB; ++j) bv[j] = f32x4_load(j < LO ? lo + 4 * j : hi + 4 * (j - LO));
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < NB; ++j) acc.v[r][j] = f32x4_madd(acc.v[r][j], av[r], bv[j]);
}

// How a tile leaves its sums: stored (or added to c, for a later block of K), or as SwiGLU: the tile's first NB/2
// vectors per row are gate columns (from lo), the last NB/2 the matching up columns (from hi), and c gets
// silu(gate) * up (2 * NB wide).
enum class Epilogue { Store, SwiGLU };

// accumulate: c += the product (a later block of K) instead of c = it.
//
// Each row of a and the panels are read through pointers that move on with k (LANES: by 4 per pass, with constant
// offsets inside it). Emscripten compiles with -mllvm -disable-lsr and V8 reduces no strength either, so an address
// written as a + r * lda + k was recomputed from k at every use: two integer instructions per row and k, nearly as
// many as the multiply-adds they fed (seen in node --print-wasm-code).
template <int R, int NB, bool LANES, Epilogue EPI = Epilogue::Store>
static inline void tile(int K, const float* a, int lda, const float* lo, const float* hi, float* c, int ldc, int ncols,
                        bool accumulate) {
    constexpr int LO = EPI == Epilogue::SwiGLU ? NB / 2 : 2;  // vectors of b from lo: gates, or one 8-column panel
    constexpr int P = kPanel;                                  // floats per k in a panel
    Acc<R, NB> acc;
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < NB; ++j) acc.v[r][j] = f32x4_zero();
    const float* ar[R];
    for (int r = 0; r < R; ++r) ar[r] = a + size_t(r) * lda;
    int k = 0;
    if (LANES) {
        for (; k + 4 <= K; k += 4) {
            f32x4 a4[R], av[R];
            for (int r = 0; r < R; ++r) a4[r] = f32x4_load(ar[r]);
            for (int r = 0; r < R; ++r) av[r] = f32x4_lane<0>(a4[r]);
            fma_k<R, NB, LO>(acc, av, lo, hi);
            for (int r = 0; r < R; ++r) av[r] = f32x4_lane<1>(a4[r]);
            fma_k<R, NB, LO>(acc, av, lo + P, hi + P);
            for (int r = 0; r < R; ++r) av[r] = f32x4_lane<2>(a4[r]);
            fma_k<R, NB, LO>(acc, av, lo + 2 * P, hi + 2 * P);
            for (int r = 0; r < R; ++r) av[r] = f32x4_lane<3>(a4[r]);
            fma_k<R, NB, LO>(acc, av, lo + 3 * P, hi + 3 * P);
            for (int r = 0; r < R; ++r) ar[r] += 4;
            lo += 4 * P;
            hi += 4 * P;
        }
    }
    for (; k < K; ++k) {
        f32x4 av[R];
        for (int r = 0; r < R; ++r) av[r] = f32x4_splat(*ar[r]++);
        fma_k<R, NB, LO>(acc, av, lo, hi);
        lo += P;
        hi += P;
    }
    if constexpr (EPI == Epilogue::SwiGLU) {
        constexpr int H = NB / 2;
        static_assert(NB % 2 == 0, "a SwiGLU tile holds as many up columns as gate columns");
        for (int r = 0; r < R; ++r) {
            f32x4 act[H];
            for (int j = 0; j < H; ++j) act[j] = swiglu4(acc.v[r][j], acc.v[r][H + j]);
            store_cols<H>(c + size_t(r) * ldc, act, ncols);
        }
        return;
    }
    for (int r = 0; r < R; ++r) {
        float* cr = c + size_t(r) * ldc;
        if (ncols == 4 * NB) {
            for (int j = 0; j < NB; ++j)
                f32x4_store(cr + 4 * j, accumulate ? f32x4_add(acc.v[r][j], f32x4_load(cr + 4 * j)) : acc.v[r][j]);
        } else {
            float tmp[4 * NB];
            for (int j = 0; j < NB; ++j) f32x4_store(tmp + 4 * j, acc.v[r][j]);
            for (int j = 0; j < ncols; ++j) cr[j] = accumulate ? cr[j] + tmp[j] : tmp[j];
        }
    }
}

// Rows [0, M) of one column strip: tiles of MR rows, then one tile of the M % MR left over.
template <int R, int NB, bool LANES, Epilogue EPI>
static inline void tile_rest(int left, int K, const float* a, int lda, const float* lo, const float* hi, float* c,
                             int ldc, int ncols, bool accumulate) {
    if constexpr (R > 0) {
        if (left == R) tile<R, NB, LANES, EPI>(K, a, lda, lo, hi, c, ldc, ncols, accumulate);
        else tile_rest<R - 1, NB, LANES, EPI>(left, K, a, lda, lo, hi, c, ldc, ncols, accumulate);
    }
}

// A single row left over joins the last tile instead (MR + 1 rows: 97 sudoku positions are 23 x 4 + 5), since a
// 1-row tile loads a b vector for every multiply-add.
template <int MR, int NB, bool LANES, Epilogue EPI = Epilogue::Store>
static inline void strip(int M, int K, const float* a, int lda, const float* lo, const float* hi, float* c, int ldc,
                         int ncols, bool accumulate = false) {
    const int whole = M % MR == 1 && M > MR ? M - MR - 1 : M;  // rows in tiles of MR
    int m = 0;
    for (; m + MR <= whole; m += MR)
        tile<MR, NB, LANES, EPI>(K, a + size_t(m) * lda, lda, lo, hi, c + size_t(m) * ldc, ldc, ncols, accumulate);
    if (M - m == MR + 1)
        tile<MR + 1, NB, LANES, EPI>(K, a + size_t(m) * lda, lda, lo, hi, c + size_t(m) * ldc, ldc, ncols,
                                     accumulate);
    else if (m < M)
        tile_rest<MR - 1, NB, LANES, EPI>(M - m, K, a + size_t(m) * lda, lda, lo, hi, c + size_t(m) * ldc, ldc,
                                          ncols, accumulate);
}

// y = x w^T over packed panels: rows in blocks (row_block) and K in blocks of KC (0: all of K), so that the block
// of x stays in cache while every panel streams past it and each panel's slice stays in L1; then column strips of
// 4*NB, then row tiles. K blocks after the first accumulate into y.
//
// Rows per block: as many as keep the block of x within 256 KiB (L2 of every current x86 and ARM core), in
// blocks of equal size rounded up to whole MR-row tiles (the last block takes the rest). The weights are the large operand (megabytes, fetched from L3 in a step), and each block
// streams all of them once, so fewer blocks fetch them fewer times: with 64-row blocks the 97 rows of a sudoku
// step took two passes over the weights and a 33-row block with a 1-row remainder tile.
static inline int row_block(int M, int K, int MR) {
    const int fit = std::max(16, int((size_t(256) << 10) / (sizeof(float) * size_t(std::max(K, 1)))));
    const int blocks = (M + fit - 1) / fit;
    if (blocks == 1) return std::max(1, M);
    return ((M + blocks - 1) / blocks + MR - 1) / MR * MR;  // whole tiles: 916 rows are 7 x 116 + 104, not 8 x 115
}

template <int MR, int NB, bool LANES, int KC>
static void gemm_packed(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy) {
    const size_t panel = size_t(K) * kPanel;
    const int W = 4 * NB;
    const int kc = KC > 0 ? KC : std::max(K, 1);
    const int rb = row_block(M, std::min(K, kc), MR);
    for (int m0 = 0; m0 < M; m0 += rb) {
        const int mb = std::min(rb, M - m0);
        float* yb = y + size_t(m0) * ldy;
        for (int k0 = 0; k0 < K || k0 == 0; k0 += kc) {
            const int kb = std::min(kc, K - k0);
            const bool acc = k0 > 0;
            const float* xb = x + size_t(m0) * ldx + k0;
            const float* pk = panels + size_t(k0) * kPanel;
            int n = 0;
            for (; n + W <= N; n += W) {
                const float* lo = pk + size_t(n / kPanel) * panel;
                strip<MR, NB, LANES>(mb, kb, xb, ldx, lo, lo + panel, yb + n, ldy, W, acc);
            }
            for (; n < N; n += kPanel) {  // 16-wide tiles: the last 8-column panel alone
                const float* lo = pk + size_t(n / kPanel) * panel;
                strip<MR, 2, LANES>(mb, kb, xb, ldx, lo, lo, yb + n, ldy, std::min(kPanel, N - n), acc);
            }
            if (K == 0) break;
        }
    }
}

// act = silu(x w_gate^T) * (x w_up^T) over SwiGLU pair panels: per W = 2 * NB output columns (8 or 4: all or
// half of a panel), a tile of 4 * NB products whose lo vectors come from the gate panel and whose hi vectors from
// the up panel, with the SwiGLU epilogue.
template <int MR, int NB, bool LANES>
static void gemm_swiglu(int M, int I, int K, const float* x, int ldx, const float* pairs, float* y, int ldy) {
    constexpr int W = 2 * NB;
    static_assert(kPanel % W == 0, "a SwiGLU tile covers a whole panel or a half");
    const size_t panel = size_t(K) * kPanel;
    const int rb = row_block(M, K, MR);
    for (int m0 = 0; m0 < M; m0 += rb) {
        const int mb = std::min(rb, M - m0);
        for (int n = 0; n < I; n += W) {
            const float* gate = pairs + size_t(n / kPanel) * 2 * panel + n % kPanel;
            strip<MR, NB, LANES, Epilogue::SwiGLU>(mb, K, x + size_t(m0) * ldx, ldx, gate, gate + panel,
                                                   y + size_t(m0) * ldy + n, ldy, std::min(W, I - n));
        }
    }
}

}  // namespace

void pack_swiglu_panels_into(int I, int K, const float* gate_up, float* out) {
    const size_t panel = size_t(K) * kPanel;
    for (int n = 0; n < I; n += kPanel) {
        const int nn = std::min(kPanel, I - n);
        float* o = out + size_t(n / kPanel) * 2 * panel;
        pack_panels_into(nn, K, gate_up + size_t(n) * K, K, o);                    // gate rows n..n+nn
        pack_panels_into(nn, K, gate_up + (size_t(I) + n) * K, K, o + panel);      // up rows I+n..I+n+nn
    }
}

#define TRM_GEMM_SWIGLU(NAME, MR, NB, LANES)                                                                  \
    void NAME(int M, int I, int K, const float* x, int ldx, const float* pairs, float* y, int ldy) {          \
        gemm_swiglu<MR, NB, LANES>(M, I, K, x, ldx, pairs, y, ldy);                                           \
    }
TRM_GEMM_SWIGLU(gemm_swiglu_packed_4x16__f32x4, 4, 4, false)
TRM_GEMM_SWIGLU(gemm_swiglu_packed_4x16__f32x4_lanes, 4, 4, true)
TRM_GEMM_SWIGLU(gemm_swiglu_packed_3x16__f32x4_lanes, 3, 4, true)
TRM_GEMM_SWIGLU(gemm_swiglu_packed_4x8__f32x4, 4, 2, false)
TRM_GEMM_SWIGLU(gemm_swiglu_packed_6x8__f32x4, 6, 2, false)
#undef TRM_GEMM_SWIGLU
const GemmSwigluKernel kGemmSwigluKernels[] = {
    {"gemm_swiglu_packed_4x16__f32x4", gemm_swiglu_packed_4x16__f32x4},
    {"gemm_swiglu_packed_4x16__f32x4_lanes", gemm_swiglu_packed_4x16__f32x4_lanes},
    {"gemm_swiglu_packed_3x16__f32x4_lanes", gemm_swiglu_packed_3x16__f32x4_lanes},
    {"gemm_swiglu_packed_4x8__f32x4", gemm_swiglu_packed_4x8__f32x4},
    {"gemm_swiglu_packed_6x8__f32x4", gemm_swiglu_packed_6x8__f32x4},
};
const int kGemmSwigluKernelCount = int(sizeof(kGemmSwigluKernels) / sizeof(kGemmSwigluKernels[0]));

// 4x8, chosen by measurement (docs/PERFORMANCE.md, "Kernel choices"): the wider tiles' accumulators and b vectors do
// not fit x64's 16 vector registers.
void gemm_swiglu_packed(int M, int I, int K, const float* x, int ldx, const float* pairs, float* y, int ldy) {
    gemm_swiglu_packed_4x8__f32x4(M, I, K, x, ldx, pairs, y, ldy);
}

#define TRM_GEMM_PACKED(NAME, MR, NB, LANES, KC)                                                              \
    void NAME(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy) {        \
        gemm_packed<MR, NB, LANES, KC>(M, N, K, x, ldx, panels, y, ldy);                                      \
    }
TRM_GEMM_PACKED(gemm_nt_packed_4x8__f32x4, 4, 2, false, 0)
TRM_GEMM_PACKED(gemm_nt_packed_6x8__f32x4, 6, 2, false, 0)
TRM_GEMM_PACKED(gemm_nt_packed_8x8__f32x4, 8, 2, false, 0)
TRM_GEMM_PACKED(gemm_nt_packed_4x16__f32x4, 4, 4, false, 0)
TRM_GEMM_PACKED(gemm_nt_packed_4x8__f32x4_lanes, 4, 2, true, 0)
TRM_GEMM_PACKED(gemm_nt_packed_6x8__f32x4_lanes, 6, 2, true, 0)
TRM_GEMM_PACKED(gemm_nt_packed_8x8__f32x4_lanes, 8, 2, true, 0)
TRM_GEMM_PACKED(gemm_nt_packed_4x16__f32x4_lanes, 4, 4, true, 0)
TRM_GEMM_PACKED(gemm_nt_packed_4x8__f32x4_kc256, 4, 2, false, 256)
TRM_GEMM_PACKED(gemm_nt_packed_4x8__f32x4_lanes_kc256, 4, 2, true, 256)
TRM_GEMM_PACKED(gemm_nt_packed_6x8__f32x4_lanes_kc256, 6, 2, true, 256)
#undef TRM_GEMM_PACKED

const GemmPackedKernel kGemmPackedKernels[] = {
    {"gemm_nt_packed_4x8__f32x4", gemm_nt_packed_4x8__f32x4},
    {"gemm_nt_packed_6x8__f32x4", gemm_nt_packed_6x8__f32x4},
    {"gemm_nt_packed_8x8__f32x4", gemm_nt_packed_8x8__f32x4},
    {"gemm_nt_packed_4x16__f32x4", gemm_nt_packed_4x16__f32x4},
    {"gemm_nt_packed_4x8__f32x4_lanes", gemm_nt_packed_4x8__f32x4_lanes},
    {"gemm_nt_packed_6x8__f32x4_lanes", gemm_nt_packed_6x8__f32x4_lanes},
    {"gemm_nt_packed_8x8__f32x4_lanes", gemm_nt_packed_8x8__f32x4_lanes},
    {"gemm_nt_packed_4x16__f32x4_lanes", gemm_nt_packed_4x16__f32x4_lanes},
    {"gemm_nt_packed_4x8__f32x4_kc256", gemm_nt_packed_4x8__f32x4_kc256},
    {"gemm_nt_packed_4x8__f32x4_lanes_kc256", gemm_nt_packed_4x8__f32x4_lanes_kc256},
    {"gemm_nt_packed_6x8__f32x4_lanes_kc256", gemm_nt_packed_6x8__f32x4_lanes_kc256},
};
const int kGemmPackedKernelCount = int(sizeof(kGemmPackedKernels) / sizeof(kGemmPackedKernels[0]));

// ---------------------------------------------------------------------------------------------------------------
// Integer GEMM (int8 weights). A tile of R rows x 8 columns keeps 2R int32 accumulators; per pair of k it loads
// the panel's two vectors once and, per row, broadcasts the row's (k, k+1) pair: one dot per 4 outputs and 2 k,
// twice the multiply-adds per instruction of the plain-SIMD f32 tile (two instructions per multiply-add); the
// relaxed-SIMD f32 tile's fused multiply-add matches the integer tile's count.

size_t pair_panels_size(int N, int K) { return size_t((N + kPanel - 1) / kPanel) * size_t(i16_padded_k(K)) * kPanel; }

void pack_pair_panels_i8(int N, int K, const int8_t* w, int16_t* out) {
    const int Kp = i16_padded_k(K), panels = (N + kPanel - 1) / kPanel;
    for (int p = 0; p < panels; ++p) {
        int16_t* o = out + size_t(p) * Kp * kPanel;
        for (int k = 0; k < Kp; ++k)
            for (int j = 0; j < kPanel; ++j) {
                const int n = p * kPanel + j;
                o[size_t(k / 2) * 16 + 2 * j + (k & 1)] = (n < N && k < K) ? int16_t(w[size_t(n) * K + k]) : int16_t(0);
            }
    }
}

int i16_range(int K, int other) {
    const int64_t q = (int64_t(1) << 31) / (int64_t(other) * std::max(i16_padded_k(K), 1)) - 1;
    return int(std::max<int64_t>(1, std::min<int64_t>(q, 32767)));
}

int i16_range_both(int K) {
    int64_t q = int64_t(std::sqrt(double(int64_t(1) << 31) / std::max(i16_padded_k(K), 1)));
    while (q > 1 && q * q * std::max(i16_padded_k(K), 1) >= (int64_t(1) << 31)) --q;  // the sqrt's rounding
    return int(std::min<int64_t>(q, 32767));
}

// scale = absmax / range; q = round(x / scale). A zero row gets scale 0 (and q 0): its products are 0 either way.
static inline float quant_scale(float absmax, int range) { return absmax > 0.f ? absmax / float(range) : 0.f; }
static inline float quant_inv(float absmax, int range) { return absmax > 0.f ? float(range) / absmax : 0.f; }
static inline int16_t quant(float x, float inv) { return int16_t(std::lrint(x * inv)); }

static float absmax_row(const float* x, int K) {
    f32x4 m4 = f32x4_zero();
    int k = 0;
    for (; k + 4 <= K; k += 4) m4 = f32x4_max(m4, f32x4_abs(f32x4_load(x + k)));
    float lanes[4];
    f32x4_store(lanes, m4);
    float m = std::max(std::max(lanes[0], lanes[1]), std::max(lanes[2], lanes[3]));
    for (; k < K; ++k) m = std::max(m, std::fabs(x[k]));
    return m;
}

// q[0, Kp) = round(x[0, K) * inv), zero-padded to even K.
static void quantize_row(const float* x, int K, float inv, int16_t* q) {
    const f32x4 vinv = f32x4_splat(inv);
    int k = 0;
    for (; k + 4 <= K; k += 4) f32x4_store_i16(q + k, f32x4_mul(f32x4_load(x + k), vinv));
    for (; k < K; ++k) q[k] = quant(x[k], inv);
    if (K & 1) q[K] = 0;
}

void quantize_rows_i16(int M, int K, const float* x, int ldx, int range, int16_t* q, int ldq, float* scale) {
    for (int m = 0; m < M; ++m) {
        const float absmax = absmax_row(x + size_t(m) * ldx, K);
        scale[m] = quant_scale(absmax, range);
        quantize_row(x + size_t(m) * ldx, K, quant_inv(absmax, range), q + size_t(m) * ldq);
    }
}

void quantize_rows_to_pair_panels(int N, int K, const float* w, int ldw, int range, int16_t* panels, float* scale) {
    const int Kp = i16_padded_k(K);
    for (int n0 = 0; n0 < N; n0 += kPanel) {
        int16_t* o = panels + size_t(n0 / kPanel) * Kp * kPanel;
        for (int j = 0; j < kPanel; ++j) {
            const int n = n0 + j;
            int16_t* oj = o + 2 * j;  // pair kk of this row goes to oj[16 kk], oj[16 kk + 1]
            if (n >= N) {
                for (int kk = 0; kk < Kp / 2; ++kk) oj[16 * kk] = oj[16 * kk + 1] = 0;
                continue;
            }
            const float* wr = w + size_t(n) * ldw;
            const float absmax = absmax_row(wr, K), inv = quant_inv(absmax, range);
            scale[n] = quant_scale(absmax, range);
            const f32x4 vinv = f32x4_splat(inv);
            int k = 0;
            for (; k + 4 <= K; k += 4) {  // 4 values are two pairs
                int16_t four[4];
                f32x4_store_i16(four, f32x4_mul(f32x4_load(wr + k), vinv));
                std::memcpy(oj + 8 * k, four, 4);
                std::memcpy(oj + 8 * k + 16, four + 2, 4);
            }
            for (; k < Kp; ++k) oj[8 * (k & ~1) + (k & 1)] = k < K ? quant(wr[k], inv) : int16_t(0);
        }
    }
}

void quantize_cols_to_pair_panels(int K, int N, const float* b, int ldb, int range, int16_t* panels, float* scale) {
    const int Kp = i16_padded_k(K);
    for (int n0 = 0; n0 < N; n0 += kPanel) {
        const int nn = std::min(kPanel, N - n0);
        int16_t* o = panels + size_t(n0 / kPanel) * Kp * kPanel;
        float inv[kPanel] = {};
        if (nn < kPanel) {  // the last, partial panel: scalar, so that no load reads past column N
            for (int j = 0; j < nn; ++j) {
                float absmax = 0.f;
                for (int k = 0; k < K; ++k) absmax = std::max(absmax, std::fabs(b[size_t(k) * ldb + n0 + j]));
                scale[n0 + j] = quant_scale(absmax, range);
                inv[j] = quant_inv(absmax, range);
            }
            for (int k = 0; k < Kp; ++k) {
                const float* br = b + size_t(k) * ldb + n0;
                for (int j = 0; j < kPanel; ++j)
                    o[size_t(k / 2) * 16 + 2 * j + (k & 1)] = (j < nn && k < K) ? quant(br[j], inv[j]) : int16_t(0);
            }
            continue;
        }
        // A whole panel: its 8 columns are two vectors of each row, so the absmax and the rounding run 8 wide and
        // rows k, k + 1 interleave straight into pair kk = k / 2.
        f32x4 m_lo = f32x4_zero(), m_hi = f32x4_zero();
        for (int k = 0; k < K; ++k) {
            const float* br = b + size_t(k) * ldb + n0;
            m_lo = f32x4_max(m_lo, f32x4_abs(f32x4_load(br)));
            m_hi = f32x4_max(m_hi, f32x4_abs(f32x4_load(br + 4)));
        }
        float absmax[kPanel];
        f32x4_store(absmax, m_lo);
        f32x4_store(absmax + 4, m_hi);
        for (int j = 0; j < kPanel; ++j) {
            scale[n0 + j] = quant_scale(absmax[j], range);
            inv[j] = quant_inv(absmax[j], range);
        }
        const f32x4 inv_lo = f32x4_load(inv), inv_hi = f32x4_load(inv + 4);
        for (int k = 0; k < K; k += 2, o += 16) {
            const float* r0 = b + size_t(k) * ldb + n0;
            const float* r1 = r0 + ldb;
            const bool pad = k + 1 == K;  // odd K: the last pair's second row is zero
            f32x4_store_i16_pairs(o, f32x4_mul(f32x4_load(r0), inv_lo), pad ? f32x4_zero() : f32x4_mul(f32x4_load(r1), inv_lo));
            f32x4_store_i16_pairs(o + 8, f32x4_mul(f32x4_load(r0 + 4), inv_hi), pad ? f32x4_zero() : f32x4_mul(f32x4_load(r1 + 4), inv_hi));
        }
    }
}

// e = e^(x*scale - max) is at most 1 (at the max), so q = round(e * range) puts the row's largest probability at
// range, and the probabilities e / sum are q / (range * sum): the normalisation is a scale, never a pass.
void softmax_rows_i16(int rows, int cols, const float* x, float scale, int range, int16_t* q, int ldq, float* qscale) {
    const float scale2 = scale * kLog2e;
    const f32x4 vrange = f32x4_splat(float(range));
    for (int r = 0; r < rows; ++r) {
        const float* xr = x + size_t(r) * cols;
        int16_t* qr = q + size_t(r) * ldq;
        const float sum = exp2_row(xr, cols, scale2, max_scaled(xr, cols, scale2),
                                   [&](int c, f32x4 e) { f32x4_store_i16(qr + c, f32x4_mul(e, vrange)); },
                                   [&](int c, float e) { qr[c] = int16_t(std::lrint(e * float(range))); });
        if (cols & 1) qr[cols] = 0;
        qscale[r] = 1.f / (float(range) * sum);
    }
}

namespace {

template <int R>
static inline void tile_i16(int pairs, const int16_t* a, int lda, const float* sa, const int16_t* panel,
                            const float* sb, float* c, int ldc, int ncols) {
    i32x4 acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = i32x4_zero();
    for (int kk = 0; kk < pairs; ++kk) {
        const i32x4 b0 = i16x8_load(panel + size_t(kk) * 16), b1 = i16x8_load(panel + size_t(kk) * 16 + 8);
        for (int r = 0; r < R; ++r) {
            const i32x4 av = i16x2_splat(a + size_t(r) * lda + 2 * kk);
            acc[r][0] = i32x4_add(acc[r][0], i32x4_dot_i16x8(av, b0));
            acc[r][1] = i32x4_add(acc[r][1], i32x4_dot_i16x8(av, b1));
        }
    }
    float sbv[kPanel] = {};
    for (int j = 0; j < ncols; ++j) sbv[j] = sb[j];
    const f32x4 sb0 = f32x4_load(sbv), sb1 = f32x4_load(sbv + 4);
    for (int r = 0; r < R; ++r) {
        const f32x4 s = f32x4_splat(sa[r]);
        const f32x4 y0 = f32x4_mul(f32x4_from_i32x4(acc[r][0]), f32x4_mul(s, sb0));
        const f32x4 y1 = f32x4_mul(f32x4_from_i32x4(acc[r][1]), f32x4_mul(s, sb1));
        store_cols<2>(c + size_t(r) * ldc, {y0, y1}, ncols);
    }
}

template <int R>
static inline void tile_i16_rest(int left, int pairs, const int16_t* a, int lda, const float* sa, const int16_t* panel,
                                 const float* sb, float* c, int ldc, int ncols) {
    if constexpr (R > 0) {
        if (left == R) tile_i16<R>(pairs, a, lda, sa, panel, sb, c, ldc, ncols);
        else tile_i16_rest<R - 1>(left, pairs, a, lda, sa, panel, sb, c, ldc, ncols);
    }
}

// Rows in blocks (row_block: the block of a stays in cache while the panels stream past), then 8-column panels,
// then row tiles of MR and one of the remainder.
template <int MR>
static void gemm_pairs(int M, int N, int K, const int16_t* a, int lda, const float* sa, const int16_t* panels,
                       const float* sb, float* y, int ldy) {
    const int pairs = i16_padded_k(K) / 2;
    const size_t panel = size_t(pairs) * 16;
    const int rb = row_block(M, K / 2, MR);  // int16 rows: half the bytes of float ones
    for (int m0 = 0; m0 < M; m0 += rb) {
        const int mb = std::min(rb, M - m0);
        for (int n = 0; n < N; n += kPanel) {
            const int16_t* pn = panels + size_t(n / kPanel) * panel;
            const int nc = std::min(kPanel, N - n);
            int m = 0;
            for (; m + MR <= mb; m += MR)
                tile_i16<MR>(pairs, a + size_t(m0 + m) * lda, lda, sa + m0 + m, pn, sb + n, y + size_t(m0 + m) * ldy + n,
                             ldy, nc);
            if (m < mb)
                tile_i16_rest<MR - 1>(mb - m, pairs, a + size_t(m0 + m) * lda, lda, sa + m0 + m, pn, sb + n,
                                      y + size_t(m0 + m) * ldy + n, ldy, nc);
        }
    }
}

}  // namespace

void gemm_nt_pairs_4x8__i16x8(int M, int N, int K, const int16_t* a, int lda, const float* sa, const int16_t* panels,
                              const float* sb, float* y, int ldy) {
    gemm_pairs<4>(M, N, K, a, lda, sa, panels, sb, y, ldy);
}
void gemm_nt_pairs_6x8__i16x8(int M, int N, int K, const int16_t* a, int lda, const float* sa, const int16_t* panels,
                              const float* sb, float* y, int ldy) {
    gemm_pairs<6>(M, N, K, a, lda, sa, panels, sb, y, ldy);
}
const GemmI16Kernel kGemmI16Kernels[] = {
    {"gemm_nt_pairs_4x8__i16x8", gemm_nt_pairs_4x8__i16x8},
    {"gemm_nt_pairs_6x8__i16x8", gemm_nt_pairs_6x8__i16x8},
};
const int kGemmI16KernelCount = int(sizeof(kGemmI16Kernels) / sizeof(kGemmI16Kernels[0]));

void gemm_nt_pairs(int M, int N, int K, const int16_t* a, int lda, const float* sa, const int16_t* panels,
                   const float* sb, float* y, int ldy) {
    gemm_nt_pairs_4x8__i16x8(M, N, K, a, lda, sa, panels, sb, y, ldy);
}

// The one place that chooses the kernel the engine runs, by measurement (the figures: docs/PERFORMANCE.md, "Kernel
// choices"). The 4x8 splat tile is the fastest on the TRM shapes in plain SIMD; the wider tiles' broadcasts and
// accumulators spill in V8, and Eigen's scalar path wins no shape in WASM, so there is no Eigen branch here. With
// relaxed SIMD's one-instruction multiply-add and K above 512, a panel (K x 8 floats, over 16 KiB) no longer stays
// in L1 beside the rows, and 8-row tiles read it half as often; at K 512 and below 4x8 is as fast or faster.
void gemm_nt_packed(int M, int N, int K, const float* x, int ldx, const float* panels, float* y, int ldy) {
#if defined(__wasm_relaxed_simd__)
    if (K > 512) return gemm_nt_packed_8x8__f32x4_lanes(M, N, K, x, ldx, panels, y, ldy);
#endif
    gemm_nt_packed_4x8__f32x4(M, N, K, x, ldx, panels, y, ldy);
}

}  // namespace trm
