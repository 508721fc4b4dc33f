#!/usr/bin/python3
"""ARC training data: a builder of a compact training set, in the reference encoding and augmentations (TRM_SPEC.md
"Task encodings", ARC). The grids are encoded, augmented and named by the engine (src/tasks.h, through
`build/native/trm arc`: scripts/build.sh native), so that the rows a model learns are the ones it is later solved with.

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
import atexit
import glob
import json
import os
import subprocess
import sys
import zlib

import numpy as np

SIDE, SEQ_LEN, VOCAB = 30, 900, 12  # colour c -> token c + 2, 1 = end-of-grid marker, 0 = padding
BLANK = "<blank>"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_ROOT = os.path.join(ROOT, "..", "shared", "data", "arc")
TRM_BIN = os.environ.get("TRM_BIN", os.path.join(ROOT, "build", "native", "trm"))
IDENTITY = tuple(range(10))


class ArcDataError(ValueError):
    pass


# --- the engine's augmentations (src/tasks.h arc::augment, restore, encode, decode, identifier) ---
class Engine:
    """`trm arc augment` and `trm arc restore`, each one process for as many requests as a build makes, asked one
    line at a time (the builder's next request depends on the last answer)."""

    def __init__(self, binary=TRM_BIN):
        self.binary, self.processes = binary, {}

    def ask(self, mode, request):
        p = self.processes.get(mode)
        if p is None:
            if not os.access(self.binary, os.X_OK):
                raise ArcDataError(f"{self.binary}: the engine is not built; the ARC augmentations are its own "
                                   "(scripts/build.sh native)")
            p = self.processes[mode] = subprocess.Popen([self.binary, "arc", mode], stdin=subprocess.PIPE,
                                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p.stdin.write(json.dumps(request) + "\n")
        p.stdin.flush()
        line = p.stdout.readline()
        if not line:
            p.wait()
            del self.processes[mode]
            raise ArcDataError(p.stderr.read().strip() or f"{self.binary} arc {mode}: exited with status {p.returncode}")
        return json.loads(line)

    def close(self):
        for p in self.processes.values():
            p.stdin.close()
            p.wait()
        self.processes = {}


ENGINE = Engine()
atexit.register(ENGINE.close)


def _request(name, task, t, colours):
    if name is not None:
        return {"name": name}
    return {"task": task, "transform": int(t), "colours": [int(c) for c in colours]}


_HEX = np.zeros(256, dtype=np.uint8)
_HEX[np.frombuffer(b"0123456789ab", dtype=np.uint8)] = np.arange(12)


def _answer(r):
    grids = [np.array(g, dtype=np.uint8) for g in r["grids"]]
    return dict(r, grids=grids, colours=np.array(r["colours"], dtype=np.uint8))


def augmented(grids, name=None, task=None, t=0, colours=IDENTITY):
    """The model's view of `grids` under a row's augmentation (its `name`, or task, transform t 0-7 and colours, a
    permutation of 0-9 keeping 0: colour c becomes colours[c], then dihedral transform t): {"name": the row's name,
    "task", "transform", "colours", "grids": [uint8 arrays], "tokens": uint8 [len(grids), 900]}."""
    r = ENGINE.ask("augment", dict(_request(name, task, t, colours), grids=[np.asarray(g).tolist() for g in grids]))
    out = _answer(r)
    hex_digits = np.frombuffer("".join(r["tokens"]).encode("ascii"), dtype=np.uint8)
    out["tokens"] = _HEX[hex_digits].reshape(len(grids), SEQ_LEN)
    return out


def restored(name, grids=None, tokens=None):
    """Undoes augmented(): the puzzle's grids from the model's view of them (`grids`, or `tokens` [n, 900], decoded
    as the engine crops a prediction); the same keys as augmented() but tokens."""
    request = {"name": name}
    if tokens is not None:
        request["tokens"] = np.asarray(tokens).astype(int).tolist()
    else:
        request["grids"] = [np.asarray(g).tolist() for g in grids]
    return _answer(ENGINE.ask("restore", request))


def row(name):
    """(task id, transform, colours) of a row name; raises ArcDataError for a name the engine refuses."""
    r = augmented([], name=name)
    return r["task"], r["transform"], r["colours"]


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
def copies(task_id, pairs, n, seed):
    """The original and n distinct augmented copies of a task's pairs, none giving the same grids as the original or
    another copy (a symmetric task has fewer distinct copies: then fewer are returned), as augmented() answers for
    the grids of `pairs` in order (input, output, input, ...). Drawn seeded per task, so a task's copies don't depend
    on which other tasks are in the set."""
    grids = [g for pair in pairs for g in pair]
    rng = np.random.default_rng([seed, zlib.crc32(task_id.encode())])
    out = [augmented(grids, task=task_id)]
    seen = {out[0]["tokens"].tobytes()}  # the tokens say the grids exactly, shapes included
    for _ in range(20 * n):  # the reference also gives up after a bounded number of retries
        if len(out) == n + 1:
            break
        t = int(rng.integers(8))
        colours = np.concatenate(([0], rng.permutation(9) + 1)).astype(np.uint8)
        copy = augmented(grids, task=task_id, t=t, colours=colours)
        key = copy["tokens"].tobytes()
        if key not in seen:
            seen.add(key)
            out.append(copy)
    return out


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
            for copy in copies(tid, pairs, augmentations, seed):
                names.append(copy["name"])
                inputs += list(copy["tokens"][0::2])
                labels += list(copy["tokens"][1::2])
                pids += [len(names) - 1] * len(pairs)
                eval_demo += [is_eval] * len(pairs)
                examples += len(pairs)
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
    for name in names[1:]:
        rows.setdefault(row(name)[0], []).append(name)
    for tid, tests in eval_tests.items():
        for n, (i, o) in enumerate(tests):
            if o is None:
                continue
            for name in rows.get(tid, [tid]):
                tokens = augmented([i, o], name=name)["tokens"]
                if tokens[0].tobytes() + tokens[1].tobytes() in index:
                    leaks.append(f"task {tid} test[{n}] as example {index[tokens[0].tobytes() + tokens[1].tobytes()]}")
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
