#!/usr/bin/python3
"""Export a training checkpoint (scripts/train/train.py) to a TRM weight file (DESIGN.md "Weight file").

    scripts/train/export.py runs/sudoku/best.pt --out weights/sudoku_mlp.safetensors \
        [--weights ema|raw] [--dtype f32|f16|bf16] [--accuracy NAME=RESULT.json ...] [--keep-puzzles TASK_IDS.txt]

An ARC checkpoint names its puzzle-embedding rows: they go into the `task` metadata as `puzzle_identifiers` (as
scripts/convert_checkpoint.py --identifiers writes them), so that `trm solve --task arc` finds a task's rows.
--keep-puzzles FILE (one task id per line, e.g. the dataset's eval_tasks.txt) keeps only the rows of those tasks
and their augmented copies: a much smaller file that can still answer them.

The `source` metadata records the training data, steps, hardware, wall time, the held-out (training-slice)
accuracy the checkpoint was selected on, and any measured accuracy given with --accuracy (the JSON line that
`evaluate.py --json` prints, saved to a file).
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import trm_safetensors  # noqa: E402
from trm_config import TRMConfig, guess_task, param_count  # noqa: E402
from trm_model import TRM  # noqa: E402

DTYPES = {"f32": "F32", "f16": "F16", "bf16": "BF16"}


def load_checkpoint_model(path, weights="ema"):
    """(model with the chosen weights, checkpoint dict)."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or state.get("format") != "trm-train/1":
        raise ValueError(f"{path}: not a checkpoint of scripts/train/train.py (format 'trm-train/1')")
    cfg = TRMConfig.from_dict(state["config"], where=f"{path}: config")
    model = TRM(cfg)
    if weights == "ema" and state.get("ema"):
        model.load_state_dict(state["ema"])
    else:
        model.load_state_dict(state["model"])
    return model, state


def source_metadata(state, weights, accuracy):
    args, progress = state["args"], state["progress"]
    if args.get("task") == "arc":
        data = (f"ARC dataset {os.path.basename(os.path.normpath(args.get('arc_data') or '?'))} built by "
                f"scripts/train/arc_data.py: ARC-AGI-1 training and ConceptARC tasks, and only the demonstration pairs "
                f"of the ARC-AGI-1 evaluation tasks, each with augmented copies")
    else:
        data = ", ".join(os.path.basename(p) for p in args.get("train") or [])
        if args.get("train_weights"):
            data += f" (drawn with weights {args['train_weights']}"
            data += f", moving to {args['train_weights_end']})" if args.get("train_weights_end") else ")"
    source = {
        "trained_with": "scripts/train/train.py (TRM reference recipe)",
        "data": data, "augmentation": bool(args.get("augment", True)),
        "held_out_for_selection": f"{args.get('holdout')} puzzles of each training file",
        "steps": progress["step"], "batch": args.get("batch"), "sample_steps": progress["samples"],
        "puzzles_finished": progress.get("puzzles"), "hardware": progress.get("hardware"),
        "wall_time_s": round(progress["wall_s"], 1), "weights": "EMA" if weights == "ema" else "raw",
        "optimizer": f"AdamW lr {args.get('lr')} betas (0.9, 0.95) wd {args.get('weight_decay')} "
                     f"warm-up {args.get('warmup')}, EMA {args.get('ema')}"
                     + (f", cosine to {args.get('lr_min_ratio')} x lr at step {args['total_steps']}"
                        if args.get("total_steps") else ""),
    }
    if args.get("task") == "arc":
        source["optimizer"] += (f"; puzzle-embedding rows: sign-SGD lr {args.get('puzzle_emb_lr')} "
                                f"wd {args.get('puzzle_emb_wd')}")
    best = state.get("best")
    if best:
        source["held_out_accuracy"] = {"step": best["step"], "all_steps": best["never"], "early_halting": best["early"]}
    if accuracy:
        source["accuracy"] = accuracy
    return source


def keep_rows(names, keep_path):
    """Row indices whose task id (the name before '|||') is listed in keep_path, one per line: the rule of
    scripts/convert_checkpoint.py --keep-puzzles."""
    with open(keep_path) as f:
        wanted = {line.strip() for line in f if line.strip()}
    rows = [i for i, n in enumerate(names) if n.split("|||")[0] in wanted]
    if not rows:
        raise ValueError(f"{keep_path}: none of its {len(wanted)} task ids names a puzzle-embedding row of the checkpoint")
    return rows


def write_weight_file(model, path, source, task=None, dtype="f32", identifiers=None, keep=None):
    """The weight file of DESIGN.md: the model's tensors in `dtype`, and format/config/task/source metadata.
    identifiers: names of the puzzle-embedding rows (task.puzzle_identifiers); keep: the rows to write."""
    arrays, cfg = model.weight_arrays(), model.cfg
    task_meta = {"kind": task or guess_task(cfg)}
    if identifiers is not None:
        if len(identifiers) != cfg.num_puzzle_identifiers:
            raise ValueError(f"puzzle_identifiers: {len(identifiers)} names, expected {cfg.num_puzzle_identifiers} "
                             f"(rows of puzzle_emb.weights)")
        if keep is not None:
            arrays["puzzle_emb.weights"] = arrays["puzzle_emb.weights"][keep]
            cfg = TRMConfig.from_dict(dict(json.loads(cfg.to_json()), num_puzzle_identifiers=len(keep)))
            identifiers = [identifiers[i] for i in keep]
        task_meta["puzzle_identifiers"] = list(identifiers)
    metadata = {"format": "trm/1", "config": cfg.to_json(), "task": json.dumps(task_meta, separators=(",", ":")),
                "source": json.dumps(source, separators=(",", ":"))}
    trm_safetensors.write(path, arrays, metadata=metadata, float_dtype=DTYPES[dtype])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--out", required=True)
    ap.add_argument("--weights", choices=["ema", "raw"], default="ema")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="f32")
    ap.add_argument("--task", choices=["sudoku", "maze", "arc", "generic"])
    ap.add_argument("--hardware", help="describe the training hardware (overrides the checkpoint's own description)")
    ap.add_argument("--note", help="free text recorded in the source metadata (e.g. how the run's settings changed)")
    ap.add_argument("--accuracy", nargs="*", default=[], metavar="NAME=FILE",
                    help="measured accuracy to record: NAME (e.g. the data file) = a file holding evaluate.py's --json line")
    ap.add_argument("--keep-puzzles", dest="keep", metavar="FILE",
                    help="ARC: task ids, one per line: keep only their puzzle-embedding rows")
    args = ap.parse_args(argv)
    try:
        model, state = load_checkpoint_model(args.checkpoint, args.weights)
        accuracy = {}
        for item in args.accuracy:
            name, _, path = item.partition("=")
            if not path:
                raise ValueError(f"--accuracy {item!r}: expected NAME=FILE")
            with open(path) as f:
                lines = [line for line in f.read().splitlines() if line.startswith("{")]
            if not lines:
                raise ValueError(f"{path}: no JSON line (run evaluate.py with --json)")
            accuracy[name] = json.loads(lines[-1])
        identifiers = state.get("puzzle_identifiers")
        if args.keep and identifiers is None:
            raise ValueError(f"--keep-puzzles: {args.checkpoint} names no puzzle-embedding rows (not an ARC run)")
        keep = keep_rows(identifiers, args.keep) if args.keep else None
    except (OSError, ValueError) as e:
        print(f"export: {e}", file=sys.stderr)
        return 1
    cfg = model.cfg
    source = source_metadata(state, args.weights, accuracy)
    if args.hardware:
        source["hardware"] = args.hardware
    if args.note:
        source["note"] = args.note
    if keep is not None:
        source["puzzle_rows_kept"] = f"{len(keep)} of {len(identifiers)} (tasks of {os.path.basename(args.keep)})"
    try:
        write_weight_file(model, args.out, source, args.task, args.dtype, identifiers, keep)
    except ValueError as e:
        print(f"export: {args.checkpoint}: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: {param_count(cfg):,} parameters, {DTYPES[args.dtype]}, step {state['progress']['step']}, "
          f"{len(keep) if keep is not None else cfg.num_puzzle_identifiers} puzzle rows, "
          f"{os.path.getsize(args.out) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
