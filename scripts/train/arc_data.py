#!/usr/bin/python3
"""ARC training data: the reference encoding and augmentations (TRM_SPEC.md "Task encodings", ARC), exactly as the
engine's src/tasks.h applies and undoes them, and a builder of a compact training set.

    scripts/train/arc_data.py --out data_cache/arc --augmentations 8 [--seed 0] [--arc2] [--root ../shared/data/arc]

What goes in (the reference TRM recipe):
- every pair (demonstrations and tests) of the ARC-AGI-1 training tasks and of ConceptARC;
- with --arc2, the ARC-AGI-2 training tasks too, except those that are also ARC-AGI-1 evaluation tasks;
- ONLY the demonstration pairs of the ARC-AGI-1 evaluation tasks: their puzzle-embedding rows must be learned
  from the demonstrations before the model can answer their test inputs. Their test outputs are never read
  into the training set, and the builder checks that none appears there.
Each task gets the original (row named `<task id>`) and N augmented copies (`<task id>|||t<k>|||<perm>`), each its
own puzzle-embedding row. Row 0 is "<blank>", as in the reference's identifiers.json (no sample uses it).

Output folder: `dataset.npz` (inputs, labels uint8 [E, 900]; puzzle_ids int32 [E]; eval_demo bool [E]: the example
is a demonstration of an evaluation task), `identifiers.json` (row -> name), `eval_tasks.txt` (the evaluation task
ids, one per line: export.py --keep-puzzles takes it) and `manifest.json` (sources, counts, settings).
"""
import argparse
import glob
import json
import os
import sys
import zlib

import numpy as np

SIDE, SEQ_LEN, VOCAB = 30, 900, 12  # colour c -> token c + 2, 1 = end-of-grid marker, 0 = padding
SEP = "|||"
BLANK = "<blank>"
DEFAULT_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "arc")
INVERSE_DIHEDRAL = (0, 3, 2, 1, 4, 5, 6, 7)


class ArcDataError(ValueError):
    pass


# --- grids and tokens (src/tasks.cpp arc::encode / arc::decode) ---
def encode(grid):
    """Grid [rows, cols] of colours 0-9 -> 900 tokens: colours top-left as c + 2, marker 1 on row `rows`
    (columns 0..cols-1) and on column `cols` (rows 0..rows-1), 0 elsewhere."""
    g = np.asarray(grid)
    rows, cols = g.shape
    t = np.zeros((SIDE, SIDE), dtype=np.uint8)
    t[:rows, :cols] = g + 2
    if rows < SIDE:
        t[rows, :cols] = 1
    if cols < SIDE:
        t[:rows, cols] = 1
    return t.reshape(-1)


def decode(tokens):
    """900 tokens -> the largest top-left rectangle of colour tokens (2..11), as colours; for each row count the
    run of colour tokens on its last row limits the width (the engine's crop, same tie rule: first largest)."""
    t = np.asarray(tokens).reshape(SIDE, SIDE)
    colour = (t >= 2) & (t <= 11)
    best, best_rows, best_cols, width = 0, 0, 0, SIDE
    for rows in range(1, SIDE + 1):
        bad = np.flatnonzero(~colour[rows - 1, :width])
        if len(bad):
            width = int(bad[0])
        if rows * width > best:
            best, best_rows, best_cols = rows * width, rows, width
    return (t[:best_rows, :best_cols].astype(np.int64) - 2).astype(np.uint8)


# --- augmentations (src/tasks.h: colours remapped, then one of 8 dihedral transforms) ---
def dihedral(grid, t):
    """0 identity, 1-3 rotations by 90/180/270 degrees counter-clockwise (numpy rot90), 4 transpose,
    5 left-right flip, 6 up-down flip, 7 rotation by 90 then left-right flip."""
    g = np.asarray(grid)
    if t == 0:
        return g
    if t in (1, 2, 3):
        return np.rot90(g, t)
    if t == 4:
        return g.T
    if t == 5:
        return g[:, ::-1]
    if t == 6:
        return g[::-1]
    if t == 7:
        return np.rot90(g)[:, ::-1]
    raise ArcDataError(f"dihedral transform {t} is outside 0-7")


def identifier(task_id, t, colours):
    """The puzzle-embedding row name of an augmented copy; the plain task id for the original."""
    colours = [int(c) for c in colours]
    if t == 0 and colours == list(range(10)):
        return task_id
    return f"{task_id}{SEP}t{t}{SEP}{''.join(map(str, colours))}"


def parse_identifier(name):
    """(task id, transform, colours [10]) of a row name; the engine's arc::parse_identifier."""
    parts = name.split(SEP)
    if len(parts) == 1:
        return name, 0, np.arange(10, dtype=np.uint8)
    why = f"puzzle identifier {name!r}: expected '<task>|||t<0-7>|||<permutation of 0123456789 keeping 0>'"
    if (len(parts) != 3 or len(parts[1]) != 2 or parts[1][0] != "t" or parts[1][1] not in "01234567"
            or len(parts[2]) != 10 or parts[2][0] != "0" or sorted(parts[2]) != list("0123456789")):
        raise ArcDataError(why)
    return parts[0], int(parts[1][1]), np.array([int(c) for c in parts[2]], dtype=np.uint8)


def augment(grid, t, colours):
    """The model's view of a grid: colour c becomes colours[c], then dihedral transform t."""
    return np.ascontiguousarray(dihedral(np.asarray(colours, dtype=np.uint8)[np.asarray(grid)], t))


def restore(grid, t, colours):
    """Undoes augment()."""
    inverse = np.argsort(np.asarray(colours)).astype(np.uint8)
    return np.ascontiguousarray(inverse[dihedral(grid, INVERSE_DIHEDRAL[t])])


# --- task files ---
def check_grid(g, where):
    if (not isinstance(g, list) or not 1 <= len(g) <= SIDE or not all(isinstance(r, list) for r in g)
            or not 1 <= len(g[0]) <= SIDE or any(len(r) != len(g[0]) for r in g)):
        raise ArcDataError(f"{where}: expected a rectangular grid of 1-30 rows and 1-30 columns")
    a = np.array(g)
    if a.dtype.kind not in "iu" or a.min() < 0 or a.max() > 9:
        raise ArcDataError(f"{where}: expected colours 0-9")
    return a.astype(np.uint8)


def parse_task(doc, where):
    """{"train": [{input, output}], "test": [{input[, output]}]} -> (train pairs, test pairs) of uint8 arrays;
    a test pair without output has output None."""
    if not isinstance(doc, dict) or not isinstance(doc.get("train"), list) or not isinstance(doc.get("test"), list):
        raise ArcDataError(f"{where}: expected an object with 'train' and 'test' lists")
    out = []
    for part in ("train", "test"):
        pairs = []
        for i, p in enumerate(doc[part]):
            w = f"{where}: {part}[{i}]"
            if not isinstance(p, dict) or "input" not in p or (part == "train" and "output" not in p):
                raise ArcDataError(f"{w}: expected 'input'" + (" and 'output' grids" if part == "train" else " grid"))
            pairs.append((check_grid(p["input"], w + ".input"),
                          check_grid(p["output"], w + ".output") if "output" in p else None))
        out.append(pairs)
    return out[0], out[1]


def load_task_file(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ArcDataError(f"{path}: cannot read an ARC task ({e})")
    return parse_task(doc, path)


def load_folder(folder):
    """{task id (file name without .json): (train, test)} of a folder of task files."""
    paths = sorted(glob.glob(os.path.join(folder, "*.json")))
    if not paths:
        raise ArcDataError(f"{folder}: no task files (*.json)")
    return {os.path.basename(p)[:-len(".json")]: load_task_file(p) for p in paths}


def load_kaggle(challenges_path, solutions_path):
    """Kaggle layout: challenges {id: task without test outputs}, solutions {id: [test output grids]}."""
    docs = []
    for path in (challenges_path, solutions_path):
        try:
            with open(path) as f:
                docs.append(json.load(f))
        except (OSError, json.JSONDecodeError) as e:
            raise ArcDataError(f"{path}: cannot read ({e})")
    challenges, solutions = docs
    tasks = {}
    for tid, doc in sorted(challenges.items()):
        train, test = parse_task(doc, f"{challenges_path}: task {tid}")
        outs = solutions.get(tid)
        if not isinstance(outs, list) or len(outs) != len(test):
            raise ArcDataError(f"{solutions_path}: task {tid}: expected a list of {len(test)} test output grids")
        test = [(i, check_grid(o, f"{solutions_path}: task {tid}[{k}]")) for k, ((i, _), o) in enumerate(zip(test, outs))]
        tasks[tid] = (train, test)
    return tasks


# --- the builder ---
def random_augmentations(task_id, pairs, n, seed):
    """n distinct (transform, colours) for a task, none giving the same grids as the original or another copy
    (a symmetric task has fewer distinct copies: then fewer are returned). Seeded per task, so a task's copies
    don't depend on which other tasks are in the set."""
    rng = np.random.default_rng([seed, zlib.crc32(task_id.encode())])
    seen = {_fingerprint(pairs, 0, np.arange(10))}
    out = []
    for _ in range(20 * n):  # the reference also gives up after a bounded number of retries
        if len(out) == n:
            break
        t = int(rng.integers(8))
        colours = np.concatenate(([0], rng.permutation(9) + 1)).astype(np.uint8)
        key = _fingerprint(pairs, t, colours)
        if key not in seen:
            seen.add(key)
            out.append((t, colours))
    return out


def _fingerprint(pairs, t, colours):
    parts = []
    for i, o in pairs:
        for g in (i, o):
            a = augment(g, t, colours)
            parts.append(bytes(a.shape) + a.tobytes())
    return b"|".join(parts)


def build(root=DEFAULT_ROOT, augmentations=8, seed=0, arc2=False, log=print):
    """Returns (arrays dict, identifiers list, manifest dict, evaluation task ids)."""
    sources = [("arc-agi-1/training", load_folder(os.path.join(root, "arc-agi-1", "training")), "all pairs")]
    sources.append(("concept", load_kaggle(os.path.join(root, "concept", "challenges.json"),
                                           os.path.join(root, "concept", "solutions.json")), "all pairs"))
    evaluation = load_folder(os.path.join(root, "arc-agi-1", "evaluation"))
    if arc2:
        arc2_tasks = load_folder(os.path.join(root, "arc-agi-2", "training"))
        overlap = sorted(set(arc2_tasks) & set(evaluation))
        for tid in overlap:  # these hold ARC-AGI-1 evaluation test outputs
            del arc2_tasks[tid]
        log(f"arc-agi-2/training: dropped {len(overlap)} tasks that are ARC-AGI-1 evaluation tasks")
        seen = set(sources[0][1])
        sources.append(("arc-agi-2/training", {k: v for k, v in arc2_tasks.items() if k not in seen}, "all pairs"))
    # Only the demonstrations of evaluation tasks; their test pairs are kept aside for the leak check below.
    sources.append(("arc-agi-1/evaluation", {tid: (train, []) for tid, (train, _) in evaluation.items()},
                    "demonstration pairs only"))
    eval_tests = {tid: test for tid, (_, test) in evaluation.items()}
    return build_from(sources, eval_tests, augmentations, seed, log)


def build_from(sources, eval_tests, augmentations, seed, log=print):
    """sources: [(name, {task id: (train pairs, test pairs)}, note)], the last one being the evaluation tasks'
    demonstrations; eval_tests: {task id: test pairs} never to appear in the output."""
    names, inputs, labels, pids, eval_demo = [BLANK], [], [], [], []
    counts, task_source = {}, {}
    # A training task may hold a pair identical to an evaluation test pair (ARC-AGI-1 training 40853293 holds the
    # test of evaluation 070dd51e): such pairs are dropped, or the model would be trained on an evaluation answer.
    forbidden = {_pair_key(i, o) for tests in eval_tests.values() for i, o in tests if o is not None}
    dropped = []
    for source, tasks, _ in sources:
        is_eval = source == sources[-1][0]
        examples = 0
        for tid, (train, test) in sorted(tasks.items()):
            if tid in task_source:
                raise ArcDataError(f"{source}: task id {tid!r} is also in {task_source[tid]}: ids must be unique")
            task_source[tid] = source
            pairs = [(i, o) for i, o in train + test if o is not None]
            dropped += [f"{source} {tid} pair {n}" for n, (i, o) in enumerate(pairs) if _pair_key(i, o) in forbidden]
            pairs = [(i, o) for i, o in pairs if _pair_key(i, o) not in forbidden]
            if not pairs:
                raise ArcDataError(f"{source}: task {tid}: no pair with an output")
            for t, colours in [(0, np.arange(10, dtype=np.uint8))] + random_augmentations(tid, pairs, augmentations, seed):
                row = len(names)
                names.append(identifier(tid, t, colours))
                for i, o in pairs:
                    inputs.append(encode(augment(i, t, colours)))
                    labels.append(encode(augment(o, t, colours)))
                    pids.append(row)
                    eval_demo.append(is_eval)
                    examples += 1
        counts[source] = {"tasks": len(tasks), "examples": examples}
        log(f"{source}: {len(tasks)} tasks, {examples} examples (with augmented copies)")
    if dropped:
        log(f"dropped {len(dropped)} pairs equal to an evaluation test pair: {', '.join(dropped)}")
    arrays = {"inputs": np.stack(inputs), "labels": np.stack(labels), "puzzle_ids": np.array(pids, dtype=np.int32),
              "eval_demo": np.array(eval_demo, dtype=bool)}
    leaks = find_leaks(arrays, names, eval_tests)
    if leaks:
        raise ArcDataError(f"built data holds {len(leaks)} evaluation test pairs, e.g. {leaks[0]}: refusing to write it")
    manifest = {"format": "trm-arc-data/1", "seq_len": SEQ_LEN, "vocab_size": VOCAB, "augmentations": augmentations,
                "seed": seed, "examples": len(pids), "dropped_as_evaluation_test_pairs": dropped, "identifiers": len(names), "sources":
                {name: dict(counts[name], used=note) for name, _, note in sources},
                "encoding": "colour c -> c + 2, end-of-grid marker 1, padding 0 (TRM_SPEC.md)",
                "augmentation": "colours permuted keeping 0, then dihedral t0-t7 (src/tasks.h numbering)"}
    return arrays, names, manifest, sorted(eval_tests)


def _pair_key(i, o):
    return bytes(i.shape) + i.tobytes() + bytes(o.shape) + o.tobytes()


def find_leaks(arrays, names, eval_tests):
    """Evaluation test pairs (input and output, in any augmented copy present) found among the built examples."""
    index = {}
    for k, (i, o) in enumerate(zip(arrays["inputs"], arrays["labels"])):
        index.setdefault(i.tobytes() + o.tobytes(), k)
    leaks = []
    rows = {}
    for row, name in enumerate(names[1:], start=1):
        tid, t, colours = parse_identifier(name)
        rows.setdefault(tid, []).append((t, colours))
    for tid, tests in eval_tests.items():
        for n, (i, o) in enumerate(tests):
            if o is None:
                continue
            for t, colours in rows.get(tid, [(0, np.arange(10))]):
                key = encode(augment(i, t, colours)).tobytes() + encode(augment(o, t, colours)).tobytes()
                if key in index:
                    leaks.append(f"task {tid} test[{n}] as example {index[key]}")
    return leaks


def write(out, arrays, names, manifest, eval_ids):
    os.makedirs(out, exist_ok=True)
    np.savez_compressed(os.path.join(out, "dataset.npz"), **arrays)
    with open(os.path.join(out, "identifiers.json"), "w") as f:
        json.dump(names, f)
    with open(os.path.join(out, "eval_tasks.txt"), "w") as f:
        f.write("".join(tid + "\n" for tid in eval_ids))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def load(folder):
    """(arrays dict, identifiers list, manifest) of a built folder, checked for consistency."""
    try:
        with np.load(os.path.join(folder, "dataset.npz")) as z:
            arrays = {k: z[k] for k in z.files}
        with open(os.path.join(folder, "identifiers.json")) as f:
            names = json.load(f)
        with open(os.path.join(folder, "manifest.json")) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        raise ArcDataError(f"{folder}: not a dataset of scripts/train/arc_data.py ({e})")
    for key in ("inputs", "labels", "puzzle_ids", "eval_demo"):
        if key not in arrays:
            raise ArcDataError(f"{folder}/dataset.npz: array '{key}' is missing")
    E = len(arrays["puzzle_ids"])
    if arrays["inputs"].shape != (E, SEQ_LEN) or arrays["labels"].shape != (E, SEQ_LEN):
        raise ArcDataError(f"{folder}/dataset.npz: 'inputs' and 'labels' must be [{E}, {SEQ_LEN}], got "
                           f"{list(arrays['inputs'].shape)} and {list(arrays['labels'].shape)}")
    if not isinstance(names, list) or E and not 1 <= arrays["puzzle_ids"].min() <= arrays["puzzle_ids"].max() < len(names):
        raise ArcDataError(f"{folder}/identifiers.json: expected a list naming every row of 'puzzle_ids' (1..{len(names) - 1})")
    return arrays, names, manifest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--root", default=DEFAULT_ROOT, help="ARC data folder (arc-agi-1/, concept/, arc-agi-2/)")
    ap.add_argument("--augmentations", type=int, default=8, help="augmented copies per task (besides the original)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--arc2", action="store_true", help="also the ARC-AGI-2 training tasks (minus ARC-AGI-1 evaluation ones)")
    args = ap.parse_args(argv)
    if args.augmentations < 0:
        print("arc_data: --augmentations must be >= 0", file=sys.stderr)
        return 1
    try:
        arrays, names, manifest, eval_ids = build(args.root, args.augmentations, args.seed, args.arc2)
    except ArcDataError as e:
        print(f"arc_data: {e}", file=sys.stderr)
        return 1
    write(args.out, arrays, names, manifest, eval_ids)
    print(f"wrote {args.out}: {manifest['examples']} examples, {len(names)} identifiers (row 0 blank), "
          f"{len(eval_ids)} evaluation tasks (demonstrations only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
