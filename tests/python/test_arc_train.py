"""ARC training side: the dataset builder (scripts/train/arc_data.py), training with per-puzzle embedding rows
(train.py --task arc), export with puzzle_identifiers, and the pass@2 evaluator (evaluate_arc.py, which runs the
engine's `trm solve --task arc`). Everything runs on tiny ARC tasks made here (no ../shared data)."""
import json
import os
import subprocess

import numpy as np
import pytest
import torch

import arc_data
import evaluate_arc
import export
import train
import trm_safetensors
from conftest import ROOT
from trm_model import TRM

TRM_BIN = os.environ.get("TRM_BIN", os.path.join(ROOT, "build", "native", "trm"))


def grid(rng, rows=None, cols=None):
    rows = rows or int(rng.integers(1, 6))
    cols = cols or int(rng.integers(1, 6))
    return rng.integers(0, 10, size=(rows, cols)).tolist()


def recolour_task(rng, n_train=3, n_test=1):
    """Input grid -> the same grid with colours 1 and 2 swapped: a rule the puzzle row can carry."""
    def pair():
        g = np.array(grid(rng))
        out = np.where(g == 1, 2, np.where(g == 2, 1, g))
        return {"input": g.tolist(), "output": out.tolist()}
    return {"train": [pair() for _ in range(n_train)], "test": [pair() for _ in range(n_test)]}


# Test outputs of the evaluation tasks are 7x7 of colour 9: no other grid here has that shape and colour.
EVAL_TEST_OUTPUT = [[9] * 7 for _ in range(7)]


def write_tiny_root(root, seed=0):
    """An ARC data folder laid out like ../shared/data/arc: 3 training tasks (one holding an evaluation test pair
    verbatim, as ARC-AGI-1 training 40853293 does), 2 concept tasks (Kaggle layout), 2 evaluation tasks."""
    rng = np.random.default_rng(seed)
    evaluation = {f"e{i}aaaaa": recolour_task(rng) for i in range(2)}
    for i, t in enumerate(evaluation.values()):
        t["test"][0]["output"] = EVAL_TEST_OUTPUT
        t["test"][0]["input"] = grid(rng, 7, 6 + i)
    training = {f"t{i}bbbbbb": recolour_task(rng) for i in range(3)}
    training["t0bbbbbb"]["train"].append(evaluation["e0aaaaa"]["test"][0])  # the leak the builder must drop
    for sub, tasks in (("arc-agi-1/training", training), ("arc-agi-1/evaluation", evaluation)):
        os.makedirs(root / sub)
        for tid, t in tasks.items():
            (root / sub / f"{tid}.json").write_text(json.dumps(t))
    concept = {f"Concept{i}": recolour_task(rng) for i in range(2)}
    os.makedirs(root / "concept")
    (root / "concept" / "challenges.json").write_text(json.dumps(
        {tid: {"train": t["train"], "test": [{"input": p["input"]} for p in t["test"]]} for tid, t in concept.items()}))
    (root / "concept" / "solutions.json").write_text(json.dumps(
        {tid: [p["output"] for p in t["test"]] for tid, t in concept.items()}))
    return evaluation


# The builder encodes, augments and names through the engine (build/native/trm arc).
needs_engine = pytest.mark.skipif(not os.access(TRM_BIN, os.X_OK), reason=f"engine not built ({TRM_BIN}): "
                                  "the ARC augmentations are its own (scripts/build.sh native)")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    if not os.access(TRM_BIN, os.X_OK):
        pytest.skip(f"engine not built ({TRM_BIN}): the builder augments through it (scripts/build.sh native)")
    d = tmp_path_factory.mktemp("arc")
    evaluation = write_tiny_root(d / "root")
    assert arc_data.main(["--root", str(d / "root"), "--out", str(d / "data"), "--augmentations", "4", "--seed", "1"]) == 0
    return d, evaluation


# --- encoding and augmentations, through the engine ---
@needs_engine
def test_augment_and_restore_round_trip_through_tokens():
    rng = np.random.default_rng(0)
    for _ in range(50):
        g = np.array(grid(rng, int(rng.integers(1, 31)), int(rng.integers(1, 31))), dtype=np.uint8)
        t = int(rng.integers(8))
        colours = np.concatenate(([0], rng.permutation(9) + 1))
        a = arc_data.augmented([g], task="x", t=t, colours=colours)
        assert a["tokens"].shape == (1, 900) and a["grids"][0].shape == (g.shape[::-1] if t in (1, 3, 4, 7) else g.shape)
        assert (a["grids"][0] == 0).sum() == (g == 0).sum()  # colour 0 is kept
        np.testing.assert_array_equal(arc_data.restored(a["name"], tokens=a["tokens"])["grids"][0], g)
        np.testing.assert_array_equal(arc_data.restored(a["name"], grids=a["grids"])["grids"][0], g)


@needs_engine
def test_dihedral_numbering():
    """out[i][j] = g[r][c] with these (r, c) per transform (src/tasks.h: numpy's rot90, transpose, flips)."""
    g = np.arange(6).reshape(2, 3)
    R, C = g.shape
    src = {0: lambda i, j: (i, j), 1: lambda i, j: (j, C - 1 - i), 2: lambda i, j: (R - 1 - i, C - 1 - j),
           3: lambda i, j: (R - 1 - j, i), 4: lambda i, j: (j, i), 5: lambda i, j: (i, C - 1 - j),
           6: lambda i, j: (R - 1 - i, j), 7: lambda i, j: (R - 1 - j, C - 1 - i)}
    for t, f in src.items():
        out = arc_data.augmented([g], task="x", t=t)["grids"][0]
        assert all(out[i, j] == g[f(i, j)] for i in range(out.shape[0]) for j in range(out.shape[1])), t


@needs_engine
def test_identifier_names_round_trip():
    colours = np.array([0, 3, 1, 2, 4, 5, 6, 7, 9, 8])
    name = arc_data.augmented([], task="007bbfb7", t=5, colours=colours)["name"]
    assert name == "007bbfb7|||t5|||0312456798"
    tid, t, c = arc_data.row(name)
    assert (tid, t, c.tolist()) == ("007bbfb7", 5, colours.tolist())
    assert arc_data.augmented([], task="007bbfb7")["name"] == "007bbfb7"
    assert arc_data.row("007bbfb7")[:2] == ("007bbfb7", 0)
    for bad in ["x|||t8|||0123456789", "x|||t1|||1023456789", "x|||t1|||0123456788", "x|||t1"]:
        with pytest.raises(arc_data.ArcDataError, match="expected '<task>"):
            arc_data.row(bad)
    with pytest.raises(arc_data.ArcDataError, match="standard input line 1: colours\\[2\\] = 12; expected a colour 0-9"):
        arc_data.augmented([], task="x", t=1, colours=[0, 1, 12, 3, 4, 5, 6, 7, 8, 9])


# --- the builder ---
def test_builder_rows_names_and_copies(dataset):
    d, evaluation = dataset
    arrays, names, manifest = arc_data.load(d / "data")
    assert names[0] == "<blank>" and len(names) == manifest["identifiers"] == 1 + 7 * 5
    assert len(set(names)) == len(names)
    assert 0 not in set(arrays["puzzle_ids"].tolist())
    assert (d / "data" / "eval_tasks.txt").read_text().split() == sorted(evaluation)
    originals = {}
    for sub in ("arc-agi-1/training", "arc-agi-1/evaluation"):
        for tid, (train_pairs, test_pairs) in arc_data.load_folder(d / "root" / sub).items():
            originals[tid] = train_pairs + test_pairs
    originals.update(arc_data.load_kaggle(d / "root/concept/challenges.json", d / "root/concept/solutions.json"))
    originals = {k: (v[0] + v[1] if isinstance(v, tuple) else v) for k, v in originals.items()}
    for k in range(len(arrays["puzzle_ids"])):  # every example restores, through its row's name, to an original pair
        r = arc_data.restored(names[arrays["puzzle_ids"][k]], tokens=[arrays["inputs"][k], arrays["labels"][k]])
        tid, (i, o) = r["task"], r["grids"]
        assert any(i.shape == a.shape and (i == a).all() and o.shape == b.shape and (o == b).all()
                   for a, b in originals[tid] if b is not None), (k, names[arrays["puzzle_ids"][k]])
        assert arrays["eval_demo"][k] == (tid in evaluation)


def test_builder_never_includes_evaluation_test_outputs(dataset, tmp_path):
    d, evaluation = dataset
    arrays, names, manifest = arc_data.load(d / "data")
    for labels, row in zip(arrays["labels"], arrays["puzzle_ids"]):  # no label is the 7x7 of colour 9, in any copy
        g = arc_data.restored(names[row], tokens=[labels])["grids"][0]
        assert not (g.shape == (7, 7) and len(np.unique(g)) == 1 and g[0, 0] != 0)
    assert manifest["dropped_as_evaluation_test_pairs"] == ["arc-agi-1/training t0bbbbbb pair 3"]
    # the evaluation tasks contribute their demonstrations only: 3 pairs x 5 copies each
    assert int(arrays["eval_demo"].sum()) == 2 * 3 * 5
    # deterministic: the same folder again
    assert arc_data.main(["--root", str(d / "root"), "--out", str(tmp_path / "again"), "--augmentations", "4", "--seed", "1"]) == 0
    for f in ("identifiers.json", "dataset.npz", "manifest.json"):
        assert (tmp_path / "again" / f).read_bytes() == (d / "data" / f).read_bytes(), f


def test_builder_refuses_bad_tasks(tmp_path, capsys):
    write_tiny_root(tmp_path / "root")
    (tmp_path / "root/arc-agi-1/training/t1bbbbbb.json").write_text(json.dumps({"train": [{"input": [[1, 12]], "output": [[1]]}], "test": []}))
    assert arc_data.main(["--root", str(tmp_path / "root"), "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert "t1bbbbbb.json: train[0].input: expected colours 0-9" in err


# --- training ---
# One head and 4 slots: attention over 901 positions costs little then (seconds for tens of steps on one thread).
def tiny_arc_args(data_dir, **kw):
    a = ["--task", "arc", "--arc-data", str(data_dir), "--hidden", "16", "--heads", "1", "--layers", "1",
         "--H-cycles", "1", "--L-cycles", "1", "--halt-max-steps", "2", "--puzzle-emb-len", "1", "--batch", "4",
         "--holdout", "2", "--threads", "1", "--log-seconds", "0", "--eval-minutes", "1000"]
    for k, v in kw.items():
        a += [f"--{k.replace('_', '-')}", str(v)]
    return a


def train_tiny(data_dir, steps, seed=0):
    """A tiny ARC model trained for `steps` steps with the recipe's pieces, deterministically.
    Returns (model, losses, puzzle rows drawn, identifiers)."""
    args = train.parse_args(tiny_arc_args(data_dir, lr=1e-2, warmup=5, out="unused"))
    torch.manual_seed(seed)
    stream, *_, names = train.build_arc_data(args, 0)
    stream.rng = np.random.default_rng(seed)
    model = TRM(train.TRMConfig.from_dict({
        "seq_len": 900, "vocab_size": 12, "hidden_size": 16, "num_heads": 1, "expansion": 2.0, "L_layers": 1,
        "H_cycles": 1, "L_cycles": 1, "halt_max_steps": 2, "mlp_t": False, "pos_encodings": "rope",
        "puzzle_emb_ndim": 16, "puzzle_emb_len": 1, "num_puzzle_identifiers": len(names)}))
    optimizer = train.make_optimizer(model, args)
    assert isinstance(optimizer.parts["sign"], train.SignSGD)
    slots = train.Slots(model, stream, args.batch, torch.device("cpu"))
    losses, used = [], set()
    for step in range(steps):
        for g in optimizer.param_groups:
            g["lr"] = train.lr_at(step, args, g.get("base_lr"))
        slots.refill()
        used |= set(slots.ids.tolist())
        losses.append(train.train_step(model, model, slots, optimizer, args, torch.device("cpu"))["loss"])
    return model, losses, used, names


def test_training_reduces_the_loss_and_moves_only_touched_rows(dataset):
    d, _ = dataset
    model, losses, used, _ = train_tiny(d / "data", 60)
    assert np.mean(losses[-10:]) < 0.6 * np.mean(losses[:10])
    moved = set(np.flatnonzero(model.puzzle_emb.weights.detach().abs().sum(-1).numpy() > 0).tolist())
    assert moved and moved <= used and 0 not in moved  # the blank row and rows never drawn stay zero


def test_train_resume_export_with_identifiers(dataset, tmp_path):
    d, evaluation = dataset
    out = tmp_path / "run"
    train.main(tiny_arc_args(d / "data", max_steps=3, out=out))
    state = torch.load(out / "last.pt")
    names = json.loads((d / "data" / "identifiers.json").read_text())
    assert state["puzzle_identifiers"] == names and state["config"]["num_puzzle_identifiers"] == len(names)
    assert set(state["optimizer"]) == {"adamw", "sign"}
    train.main(["--resume", str(out / "last.pt"), "--max-steps", "5", "--log-seconds", "0"])
    assert torch.load(out / "last.pt")["progress"]["step"] == 5

    assert export.main([str(out / "last.pt"), "--out", str(tmp_path / "full.safetensors"), "--weights", "raw"]) == 0
    full, meta, _ = trm_safetensors.read(tmp_path / "full.safetensors")
    assert json.loads(meta["task"]) == {"kind": "arc", "puzzle_identifiers": names}
    assert export.main([str(out / "last.pt"), "--out", str(tmp_path / "eval.safetensors"), "--weights", "raw",
                        "--keep-puzzles", str(d / "data" / "eval_tasks.txt")]) == 0
    sub, meta, _ = trm_safetensors.read(tmp_path / "eval.safetensors")
    kept = [i for i, n in enumerate(names) if n.split("|||")[0] in evaluation]
    assert json.loads(meta["task"])["puzzle_identifiers"] == [names[i] for i in kept] and len(kept) == 10
    assert json.loads(meta["config"])["num_puzzle_identifiers"] == len(kept)
    np.testing.assert_array_equal(sub["puzzle_emb.weights"], full["puzzle_emb.weights"][kept])
    assert "sign-SGD" in json.loads(meta["source"])["optimizer"]


def test_old_checkpoints_without_the_new_options_resume(tmp_path):
    """A sudoku checkpoint written before --arc-data/--puzzle-emb-lr existed resumes with their defaults."""
    sol = [(r * 3 + r // 3 + c) % 9 + 1 for r in range(9) for c in range(9)]
    csv = tmp_path / "train.csv"
    csv.write_text("question,answer\n" + "".join(
        "".join(str(d) if (k + j) % 3 else "." for k, d in enumerate(sol)) + "," + "".join(map(str, sol)) + "\n"
        for j in range(12)))
    out = tmp_path / "run"
    train.main(["--task", "sudoku", "--train", str(csv), "--mlp-t", "--pos", "none", "--hidden", "16",
                "--puzzle-emb-len", "1", "--H-cycles", "1", "--L-cycles", "1", "--layers", "1", "--halt-max-steps", "2",
                "--batch", "4", "--holdout", "2", "--max-steps", "2", "--threads", "1", "--out", str(out)])
    state = torch.load(out / "last.pt")
    for k in ("arc_data", "puzzle_emb_lr", "puzzle_emb_wd"):
        del state["args"][k]
    assert "puzzle_identifiers" not in state and isinstance(state["optimizer"]["state"], dict)  # plain AdamW
    torch.save(state, out / "old.pt")
    train.main(["--resume", str(out / "old.pt"), "--max-steps", "3"])
    assert torch.load(out / "last.pt")["progress"]["step"] == 3


# --- evaluation: the evaluator counts what the engine answers ---
def copies_of(names, task_id):
    """[(row, transform, colours)] of the rows named for task_id (the engine's arc::copies_for, in any order)."""
    return [(row,) + arc_data.row(n)[1:] for row, n in enumerate(names) if arc_data.row(n)[0] == task_id]


@pytest.fixture(scope="module")
def trained_weights(dataset, tmp_path_factory):
    """A tiny ARC model after a few steps (q_head and puzzle rows no longer at their initial values), exported."""
    d, evaluation = dataset
    model, _, _, names = train_tiny(d / "data", 15, seed=1)
    # Shift q_halt so that about half the copies of the evaluation tests halt after step 1 (early halting then
    # matters), with the threshold in the widest gap between their q_halt values (no copy near the 0 boundary).
    q = []
    for tid, task in evaluation.items():
        copies = copies_of(names, tid)
        x = torch.from_numpy(np.concatenate([arc_data.augmented([task["test"][0]["input"]], task=tid, t=t, colours=c)["tokens"]
                                             for _, t, c in copies])).long()
        with torch.no_grad():
            q += model(model.initial_carry(len(copies)), x, torch.tensor([r for r, _, _ in copies]))[2].tolist()
    q = np.sort(q)
    gap = int(np.argmax(np.diff(q[2:-2]))) + 2
    with torch.no_grad():
        model.q_head.bias[0] -= float(q[gap] + q[gap + 1]) / 2
    path = tmp_path_factory.mktemp("arc_run") / "w.safetensors"
    export.write_weight_file(model, path, {"trained_with": "tests/python/test_arc_train.py"}, "arc", "f32", names)
    return path


@pytest.mark.skipif(not os.access(TRM_BIN, os.X_OK), reason=f"engine not built ({TRM_BIN}): "
                    "the evaluator runs build/native/trm (scripts/build.sh native)")
@pytest.mark.parametrize("halt", ["never", "early"])
def test_evaluator_counts_the_engines_attempts(dataset, trained_weights, tmp_path, halt, capsys):
    d, evaluation = dataset
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    for tid, task in evaluation.items():
        (tasks / f"{tid}.json").write_text(json.dumps(task))
    (tasks / "zzzzzzzz.json").write_text(json.dumps(next(iter(evaluation.values()))))  # a task the model has no row for
    out = tmp_path / "results.jsonl"
    assert evaluate_arc.main([str(trained_weights), str(tasks), "--halt", halt, "--out", str(out), "--json"]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["task"] for r in lines] == sorted(evaluation) + ["zzzzzzzz"]
    solved = 0
    for r in lines[:-1]:
        engine = subprocess.run([TRM_BIN, "solve", str(trained_weights), "--task", "arc", str(tasks / f"{r['task']}.json"),
                                 "--json", "--halt", halt, "--threads", "1"], capture_output=True, text=True)
        assert engine.returncode == 0, engine.stderr
        done = json.loads(engine.stdout.strip().split("\n")[-1])
        assert r["tests"][0]["attempts"] == done["attempts"] and r["tests"][0]["copies"] == done["copies"] == 5
        assert 1 <= r["tests"][0]["distinct"] <= 5
        assert r["solved"] == any(a["correct"] for a in done["attempts"])
        solved += r["solved"]
    assert lines[-1]["solved"] is False and "no puzzle-embedding row" in lines[-1]["tests"]
    summary = json.loads(capsys.readouterr().out.strip().split("\n")[-1])
    assert (summary["tasks"], summary["solved"], summary["no_rows"]) == (3, solved, 1)
