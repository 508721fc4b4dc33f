#!/usr/bin/python3
"""Paper-size TRM weight files with random weights, for timing (scripts/bench.mjs); written to build/bench/.

    scripts/make_random_weights.py [--out-dir build/bench] [--seed 0] [--which sudoku_mlp,maze_att]

sudoku_mlp: the paper's sudoku token-MLP model (TRM_SPEC.md: hidden 512, expansion 4, 2 layers, mlp_t, no
            positions, 81 tokens + 16 puzzle-prefix positions, H_cycles 3 x L_cycles 6), 5.0M parameters.
maze_att:   the paper's attention model on 900 + 16 positions (hidden 512, 8 heads, RoPE, H_cycles 3 x
            L_cycles 4), vocabulary 6.
Weights are the PyTorch model's initialisation (scripts/train/trm_model.py) under a fixed seed, so every file is
a valid trm/1 file with realistic magnitudes; the puzzle embedding (zero at initialisation) gets random rows too.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "train"))
import trm_safetensors  # noqa: E402
from trm_config import TRMConfig, weight_shapes  # noqa: E402

COMMON = dict(hidden_size=512, num_heads=8, expansion=4.0, L_layers=2, halt_max_steps=16, puzzle_emb_ndim=512,
              puzzle_emb_len=16, num_puzzle_identifiers=1, rms_norm_eps=1e-5, rope_theta=10000.0)
MODELS = {
    "sudoku_mlp": (dict(COMMON, seq_len=81, vocab_size=11, H_cycles=3, L_cycles=6, mlp_t=True, pos_encodings="none"),
                   "sudoku"),
    "maze_att": (dict(COMMON, seq_len=900, vocab_size=6, H_cycles=3, L_cycles=4, mlp_t=False, pos_encodings="rope"),
                 "maze"),
}


def random_arrays(cfg, seed):
    """name -> float32 array for every tensor of the config: the PyTorch model's initialisation."""
    import torch
    from trm_model import TRM
    torch.manual_seed(seed)
    arrays = TRM(cfg).weight_arrays()
    rng = np.random.default_rng(seed)
    if "puzzle_emb.weights" in arrays:
        arrays["puzzle_emb.weights"] = rng.normal(0, 1, arrays["puzzle_emb.weights"].shape).astype(np.float32)
    assert set(arrays) == set(weight_shapes(cfg))
    return arrays


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.normpath(os.path.join(HERE, "..", "build", "bench")))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--which", default=",".join(MODELS))
    a = ap.parse_args(argv)
    os.makedirs(a.out_dir, exist_ok=True)
    for name in a.which.split(","):
        if name not in MODELS:
            ap.error(f"unknown model {name!r}; expected one of {', '.join(MODELS)}")
        fields, task = MODELS[name]
        cfg = TRMConfig.from_dict(fields)
        out = os.path.join(a.out_dir, f"{name}.safetensors")
        meta = {"format": "trm/1", "config": cfg.to_json(), "task": '{"kind":"%s"}' % task,
                "source": f"random weights for timing (scripts/make_random_weights.py, seed {a.seed})"}
        trm_safetensors.write(out, random_arrays(cfg, a.seed), metadata=meta, float_dtype="F32")
        print(f"{out}: {os.path.getsize(out)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
