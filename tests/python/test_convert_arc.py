"""scripts/convert_checkpoint.py --identifiers/--keep-puzzles on a reference-format ARC checkpoint: the subset file keeps
exactly the rows of the listed tasks (and their augmented copies), names them in task.puzzle_identifiers, and gives
the same logits as the full file for those rows (PyTorch model; the native engine too when it is built)."""
import json
import os
import subprocess

import numpy as np
import pytest
import torch
import yaml

import convert_checkpoint
import trm_safetensors
from conftest import ROOT, VECTORS
from trm_model import TRM

CASE = os.path.join(VECTORS, "arc_att_rope_puzzle_emb")
PREFIX = "_orig_mod.model.inner."
TRM_BIN = os.environ.get("TRM_BIN", os.path.join(ROOT, "build", "native", "trm"))
native = pytest.mark.skipif(not os.access(TRM_BIN, os.X_OK), reason=f"engine not built ({TRM_BIN})")

# Rows as the reference's identifiers.json names them: '<blank>' first, then tasks and augmented copies, interleaved.
NAMES = ["<blank>", "007bbfb7", "007bbfb7|||t1|||0123456789", "00d62c1b", "007bbfb7|||t5|||0432156789",
         "00d62c1b|||t3|||0918273645", "017c7c7b", "017c7c7b|||t7|||0123498765", "00d62c1b|||t0|||0213456789"]
KEEP = ["007bbfb7", "017c7c7b"]
KEPT_ROWS = [i for i, n in enumerate(NAMES) if n.split("|||")[0] in KEEP]  # [1, 2, 4, 6, 7]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A reference-format checkpoint (the ARC reference case with a 9-row puzzle-embedding table and the sparse
    embedding's training buffers), its all_config.yaml, identifiers.json, a task list, and both conversions."""
    d = tmp_path_factory.mktemp("arc_run")
    sd = torch.load(os.path.join(CASE, "step_0"), map_location="cpu")
    old = sd[PREFIX + "puzzle_emb.weights"]  # [5, 64]
    g = torch.Generator().manual_seed(3)
    table = torch.randn(len(NAMES), old.shape[1], generator=g)
    table[:old.shape[0]] = old
    sd[PREFIX + "puzzle_emb.weights"] = table
    sd[PREFIX + "puzzle_emb.local_weights"] = torch.zeros(4, old.shape[1])  # CastedSparseEmbedding's buffers
    sd[PREFIX + "puzzle_emb.local_ids"] = torch.zeros(4, dtype=torch.int32)
    torch.save(sd, d / "step_0")
    with open(os.path.join(CASE, "all_config.yaml")) as f:
        config = yaml.safe_load(f)
    config["arch"].update(num_puzzle_identifiers=len(NAMES), seq_len=900, vocab_size=12)  # no dataset.json here
    config["arch"].update(H_cycles=1, L_cycles=1)  # same weights, fewer Net calls per step: a quicker test
    (d / "all_config.yaml").write_text(yaml.safe_dump(config))
    (d / "identifiers.json").write_text(json.dumps(NAMES))
    (d / "keep.txt").write_text("\n".join(KEEP) + "\n\n")
    common = [str(d / "step_0"), "--config", str(d / "all_config.yaml"), "--identifiers", str(d / "identifiers.json")]
    assert convert_checkpoint.main(common + ["--out", str(d / "full.safetensors")]) == 0
    assert convert_checkpoint.main(common + ["--keep-puzzles", str(d / "keep.txt"), "--out", str(d / "subset.safetensors")]) == 0
    return d


def test_subset_keeps_the_listed_tasks_rows_and_names(run):
    full, full_meta, _ = trm_safetensors.read(run / "full.safetensors")
    sub, sub_meta, _ = trm_safetensors.read(run / "subset.safetensors")
    assert json.loads(full_meta["task"]) == {"kind": "arc", "puzzle_identifiers": NAMES}
    assert json.loads(sub_meta["task"]) == {"kind": "arc", "puzzle_identifiers": [NAMES[i] for i in KEPT_ROWS]}
    assert json.loads(full_meta["config"])["num_puzzle_identifiers"] == len(NAMES)
    assert json.loads(sub_meta["config"])["num_puzzle_identifiers"] == len(KEPT_ROWS)
    np.testing.assert_array_equal(sub["puzzle_emb.weights"], full["puzzle_emb.weights"][KEPT_ROWS])
    assert set(sub) == set(full)
    for name in full:
        if name != "puzzle_emb.weights":
            np.testing.assert_array_equal(sub[name], full[name])
    assert os.path.getsize(run / "subset.safetensors") < os.path.getsize(run / "full.safetensors")


def arc_inputs(n, seed):
    """n encoded ARC grids (TRM_SPEC.md: colour c -> c + 2, end-of-grid marker 1, padding 0) [n, 900]."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 900), dtype=np.int32)
    for b in range(n):
        rows, cols = rng.integers(1, 31, size=2)
        grid = out[b].reshape(30, 30)
        grid[:rows, :cols] = rng.integers(0, 10, size=(rows, cols)) + 2
        if rows < 30:
            grid[rows, :cols] = 1
        if cols < 30:
            grid[:rows, cols] = 1
    return out


def test_subset_gives_the_full_files_logits_for_the_kept_rows(run):
    full, _ = TRM.from_weight_file(run / "full.safetensors")
    sub, _ = TRM.from_weight_file(run / "subset.safetensors")
    inputs = torch.from_numpy(arc_inputs(len(KEPT_ROWS), 1))
    outs = []
    for model, ids in [(full, KEPT_ROWS), (sub, list(range(len(KEPT_ROWS))))]:
        model.eval()
        with torch.no_grad():
            _, logits, q_halt, q_continue = model(model.initial_carry(len(ids)), inputs, torch.tensor(ids))
        outs.append((logits.numpy(), q_halt.numpy(), q_continue.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)
    # The rows matter: another row of the full table gives other logits.
    with torch.no_grad():
        _, other, _, _ = full(full.initial_carry(1), inputs[:1], torch.tensor([3]))
    assert np.abs(other.numpy() - outs[0][0][:1]).max() > 1e-3


@native
def test_native_engine_agrees_and_runs_only_kept_tasks(run):
    inputs = arc_inputs(len(KEPT_ROWS), 2)
    results = []
    for name, ids in [("full", KEPT_ROWS), ("subset", list(range(len(KEPT_ROWS))))]:
        trm_safetensors.write(run / f"in_{name}.safetensors", {"inputs": inputs, "puzzle_identifiers": np.array(ids, dtype=np.int32)})
        r = subprocess.run([TRM_BIN, "predict", str(run / f"{name}.safetensors"), "--inputs", str(run / f"in_{name}.safetensors"),
                            "--steps", "1", "--out", str(run / f"out_{name}.safetensors"), "--threads", "1"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        results.append(trm_safetensors.read(run / f"out_{name}.safetensors")[0])
    for key in ["step0.logits", "step0.q_halt_logits", "step0.q_continue_logits"]:
        np.testing.assert_allclose(results[1][key], results[0][key], rtol=1e-5, atol=1e-5)

    task = {"train": [{"input": [[1, 2]], "output": [[2, 1]]}], "test": [{"input": [[3, 0, 4], [0, 5, 0]]}]}
    (run / "007bbfb7.json").write_text(json.dumps(task))
    r = subprocess.run([TRM_BIN, "solve", str(run / "subset.safetensors"), "--task", "arc", str(run / "007bbfb7.json"),
                        "--json", "--steps", "1", "--threads", "1"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().split("\n")[-1])["copies"] == 3  # the task and its two augmented copies
    r = subprocess.run([TRM_BIN, "solve", str(run / "subset.safetensors"), "--task", "arc", str(run / "007bbfb7.json"),
                        "--task-id", "00d62c1b", "--threads", "1"], capture_output=True, text=True)
    assert r.returncode == 1
    assert "no puzzle-embedding row for task '00d62c1b'" in r.stderr


def test_refusals(run, capsys):
    base = [str(run / "step_0"), "--config", str(run / "all_config.yaml"), "--out", str(run / "x.safetensors")]
    assert convert_checkpoint.main(base + ["--keep-puzzles", str(run / "keep.txt")]) == 1
    assert "--keep-puzzles needs --identifiers" in capsys.readouterr().err
    (run / "none.txt").write_text("ffffffff\n")
    assert convert_checkpoint.main(base + ["--identifiers", str(run / "identifiers.json"), "--keep-puzzles", str(run / "none.txt")]) == 1
    assert "none of its 1 task ids names a row" in capsys.readouterr().err
    (run / "short.json").write_text(json.dumps(NAMES[:-1]))
    assert convert_checkpoint.main(base + ["--identifiers", str(run / "short.json")]) == 1
    assert f"{len(NAMES) - 1} names, expected {len(NAMES)}" in capsys.readouterr().err
