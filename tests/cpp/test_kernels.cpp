// Each kernel against a plain loop written from its definition (TRM_SPEC.md), on sizes that are not multiples
// of any tile.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "kernels.h"
#include "test_util.h"

using namespace trm;
using trm::test::random_vector;

static float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    float m = 0.f;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

TEST_CASE("gemm_nt computes x w^T with strides", "[kernels]") {
    for (auto [M, N, K] : {std::tuple{1, 1, 1}, {7, 13, 5}, {33, 17, 65}, {97, 30, 64}}) {
        const int ldx = K + 3, ldw = K + 1, ldy = N + 2;
        auto x = random_vector(size_t(M) * ldx, 1), w = random_vector(size_t(N) * ldw, 2);
        std::vector<float> y(size_t(M) * ldy, 7.f), ref = y;
        gemm_nt(M, N, K, x.data(), ldx, w.data(), ldw, y.data(), ldy);
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) {
                double s = 0;
                for (int k = 0; k < K; ++k) s += double(x[size_t(i * ldx + k)]) * w[size_t(j * ldw + k)];
                ref[size_t(i * ldy + j)] = float(s);
            }
        INFO("M=" << M << " N=" << N << " K=" << K);
        CHECK(max_abs_diff(y, ref) < 1e-4f * std::sqrt(float(K)));
    }
}

TEST_CASE("gemm_nn computes a b with strides", "[kernels]") {
    for (auto [M, N, K] : {std::tuple{1, 1, 1}, {9, 11, 7}, {40, 3, 97}}) {
        const int lda = K + 2, ldb = N + 5, ldy = N + 1;
        auto a = random_vector(size_t(M) * lda, 3), b = random_vector(size_t(K) * ldb, 4);
        std::vector<float> y(size_t(M) * ldy, -1.f), ref = y;
        gemm_nn(M, N, K, a.data(), lda, b.data(), ldb, y.data(), ldy);
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) {
                double s = 0;
                for (int k = 0; k < K; ++k) s += double(a[size_t(i * lda + k)]) * b[size_t(k * ldb + j)];
                ref[size_t(i * ldy + j)] = float(s);
            }
        CHECK(max_abs_diff(y, ref) < 1e-4f * std::sqrt(float(K)));
    }
}

TEST_CASE("residual + RMS norm over rows and over columns", "[kernels]") {
    const int R = 5, C = 7;
    const float eps = 1e-5f;
    auto h = random_vector(R * C, 5), d = random_vector(R * C, 6);
    auto rows = h, cols = h;
    std::vector<float> scratch(C);
    add_rms_norm_rows(R, C, rows.data(), d.data(), eps);
    add_rms_norm_cols(R, C, cols.data(), d.data(), eps, scratch.data());
    for (int r = 0; r < R; ++r) {
        double ss = 0;
        for (int c = 0; c < C; ++c) ss += std::pow(double(h[r * C + c]) + d[r * C + c], 2);
        for (int c = 0; c < C; ++c)
            CHECK(rows[r * C + c] == Approx((h[r * C + c] + d[r * C + c]) / std::sqrt(ss / C + eps)).epsilon(1e-5));
    }
    for (int c = 0; c < C; ++c) {
        double ss = 0;
        for (int r = 0; r < R; ++r) ss += std::pow(double(h[r * C + c]) + d[r * C + c], 2);
        for (int r = 0; r < R; ++r)
            CHECK(cols[r * C + c] == Approx((h[r * C + c] + d[r * C + c]) / std::sqrt(ss / R + eps)).epsilon(1e-5));
    }
    // A normalised row has mean square 1 (up to eps).
    double ms = 0;
    for (int c = 0; c < C; ++c) ms += rows[c] * rows[c];
    CHECK(ms / C == Approx(1.0).epsilon(1e-3));
}

TEST_CASE("SwiGLU gating, interleaved rows and separate gate and up", "[kernels]") {
    const int R = 3, I = 5;
    auto gu = random_vector(R * 2 * I, 7);
    std::vector<float> out(R * I), blocks(R * I);
    swiglu_rows(R, I, gu.data(), out.data());
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < I; ++j) {
            const double g = gu[r * 2 * I + j], u = gu[r * 2 * I + I + j];
            CHECK(out[r * I + j] == Approx(g / (1 + std::exp(-g)) * u).epsilon(1e-5));
        }
    // Gate rows [0, I), up rows [I, 2I), each R wide (15 values: 4-lane body and a remainder).
    swiglu(size_t(I) * R, gu.data(), gu.data() + I * R, blocks.data());
    for (int j = 0; j < I * R; ++j) {
        const double g = gu[j], u = gu[I * R + j];
        CHECK(blocks[j] == Approx(g / (1 + std::exp(-g)) * u).epsilon(1e-5));
    }
}

TEST_CASE("softmax on rows wider than the vector matches exp ratios", "[kernels]") {
    const int R = 3, C = 37;
    auto x = random_vector(R * C, 21, 4.f), orig = x;
    softmax_rows(R, C, x.data(), 0.7f);
    for (int r = 0; r < R; ++r) {
        double mx = -1e300, sum = 0;
        for (int c = 0; c < C; ++c) mx = std::max(mx, 0.7 * orig[r * C + c]);
        for (int c = 0; c < C; ++c) sum += std::exp(0.7 * orig[r * C + c] - mx);
        for (int c = 0; c < C; ++c)
            CHECK(x[r * C + c] == Approx(std::exp(0.7 * orig[r * C + c] - mx) / sum).epsilon(1e-5).margin(1e-30));
    }
}

TEST_CASE("SwiGLU's vector exp holds to 1e-6 relative over the whole range, saturating cleanly", "[kernels]") {
    // 4 lanes of every value in [-100, 100] in steps of 1/64 (and the tail of 3 in scalar code), u = 1.
    const int I = 4 * 3200 + 3;
    std::vector<float> gu(2 * size_t(I)), out(I);
    for (int j = 0; j < I; ++j) gu[j] = -100.f + float(j) / 64.f, gu[I + j] = 1.f;
    swiglu_rows(1, I, gu.data(), out.data());
    for (int j = 0; j < I; ++j) {
        const double g = gu[j], want = g / (1 + std::exp(-g));
        INFO("g=" << g);
        CHECK(std::isfinite(out[j]));
        CHECK(std::fabs(out[j] - want) <= 1e-6 * std::fabs(want) + 1e-30);
    }
}

TEST_CASE("RoPE rotates each pair (j, j + hd/2) by the position's angle", "[kernels]") {
    const int S = 4, H = 2, hd = 6, ld = 15;
    auto v = random_vector(S * ld, 8), orig = v;
    std::vector<float> cos(S * hd), sin(S * hd);
    for (int s = 0; s < S; ++s)
        for (int j = 0; j < hd / 2; ++j) {
            const double a = s * std::pow(10000.0, -2.0 * j / hd);
            cos[s * hd + j] = cos[s * hd + j + hd / 2] = float(std::cos(a));
            sin[s * hd + j] = sin[s * hd + j + hd / 2] = float(std::sin(a));
        }
    rope(S, H, hd, v.data(), ld, cos.data(), sin.data());
    for (int s = 0; s < S; ++s)
        for (int h = 0; h < H; ++h)
            for (int j = 0; j < hd / 2; ++j) {
                const int ia = s * ld + h * hd + j, ib = ia + hd / 2;
                const double a = s * std::pow(10000.0, -2.0 * j / hd);
                CHECK(v[ia] == Approx(orig[ia] * std::cos(a) - orig[ib] * std::sin(a)).margin(1e-5));
                CHECK(v[ib] == Approx(orig[ib] * std::cos(a) + orig[ia] * std::sin(a)).margin(1e-5));
            }
    // Entries past the heads are untouched.
    for (int s = 0; s < S; ++s)
        for (int k = H * hd; k < ld; ++k) CHECK(v[s * ld + k] == orig[s * ld + k]);
}

TEST_CASE("softmax rows sum to one and follow exp ratios; argmax takes the first maximum", "[kernels]") {
    std::vector<float> x = {1, 2, 3, 1000, 1000, -1000};
    softmax_rows(2, 3, x.data(), 0.5f);
    CHECK(x[0] + x[1] + x[2] == Approx(1.0));
    CHECK(x[1] / x[0] == Approx(std::exp(0.5)));
    CHECK(x[3] == Approx(0.5));
    CHECK(x[5] == Approx(0.0).margin(1e-30));
    const float y[] = {0.f, 3.f, 3.f, -1.f};
    CHECK(argmax(y, 4) == 1);
}

TEST_CASE("every packed SIMD kernel matches the Eigen path on sizes with every remainder", "[kernels]") {
    INFO("instruction set " << simd_name());
    // Rows: every remainder of tiles of 4, 6 and 8; columns: every remainder of 8 and 16; K: below and past the
    // vector width and past a K block of 256 (with a remainder). Several row blocks: the next test.
    for (int M : {1, 2, 3, 4, 5, 6, 7, 9, 13, 70})
        for (int N : {1, 7, 8, 9, 17, 24, 35})
            for (int K : {1, 3, 16, 33, 300}) {
                INFO("M=" << M << " N=" << N << " K=" << K);
                const int ldx = K + 1, ldy = N + 3;
                auto x = random_vector(size_t(M) * ldx, unsigned(M * 1000 + N * 10 + K));
                auto w = random_vector(size_t(N) * K, unsigned(K * 7 + N));
                std::vector<float> ref(size_t(M) * ldy, 5.f);
                gemm_nt(M, N, K, x.data(), ldx, w.data(), K, ref.data(), ldy);
                const auto panels = pack_panels(w.data(), N, K);
                CHECK(panels.size() == packed_size(N, K));
                CHECK(panels.size() == size_t((N + 7) / 8) * K * 8);
                for (int k = 0; k <= kGemmPackedKernelCount; ++k) {
                    const bool chosen = k == kGemmPackedKernelCount;
                    INFO("kernel " << (chosen ? "gemm_nt_packed (the dispatched one)" : kGemmPackedKernels[k].name));
                    std::vector<float> got(size_t(M) * ldy, 5.f);
                    (chosen ? gemm_nt_packed : kGemmPackedKernels[k].fn)(M, N, K, x.data(), ldx, panels.data(), got.data(), ldy);
                    CHECK(max_abs_diff(got, ref) < 1e-5f * K);  // the padding columns of y keep their 5.f too
                }

                // b row-major [K, N] with a row stride past N, packed as panels: y = x b.
                const int ldb = N + 2;
                auto b = random_vector(size_t(K) * ldb, unsigned(N * 31 + K));
                std::vector<float> ref2(size_t(M) * ldy, -3.f), got2 = ref2;
                gemm_nn(M, N, K, x.data(), ldx, b.data(), ldb, ref2.data(), ldy);
                std::vector<float> bp(packed_size(N, K), 99.f);
                pack_panels_kn_into(K, N, b.data(), ldb, bp.data());
                gemm_nt_packed(M, N, K, x.data(), ldx, bp.data(), got2.data(), ldy);
                CHECK(max_abs_diff(got2, ref2) < 1e-5f * K);
                // The strided packer agrees with the vector one.
                std::vector<float> wp(packed_size(N, K), 99.f);
                std::vector<float> ws(size_t(N) * (K + 4), 0.f);
                for (int n = 0; n < N; ++n)
                    for (int k = 0; k < K; ++k) ws[size_t(n) * (K + 4) + k] = w[size_t(n) * K + k];
                pack_panels_into(N, K, ws.data(), K + 4, wp.data());
                CHECK(wp == panels);
            }
}

TEST_CASE("packed kernels split rows into blocks of equal size when x outgrows 256 KiB", "[kernels]") {
    // 203 rows of K = 700 floats are 555 KiB: three row blocks of 68, 68 and 67 rows (remainder tiles in each).
    const int M = 203, N = 19, K = 700;
    auto x = random_vector(size_t(M) * K, 21), w = random_vector(size_t(N) * K, 22);
    std::vector<float> ref(size_t(M) * N);
    gemm_nt(M, N, K, x.data(), K, w.data(), K, ref.data(), N);
    const auto panels = pack_panels(w.data(), N, K);
    for (int k = 0; k <= kGemmPackedKernelCount; ++k) {
        const bool chosen = k == kGemmPackedKernelCount;
        INFO("kernel " << (chosen ? "gemm_nt_packed (the dispatched one)" : kGemmPackedKernels[k].name));
        std::vector<float> got(size_t(M) * N, 5.f);
        (chosen ? gemm_nt_packed : kGemmPackedKernels[k].fn)(M, N, K, x.data(), K, panels.data(), got.data(), N);
        CHECK(max_abs_diff(got, ref) < 1e-5f * K);
    }
}

TEST_CASE("every fused SwiGLU kernel matches gemm_nt then swiglu_rows", "[kernels]") {
    INFO("instruction set " << simd_name());
    // Rows: every remainder of tiles of 3 and 4, and several row blocks (203 x 700); output columns: every
    // remainder of 8; K: below and past the vector width.
    for (auto [M, I, K] : {std::tuple{1, 1, 1}, {2, 7, 3}, {3, 8, 4}, {5, 9, 16}, {7, 17, 33}, {13, 24, 5}, {203, 11, 700}}) {
        INFO("M=" << M << " I=" << I << " K=" << K);
        const int ldx = K + 1, ldy = I + 3;
        auto x = random_vector(size_t(M) * ldx, unsigned(M * 100 + I * 10 + K));
        auto gate_up = random_vector(size_t(2 * I) * K, unsigned(I * 7 + K));
        std::vector<float> gu(size_t(M) * 2 * I), act(size_t(M) * I), ref(size_t(M) * ldy, 5.f);
        gemm_nt(M, 2 * I, K, x.data(), ldx, gate_up.data(), K, gu.data(), 2 * I);
        swiglu_rows(M, I, gu.data(), act.data());
        for (int m = 0; m < M; ++m)
            for (int j = 0; j < I; ++j) ref[size_t(m) * ldy + j] = act[size_t(m) * I + j];
        std::vector<float> pairs(swiglu_packed_size(I, K), 99.f);
        pack_swiglu_panels_into(I, K, gate_up.data(), pairs.data());
        for (int k = 0; k <= kGemmSwigluKernelCount; ++k) {
            const bool chosen = k == kGemmSwigluKernelCount;
            INFO("kernel " << (chosen ? "gemm_swiglu_packed (the dispatched one)" : kGemmSwigluKernels[k].name));
            std::vector<float> got(size_t(M) * ldy, 5.f);
            (chosen ? gemm_swiglu_packed : kGemmSwigluKernels[k].fn)(M, I, K, x.data(), ldx, pairs.data(), got.data(), ldy);
            CHECK(max_abs_diff(got, ref) < 1e-5f * K);  // the padding columns of y keep their 5.f too
        }
        // A call on the pairs of columns 8.. (as a thread's column block) gives those columns.
        if (I > 8) {
            std::vector<float> part(size_t(M) * ldy, 5.f), whole(size_t(M) * ldy, 5.f);
            gemm_swiglu_packed(M, I, K, x.data(), ldx, pairs.data(), whole.data(), ldy);
            gemm_swiglu_packed(M, 8, K, x.data(), ldx, pairs.data(), part.data(), ldy);
            gemm_swiglu_packed(M, I - 8, K, x.data(), ldx, pairs.data() + size_t(2) * K * 8, part.data() + 8, ldy);
            CHECK(part == whole);
        }
    }
}

TEST_CASE("packed panels start at 8-aligned column offsets, as the threaded split uses them", "[kernels]") {
    const int M = 5, N = 40, K = 9;
    auto x = random_vector(size_t(M) * K, 11), w = random_vector(size_t(N) * K, 12);
    const auto panels = pack_panels(w.data(), N, K);
    std::vector<float> whole(size_t(M) * N), split(size_t(M) * N);
    gemm_nt_packed(M, N, K, x.data(), K, panels.data(), whole.data(), N);
    gemm_nt_packed(M, 16, K, x.data(), K, panels.data(), split.data(), N);
    gemm_nt_packed(M, 24, K, x.data(), K, panels.data() + size_t(16) * K, split.data() + 16, N);
    CHECK(whole == split);
}

TEST_CASE("the SIMD layer is the target's own, not the scalar fallback", "[kernels]") {
#if defined(__wasm_relaxed_simd__)
    CHECK(std::string(simd_name()) == "wasmsimd-relaxed");
#elif defined(__wasm__)
    CHECK(std::string(simd_name()) == "wasmsimd");
#elif defined(__SSE2__)
    CHECK(std::string(simd_name()) == "sse");
#endif
}

// The integer kernels are exact up to the final float scaling, so they are held to an int64 loop over the same
// quantised operands (1e-6 relative: the float epilogue), on every row, column and odd-K remainder.
TEST_CASE("every int16-pair kernel computes the exact integer product, then the scales", "[kernels][int8]") {
    for (int kernel = 0; kernel < kGemmI16KernelCount; ++kernel)
        for (auto [M, N, K] : {std::tuple{1, 1, 1}, {5, 9, 3}, {7, 17, 64}, {13, 23, 97}, {70, 8, 130}, {3, 40, 1365}}) {
            const int Kp = i16_padded_k(K), lda = Kp + 2;
            std::vector<int8_t> w(size_t(N) * K);
            auto wf = random_vector(size_t(N) * K, 11);
            for (size_t i = 0; i < w.size(); ++i) w[i] = int8_t(std::lrint(wf[i] * 127.f));
            w[0] = 127;
            if (w.size() > 1) w[1] = -127;
            std::vector<int16_t> panels(pair_panels_size(N, K));
            pack_pair_panels_i8(N, K, w.data(), panels.data());
            // Activations at the largest range the kernel may see: the worst case for int32 overflow.
            const int range = i16_range(K);
            std::vector<int16_t> a(size_t(M) * lda, 0);
            auto af = random_vector(size_t(M) * lda, 12);
            for (int m = 0; m < M; ++m)
                for (int k = 0; k < K; ++k) a[size_t(m) * lda + k] = int16_t(k % 5 == 0 ? range : std::lrint(af[size_t(m) * lda + k] * range));
            auto sa = random_vector(size_t(M), 13), sb = random_vector(size_t(N), 14);
            const int ldy = N + 3;
            std::vector<float> y(size_t(M) * ldy, 9.f);
            kGemmI16Kernels[kernel].fn(M, N, K, a.data(), lda, sa.data(), panels.data(), sb.data(), y.data(), ldy);
            INFO(kGemmI16Kernels[kernel].name << " M=" << M << " N=" << N << " K=" << K);
            int bad = 0;
            for (int m = 0; m < M; ++m) {
                for (int n = 0; n < N; ++n) {
                    int64_t s = 0;
                    for (int k = 0; k < K; ++k) s += int64_t(a[size_t(m) * lda + k]) * w[size_t(n) * K + k];
                    const double want = double(s) * sa[size_t(m)] * sb[size_t(n)];
                    bad += std::fabs(y[size_t(m) * ldy + n] - want) > 1e-6 * std::fabs(want) + 1e-30;
                }
                for (int n = N; n < ldy; ++n) bad += y[size_t(m) * ldy + n] != 9.f;  // nothing written past N
            }
            CHECK(bad == 0);
        }
}

TEST_CASE("int16 quantisation: per-row and per-column scales, round to nearest, zero padding for odd K", "[kernels][int8]") {
    const int M = 3, K = 7, N = 11;
    auto x = random_vector(size_t(M) * K, 21);
    x[size_t(K)] = 0;  // row 1 gets a zero in it; row 2 is all zero
    for (int k = 0; k < K; ++k) x[size_t(2 * K + k)] = 0.f;
    std::vector<int16_t> q(size_t(M) * 8, 99);
    std::vector<float> scale(M);
    const int range = i16_range(K);
    quantize_rows_i16(M, K, x.data(), K, range, q.data(), 8, scale.data());
    CHECK(range == 32767);
    for (int m = 0; m < 2; ++m) {
        float absmax = 0;
        for (int k = 0; k < K; ++k) absmax = std::max(absmax, std::fabs(x[size_t(m * K + k)]));
        CHECK(scale[size_t(m)] == Approx(absmax / range));
        for (int k = 0; k < K; ++k) CHECK(std::abs(double(q[size_t(m * 8 + k)]) * scale[size_t(m)] - x[size_t(m * K + k)]) <= 0.51 * scale[size_t(m)]);  // 0.01: x * (1/scale) rounds in float
        CHECK(q[size_t(m * 8 + K)] == 0);
    }
    CHECK(scale[2] == 0.f);
    for (int k = 0; k < 8; ++k) CHECK(q[size_t(16 + k)] == 0);
    CHECK(i16_range(1365) * int64_t(127) * 1366 < (int64_t(1) << 31));

    // Columns of b [K, N] (row stride ldb): the panel entry of (n, k) is b[k][n] / scale[n], rounded. Whole panels
    // (8 columns) and the last partial one take different paths; odd K pads its last pair, columns past N are zero.
    for (auto [Kb, Nb, ldb] : {std::tuple{7, 11, 11}, {8, 16, 19}, {1, 9, 9}, {5, 3, 4}}) {
        INFO("K=" << Kb << " N=" << Nb << " ldb=" << ldb);
        auto b = random_vector(size_t(Kb) * ldb, 22);
        const int rb = i16_range(Kb);
        std::vector<int16_t> panels(pair_panels_size(Nb, Kb), 99);
        std::vector<float> cs(Nb);
        quantize_cols_to_pair_panels(Kb, Nb, b.data(), ldb, rb, panels.data(), cs.data());
        const int Kp = i16_padded_k(Kb);
        int bad = 0;
        for (int n = 0; n < (Nb + 7) / 8 * 8; ++n)
            for (int k = 0; k < Kp; ++k) {
                const int16_t v = panels[size_t(n / 8) * Kp * 8 + size_t(k / 2) * 16 + 2 * (n % 8) + (k & 1)];
                if (k >= Kb || n >= Nb) bad += v != 0;
                else bad += !(std::abs(double(v) * cs[size_t(n)] - b[size_t(k * ldb + n)]) <= 0.51 * cs[size_t(n)]);
            }
        CHECK(bad == 0);
        for (int n = 0; n < Nb; ++n) {
            float absmax = 0;
            for (int k = 0; k < Kb; ++k) absmax = std::max(absmax, std::fabs(b[size_t(k * ldb + n)]));
            CHECK(cs[size_t(n)] == Approx(absmax / rb));
        }
    }
}

// Attention in int8 models multiplies two quantised activations: both at i16_range_both(K), the largest range whose
// sums cannot overflow int32, the integer kernel must still be exact. The right operand goes through
// quantize_rows_to_pair_panels: integer-valued rows whose largest |value| is the range quantise to themselves.
TEST_CASE("two int16 operands at i16_range_both: exact products; rows quantised into pair panels", "[kernels][int8]") {
    for (auto [M, N, K] : {std::tuple{5, 9, 3}, {13, 23, 64}, {9, 17, 916}}) {
        const int r = i16_range_both(K), Kp = i16_padded_k(K), lda = Kp;
        INFO("M=" << M << " N=" << N << " K=" << K << " range " << r);
        CHECK(int64_t(Kp) * r * r < (int64_t(1) << 31));
        CHECK(int64_t(Kp) * (r + 1) * (r + 1) >= (int64_t(1) << 31));
        // Signs alike in a's row 0 and w's row 0: the sum of row 0 x column 0 is Kp r^2 - as close to 2^31 as it gets.
        const int ldw = K + 5;
        std::vector<float> w(size_t(N) * ldw, 1e9f);  // past K: must not be read
        auto wf = random_vector(size_t(N) * K, 31);
        for (int n = 0; n < N; ++n)
            for (int k = 0; k < K; ++k) w[size_t(n) * ldw + k] = n == 0 || k == 0 ? float(r) : std::round(std::fmax(std::fmin(wf[size_t(n) * K + k], 1.f), -1.f) * r);
        std::vector<int16_t> panels(pair_panels_size(N, K), 99);
        std::vector<float> ws(N);
        quantize_rows_to_pair_panels(N, K, w.data(), ldw, r, panels.data(), ws.data());
        for (int n = 0; n < (N + 7) / 8 * 8; ++n)
            for (int k = 0; k < Kp; ++k) {
                const int16_t v = panels[size_t(n / 8) * Kp * 8 + size_t(k / 2) * 16 + 2 * (n % 8) + (k & 1)];
                if (n >= N || k >= K) CHECK(v == 0);  // padding rows and the odd K's last pair
                else CHECK(v == int16_t(w[size_t(n) * ldw + k]));
            }
        for (int n = 0; n < N; ++n) CHECK(ws[size_t(n)] == 1.f);
        std::vector<int16_t> a(size_t(M) * lda, 0);
        auto af = random_vector(size_t(M) * K, 32);
        for (int m = 0; m < M; ++m)
            for (int k = 0; k < K; ++k) a[size_t(m) * lda + k] = int16_t(m == 0 ? r : std::lrint(std::fmax(std::fmin(af[size_t(m) * K + k], 1.f), -1.f) * r));
        auto sa = random_vector(size_t(M), 33);
        std::vector<float> y(size_t(M) * N);
        for (int kernel = 0; kernel < kGemmI16KernelCount; ++kernel) {
            INFO(kGemmI16Kernels[kernel].name);
            kGemmI16Kernels[kernel].fn(M, N, K, a.data(), lda, sa.data(), panels.data(), ws.data(), y.data(), N);
            int bad = 0;
            for (int m = 0; m < M; ++m)
                for (int n = 0; n < N; ++n) {
                    int64_t s = 0;
                    for (int k = 0; k < K; ++k) s += int64_t(a[size_t(m) * lda + k]) * int64_t(w[size_t(n) * ldw + k]);
                    const double want = double(s) * sa[size_t(m)];
                    bad += std::fabs(y[size_t(m) * N + n] - want) > 1e-6 * std::fabs(want) + 1e-30;
                }
            CHECK(bad == 0);
        }
    }
}

TEST_CASE("quantised softmax: q * qscale is the softmax to half a step, the row's largest weight at the range", "[kernels][int8]") {
    for (int C : {1, 7, 37, 916}) {
        const int R = 3, range = 8191, ldq = i16_padded_k(C) + 2;
        auto x = random_vector(size_t(R) * C, 41, 6.f), orig = x, want = x;
        softmax_rows(R, C, want.data(), 0.7f);
        std::vector<int16_t> q(size_t(R) * ldq, 99);
        std::vector<float> qs(R);
        softmax_rows_i16(R, C, x.data(), 0.7f, range, q.data(), ldq, qs.data());
        CHECK(x == orig);
        for (int r = 0; r < R; ++r) {
            INFO("cols " << C << " row " << r);
            int qmax = 0, bad = 0;
            for (int c = 0; c < C; ++c) {
                const double p = want[size_t(r) * C + c];
                qmax = std::max(qmax, int(q[size_t(r) * ldq + c]));
                bad += std::fabs(q[size_t(r) * ldq + c] * double(qs[size_t(r)]) - p) > 0.501 * qs[size_t(r)] + 2e-6 * p;  // 0.001: e * range rounds in float
            }
            CHECK(bad == 0);
            CHECK(qmax == range);
            if (C & 1) CHECK(q[size_t(r) * ldq + C] == 0);
            for (int c = i16_padded_k(C); c < ldq; ++c) CHECK(q[size_t(r) * ldq + c] == 99);  // nothing past Kp
        }
    }
}
