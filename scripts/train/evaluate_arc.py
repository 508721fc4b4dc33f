#!/usr/bin/python3
"""ARC pass@2 of a TRM weight file, the way the official evaluation does it: the engine's `trm solve --task arc`
(build/native/trm, `scripts/build.sh native`) on every test input of every task; this script only runs it and
counts.

    scripts/train/evaluate_arc.py W.safetensors TASKS... [--limit N] [--halt early|never] [--steps N]
        [--max-copies N] [--threads 1] [--json] [--out RESULTS.jsonl]

TASKS are task files (`<task id>.json`, ARC format) or folders of them. For each test input of a task, the engine
runs every augmented copy the model has a puzzle-embedding row for (task.puzzle_identifiers; the original first,
then the others in row order, at most --max-copies) as one batch, decodes and un-augments each copy's prediction,
and lets the copies vote (src/arc_solver.h): the top two answers are the two attempts. A task counts as solved when
every one of its test outputs is among its two attempts (pass@2).

Halting, as `trm solve`: early (default) stops a copy after the first step whose q_halt > 0 and keeps that step's
prediction and q_halt; never runs every copy for all steps.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import arc_data  # noqa: E402

TRM_BIN = os.environ.get("TRM_BIN", os.path.join(ROOT, "build", "native", "trm"))


class NoRows(ValueError):
    """The model has no puzzle-embedding row for the task: it cannot be answered (counted unsolved)."""


def solve_test(weights, path, task_id, test, steps=None, halt="early", max_copies=0, threads=1):
    """One test input through `trm solve --task arc --json`: {"attempts": top two [{"grid", "votes", "confidence"
    [, "correct"]}], "copies", "distinct"}."""
    cmd = [TRM_BIN, "solve", weights, "--task", "arc", path, "--task-id", task_id, "--test", str(test), "--json",
           "--halt", halt, "--max-copies", str(max_copies), "--threads", str(threads)]
    if steps:
        cmd += ["--steps", str(steps)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        message = r.stderr.strip() or f"trm solve exited with status {r.returncode}"
        raise (NoRows if "no puzzle-embedding row" in message else ValueError)(message)
    lines = [json.loads(line) for line in r.stdout.strip().split("\n")]
    done = lines[-1]
    return {"attempts": done["attempts"], "copies": done["copies"], "distinct": lines[-2]["distinct"] if len(lines) > 1 else 0}


def solve_task(weights, path, task_id, n_tests, steps=None, halt="early", max_copies=0, threads=1):
    """Per test input, solve_test's result; and whether the task is solved (every test output among its attempts;
    None when the task holds no outputs)."""
    results = [solve_test(weights, path, task_id, t, steps, halt, max_copies, threads) for t in range(n_tests)]
    if any("correct" not in a for r in results for a in r["attempts"]):
        return results, None
    return results, all(any(a["correct"] for a in r["attempts"]) for r in results)


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
    ap.add_argument("--steps", type=int, help="supervision steps at most (default, and null in --json: halt_max_steps)")
    ap.add_argument("--max-copies", type=int, default=0, help="augmented copies per test input (0: all the model has)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", help="write one JSON line per task here")
    ap.add_argument("--json", action="store_true", help="end stdout with one JSON line of the totals")
    args = ap.parse_args(argv)
    if not os.access(TRM_BIN, os.X_OK):
        print(f"evaluate_arc: the engine is not built ({TRM_BIN}): scripts/build.sh native", file=sys.stderr)
        return 1
    try:
        paths = task_files(args.tasks)[:args.limit]
        tasks = [(p, os.path.basename(p)[:-len(".json")], len(arc_data.load_task_file(p)[1])) for p in paths]
    except (OSError, ValueError) as e:
        print(f"evaluate_arc: {e}", file=sys.stderr)
        return 1
    out = open(args.out, "w") if args.out else None
    counts = {"tasks": 0, "solved": 0, "tests": 0, "tests_right": 0, "no_rows": 0}
    start = time.time()
    for n, (path, task_id, n_tests) in enumerate(tasks, 1):
        try:
            results, solved = solve_task(args.weights, path, task_id, n_tests, args.steps, args.halt, args.max_copies,
                                         args.threads)
        except NoRows as e:  # no row for this task: it can't be answered, so it counts as unsolved
            results, solved = str(e), False
            counts["no_rows"] += 1
        except ValueError as e:  # the weights or the task refused: nothing else can be counted either
            print(f"\nevaluate_arc: {e}", file=sys.stderr)
            return 1
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
                   steps=args.steps, wall_s=round(time.time() - start, 1))
    print(f"pass@2: {counts['solved']}/{counts['tasks']} tasks ({100 * summary['pass_at_2']:.2f}%), "
          f"{counts['tests_right']}/{counts['tests']} test outputs among the two attempts, "
          f"{counts['no_rows']} tasks without puzzle rows; {summary['wall_s']} s")
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
