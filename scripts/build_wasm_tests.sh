#!/usr/bin/env bash
# WASM builds of the kernel tests and the GEMM microbenchmark (Emscripten, -msimd128 -O3, one .cjs each with the
# .wasm inlined, run by Node), called by `scripts/build.sh wasm` after scripts/build_wasm.sh:
#   build/wasm/tests/kernel_tests.cjs   tests/cpp/test_kernels.cpp (Catch2): every kernel against Eigen, WASM SIMD
#   build/wasm/tests/gemm_bench.cjs     tests/bench/gemm_bench.cpp: GFLOP/s of each packed kernel and of Eigen
#   build/wasm/tests/*_relaxed.cjs      both again with relaxed SIMD (src/simd.h; needs an engine that runs it)
# tests/js/kernels.test.mjs runs the kernel tests; scripts/bench.mjs the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs  # Debian's emcc needs its own acorn (TOOLCHAIN.md)
out=build/wasm/tests
mkdir -p "$out/include"
# Catch2 lives in /usr/include, whose glibc headers must not shadow Emscripten's libc: expose only its folder.
ln -sfn /usr/include/catch2 "$out/include/catch2"
flags=(-O3 -msimd128 -std=c++17 -DNDEBUG -DEIGEN_DONT_VECTORIZE -Isrc -isystem /usr/include/eigen3
       -isystem "$out/include" -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=node -sSINGLE_FILE=1)
for variant in "" _relaxed; do
  extra=()
  [ -n "$variant" ] && extra=(-mrelaxed-simd)
  em++ "${flags[@]}" "${extra[@]}" -fexceptions tests/cpp/test_main.cpp tests/cpp/test_kernels.cpp src/kernels.cpp \
    -o "$out/kernel_tests$variant.cjs"
  em++ "${flags[@]}" "${extra[@]}" tests/bench/gemm_bench.cpp src/kernels.cpp -o "$out/gemm_bench$variant.cjs"
done
node scripts/wasm_relaxed_madd.mjs "$out/kernel_tests_relaxed.cjs" "$out/gemm_bench_relaxed.cjs"
echo "wasm tests: $out/kernel_tests.cjs $out/gemm_bench.cjs $out/kernel_tests_relaxed.cjs $out/gemm_bench_relaxed.cjs"
