#!/usr/bin/env bash
# A longer fuzz campaign in the background: every target of scripts/fuzz.sh in turn for MINUTES each, at nice 19,
# starting from the committed seeds (tests/fuzz/corpus/<target>) and growing build/fuzz/campaign/<target>.
# Findings land in build/fuzz/findings/campaign-<target>-*; each one fixed becomes a regression input in
# tests/fuzz/corpus/<target>/ (named regress_*), which every short run of scripts/fuzz.sh replays first.
# Usage: tests/fuzz/campaign.sh [MINUTES_PER_TARGET [TARGET...]]   (default 5, every target); a summary line per
# target in build/fuzz/campaign.log, with the CPU time the target got: at nice 19 a busy machine (a build, a training
# run) can starve the campaign, and executions per CPU-second tell that apart from a slow parser.
set -uo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-5}
targets=(weights config sudoku maze arc zip pickle yaml)
if [ $# -gt 1 ]; then targets=("${@:2}"); fi
cmake -S . -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRM_FUZZ=ON \
      -DTRM_BUILD_TESTS=OFF -DTRM_NATIVE_ARCH=OFF >/dev/null
nice -n 19 cmake --build build/fuzz -j 1 --target "${targets[@]/#/fuzz_}" >/dev/null || exit 1
mkdir -p build/fuzz/findings
for t in "${targets[@]}"; do
  work=build/fuzz/campaign/$t
  mkdir -p "$work"
  start=$(date +%s)
  # -fork=1 keeps going after a finding (each crash is saved, the campaign goes on with the next inputs).
  # /usr/bin/time counts the fork jobs too (each is waited for): user + system seconds of the whole target.
  /usr/bin/time -f '%U %S' -o build/fuzz/campaign-"$t".cpu \
    nice -n 19 build/fuzz/tests/fuzz/fuzz_$t -max_total_time=$((minutes * 60)) -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -artifact_prefix=build/fuzz/findings/campaign-"$t"- \
    "$work" tests/fuzz/corpus/"$t" > build/fuzz/campaign-"$t".txt 2>&1
  stats=$(grep -E '^#[0-9]+' build/fuzz/campaign-"$t".txt | tail -n 1)
  runs=$(sed -nE 's/^#([0-9]+):.*/\1/p' build/fuzz/campaign-"$t".txt | tail -n 1)
  cpu=$(awk '{ printf "%.0f", $1 + $2 }' build/fuzz/campaign-"$t".cpu 2>/dev/null)
  per_cpu=$(( ${runs:-0} / (${cpu:-0} > 0 ? ${cpu:-1} : 1) ))
  echo "$(date -u +%FT%TZ) fuzz_$t: $(( $(date +%s) - start )) s, cpu ${cpu:-?} s, ${runs:-0} runs (${per_cpu} per cpu-second), last stats: ${stats:-none}, findings: $(ls build/fuzz/findings/campaign-"$t"-* 2>/dev/null | wc -l)" >> build/fuzz/campaign.log
done
