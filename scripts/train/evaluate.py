#!/usr/bin/python3
"""Evaluate a TRM weight file on a `question,answer` CSV, the way the engine's `trm eval` does.

    scripts/train/evaluate.py W.safetensors --data FILE.csv [--limit N] [--batch 64] [--threads 1] [--json]

Runs every puzzle for halt_max_steps supervision steps from the initial carry and reports, for two halting rules:
- early: a puzzle stops at the first step whose q_halt > 0 (else at the last step); its answer is that step's
- never: every puzzle runs all halt_max_steps steps; its answer is the last step's
exact_accuracy (whole answer right), cell_accuracy (cells right over labelled cells) and mean_steps, the numbers of
`trm eval`; and solve_cell_accuracy, over only the cells whose answer differs from the question (a sudoku's blanks,
a maze's path), which copying the question can't inflate.
"""
import argparse
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import data  # noqa: E402


@torch.no_grad()
def evaluate(model, questions, answers, batch_size=64, steps=None, progress=None, puzzle_ids=None):
    """questions, answers [N, seq_len] int -> {"early": metrics, "never": metrics}, metrics as in `trm eval`.

    Labels equal to 0 (padding) are not scored. puzzle_ids [N]: the puzzle-embedding rows (default row 0)."""
    was_training = model.training
    model.eval()
    steps = steps or model.cfg.halt_max_steps
    device = next(model.parameters()).device
    n = len(questions)
    totals = {mode: {"exact": 0, "cells_right": 0, "cells": 0, "steps": 0, "solve_right": 0, "solve_cells": 0}
              for mode in ("early", "never")}
    done = 0
    start = time.time()
    for b in range(0, n, batch_size):
        q = torch.as_tensor(questions[b:b + batch_size], device=device).long()
        a = torch.as_tensor(answers[b:b + batch_size], device=device).long()
        B = q.shape[0]
        if puzzle_ids is None:
            ids = torch.zeros(B, dtype=torch.long, device=device)
        else:
            ids = torch.as_tensor(puzzle_ids[b:b + batch_size], device=device).long()
        carry = model.initial_carry(B)
        carry = (carry[0].to(device), carry[1].to(device))
        early_pred = torch.zeros_like(a)
        early_steps = torch.full((B,), steps, dtype=torch.long, device=device)
        halted = torch.zeros(B, dtype=torch.bool, device=device)
        for k in range(steps):
            carry, logits, q_halt, _ = model(carry, q, ids)
            pred = logits.argmax(-1)
            stop_now = ~halted & ((q_halt > 0) | (k == steps - 1))
            early_pred[stop_now] = pred[stop_now]
            early_steps[stop_now & (q_halt > 0)] = k + 1
            halted |= stop_now
        mask = a != 0
        to_solve = mask & (a != q)
        for mode, p, used in (("early", early_pred, early_steps), ("never", pred, torch.full_like(early_steps, steps))):
            right = (p == a) & mask
            t = totals[mode]
            t["exact"] += int((right.sum(-1) == mask.sum(-1)).sum())
            t["cells_right"] += int(right.sum())
            t["cells"] += int(mask.sum())
            t["steps"] += int(used.sum())
            t["solve_right"] += int((right & to_solve).sum())
            t["solve_cells"] += int(to_solve.sum())
        done += B
        if progress:
            t = totals["early"]
            progress(f"eval {done}/{n} | exact(early) {t['exact'] / done:.4f} | cell {t['cells_right'] / max(t['cells'], 1):.4f}"
                     f" | {done / (time.time() - start):.2f} puzzles/s")
    model.train(was_training)
    return {mode: {"count": n, "exact_accuracy": t["exact"] / n, "cell_accuracy": t["cells_right"] / max(t["cells"], 1),
                   "mean_steps": t["steps"] / n, "solve_cell_accuracy": t["solve_right"] / max(t["solve_cells"], 1)}
            for mode, t in totals.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights")
    ap.add_argument("--data", required=True, help="CSV with a question,answer header")
    ap.add_argument("--limit", type=int, help="only the first N puzzles")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="end stdout with one JSON line of both modes' metrics")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    from trm_model import TRM
    try:
        model, meta = TRM.from_weight_file(args.weights)
        kind = json.loads(meta.get("task", "{}")).get("kind")
        if kind not in data.ENCODERS:
            raise ValueError(f"{args.weights}: task kind {kind!r} has no CSV encoding here (expected sudoku or maze)")
        questions, answers = data.load_csv(args.data, kind, limit=args.limit)
        if questions.shape[1] != model.cfg.seq_len:
            raise ValueError(f"{args.data}: puzzles have {questions.shape[1]} cells, the model expects {model.cfg.seq_len}")
    except (OSError, ValueError) as e:
        print(f"evaluate: {e}", file=sys.stderr)
        return 1
    device_is_cuda = torch.cuda.is_available()
    if device_is_cuda:
        model = model.cuda()
    start = time.time()
    res = evaluate(model, questions, answers, args.batch,
                   progress=lambda s: print("\r" + s, end="", file=sys.stderr, flush=True))
    print(file=sys.stderr)
    for mode in ("early", "never"):
        r = res[mode]
        print(f"{mode:5s} halting: {r['count']} puzzles | exact {r['exact_accuracy']:.4f} | cell {r['cell_accuracy']:.4f}"
              f" | mean steps {r['mean_steps']:.2f} | cells to solve {r['solve_cell_accuracy']:.4f}")
    print(f"wall time {time.time() - start:.1f} s on {'cuda' if device_is_cuda else f'cpu ({args.threads} thread)'}")
    if args.json:
        print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
