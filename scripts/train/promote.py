#!/usr/bin/python3
"""Ship a training round's checkpoint only if the engine measures it better than the model already shipped.

    scripts/train/promote.py runs/sudoku_r2/best.pt --name sudoku_mlp \
        --data ../shared/data/sudoku/eval/forum_hardest_dev.csv [--state runs/sudoku_r2/last.pt] \
        [--baseline SHIPPED_RESULT.json] [--threads 2] [--trm build/native/trm] [--weights-dir weights] [--dry-run]

1. Exports the checkpoint's EMA weights (scripts/train/export.py) next to it: <checkpoint dir>/NAME.safetensors.
2. Runs `trm eval --halt both --json` on --data for the candidate and for weights/NAME.safetensors (or reads the
   shipped model's result from --baseline, the JSON line of an earlier `trm eval --halt both --json`).
3. The candidate is better when its (exact, cells) is at least the shipped model's with early halting and with all
   steps, and higher in one of them. Only then, and without --dry-run, it replaces weights/NAME.safetensors (with
   the result recorded in its `source` metadata) and weights/NAME_state.pt (from --state: the latest training
   state, so that the next round resumes where this one stopped; default the checkpoint itself).
4. Prints the model card's history row either way, and writes both results to <checkpoint dir>/promote.json.

The checkpoint is chosen on the training run's held-out slice of the training data; --data (an eval/ file) only
decides whether to ship it, as the training-round issue asks.
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import export  # noqa: E402


def engine_eval(trm, weights, data, threads):
    """`trm eval --halt both --json` -> its JSON object ({"early": {...}, "never": {...}, "count", ...})."""
    cmd = [trm, "eval", weights, "--data", data, "--halt", "both", "--threads", str(threads), "--json"]
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)  # progress goes to our stderr
    if proc.returncode != 0:
        raise RuntimeError(f"{weights}: trm eval failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def read_result(path):
    with open(path) as f:
        lines = [line for line in f.read().splitlines() if line.startswith("{")]
    if not lines:
        raise ValueError(f"{path}: no JSON line (expected the output of trm eval --halt both --json)")
    result = json.loads(lines[-1])
    if "early" not in result or "never" not in result:
        raise ValueError(f"{path}: field 'early'/'never' missing: expected the output of trm eval --halt both --json")
    return result


def key(metrics):
    return (metrics["exact_accuracy"], metrics["cell_accuracy"])


def is_better(candidate, shipped):
    modes = ("early", "never")
    return (all(key(candidate[m]) >= key(shipped[m]) for m in modes)
            and any(key(candidate[m]) > key(shipped[m]) for m in modes))


def history_row(state, result, shipped):
    p = state["progress"]  # the checkpoint's own step: its weights are that step's, whichever file it is
    e, n = result["early"], result["never"]
    return (f"| {datetime.date.today().isoformat()} | {p['samples']:,} (step {p['step']:,}) | {p.get('hardware')} | "
            f"{p['wall_s'] / 60:.0f} min | {100 * e['exact_accuracy']:.2f}% / {100 * e['cell_accuracy']:.2f}% "
            f"({e['mean_steps']:.2f} steps) | {100 * n['exact_accuracy']:.2f}% / {100 * n['cell_accuracy']:.2f}% | "
            f"{'shipped' if shipped else 'not shipped'} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="the round's selected checkpoint (train.py's best.pt)")
    ap.add_argument("--name", required=True, help="the shipped model: weights/NAME.safetensors and weights/NAME_state.pt")
    ap.add_argument("--data", required=True, help="question,answer CSV the decision is measured on")
    ap.add_argument("--state", help="training state to ship for the next round (default: the checkpoint)")
    ap.add_argument("--baseline", help="the shipped model's `trm eval --halt both --json` output on --data, saved earlier")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--trm", default=os.path.join(ROOT, "build", "native", "trm"))
    ap.add_argument("--weights-dir", default=os.path.join(ROOT, "weights"), help="where the shipped models are")
    ap.add_argument("--dry-run", action="store_true", help="measure and compare, change nothing under weights/")
    args = ap.parse_args(argv)
    shipped_weights = os.path.join(args.weights_dir, f"{args.name}.safetensors")
    shipped_state = os.path.join(args.weights_dir, f"{args.name}_state.pt")
    candidate = os.path.join(os.path.dirname(os.path.abspath(args.checkpoint)), f"{args.name}.safetensors")
    data_name = os.path.basename(args.data)
    try:
        if not os.access(args.trm, os.X_OK):
            raise ValueError(f"{args.trm}: no engine binary (build it: scripts/build.sh native)")
        if not os.path.exists(shipped_weights):
            raise ValueError(f"{shipped_weights}: no shipped model of that name (--name)")
        model, state = export.load_checkpoint_model(args.checkpoint)
        source = export.source_metadata(state, "ema", {})
        export.write_weight_file(model, candidate, source)
        result = engine_eval(args.trm, candidate, args.data, args.threads)
        baseline = read_result(args.baseline) if args.baseline else engine_eval(args.trm, shipped_weights, args.data, args.threads)
        if baseline.get("count") != result["count"]:
            raise ValueError(f"{args.baseline}: field 'count' is {baseline.get('count')}, expected {result['count']} "
                             f"(the same puzzles of {args.data})")
    except (OSError, ValueError, RuntimeError) as e:
        print(f"promote: {e}", file=sys.stderr)
        return 1
    better = is_better(result, baseline)
    for label, r in (("shipped  ", baseline), ("candidate", result)):
        e, n = r["early"], r["never"]
        print(f"{label} on {r['count']} of {data_name}: early halting exact {100 * e['exact_accuracy']:.2f}% cells "
              f"{100 * e['cell_accuracy']:.2f}% ({e['mean_steps']:.2f} steps) | all steps exact "
              f"{100 * n['exact_accuracy']:.2f}% cells {100 * n['cell_accuracy']:.2f}%")
    shipped = better and not args.dry_run
    if shipped:
        export.write_weight_file(model, shipped_weights, dict(source, accuracy={f"{data_name} (trm eval --halt both)": result}))
        shutil.copyfile(args.state or args.checkpoint, shipped_state)
        print(f"better: replaced {shipped_weights} and {shipped_state}")
    else:
        print("better, but --dry-run: weights/ unchanged" if better else "not better: weights/ unchanged")
    print("history row: | date | sample-steps so far | hardware | wall time so far | early halting: exact / cells "
          "(mean steps) | all steps: exact / cells | |")
    print(history_row(state, result, shipped))
    with open(os.path.join(os.path.dirname(os.path.abspath(args.checkpoint)), "promote.json"), "w") as f:
        json.dump({"data": args.data, "candidate": result, "shipped_before": baseline, "better": better,
                   "replaced": shipped}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
