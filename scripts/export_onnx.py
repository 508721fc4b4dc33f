#!/usr/bin/python3
"""Export a TRM weight file to ONNX: the same network (scripts/train/trm_model.py), as supervision steps.

    scripts/export_onnx.py W.safetensors --out M.onnx [--steps 1] [--batch 1] [--opset 14]

Graph inputs:  z_H, z_L [B, S, D] float32 (the carry), x [B, S, D] float32 (the input embedding of TRM_SPEC.md
               "Forward" steps 1-4, which the engine also computes once per puzzle, outside the step).
Graph outputs: z_H_out, z_L_out [B, S, D] (the new carry), logits [B, seq_len, V], q_halt [B], q_continue [B]
               of the last of the --steps supervision steps (unrolled in the graph; weights shared).
Exported with torch.onnx (torch 1.13 writes ONNX without the `onnx` Python package); the batch axis is fixed
(--batch) so the runtime sees static shapes. The export traces the model on random inputs (seed 0) and prints
the first PyTorch logits of that run; scripts/bench.mjs runs the file with onnxruntime-web and compares.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "train"))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from trm_model import TRM  # noqa: E402


class SupervisionSteps(nn.Module):
    """`steps` supervision steps of TRM.forward from an embedded input x (no gradients, as at inference)."""

    def __init__(self, model, steps):
        super().__init__()
        self.model, self.steps = model, steps

    def forward(self, zH, zL, x):
        m, cfg = self.model, self.model.cfg
        rope = m.rope()
        zH, zL, x = (t.transpose(0, 1) for t in (zH, zL, x))  # [S, B, D], as trm_model's blocks take them
        for _ in range(self.steps):
            for _ in range(cfg.H_cycles):
                for _ in range(cfg.L_cycles):
                    zL = m.L_level(zL, zH + x, rope)
                zH = m.L_level(zH, zL, rope)
        logits, q_halt, q_continue = m.heads(zH)
        return zH.transpose(0, 1), zL.transpose(0, 1), logits, q_halt, q_continue


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("weights")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--opset", type=int, default=14)
    a = ap.parse_args(argv)
    if a.steps < 1 or a.batch < 1:
        ap.error("--steps and --batch must be >= 1")
    try:
        model, _ = TRM.from_weight_file(a.weights)
    except (OSError, ValueError) as e:
        print(f"export_onnx: {a.weights}: {e}", file=sys.stderr)
        return 1
    model.eval()
    cfg = model.cfg
    net = SupervisionSteps(model, a.steps).eval()
    g = torch.Generator().manual_seed(0)
    shape = (a.batch, cfg.S, cfg.hidden_size)
    zH, zL, x = (torch.randn(shape, generator=g) for _ in range(3))
    with torch.no_grad():
        torch.onnx.export(net, (zH, zL, x), a.out, opset_version=a.opset, do_constant_folding=True,
                          input_names=["z_H", "z_L", "x"],
                          output_names=["z_H_out", "z_L_out", "logits", "q_halt", "q_continue"])
        ref = net(zH, zL, x)
    print(f"{a.out}: {os.path.getsize(a.out)} bytes; {a.steps} step(s) of {cfg.H_cycles} x ({cfg.L_cycles} + 1) "
          f"network calls, batch {a.batch}, S {cfg.S}, D {cfg.hidden_size}; PyTorch logits[0,0,:3] "
          f"{[round(float(v), 5) for v in ref[2][0, 0, :3]]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
