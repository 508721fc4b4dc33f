"""Export, then the native engine (build/native/trm, built by scripts/build.sh native) reproduces the PyTorch
model's outputs, and its `trm eval` agrees with scripts/train/evaluate.py. Skipped when the engine is not built."""
import json
import os
import subprocess

import numpy as np
import pytest
import torch

import data
import export
import trm_safetensors
from conftest import ROOT
from evaluate import evaluate
from trm_config import TRMConfig
from trm_model import TRM

TRM_BIN = os.environ.get("TRM_BIN", os.path.join(ROOT, "build", "native", "trm"))
pytestmark = pytest.mark.skipif(not os.access(TRM_BIN, os.X_OK), reason=f"engine not built ({TRM_BIN})")


def random_model(seed, **kw):
    """A small sudoku model with every weight random (q_head and puzzle embedding included) and the shared
    network scaled by 0.7 so that rounding differences stay small over a few steps."""
    d = dict(seq_len=81, vocab_size=11, hidden_size=32, num_heads=2, expansion=4.0, L_layers=2, H_cycles=2,
             L_cycles=2, halt_max_steps=3, mlp_t=True, pos_encodings="none", puzzle_emb_ndim=32, puzzle_emb_len=2,
             num_puzzle_identifiers=1, rms_norm_eps=1e-5, rope_theta=10000.0)
    d.update(kw)
    torch.manual_seed(seed)
    model = TRM(TRMConfig.from_dict(d))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("L_level"):
                p.mul_(0.7)
        model.q_head.weight.normal_(0, 0.3)
        model.q_head.bias.normal_(0, 0.5)
        model.puzzle_emb.weights.normal_(0, 1.0)
    model.eval()
    q, _ = sudoku_batch(16, 5)  # centre q_halt so that early halting stops puzzles at different steps
    carry, halts = model.initial_carry(16), []
    with torch.no_grad():
        for _ in range(model.cfg.halt_max_steps):
            carry, _, q_halt, _ = model(carry, torch.from_numpy(q), torch.zeros(16, dtype=torch.long))
            halts.append(q_halt)
        model.q_head.bias[0] -= torch.cat(halts).median() + 0.1
    return model


def run(*args):
    proc = subprocess.run([TRM_BIN, *map(str, args), "--threads", "1"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def sudoku_batch(n, seed):
    rng = np.random.default_rng(seed)
    sol = np.array([(r * 3 + r // 3 + c) % 9 + 1 for r in range(9) for c in range(9)]) + 1
    qs, ans = [], []
    for _ in range(n):
        q = sol.copy()
        q[rng.random(81) < 0.5] = 1
        q, a = data.augment_sudoku(q, sol, rng)
        qs.append(q)
        ans.append(a)
    return np.stack(qs), np.stack(ans)


@pytest.mark.parametrize("variant", [dict(), dict(mlp_t=False, pos_encodings="rope")])
def test_predict_reproduces_pytorch(variant, tmp_path):
    model = random_model(0, **variant)
    weights = tmp_path / "w.safetensors"
    export.write_weight_file(model, weights, {"test": "random weights"})
    q, _ = sudoku_batch(3, 1)
    trm_safetensors.write(tmp_path / "in.safetensors",
                          {"inputs": q.astype(np.int32), "puzzle_identifiers": np.zeros(3, dtype=np.int32)})
    steps = 3
    run("predict", weights, "--inputs", tmp_path / "in.safetensors", "--steps", steps, "--out", tmp_path / "out.safetensors")
    got, _, _ = trm_safetensors.read(tmp_path / "out.safetensors")
    carry = model.initial_carry(3)
    with torch.no_grad():
        for k in range(steps):
            carry, logits, q_halt, q_continue = model(carry, torch.from_numpy(q), torch.zeros(3, dtype=torch.long))
            for name, want in (("logits", logits), ("q_halt_logits", q_halt), ("q_continue_logits", q_continue)):
                want = want.numpy()
                err = np.abs(got[f"step{k}.{name}"] - want).max() / np.abs(want).max()
                assert err < 1e-4, f"step{k}.{name}: relative error {err:.2e}"


def test_eval_agrees_with_python_evaluator(tmp_path):
    model = random_model(3)
    weights = tmp_path / "w.safetensors"
    export.write_weight_file(model, weights, {"test": "random weights"})
    q, a = sudoku_batch(24, 2)
    q[:4] = a[:4]  # a few puzzles already solved in the question, so some answers are right
    csv = tmp_path / "d.csv"
    with open(csv, "w") as f:
        f.write("question,answer\n")
        for qi, ai in zip(q, a):
            f.write(f"{data.decode_sudoku(qi)},{data.decode_sudoku(ai)}\n")
    mine = evaluate(model, q, a)
    assert 1 < mine["early"]["mean_steps"] < 3  # early halting really differs from running every step
    for mode in ("early", "never"):
        out = run("eval", weights, "--data", csv, "--halt", mode, "--json")
        engine = json.loads(out.strip().splitlines()[-1])
        assert engine["count"] == 24
        for key in ("exact_accuracy", "cell_accuracy", "mean_steps"):
            assert engine[key] == pytest.approx(mine[mode][key], abs=1e-9), (mode, key)
    # --halt both: one pass, all steps, with each puzzle also scored where early halting would have stopped it
    both = json.loads(run("eval", weights, "--data", csv, "--halt", "both", "--batch", 5, "--json").strip().splitlines()[-1])
    assert both["count"] == 24 and both["halt"] == "both"
    for mode in ("early", "never"):
        for key in ("exact_accuracy", "cell_accuracy", "mean_steps"):
            assert both[mode][key] == pytest.approx(mine[mode][key], abs=1e-9), (mode, key)
