"""scripts/train/promote.py replaces a shipped model only when the engine measures the candidate better."""
import json
import os

import pytest
import torch

import export
import promote
import train
from test_engine import TRM_BIN

pytestmark = pytest.mark.skipif(not os.access(TRM_BIN, os.X_OK), reason=f"engine not built ({TRM_BIN})")


@pytest.fixture(scope="module")
def round_dir(tmp_path_factory):
    """A tiny sudoku run (3 steps) and a weights folder shipping its export."""
    tmp = tmp_path_factory.mktemp("round")
    sol = [(r * 3 + r // 3 + c) % 9 + 1 for r in range(9) for c in range(9)]
    csv = tmp / "puzzles.csv"
    with open(csv, "w") as f:
        f.write("question,answer\n")
        for k in range(12):
            f.write("".join("." if (i + k) % 3 == 0 else str(d) for i, d in enumerate(sol)) + "," + "".join(map(str, sol)) + "\n")
    run = tmp / "run"
    train.main(["--task", "sudoku", "--train", str(csv), "--mlp-t", "--pos", "none", "--hidden", "16", "--puzzle-emb-len", "1",
                "--H-cycles", "1", "--L-cycles", "1", "--layers", "1", "--halt-max-steps", "2", "--batch", "4",
                "--holdout", "4", "--max-steps", "3", "--out", str(run), "--threads", "1", "--log-seconds", "0"])
    shipped = tmp / "weights"
    shipped.mkdir()
    assert export.main([str(run / "last.pt"), "--out", str(shipped / "m.safetensors")]) == 0
    torch.save({"old": True}, shipped / "m_state.pt")
    return tmp


def baseline(path, exact, cells, count=12):
    m = {"exact_accuracy": exact, "cell_accuracy": cells, "mean_steps": 2.0}
    path.write_text(json.dumps({"count": count, "early": m, "never": m}) + "\n")
    return str(path)


def promote_args(d, *extra):
    return [str(d / "run" / "last.pt"), "--name", "m", "--data", str(d / "puzzles.csv"), "--trm", TRM_BIN,
            "--weights-dir", str(d / "weights"), *extra]


def test_the_same_model_is_not_better(round_dir, capsys):
    before = (round_dir / "weights" / "m.safetensors").read_bytes()
    assert promote.main(promote_args(round_dir)) == 0  # measures the shipped file itself: a tie
    assert "not better: weights/ unchanged" in capsys.readouterr().out
    assert (round_dir / "weights" / "m.safetensors").read_bytes() == before
    assert torch.load(round_dir / "weights" / "m_state.pt") == {"old": True}


def test_a_better_candidate_replaces_weights_and_state(round_dir, capsys):
    worse = baseline(round_dir / "worse.json", 0.0, 0.0)
    assert promote.main(promote_args(round_dir, "--baseline", worse, "--dry-run")) == 0
    assert "--dry-run: weights/ unchanged" in capsys.readouterr().out
    assert torch.load(round_dir / "weights" / "m_state.pt") == {"old": True}

    assert promote.main(promote_args(round_dir, "--baseline", worse)) == 0
    out = capsys.readouterr().out
    assert "better: replaced" in out and "| shipped |" in out
    assert torch.load(round_dir / "weights" / "m_state.pt")["progress"]["step"] == 3
    import trm_safetensors
    _, meta, _ = trm_safetensors.read(round_dir / "weights" / "m.safetensors")
    recorded = json.loads(meta["source"])["accuracy"]["puzzles.csv (trm eval --halt both)"]
    assert recorded["count"] == 12 and recorded["never"]["cell_accuracy"] > 0
    assert json.loads((round_dir / "run" / "promote.json").read_text())["replaced"] is True


def test_a_worse_candidate_changes_nothing(round_dir, capsys):
    before = (round_dir / "weights" / "m.safetensors").read_bytes()
    assert promote.main(promote_args(round_dir, "--baseline", baseline(round_dir / "perfect.json", 1.0, 1.0))) == 0
    assert "not better" in capsys.readouterr().out
    assert (round_dir / "weights" / "m.safetensors").read_bytes() == before


def test_a_baseline_of_other_puzzles_is_refused(round_dir, capsys):
    assert promote.main(promote_args(round_dir, "--baseline", baseline(round_dir / "other.json", 0.0, 0.0, count=99))) == 1
    assert "field 'count' is 99, expected 12" in capsys.readouterr().err


def test_history_row_names_the_checkpoints_own_step():
    """A last.pt written after the best held-out step holds that later step's weights: the row says so."""
    state = {"progress": {"step": 4106, "samples": 262784, "hardware": "cpu", "wall_s": 600.0}, "best": {"step": 3479}}
    result = {m: {"exact_accuracy": 0.5, "cell_accuracy": 0.9, "mean_steps": 3.0} for m in ("early", "never")}
    row = promote.history_row(state, result, shipped=False)
    assert "262,784 (step 4,106)" in row and "3,479" not in row
    assert row.endswith("| not shipped |")
