#!/bin/bash
# One bounded training call on a lent GPU machine (or any machine): resume or start a run, train for MINUTES,
# export the best and last weights, and leave everything under OUT_DIR (the device tool's $OUT).
#
#   scripts/train/device_run.sh sudoku|maze MINUTES OUT_DIR [STATE.pt] [extra train.py flags...]
#
# With STATE.pt (a checkpoint carried over from an earlier call, e.g. weights/sudoku_mlp_state.pt) the run
# resumes from it; otherwise it starts with the settings below (the paper's model sizes, shortened schedules).
# Training files are read from ../shared/data when present (sudoku); mazes are generated.
set -euo pipefail
task=$1; minutes=$2; out=$3; shift 3
state=""
if [[ $# -gt 0 && $1 == *.pt ]]; then state=$1; shift; fi
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3; [[ -x $py ]] && $py -c 'import torch' 2>/dev/null || py=python3
data=${TRM_DATA:-$here/../../../shared/data}
run=$out/run
mkdir -p "$run"

if [[ -n $state ]]; then
  args=(--resume "$state")
  [[ $task == sudoku ]] && args+=(--train "$data"/sudoku/train/sudoku_extreme_train1k.csv
    "$data"/sudoku/train/forum_hardest_train.csv "$data"/sudoku/train/seventeen_clue.csv)
elif [[ $task == sudoku ]]; then
  args=(--task sudoku --train "$data"/sudoku/train/sudoku_extreme_train1k.csv
    "$data"/sudoku/train/forum_hardest_train.csv "$data"/sudoku/train/seventeen_clue.csv
    --mlp-t --pos none --hidden 512 --heads 8 --batch 768 --lr 1e-4 --warmup 200 --weight-decay 1.0 --ema 0.999
    --holdout 512)
else
  args=(--task maze --generate --hidden 512 --heads 8 --H-cycles 3 --L-cycles 4 --batch 128 --lr 1e-4
    --warmup 200 --weight-decay 1.0 --ema 0.999 --holdout 256)
fi
"$py" "$here/train.py" "${args[@]}" --out "$run" --minutes "$minutes" --ckpt-minutes 2 --eval-minutes 4 \
  --log-seconds 20 --threads 8 "$@"
for which in best last; do
  [[ -f $run/$which.pt ]] && "$py" "$here/export.py" "$run/$which.pt" --out "$out/${task}_$which.safetensors"
done
ls -la "$out" "$run"
