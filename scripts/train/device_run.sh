#!/bin/bash
# A campaign run on a lent GPU machine, in two halves:
#
#   scripts/train/device_run.sh prepare STATE.pt [ROWS]      # here: the run's training files (the first ROWS
#                                                              # puzzles of each, default all), xz-compressed into
#                                                              # .carry/data/ (the campaign's files are 3-10 times
#                                                              # smaller so, and a call carries at most 64 MiB)
#   scripts/train/device_run.sh run STATE.pt MINUTES OUT_DIR [train.py flags...]     # there, with .carry in carry
#
# `run` resumes the campaign from STATE.pt (a committed weights/*_state.pt) with its schedule and settings, on CUDA
# with bf16 when there is a GPU (else on the CPU: how the script is tested), reading every training file from
# .carry/data/ by its name (unpacking NAME.xz first); it writes last.pt every 2 minutes and best.pt on each better
# held-out score into OUT_DIR/run, exports both as safetensors into OUT_DIR, and prints train.py's summary line
# last. Extra flags override the checkpoint's (e.g. --batch 1024). Both campaigns fit on one GPU at once: start the
# two runs in the background, then `wait`. Bring OUT_DIR/run/last.pt back and resume from it on the CPU with the
# training files' paths there and the CPU's batch: train.py --resume last.pt --train FILES... --batch 64 ...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
py=/usr/bin/python3; [[ -x $py ]] && $py -c 'import torch' 2>/dev/null || py=python3
mode=${1:?usage: device_run.sh prepare STATE.pt [ROWS] | run STATE.pt MINUTES OUT_DIR [flags...]}
state=${2:?device_run.sh: give the campaign state (a weights/*_state.pt)}
[[ -f $state ]] || { echo "device_run.sh: $state: no such file" >&2; exit 1; }
data=$root/.carry/data
# The training files the checkpoint names, one a line.
files() { "$py" -c 'import sys, torch; print("\n".join(torch.load(sys.argv[1], map_location="cpu", weights_only=False)["args"]["train"]))' "$1"; }

case $mode in
  prepare)
    rows=${3:-0}
    mkdir -p "$data"
    while read -r f; do
      [[ -f $f ]] || { echo "device_run.sh: $f (named by $state) not found here" >&2; exit 1; }
      rm -f "$data/$(basename "$f")"  # an unpacked copy from an earlier prepare would be read instead of this one
      if [[ $rows -gt 0 ]]; then head -n $((rows + 1)) "$f"; else cat "$f"; fi | xz -9 -T0 > "$data/$(basename "$f").xz"
    done < <(files "$state")
    du -sh "$data"
    echo "device_run.sh: carry .carry (at most 64 MiB in all) with: run $state MINUTES \$OUT" ;;
  run)
    minutes=${3:?device_run.sh run: give MINUTES}; out=${4:?device_run.sh run: give OUT_DIR}; shift 4
    train=()
    while read -r f; do
      csv=$data/$(basename "$f")
      if [[ ! -f $csv && -f $csv.xz ]]; then  # Python's lzma: the GPU machine may have no xz
        "$py" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$csv.xz" "$csv.part"
        mv "$csv.part" "$csv"
      fi
      [[ -f $csv ]] || { echo "device_run.sh: $csv(.xz) missing: run 'prepare' first and carry .carry" >&2; exit 1; }
      train+=("$csv")
    done < <(files "$state")
    mkdir -p "$out/run"
    if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; fi
    "$py" "$here/train.py" --resume "$state" --train "${train[@]}" --out "$out/run" --minutes "$minutes" \
      --ckpt-minutes 2 --eval-minutes 3 --log-seconds 20 --threads "$(nproc)" "$@" > "$out/train_log.txt" 2>&1 || status=$?
    for which in best last; do
      [[ -f $out/run/$which.pt ]] && "$py" "$here/export.py" "$out/run/$which.pt" --out "$out/$which.safetensors" >/dev/null
    done
    ls -la "$out" "$out/run"
    grep -E "held-out mean|summary" "$out/train_log.txt" | tail -n 4
    exit "${status:-0}" ;;
  *) echo "device_run.sh: mode '$mode'; expected prepare or run" >&2; exit 2 ;;
esac
