#!/usr/bin/python3
"""ARC pass@2 of a TRM weight file, the way the official evaluation and the engine's `trm solve --task arc` do it.

    scripts/train/evaluate_arc.py W.safetensors TASKS... [--limit N] [--halt early|never] [--steps N]
        [--max-copies N] [--threads 1] [--json] [--out RESULTS.jsonl]

TASKS are task files (`<task id>.json`, ARC format) or folders of them. For each test input of a task, every
augmented copy the model has a puzzle-embedding row for (task.puzzle_identifiers; the original first, then the
others in row order, at most --max-copies) runs as one batch; each copy's prediction is decoded (largest top-left
rectangle of colour tokens), un-augmented, and the copies vote: distinct answers ranked by how many copies gave
them, ties broken by the mean sigmoid(q_halt) of those copies. The top two are the two attempts. A task counts as
solved when every one of its test outputs is among its two attempts (pass@2).

Halting, as `trm solve`: early (default) stops a copy after the first step whose q_halt > 0 and keeps that step's
prediction and q_halt; never runs every copy for all steps.
"""
import argparse
import glob
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import arc_data  # noqa: E402


def copies_for(names, task_id, max_copies=0):
    """[(row, transform, colours)] of the rows named for task_id: the original first, then the augmented copies in
    row order (src/arc_solver.cpp copies_for). Raises ValueError when there is none."""
    out = []
    for row, name in enumerate(names):
        if not name.startswith(task_id):
            continue
        tid, t, colours = arc_data.parse_identifier(name)
        if tid != task_id:
            continue
        if name == task_id:
            out.insert(0, (row, t, colours))
        else:
            out.append((row, t, colours))
    if not out:
        raise ValueError(f"task.puzzle_identifiers: no puzzle-embedding row for task {task_id!r} "
                         f"(its embedding must be learned first)")
    return out[:max_copies] if max_copies > 0 else out


@torch.no_grad()
def predict_copies(model, grid, copies, steps=None, halt="early"):
    """Runs the augmented copies of one input grid; returns ([restored prediction grid], [sigmoid(q_halt)])."""
    model.eval()
    steps = steps or model.cfg.halt_max_steps
    B = len(copies)
    inputs = torch.from_numpy(np.stack([arc_data.encode(arc_data.augment(grid, t, c)) for _, t, c in copies])).long()
    ids = torch.tensor([row for row, _, _ in copies], dtype=torch.long)
    carry = model.initial_carry(B)
    pred = torch.zeros(B, arc_data.SEQ_LEN, dtype=torch.long)  # [B, 900]: each copy's current (or final) prediction
    q = torch.zeros(B)  # [B] its q_halt
    active = torch.ones(B, dtype=torch.bool)
    for _ in range(steps):
        carry, logits, q_halt, _ = model(carry, inputs, ids)
        pred[active] = logits.argmax(-1)[active]  # a halted copy keeps the prediction it halted with
        q[active] = q_halt[active]
        if halt == "early":
            active &= ~(q_halt > 0)
            if not active.any():
                break
    grids = [arc_data.restore(arc_data.decode(pred[b].numpy()), t, c) for b, (_, t, c) in enumerate(copies)]
    return grids, [1.0 / (1.0 + math.exp(-float(x))) for x in q]


def vote(grids, confidences):
    """Distinct grids ranked by votes, then mean confidence; equal ones keep first-appearance order (the engine's
    stable sort). Returns [{"grid", "votes", "confidence"}]."""
    table = {}
    for g, c in zip(grids, confidences):
        key = (g.shape, g.tobytes())
        entry = table.setdefault(key, {"grid": g, "votes": 0, "confidence": 0.0})
        entry["votes"] += 1
        entry["confidence"] += c
    ranked = list(table.values())
    for e in ranked:
        e["confidence"] /= e["votes"]
    return sorted(ranked, key=lambda e: (-e["votes"], -e["confidence"]))


def solve_task(model, names, task_id, test_pairs, steps=None, halt="early", max_copies=0):
    """Per test pair: {"attempts": top two [{"grid" (lists), "votes", "confidence"[, "correct"]}], "copies",
    "distinct"}; and whether the task is solved (every test output among its attempts; None without outputs)."""
    copies = copies_for(names, task_id, max_copies)
    results, solved = [], True
    for grid, answer in test_pairs:
        ranked = vote(*predict_copies(model, grid, copies, steps, halt))
        attempts = []
        for e in ranked[:2]:
            a = {"grid": e["grid"].tolist(), "votes": e["votes"], "confidence": e["confidence"]}
            if answer is not None:
                a["correct"] = e["grid"].shape == answer.shape and bool((e["grid"] == answer).all())
            attempts.append(a)
        if answer is None:
            solved = None
        elif solved is not None:
            solved = solved and any(a["correct"] for a in attempts)
        results.append({"attempts": attempts, "copies": len(copies), "distinct": len(ranked)})
    return results, solved


def task_files(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(glob.glob(os.path.join(p, "*.json")))
            if not found:
                raise ValueError(f"{p}: no task files (*.json)")
            out += found
        else:
            out.append(p)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights")
    ap.add_argument("tasks", nargs="+", help="ARC task files or folders of them (task id = file name)")
    ap.add_argument("--limit", type=int, help="only the first N tasks (in file-name order)")
    ap.add_argument("--halt", choices=["early", "never"], default="early")
    ap.add_argument("--steps", type=int, help="supervision steps at most (default halt_max_steps)")
    ap.add_argument("--max-copies", type=int, default=0, help="augmented copies per test input (0: all the model has)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", help="write one JSON line per task here")
    ap.add_argument("--json", action="store_true", help="end stdout with one JSON line of the totals")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    from trm_model import TRM
    try:
        model, meta = TRM.from_weight_file(args.weights)
        task_meta = json.loads(meta.get("task", "{}"))
        names = task_meta.get("puzzle_identifiers")
        if task_meta.get("kind") != "arc" or not isinstance(names, list) or not names:
            raise ValueError(f"{args.weights}: metadata 'task' must be an arc task with 'puzzle_identifiers', "
                             f"got kind {task_meta.get('kind')!r}")
        paths = task_files(args.tasks)[:args.limit]
        tasks = [(os.path.basename(p)[:-len(".json")], arc_data.load_task_file(p)[1]) for p in paths]
    except (OSError, ValueError) as e:
        print(f"evaluate_arc: {e}", file=sys.stderr)
        return 1
    out = open(args.out, "w") if args.out else None
    counts = {"tasks": 0, "solved": 0, "tests": 0, "tests_right": 0, "no_rows": 0}
    start = time.time()
    for n, (task_id, tests) in enumerate(tasks, 1):
        try:
            results, solved = solve_task(model, names, task_id, tests, args.steps, args.halt, args.max_copies)
        except ValueError as e:  # no row for this task: it can't be answered, so it counts as unsolved
            results, solved = str(e), False
            counts["no_rows"] += 1
        else:
            counts["tests"] += len(results)
            counts["tests_right"] += sum(any(a.get("correct") for a in r["attempts"]) for r in results)
        counts["tasks"] += 1
        counts["solved"] += bool(solved)
        if out:
            out.write(json.dumps({"task": task_id, "solved": solved, "tests": results}) + "\n")
            out.flush()
        print(f"\r{n}/{len(tasks)} tasks | pass@2 {counts['solved']}/{counts['tasks']} | "
              f"{(time.time() - start) / n:.1f} s/task", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    summary = dict(counts, pass_at_2=counts["solved"] / max(counts["tasks"], 1), halt=args.halt,
                   steps=args.steps or model.cfg.halt_max_steps, wall_s=round(time.time() - start, 1))
    print(f"pass@2: {counts['solved']}/{counts['tasks']} tasks ({100 * summary['pass_at_2']:.2f}%), "
          f"{counts['tests_right']}/{counts['tests']} test outputs among the two attempts, "
          f"{counts['no_rows']} tasks without puzzle rows; {summary['wall_s']} s")
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
