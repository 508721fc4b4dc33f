#!/usr/bin/python3
"""Convert a reference TRM checkpoint (SamsungSAILMontreal/TinyRecursiveModels) to a TRM weight file.

    scripts/convert_checkpoint.py CHECKPOINT --config all_config.yaml --out W.safetensors
        [--dtype f32|f16|bf16] [--task sudoku|maze|arc|generic]
        [--identifiers identifiers.json [--keep-puzzles TASK_IDS.txt]]

CHECKPOINT is a torch state_dict as the reference training code saves it (keys possibly prefixed with
`_orig_mod.`, `model.`, `inner.`). The config is the `arch` section of the run's all_config.yaml. The output
follows DESIGN.md "Weight file": tensor names of TRM_SPEC.md "Weights", every tensor in the chosen dtype, and
`__metadata__` with format, config, task and source. A checkpoint with a missing, extra or wrongly shaped tensor
is refused (exit status 1, one line on stderr).
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "train"))
import trm_safetensors  # noqa: E402
from trm_config import ConfigError, TRMConfig, guess_task, weight_shapes  # noqa: E402

PREFIXES = ("_orig_mod.", "model.", "inner.")
# Buffers the reference may keep in a state_dict that are not weights of the model: never stored.
IGNORED_BUFFERS = ("rotary_emb.cos_cached", "rotary_emb.sin_cached", "rotary_emb.inv_freq",
                   "puzzle_emb.local_weights", "puzzle_emb.local_ids")
DTYPES = {"f32": "F32", "f16": "F16", "bf16": "BF16"}
TASKS = ("sudoku", "maze", "arc", "generic")


class ConvertError(Exception):
    pass


def strip_prefixes(key):
    changed = True
    while changed:
        changed = False
        for p in PREFIXES:
            if key.startswith(p):
                key, changed = key[len(p):], True
    return key


def load_config(path):
    import yaml
    try:
        with open(path) as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        raise ConvertError(f"{path}: cannot read the config ({e})")
    if not isinstance(doc, dict) or not isinstance(doc.get("arch"), dict):
        raise ConvertError(f"{path}: no 'arch' section")
    arch = dict(doc["arch"])
    # The official all_config.yaml lacks the dataset's sizes; its dataset.json, when it lies beside, has them.
    # (`trm convert` also derives them from the tensors and the task; it is the converter that needs no Python.)
    dataset = os.path.join(os.path.dirname(os.path.abspath(path)), "dataset.json")
    if os.path.exists(dataset):
        with open(dataset) as f:
            meta = json.load(f)
        for k in ("seq_len", "vocab_size", "num_puzzle_identifiers"):
            if k not in arch and k in meta:
                arch[k] = meta[k]
    try:
        return TRMConfig.from_dict(arch, where=f"{path}: arch")
    except ConfigError as e:
        raise ConvertError(str(e))


def load_state_dict(path):
    import torch
    try:
        try:
            sd = torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:  # torch without weights_only
            sd = torch.load(path, map_location="cpu")
    except Exception as e:  # torch raises many kinds here
        raise ConvertError(f"{path}: cannot load as a torch checkpoint ({type(e).__name__}: {e})")
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ConvertError(f"{path}: expected a state_dict (a dict of tensors)")
    out = {}
    for key, value in sd.items():
        name = strip_prefixes(key)
        if name in out:
            raise ConvertError(f"{path}: two keys become '{name}' after removing the prefixes {PREFIXES}")
        out[name] = value.detach().to(torch.float32).cpu().numpy()
    return out


def check_tensors(tensors, cfg, where):
    """Refuse missing, extra and wrongly shaped tensors; return the expected ones (in the file's names)."""
    expected = weight_shapes(cfg)
    for name in sorted(tensors):
        if name in IGNORED_BUFFERS:
            continue
        if name not in expected:
            raise ConvertError(f"{where}: unexpected tensor '{name}' {list(tensors[name].shape)} "
                               f"(not a TRM weight for this config)")
        if tuple(tensors[name].shape) != expected[name]:
            raise ConvertError(f"{where}: tensor '{name}': expected shape {list(expected[name])}, "
                               f"got {list(tensors[name].shape)}")
    for name in sorted(expected):
        if name not in tensors:
            raise ConvertError(f"{where}: missing tensor '{name}', expected shape {list(expected[name])}")
    return {name: tensors[name] for name in expected}


def keep_puzzles(tensors, cfg, identifiers_path, keep_path):
    """Keep only puzzle-embedding rows whose task id (name before '|||') is listed in keep_path.

    Returns (tensors, cfg, kept names). Without keep_path every row is kept and named."""
    try:
        with open(identifiers_path) as f:
            names = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ConvertError(f"{identifiers_path}: cannot read identifiers ({e})")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConvertError(f"{identifiers_path}: expected a JSON list of names (index = puzzle_emb row)")
    if "puzzle_emb.weights" not in tensors:
        raise ConvertError(f"{identifiers_path}: the model has no puzzle embedding (puzzle_emb_ndim is 0)")
    rows = tensors["puzzle_emb.weights"].shape[0]
    if len(names) != rows:
        raise ConvertError(f"{identifiers_path}: {len(names)} names, expected {rows} "
                           f"(rows of puzzle_emb.weights, num_puzzle_identifiers)")
    if keep_path is None:
        return tensors, cfg, names
    try:
        with open(keep_path) as f:
            wanted = {line.strip() for line in f if line.strip()}
    except OSError as e:
        raise ConvertError(f"{keep_path}: cannot read the task list ({e})")
    kept = [i for i, n in enumerate(names) if n.split("|||")[0] in wanted]
    if not kept:
        raise ConvertError(f"{keep_path}: none of its {len(wanted)} task ids names a row of {identifiers_path}")
    tensors = dict(tensors)
    tensors["puzzle_emb.weights"] = tensors["puzzle_emb.weights"][kept]
    d = json.loads(cfg.to_json())
    d["num_puzzle_identifiers"] = len(kept)
    return tensors, TRMConfig.from_dict(d), [names[i] for i in kept]


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def convert(checkpoint, config, out, dtype="f32", task=None, identifiers=None, keep=None):
    if dtype not in DTYPES:
        raise ConvertError(f"--dtype: expected one of {sorted(DTYPES)}, got {dtype!r}")
    if task is not None and task not in TASKS:
        raise ConvertError(f"--task: expected one of {TASKS}, got {task!r}")
    if keep is not None and identifiers is None:
        raise ConvertError("--keep-puzzles needs --identifiers")
    cfg = load_config(config)
    tensors = check_tensors(load_state_dict(checkpoint), cfg, checkpoint)
    task_meta = {"kind": task or guess_task(cfg)}
    if identifiers is not None:
        tensors, cfg, names = keep_puzzles(tensors, cfg, identifiers, keep)
        task_meta["puzzle_identifiers"] = names
    named = os.path.join(os.path.basename(os.path.dirname(os.path.abspath(checkpoint))), os.path.basename(checkpoint))
    source = {"converted_from": named, "sha256": sha256_of(checkpoint),
              "config": os.path.basename(config), "converter": "scripts/convert_checkpoint.py",
              "dtype": DTYPES[dtype]}
    metadata = {"format": "trm/1", "config": cfg.to_json(), "task": json.dumps(task_meta, separators=(",", ":")),
                "source": json.dumps(source, separators=(",", ":"))}
    trm_safetensors.write(out, {k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()},
                          metadata=metadata, float_dtype=DTYPES[dtype])
    return cfg, task_meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--config", required=True, help="the run's all_config.yaml (its arch section is used)")
    ap.add_argument("--out", required=True, help="output weight file (.safetensors)")
    ap.add_argument("--dtype", default="f32", choices=sorted(DTYPES))
    ap.add_argument("--task", choices=TASKS, help="task kind (default: guessed from seq_len/vocab_size)")
    ap.add_argument("--identifiers", help="the run's identifiers.json (names of the puzzle-embedding rows)")
    ap.add_argument("--keep-puzzles", dest="keep", help="file of task ids, one per line: keep only their rows")
    args = ap.parse_args(argv)
    try:
        cfg, task = convert(args.checkpoint, args.config, args.out, args.dtype, args.task, args.identifiers, args.keep)
    except ConvertError as e:
        print(f"convert_checkpoint: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: task {task['kind']}, {DTYPES[args.dtype]}, hidden {cfg.hidden_size}, "
          f"{'mlp_t' if cfg.mlp_t else 'attention'}, {cfg.L_layers} layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
