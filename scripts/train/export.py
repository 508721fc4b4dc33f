#!/usr/bin/python3
"""Export a training checkpoint (scripts/train/train.py) to a TRM weight file (DESIGN.md "Weight file").

    scripts/train/export.py runs/sudoku/best.pt --out weights/sudoku_mlp.safetensors \
        [--weights ema|raw] [--dtype f32|f16|bf16] [--accuracy NAME=RESULT.json ...]

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
    state = torch.load(path, map_location="cpu")
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
    if args.get("generate"):
        data = "generated 30x30 mazes (scripts/train/data.py generate_maze, shortest path >= 110 cells)"
    else:
        data = ", ".join(os.path.basename(p) for p in args.get("train") or [])
    source = {
        "trained_with": "scripts/train/train.py (TRM reference recipe)",
        "data": data, "augmentation": bool(args.get("augment", True)),
        "held_out_for_selection": f"{args.get('holdout')} puzzles of the training data",
        "steps": progress["step"], "batch": args.get("batch"), "sample_steps": progress["samples"],
        "puzzles_finished": progress.get("puzzles"), "hardware": progress.get("hardware"),
        "wall_time_s": round(progress["wall_s"], 1), "weights": "EMA" if weights == "ema" else "raw",
        "optimizer": f"AdamW lr {args.get('lr')} betas (0.9, 0.95) wd {args.get('weight_decay')} "
                     f"warm-up {args.get('warmup')}, EMA {args.get('ema')}",
    }
    best = state.get("best")
    if best:
        source["held_out_accuracy"] = {"step": best["step"], "all_steps": best["never"], "early_halting": best["early"]}
    if accuracy:
        source["accuracy"] = accuracy
    return source


def write_weight_file(model, path, source, task=None, dtype="f32"):
    """The weight file of DESIGN.md: the model's tensors in `dtype`, and format/config/task/source metadata."""
    metadata = {"format": "trm/1", "config": model.cfg.to_json(),
                "task": json.dumps({"kind": task or guess_task(model.cfg)}, separators=(",", ":")),
                "source": json.dumps(source, separators=(",", ":"))}
    trm_safetensors.write(path, model.weight_arrays(), metadata=metadata, float_dtype=DTYPES[dtype])


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
    except (OSError, ValueError) as e:
        print(f"export: {e}", file=sys.stderr)
        return 1
    cfg = model.cfg
    source = source_metadata(state, args.weights, accuracy)
    if args.hardware:
        source["hardware"] = args.hardware
    if args.note:
        source["note"] = args.note
    write_weight_file(model, args.out, source, args.task, args.dtype)
    print(f"wrote {args.out}: {param_count(cfg):,} parameters, {DTYPES[args.dtype]}, step {state['progress']['step']}, "
          f"{os.path.getsize(args.out) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
