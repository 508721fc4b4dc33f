#!/usr/bin/python3
"""Training throughput: samples per second of train.py's optimiser step, on a checkpoint's model and recipe.

    scripts/train/bench_train.py weights/sudoku_mlp_state.pt [--steps 10] [--threads 1] [--train CSV ...] [--profile]

Runs 2 warm-up steps and then --steps timed optimiser steps (one supervision step of every puzzle slot each, with
the checkpoint's batch, bf16 setting and augmentation), and prints samples/s and ms per step; --profile also prints
torch.profiler's table of the operators that took the time. Nothing is written. A benchmark, not a test: compare
two versions of the code on the same machine, back to back.
"""
import argparse
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train  # noqa: E402
from trm_config import TRMConfig  # noqa: E402
from trm_model import TRM  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="a train.py checkpoint (its model, settings and optimiser state)")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--train", nargs="+", help="training CSV file(s), if not where the checkpoint says")
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    state = torch.load(a.checkpoint, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or state.get("format") != "trm-train/1":
        print(f"bench_train: {a.checkpoint}: not a checkpoint of scripts/train/train.py (format 'trm-train/1')", file=sys.stderr)
        return 1
    args = train.parse_args(["--resume", a.checkpoint, "--out", "unused"] + (["--train", *a.train] if a.train else []))
    args.train = args.train[:1]  # one file is enough to draw batches from, and loads faster
    device = torch.device("cpu")
    model = TRM(TRMConfig.from_dict(state["config"]))
    model.load_state_dict(state["model"])
    optimizer = train.make_optimizer(model, args)
    stream = train.build_data(args, 0)[0]
    slots = train.Slots(model, stream, args.batch, device)
    for _ in range(2):
        train.train_step(model, model, slots, optimizer, args, device)
    start = time.time()
    if a.profile:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(a.steps):
                train.train_step(model, model, slots, optimizer, args, device)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
    else:
        for _ in range(a.steps):
            train.train_step(model, model, slots, optimizer, args, device)
    secs = time.time() - start
    print(f"{a.checkpoint}: batch {args.batch}, bf16 {bool(args.bf16)}, {a.threads} thread(s): "
          f"{a.steps * args.batch / secs:.1f} samples/s ({1000 * secs / a.steps:.0f} ms per optimiser step)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
