#!/usr/bin/env python3
"""Writes the fuzz seed corpus (tests/fuzz/corpus/<target>/) and the malformed weight files (tests/malformed/).

Run once with Debian's python (`/usr/bin/python3 tests/fuzz/make_corpus.py`); the outputs are committed, so
tests never need Python for them. Each malformed file breaks exactly one rule; tests/malformed/EXPECTED.tsv
lists each file with the words its refusal message must contain (tests/malformed/check.sh checks them).
"""
import json
import os
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "scripts", "train"))
import trm_safetensors as st  # noqa: E402
from trm_config import TRMConfig, weight_shapes  # noqa: E402

CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
MALFORMED = os.path.join(ROOT, "tests", "malformed")


def tiny_config(**over):
    d = dict(seq_len=6, vocab_size=5, hidden_size=8, num_heads=2, expansion=2.0, L_layers=1, H_cycles=1, L_cycles=2,
             halt_max_steps=3, mlp_t=False, pos_encodings="rope", puzzle_emb_ndim=8, puzzle_emb_len=2,
             num_puzzle_identifiers=3, rms_norm_eps=1e-5, rope_theta=10000.0)
    d.update(over)
    return TRMConfig.from_dict(d)


def model_bytes(cfg, dtype="F32", seed=0, edit=None):
    """A valid weight file for cfg (random weights) as bytes; `edit(tensors, metadata)` may break it first."""
    rng = np.random.default_rng(seed)
    tensors = {n: (rng.standard_normal(s) * 0.2).astype(np.float32) for n, s in weight_shapes(cfg).items()}
    meta = {"format": "trm/1", "config": cfg.to_json(), "task": json.dumps({"kind": "generic"}), "source": "fuzz seed"}
    if edit:
        edit(tensors, meta)
    path = "/tmp/_seed.safetensors"
    st.write(path, tensors, meta, float_dtype=dtype)
    with open(path, "rb") as f:
        return f.read()


def split(b):
    (n,) = struct.unpack("<Q", b[:8])
    return json.loads(b[8:8 + n]), b[8 + n:]


def join(header, data, raw_header=None):
    text = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def header_edit(b, f):
    h, d = split(b)
    out = f(h, d)
    return out if isinstance(out, bytes) else join(h, d)


def save(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def main():
    good = model_bytes(tiny_config())
    seeds = {
        "attention_rope_f32": good,
        "mlp_t_f16": model_bytes(tiny_config(mlp_t=True, pos_encodings="none"), "F16", 1),
        "learned_bf16_no_prefix": model_bytes(tiny_config(pos_encodings="learned", puzzle_emb_ndim=0, puzzle_emb_len=0,
                                                          num_puzzle_identifiers=1), "BF16", 2),
    }
    for name, b in seeds.items():
        save(os.path.join(CORPUS, "weights"), name + ".safetensors", b)

    def first_off(h, name):
        return h[name]["data_offsets"]

    def set_nan(t, m):
        t["L_init"][1] = np.nan

    def extra(t, m):
        t["extra.weight"] = np.zeros(2, np.float32)

    def missing(t, m):
        del t["lm_head.weight"]

    def wrong_shape(t, m):
        t["q_head.weight"] = np.zeros((4, 4), np.float32)

    def bad_meta(key, value):
        def f(t, m):
            if value is None:
                del m[key]
            else:
                m[key] = value
        return f

    def cfg_edit(**over):
        def f(t, m):
            c = json.loads(m["config"])
            for k, v in over.items():
                if v is None:
                    c.pop(k)
                else:
                    c[k] = v
            m["config"] = json.dumps(c)
        return f

    h, d = split(good)
    n = struct.unpack("<Q", good[:8])[0]
    bad = [
        # name, bytes, words the message must contain
        ("empty", b"", "needs at least the 8-byte header length"),
        ("truncated_length_field", good[:5], "needs at least the 8-byte header length"),
        ("truncated_header", good[:8 + n // 2], "runs past the end of the file"),
        ("truncated_data", good[:-9], "past the data region"),
        ("header_length_past_end", struct.pack("<Q", 1 << 40) + good[8:], "runs past the end of the file"),
        ("bad_json", join(h, d, json.dumps(h).encode()[:-1]), "not well-formed JSON"),
        ("header_not_object", join(h, d, b"[1,2,3]"), "must be an object"),
        ("unknown_dtype", header_edit(good, lambda h, d: h["H_init"].update(dtype="F64")), "dtype 'F64' is not one of"),
        ("wrong_dtype", header_edit(good, lambda h, d: h["q_head.bias"].update(dtype="I32")), "has dtype I32; expected"),
        ("offsets_out_of_range", header_edit(good, lambda h, d: h["L_init"].update(
            data_offsets=[first_off(h, "L_init")[0], first_off(h, "L_init")[1] + 10**6])), "past the data region"),
        ("offsets_overlap", header_edit(good, lambda h, d: h.__setitem__("L_init_twin", dict(h["L_init"]))), "overlaps"),
        ("trailing_bytes", header_edit(good, lambda h, d: join(h, d + b"\0" * 8)), "trailing bytes"),
        ("enormous_shape", header_edit(good, lambda h, d: h["H_init"].update(shape=[2**40, 2**40])), "more elements than the file holds"),
        ("wrong_shape", model_bytes(tiny_config(), edit=wrong_shape), "has shape [4, 4]; the config implies [2, 8]"),
        ("missing_tensor", model_bytes(tiny_config(), edit=missing), "missing tensor 'lm_head.weight'"),
        ("extra_tensor", model_bytes(tiny_config(), edit=extra), "unexpected tensor 'extra.weight'"),
        ("nan_weight", model_bytes(tiny_config(), edit=set_nan), "non-finite value"),
        ("wrong_format", model_bytes(tiny_config(), edit=bad_meta("format", "trm/9")), "expected \"trm/1\""),
        ("no_config", model_bytes(tiny_config(), edit=bad_meta("config", None)), "metadata 'config' is missing"),
        ("config_not_json", model_bytes(tiny_config(), edit=bad_meta("config", "{hidden")), "'config' is not a JSON object"),
        ("bad_task_kind", model_bytes(tiny_config(), edit=bad_meta("task", '{"kind":"chess"}')), "expected sudoku, maze, arc or generic"),
        ("heads_do_not_divide", model_bytes(tiny_config(), edit=cfg_edit(num_heads=3)), "not divisible by num_heads 3"),
        ("config_field_missing", model_bytes(tiny_config(), edit=cfg_edit(hidden_size=None)), "missing field 'hidden_size'"),
        ("absurd_config", model_bytes(tiny_config(), edit=cfg_edit(seq_len=10**9)), "'seq_len' = 1000000000 is outside"),
    ]
    os.makedirs(MALFORMED, exist_ok=True)
    with open(os.path.join(MALFORMED, "EXPECTED.tsv"), "w") as f:
        f.write("file\tthe one-line message contains\n")
        for name, b, words in bad:
            save(MALFORMED, name + ".safetensors", b)
            f.write(f"{name}.safetensors\t{words}\n")

    configs = [json.loads(split(v)[0]["__metadata__"]["config"]) for v in seeds.values()]
    for i, c in enumerate(configs):
        save(os.path.join(CORPUS, "config"), f"config{i}.json", json.dumps(c))
    save(os.path.join(CORPUS, "sudoku"), "puzzle_and_answer",
         "...7.2..5....95.8.19..8..67..4...6....79...2.26...1......5......39.....8....784..\n"
         "846712935372695184195483267984237651517964823263851749728549316439126578651378492")
    save(os.path.join(CORPUS, "sudoku"), "zeros", "0" * 81)
    maze = [[" "] * 30 for _ in range(30)]
    for i in range(30):
        maze[0][i] = maze[29][i] = maze[i][0] = maze[i][29] = "#"
    maze[1][1], maze[28][28] = "S", "G"
    flat = "".join("".join(r) for r in maze)
    save(os.path.join(CORPUS, "maze"), "open_box", flat)
    save(os.path.join(CORPUS, "maze"), "open_box_lines", "\n".join(flat[i:i + 30] for i in range(0, 900, 30)) + "\n")
    save(os.path.join(CORPUS, "arc"), "small_task.json", json.dumps(
        {"train": [{"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1]]}], "test": [{"input": [[0, 5, 9]]}]}))


if __name__ == "__main__":
    main()
