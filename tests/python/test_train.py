"""The training recipe (scripts/train/train.py) learns an easy generated task in a few hundred steps; checkpoints
resume; export writes a weight file that evaluates like the model it came from."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import data
import export
import train
import trm_safetensors
from conftest import ROOT
from evaluate import evaluate
from trm_config import TRMConfig
from trm_model import TRM

SEQ, VOCAB = 8, 6


class ReverseTask:
    """Tokens 1..5 in, the same tokens reversed out: needs mixing across positions."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def take(self, n):
        q = self.rng.integers(1, VOCAB, size=(n, SEQ))
        return q, q[:, ::-1].copy()


def tiny_config(**kw):
    d = dict(seq_len=SEQ, vocab_size=VOCAB, hidden_size=32, num_heads=2, expansion=2.0, L_layers=1, H_cycles=2,
             L_cycles=1, halt_max_steps=2, mlp_t=True, pos_encodings="none", puzzle_emb_ndim=0, puzzle_emb_len=0,
             num_puzzle_identifiers=1, rms_norm_eps=1e-5, rope_theta=10000.0)
    d.update(kw)
    return TRMConfig.from_dict(d)


def recipe_args(**kw):
    d = dict(lr=3e-3, warmup=20, halt_exploration=0.1)
    d.update(kw)
    return type("Args", (), d)


def test_stablemax_cross_entropy():
    logits = torch.tensor([[[2.0, -1.0, 0.0]]])
    s = torch.tensor([3.0, 0.5, 1.0])
    want = -torch.log(s / s.sum())
    for label in range(3):
        got = train.stablemax_cross_entropy(logits, torch.tensor([[label]]))
        assert torch.allclose(got.float(), want[label:label + 1][None])


@pytest.mark.parametrize("bf16", [False, True])
def test_a_few_hundred_steps_learn_an_easy_task(bf16):
    """bf16: CPU autocast, as on CUDA (this also guards against autocast's weight cache, which would silently
    cut the gradient of weights first cast in the no_grad H cycles)."""
    torch.manual_seed(0)
    model = TRM(tiny_config())
    args = recipe_args(bf16=bf16)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.01)
    slots = train.Slots(model, ReverseTask(1), 32, torch.device("cpu"))
    test_q, test_a = ReverseTask(2).take(128)
    before = evaluate(model, test_q, test_a)["never"]
    losses = []
    for step in range(300):
        for g in optimizer.param_groups:
            g["lr"] = train.lr_at(step, args)
        losses.append(train.train_step(model, model, slots, optimizer, args, torch.device("cpu"))["loss"])
    after = evaluate(model, test_q, test_a)["never"]
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])
    assert after["cell_accuracy"] > 0.9 > before["cell_accuracy"] + 0.3
    assert after["exact_accuracy"] > 0.5 >= before["exact_accuracy"]


def test_gradient_only_through_the_last_h_cycle():
    torch.manual_seed(0)
    model = TRM(tiny_config(H_cycles=3, L_cycles=2, mlp_t=False, pos_encodings="rope", puzzle_emb_ndim=32,
                            puzzle_emb_len=1))
    q, _ = ReverseTask(0).take(2)
    carry = model.initial_carry(2)
    carry[0].requires_grad_(True)
    _, logits, _, _ = model(carry, torch.from_numpy(q), torch.zeros(2, dtype=torch.long))
    logits.sum().backward()
    assert carry[0].grad is None  # the carry enters only the no_grad cycles
    assert model.L_level.layers[0].mlp.down_proj.weight.grad is not None


def test_grad_cycles_reach_the_earlier_h_cycles():
    """--grad-cycles H: the whole supervision step is differentiable, so the gradient reaches the carry that only
    the first H cycle reads; the forward pass is the same either way."""
    torch.manual_seed(0)
    model = TRM(tiny_config(H_cycles=3, L_cycles=2))
    q = torch.from_numpy(ReverseTask(0).take(2)[0])
    ids = torch.zeros(2, dtype=torch.long)
    outs = []
    for grad_cycles in (1, 3):
        carry = model.initial_carry(2)
        carry[1].requires_grad_(True)  # zL: read first by the first cycle's first L update
        _, logits, _, _ = model(carry, q, ids, grad_cycles=grad_cycles)
        logits.sum().backward()
        outs.append((logits.detach(), carry[1].grad))
    assert outs[0][1] is None
    assert outs[1][1] is not None and outs[1][1].abs().sum() > 0
    assert torch.equal(outs[0][0], outs[1][0])


def test_depth_schedule_runs_fewer_cycles_with_the_same_weights():
    torch.manual_seed(0)
    model = TRM(tiny_config(H_cycles=3, L_cycles=2))
    shallow = TRM(tiny_config(H_cycles=1, L_cycles=1))
    shallow.load_state_dict(model.state_dict())
    q = torch.from_numpy(ReverseTask(0).take(2)[0])
    ids = torch.zeros(2, dtype=torch.long)
    with torch.no_grad():
        _, want, _, _ = shallow(shallow.initial_carry(2), q, ids)
        _, got, _, _ = model(model.initial_carry(2), q, ids, cycles=(1, 1))
        _, full, _, _ = model(model.initial_carry(2), q, ids)
    assert torch.equal(got, want) and not torch.equal(got, full)
    schedule = train.parse_depth_schedule(["1x1@10", "2X2@20"])
    assert schedule == [(10, (1, 1)), (20, (2, 2))]
    assert [train.cycles_at(s, schedule) for s in (0, 9, 10, 19, 20)] == [(1, 1), (1, 1), (2, 2), (2, 2), None]
    for bad in (["1x2"], ["0x2@5"], ["1x2@10", "2x2@10"], ["ax2@5"]):
        with pytest.raises(SystemExit, match="--depth-schedule"):
            train.parse_depth_schedule(bad)


def test_halt_bias_sets_the_first_q_halt():
    q = torch.from_numpy(ReverseTask(0).take(2)[0])
    for bias in (-5.0, -3.0):
        model = TRM(tiny_config(), halt_bias=bias)
        _, _, q_halt, q_continue = model(model.initial_carry(2), q, torch.zeros(2, dtype=torch.long))
        assert torch.allclose(q_halt, torch.full((2,), bias)) and torch.allclose(q_continue, torch.full((2,), bias))


class MostlyCopyTask:
    """The answer is the question with its first token replaced: one changed cell in SEQ, like a maze's path."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def take(self, n):
        q = self.rng.integers(1, VOCAB, size=(n, SEQ))
        a = q.copy()
        a[:, 0] = VOCAB - a[:, 0]  # 1..5 -> 5..1: differs except for 3
        return q, a


@pytest.mark.parametrize("changed_weight", [1.0, 10.0])
def test_changed_cell_weight(changed_weight):
    """lm_loss is the per-puzzle mean of the cells' losses, cells whose answer differs from the question weighted
    --changed-cell-weight times the others."""
    torch.manual_seed(0)
    model = TRM(tiny_config())
    slots = train.Slots(model, MostlyCopyTask(3), 6, torch.device("cpu"))
    slots.refill()
    carry, inputs, labels = (slots.zH.clone(), slots.zL.clone()), slots.inputs.clone(), slots.labels.clone()
    with torch.no_grad():
        _, logits, _, _ = model(carry, inputs, slots.ids)
    cell_loss = train.stablemax_cross_entropy(logits, labels)  # [B, S]
    w = torch.where(labels != inputs, changed_weight, 1.0)
    want = ((cell_loss * w).sum(-1) / w.sum(-1)).mean()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    got = train.train_step(model, model, slots, optimizer, recipe_args(changed_cell_weight=changed_weight),
                           torch.device("cpu"))["lm_loss"]
    assert got == pytest.approx(float(want), rel=1e-5)
    assert (labels != inputs).any() and (labels == inputs).any()
    if changed_weight != 1.0:
        assert got != pytest.approx(float(cell_loss.mean(-1).mean()), rel=1e-3)


def write_csv(path, q, a):
    with open(path, "w") as f:
        f.write("question,answer\n")
        for qi, ai in zip(q, a):
            f.write("".join(map(str, qi)) + "," + "".join(map(str, ai)) + "\n")


def numpy_objects(obj, where="state"):
    """Paths of numpy objects anywhere in a nest of dicts, lists and tuples (tensors are torch's own)."""
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in numpy_objects(v, f"{where}[{k!r}]")]
    if isinstance(obj, (list, tuple)):
        return [p for i, v in enumerate(obj) for p in numpy_objects(v, f"{where}[{i}]")]
    return [where] if type(obj).__module__.split(".")[0] == "numpy" else []


def test_train_resume_export_evaluate(tmp_path):
    """The command-line pipeline on a tiny sudoku model: train, resume, export, evaluate."""
    sol = [(r * 3 + r // 3 + c) % 9 + 1 for r in range(9) for c in range(9)]
    rng = np.random.default_rng(0)
    qs = [[d if rng.random() < 0.7 else 0 for d in sol] for _ in range(40)]
    csv = tmp_path / "train.csv"
    with open(csv, "w") as f:
        f.write("question,answer\n")
        for q in qs:
            f.write("".join(str(d) if d else "." for d in q) + "," + "".join(map(str, sol)) + "\n")
    out = tmp_path / "run"
    common = ["--threads", "1", "--log-seconds", "0"]
    train.main(["--task", "sudoku", "--train", str(csv), "--mlp-t", "--pos", "none", "--hidden", "16",
                "--puzzle-emb-len", "1", "--H-cycles", "1", "--L-cycles", "1", "--layers", "1",
                "--halt-max-steps", "2", "--batch", "4", "--holdout", "8", "--max-steps", "3", "--out", str(out)] + common)
    state = torch.load(out / "last.pt")
    assert state["progress"]["step"] == 3 and state["best"] is not None
    train.main(["--resume", str(out / "last.pt"), "--max-steps", "5", "--warmup", "1", "--total-steps", "10"] + common)
    state = torch.load(out / "last.pt")
    assert state["progress"]["step"] == 5 and state["args"]["hidden"] == 16
    # Nothing from numpy in the state: numpy 2 pickles its scalars as numpy._core, which numpy 1 cannot load, and a
    # state moves between a GPU machine's torch and Debian's.
    assert not numpy_objects(state)

    result = tmp_path / "eval.json"
    weights = tmp_path / "w.safetensors"
    assert export.main([str(out / "last.pt"), "--out", str(weights)]) == 0
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "train", "evaluate.py"), str(weights),
                           "--data", str(csv), "--limit", "10", "--json"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["early"]["count"] == 10 and 0 <= res["never"]["cell_accuracy"] <= 1
    assert res["never"]["mean_steps"] == 2
    result.write_text(proc.stdout)
    assert export.main([str(out / "last.pt"), "--out", str(weights), "--dtype", "bf16",
                        "--accuracy", f"train.csv={result}"]) == 0
    tensors, meta, dtypes = trm_safetensors.read(weights)
    source = json.loads(meta["source"])
    assert source["steps"] == 5 and source["accuracy"]["train.csv"] == res
    assert set(dtypes.values()) == {"BF16"} and json.loads(meta["task"]) == {"kind": "sudoku"}
    model, _ = TRM.from_weight_file(weights)
    assert model.cfg.hidden_size == 16


def test_refuses_eval_data(tmp_path):
    with pytest.raises(SystemExit, match="eval"):
        train.main(["--task", "sudoku", "--train", "data/sudoku/eval/x.csv", "--out", str(tmp_path / "never")])
    assert not (tmp_path / "never").exists()


def test_maze_training_smoke(tmp_path):
    """The maze path: attention with RoPE, no puzzle prefix; the recipe flags of the depth schedule, full
    backpropagation and the halting bias go through the command line into the saved settings."""
    from test_data import small_maze
    q, a = small_maze()
    mazes = tmp_path / "mazes.csv"
    mazes.write_text("question,answer\n" + f"{data.decode_maze(q)},{data.decode_maze(a)}\n" * 4)
    out = tmp_path / "maze"
    train.main(["--task", "maze", "--train", str(mazes), "--hidden", "16", "--heads", "2", "--puzzle-emb-len", "0",
                "--H-cycles", "2", "--L-cycles", "1", "--layers", "1", "--halt-max-steps", "2", "--batch", "2",
                "--holdout", "2", "--max-steps", "2", "--threads", "1", "--log-seconds", "0", "--out", str(out),
                "--depth-schedule", "1x1@1", "--grad-cycles", "2", "--halt-bias", "-3"])
    state = torch.load(out / "last.pt")
    assert state["progress"]["step"] == 2 and state["config"]["seq_len"] == 900
    assert (state["args"]["depth_schedule"], state["args"]["grad_cycles"], state["args"]["halt_bias"]) == (["1x1@1"], 2, -3.0)
    assert state["best"]["never"]["count"] == 2


def test_cosine_schedule_and_weight_curriculum():
    args = train.parse_args(["--out", "x", "--lr", "1e-3", "--warmup", "10", "--total-steps", "110",
                             "--lr-min-ratio", "0.01", "--train", "a", "b", "--train-weights", "1", "0",
                             "--train-weights-end", "0", "1"])
    assert train.lr_at(4, args) == pytest.approx(5e-4)  # warm-up
    assert train.lr_at(10, args) == pytest.approx(1e-3)
    assert train.lr_at(60, args) == pytest.approx(1e-3 * (0.01 + 0.99 * 0.5))  # half way down the cosine
    assert train.lr_at(110, args) == pytest.approx(1e-5) and train.lr_at(500, args) == pytest.approx(1e-5)
    assert all(type(train.lr_at(s, args)) is float for s in (4, 60, 500))
    assert np.allclose(train.train_weights_at(0, args, [5, 5]), [1, 0])
    assert np.allclose(train.train_weights_at(55, args, [5, 5]), [0.5, 0.5])
    assert np.allclose(train.train_weights_at(1000, args, [5, 5]), [0, 1])
    plain = train.parse_args(["--out", "x", "--lr", "1e-3", "--warmup", "10"])
    assert train.lr_at(10_000, plain) == pytest.approx(1e-3)  # no --total-steps: constant after warm-up
    assert np.allclose(train.train_weights_at(0, plain, [1, 3]), [0.25, 0.75])  # by size


def test_refuses_zero_grad_cycles(tmp_path):
    with pytest.raises(SystemExit, match="--grad-cycles 0: expected at least 1"):
        train.main(["--task", "maze", "--train", "mazes.csv", "--out", str(tmp_path / "never"), "--grad-cycles", "0"])
    assert not (tmp_path / "never").exists()
