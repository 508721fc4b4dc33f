#!/usr/bin/python3
"""Writes the malformed and hostile PyTorch checkpoints of this folder, the BF16 checkpoint of
tests/checkpoints/ and the fuzz seeds of tests/fuzz/corpus/{zip,pickle}/.

Run once with Debian's python and torch (`/usr/bin/python3 tests/malformed/checkpoints/make.py`); the outputs are
committed, so tests never need Python. Each file breaks one rule; EXPECTED.tsv lists the words its one-line
refusal must contain (tests/malformed/check.sh, with MALFORMED_DIR set to this folder, checks them). The
configuration they all share is all_config.yaml here: a tiny attention model (hidden 8, seq_len 6, vocab 5).
"""
import io
import os
import pickle
import shutil
import struct
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
PREFIX = "_orig_mod.model.inner."
D, V, I = 8, 5, 256  # hidden, vocab, SwiGLU width (round(2 * 8 * 2/3) up to a multiple of 256)


def tiny_state_dict():
    g = torch.Generator().manual_seed(0)
    shapes = {"embed_tokens.embedding_weight": (V, D), "lm_head.weight": (V, D), "q_head.weight": (2, D),
              "q_head.bias": (2,), "H_init": (D,), "L_init": (D,),
              "L_level.layers.0.self_attn.qkv_proj.weight": (3 * D, D), "L_level.layers.0.self_attn.o_proj.weight": (D, D),
              "L_level.layers.0.mlp.gate_up_proj.weight": (2 * I, D), "L_level.layers.0.mlp.down_proj.weight": (D, I)}
    return {PREFIX + k: torch.randn(*s, generator=g) * 0.1 for k, s in shapes.items()}


def saved(sd):
    buf = io.BytesIO()
    torch.save(sd, buf)
    return buf.getvalue()


def stored_zip(entries, compression=zipfile.ZIP_STORED):
    """A zip as torch lays it out (archive/data.pkl, archive/data/<key>), written by Python's zipfile."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


# Pickles by hand (protocol 2 opcodes), so that each breaks exactly one rule.
def binunicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def tensor_pickle(key, storage_type, storage_key, numel, offset, size, stride):
    tup = lambda xs: b"(" + b"".join(b"J" + struct.pack("<i", x) for x in xs) + b"t"
    return (b"\x80\x02}(" + binunicode(key) + b"ctorch._utils\n_rebuild_tensor_v2\n((" + binunicode("storage") +
            b"ctorch\n" + storage_type.encode() + b"\n" + binunicode(storage_key) + binunicode("cpu") +
            b"J" + struct.pack("<i", numel) + b"tQ" + b"J" + struct.pack("<i", offset) + tup(size) + tup(stride) +
            b"\x89ccollections\nOrderedDict\n)RtRu.")


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this checkpoint ran a shell command",))


def main():
    out = {}
    good = saved(tiny_state_dict())
    out["truncated_zip.pt"] = good[: len(good) // 2]
    out["truncated_end_record.pt"] = good[:-10]
    # Entries compressed with deflate, as `zip` or a re-zipping tool would write them.
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        out["compressed_entries.pt"] = stored_zip([(i.filename, z.read(i)) for i in z.infolist()], zipfile.ZIP_DEFLATED)
    # A pickle that calls os.system when torch.load (without weights_only) reads it.
    out["os_system.pt"] = stored_zip([("archive/data.pkl", pickle.dumps({"x": Evil()}, protocol=2))])
    out["builtins_eval.pt"] = stored_zip([("archive/data.pkl", b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+1;\x85R.")])
    out["stack_global_exec.pt"] = stored_zip([("archive/data.pkl", b"\x80\x04\x8c\x08builtins\x8c\x04exec\x93.")])
    out["module_object.pt"] = stored_zip([("archive/data.pkl", pickle.dumps(torch.nn.Linear(2, 2), protocol=2))])
    out["inst_opcode.pt"] = stored_zip([("archive/data.pkl", b"(ios\nsystem\nX\x02\x00\x00\x00id.")])
    out["int64_weight.pt"] = stored_zip([("archive/data.pkl", tensor_pickle(PREFIX + "H_init", "LongStorage", "0", 8, 0, [8], [1])),
                                         ("archive/data/0", bytes(64))])
    out["float64_storage.pt"] = stored_zip([("archive/data.pkl", tensor_pickle(PREFIX + "H_init", "DoubleStorage", "0", 8, 0, [8], [1])),
                                            ("archive/data/0", bytes(64))])
    out["storage_out_of_range.pt"] = stored_zip([("archive/data.pkl", tensor_pickle(PREFIX + "H_init", "FloatStorage", "0", 8, 4, [8], [1])),
                                                 ("archive/data/0", bytes(32))])
    out["storage_size_mismatch.pt"] = stored_zip([("archive/data.pkl", tensor_pickle(PREFIX + "H_init", "FloatStorage", "0", 8, 0, [8], [1])),
                                                  ("archive/data/0", bytes(16))])
    out["missing_storage.pt"] = stored_zip([("archive/data.pkl", tensor_pickle(PREFIX + "H_init", "FloatStorage", "7", 8, 0, [8], [1]))])
    out["non_contiguous.pt"] = stored_zip([("archive/data.pkl", tensor_pickle(PREFIX + "q_head.weight", "FloatStorage", "0", 16, 0, [2, 8], [1, 2])),
                                           ("archive/data/0", bytes(64))])
    out["truncated_pickle.pt"] = stored_zip([("archive/data.pkl", tensor_pickle(PREFIX + "H_init", "FloatStorage", "0", 8, 0, [8], [1])[:-20]),
                                             ("archive/data/0", bytes(32))])
    out["not_a_state_dict.pt"] = saved([torch.zeros(2)])
    out["legacy_format.pt"] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19." + bytes(32)
    sd = tiny_state_dict()
    sd[PREFIX + "lm_head.weight"] = torch.zeros(V, D + 1)
    out["shape_not_config.pt"] = saved(sd)
    sd = tiny_state_dict()
    del sd[PREFIX + "q_head.bias"]
    out["missing_tensor.pt"] = saved(sd)
    sd = tiny_state_dict()
    sd[PREFIX + "extra.weight"] = torch.zeros(2)
    out["extra_tensor.pt"] = saved(sd)
    for name, data in out.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)

    # Fuzz seeds: the valid tiny checkpoint for the zip reader, its pickle for the unpickler.
    for target, seeds in {"zip": {"tiny.pt": good, "deflate.pt": out["compressed_entries.pt"]},
                          "pickle": {"tiny.pkl": zipfile.ZipFile(io.BytesIO(good)).read("archive/data.pkl"),
                                     "os_system.pkl": pickle.dumps({"x": Evil()}, protocol=2)}}.items():
        d = os.path.join(ROOT, "tests", "fuzz", "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)

    # A BF16 checkpoint: the sudoku_att_rope reference case with every tensor stored as bfloat16.
    case = os.path.join(ROOT, "tests", "vectors", "sudoku_att_rope")
    dst = os.path.join(ROOT, "tests", "checkpoints", "sudoku_att_rope_bf16")
    os.makedirs(dst, exist_ok=True)
    sd = torch.load(os.path.join(case, "step_0"), map_location="cpu")
    torch.save({k: v.to(torch.bfloat16) for k, v in sd.items()}, os.path.join(dst, "step_0"))
    shutil.copy(os.path.join(case, "all_config.yaml"), dst)


if __name__ == "__main__":
    main()
