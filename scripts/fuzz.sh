#!/usr/bin/env bash
# Bounded libFuzzer runs (ASan + UBSan) of every parser: the weight-file loader, the config parser, the PyTorch
# checkpoint reader (zip, pickle), the all_config.yaml reader and the sudoku, maze and ARC codecs.
# Each run first replays the committed corpus, tests/fuzz/corpus/<target>/ (seeds, the structure-aware hostile_* of
# tests/fuzz/make_hostile_seeds.py, and the regress_* inputs of fixed findings), then mutates; findings go to
# build/fuzz/findings/. The longer campaign: tests/fuzz/campaign.sh.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 12: about a minute in all)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-12}
cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRM_FUZZ=ON \
      -DTRM_BUILD_TESTS=OFF -DTRM_NATIVE_ARCH=OFF >/dev/null
targets=(weights config sudoku maze arc zip pickle yaml)
cmake --build build/fuzz -j "${JOBS:-$(nproc)}" --target "${targets[@]/#/fuzz_}"
for t in "${targets[@]}"; do
  work=build/fuzz/corpus/$t      # grows during the run; the committed seeds stay untouched
  mkdir -p "$work" build/fuzz/findings
  echo "fuzz_$t: ${secs}s"
  build/fuzz/tests/fuzz/fuzz_$t -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix=build/fuzz/findings/"$t"- -print_final_stats=0 "$work" tests/fuzz/corpus/"$t" 2>&1 | tail -n 2
done
echo "fuzz: all targets ran clean"
