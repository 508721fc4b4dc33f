#!/usr/bin/env python3
"""Writes structure-aware fuzz seeds (issue 22) and the matching malformed weight files (tests/malformed/, with their
EXPECTED.tsv rows) into tests/fuzz/corpus/<target>/hostile_*: deep nesting, huge
counts and sizes at and just past each limit, so that the fuzzer starts where the deep bugs are instead of having to
grow a 65-level document or a 30x30 grid byte by byte. Any python3 runs it; the outputs are committed.
"""
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
MALFORMED = os.path.join(ROOT, "tests", "malformed")


def save(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    with open(os.path.join(CORPUS, target, "hostile_" + name), "wb") as f:
        f.write(data)


def regress(target, name, data):
    """A regression input for a slow path or crash found outside the fuzzer's own findings (regress_*)."""
    with open(os.path.join(CORPUS, target, "regress_" + name), "wb") as f:
        f.write(data)


def nested(depth, inner="1"):
    return "[" * depth + inner + "]" * depth


def arc():
    grid = lambda r, c, v=1: [[v] * c for _ in range(r)]
    save("arc", "depth_64.json", '{"train": [], "test": [{"input": [[%s]]}]}' % nested(62))
    save("arc", "depth_65.json", '{"train": [], "test": [{"input": [[%s]]}]}' % nested(63))
    save("arc", "depth_deep_cell.json", '{"train":[{"input":[[%s]],"output":[[1]]}],"test":[]}' % nested(2000))
    save("arc", "grid_30x30.json", json.dumps({"train": [{"input": grid(30, 30), "output": grid(30, 30, 9)}], "test": [{"input": grid(30, 30)}]}))
    save("arc", "grid_31x30.json", json.dumps({"train": [], "test": [{"input": grid(31, 30)}]}))
    save("arc", "grid_1x31.json", json.dumps({"train": [], "test": [{"input": grid(1, 31)}]}))
    save("arc", "many_pairs.json", json.dumps({"train": [{"input": [[1]], "output": [[2]]}] * 2000, "test": [{"input": [[0]]}]}))
    save("arc", "colours_edge.json", '{"train":[],"test":[{"input":[[9,10,-1,1e400,18446744073709551616,1.0,true,null]]}]}')
    save("arc", "ragged.json", '{"train":[],"test":[{"input":[[1,2],[3]],"output":[]}]}')
    save("arc", "strings.json", '{"train":[],"test":[{"input":[[1]]}],"\\u0000\\n\\u001b[2J":"\\ud800"}')


def config():
    base = dict(seq_len=81, vocab_size=11, hidden_size=64, num_heads=2, expansion=4, L_layers=2, H_cycles=3,
                L_cycles=6, halt_max_steps=16, mlp_t=False, pos_encodings="rope", puzzle_emb_ndim=0, puzzle_emb_len=0,
                num_puzzle_identifiers=1, rms_norm_eps=1e-5, rope_theta=10000)
    save("config", "max_cycles.json", json.dumps({**base, "L_layers": 64, "H_cycles": 64, "L_cycles": 64}))
    save("config", "max_sizes.json", json.dumps({**base, "seq_len": 4096, "hidden_size": 4096, "num_heads": 256, "expansion": 16, "vocab_size": 4096}))
    save("config", "past_limits.json", json.dumps({**base, "seq_len": 4097, "halt_max_steps": 1025, "expansion": 16.0000001}))
    save("config", "arc_paper.json", json.dumps({**base, "seq_len": 900, "vocab_size": 12, "hidden_size": 512, "num_heads": 8,
                                                  "puzzle_emb_ndim": 512, "puzzle_emb_len": 16, "num_puzzle_identifiers": 876406}))
    save("config", "big_numbers.json", json.dumps(base).replace('"seq_len": 81', '"seq_len": 1e400').replace('"L_cycles": 6', '"L_cycles": 18446744073709551617'))
    save("config", "depth_65.json", '{"seq_len": %s}' % nested(65))


def weights():
    src = open(os.path.join(CORPUS, "weights", "attention_rope_f32.safetensors"), "rb").read()
    n = struct.unpack("<Q", src[:8])[0]
    header, data = json.loads(src[8:8 + n]), src[8 + n:]

    def write(name, h, raw=None):
        text = (raw if raw is not None else json.dumps(h)).encode()
        save("weights", name, struct.pack("<Q", len(text)) + text + data)

    meta = header["__metadata__"]
    cfg = json.loads(meta["config"])
    write("config_max_cycles.safetensors", {**header, "__metadata__": {**meta, "config": json.dumps({**cfg, "L_layers": 64, "H_cycles": 64, "L_cycles": 64})}})
    write("task_depth_65.safetensors", {**header, "__metadata__": {**meta, "task": '{"kind": "generic", "x": %s}' % nested(65)}})
    write("task_depth_63.safetensors", {**header, "__metadata__": {**meta, "task": '{"kind": "generic", "x": %s}' % nested(62)}})
    write("header_deep.safetensors", None, raw='{"a": %s}' % nested(5000))
    name = next(k for k in header if k != "__metadata__")
    write("shape_9_dims.safetensors", {**header, name: {**header[name], "shape": [1] * 9}})
    write("shape_huge.safetensors", {**header, name: {**header[name], "shape": [2 ** 62, 2 ** 62]}})
    write("offsets_max.safetensors", {**header, name: {**header[name], "data_offsets": [0, 2 ** 64 - 1]}})
    write("names_control.safetensors", {**header, "__metadata__": {**meta, "source": "a\nb\x1b[31mc\x00d\u009b"}})
    save("weights", "length_max", struct.pack("<Q", 2 ** 64 - 1) + b"{}")


def sudoku():
    p = "..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3.."
    save("sudoku", "bom", "\ufeff" + p)
    save("sudoku", "nbsp", p[:40] + "\u00a0" + p[40:])
    save("sudoku", "crlf", p + "\r\n" + p.replace(".", "1"))
    save("sudoku", "short_80", p[:80])
    save("sudoku", "long_82", p + "1")
    save("sudoku", "grid_rows", "\n".join(p[i:i + 9] for i in range(0, 81, 9)))
    save("sudoku", "nul", p[:40] + "\0" + p[41:])


def maze():
    rows = ["#" * 30] + ["#" + " " * 28 + "#" for _ in range(28)] + ["#" * 30]
    rows[1] = "#S" + " " * 27 + "#"
    rows[28] = "#" + " " * 27 + "G#"
    text = "\n".join(rows)
    save("maze", "bom", "\ufeff" + text)
    save("maze", "crlf", text.replace("\n", "\r\n"))
    save("maze", "rows_31", text + "\n" + "#" * 30)
    save("maze", "cols_31", "\n".join(r + "#" for r in rows))
    save("maze", "two_starts", text.replace("G", "S"))
    save("maze", "nbsp", text.replace(" ", "\u00a0", 1))


def yaml():
    save("yaml", "dashes_70", "- " * 70 + "x\n")
    save("yaml", "dashes_64", "- " * 63 + "x\n")
    save("yaml", "stairs_70", "".join(" " * i + "k%d:\n" % i for i in range(70)))
    save("yaml", "folded_long", "arch:\n  name: " + "x" * 1000 + "\n" + ("    " + "y" * 100 + "\n") * 100)
    save("yaml", "big_numbers", "arch:\n  hidden_size: 99999999999999999999999\n  expansion: 1e400\n  L_cycles: -0\n")
    save("yaml", "control_chars", 'arch:\n  name: "a\\0b\\nc"\n  "\x1b[2J": 1\n')


def pickle_():
    # Protocol 2: deep nesting (EMPTY_LIST + MARK ... APPENDS), a huge memo index and a huge string length.
    save("pickle", "deep_lists", b"\x80\x02" + b"]" * 5000 + b"a" * 4999 + b".")
    save("pickle", "deep_tuples", b"\x80\x02" + b"(" * 5000 + b"t" * 5000 + b".")
    save("pickle", "memo_huge", b"\x80\x02}r\xff\xff\xff\xffj\xff\xff\xff\xff.")
    save("pickle", "unicode_huge", b"\x80\x02X\xff\xff\xff\x7fabc.")
    save("pickle", "mark_many", b"\x80\x02" + b"(" * 60000 + b".")
    regress("pickle", "shared_tensor_9000_keys", shared_tensor_pickle(9000))


def short_unicode(text):
    b = text.encode()
    return b"\x8c" + bytes([len(b)]) + b


# A state dict naming one memoised tensor (4 floats of storage '0') under many distinct 3-character keys, 7 bytes a
# key: each reader's repeated-key check scanned the keys before each one, so that this 63 KB pickle took 2.5 s
# (quadratic; fixed with sets in src/torch_checkpoint.cpp and src/checkpoint_loader.cpp). `last`: one more key.
def shared_tensor_pickle(count, last=None):
    import itertools, string
    alphabet = string.ascii_letters + string.digits
    keys = ["".join(k) for k in itertools.islice(itertools.product(alphabet, repeat=3), count)]
    if last is not None:
        keys.append(last)
    tensor = (b"ctorch._utils\n_rebuild_tensor_v2\n((" + short_unicode("storage") + b"ctorch\nFloatStorage\n" + short_unicode("0")
              + short_unicode("cpu") + b"K\x04tQK\x00K\x04\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRq\x00")
    out = b"\x80\x02}(" + short_unicode(keys[0]) + tensor
    for k in keys[1:]:
        out += short_unicode(k) + b"h\x00"
    return out + b"u."


def torch_zip(entries):
    """A stored zip as torch.save lays a checkpoint out: entries [(name, bytes)]."""
    body, central = b"", b""
    for name, data in entries:
        n = name.encode()
        common = struct.pack("<HHHHIIIHH", 0, 0, 0, 0, 0, len(data), len(data), len(n), 0)
        central += struct.pack("<IHH", 0x02014B50, 20, 20) + common + struct.pack("<HHHII", 0, 0, 0, 0, len(body)) + n
        body += struct.pack("<IH", 0x04034B50, 20) + common + n + data
    return body + central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(body), 0)


def zip_():
    src = open(os.path.join(CORPUS, "zip", "tiny.pt"), "rb").read()
    eocd = src.rfind(b"PK\x05\x06")
    tail = bytearray(src[eocd:])
    many = bytearray(tail)
    many[8:10] = many[10:12] = struct.pack("<H", 65535)
    save("zip", "entries_65535.pt", src[:eocd] + bytes(many))
    cut = bytearray(tail)
    cut[12:16] = struct.pack("<I", 0xFFFFFFFF)  # central directory size
    cut[16:20] = struct.pack("<I", 0xFFFFFFFF)  # and offset: both zip64 markers without a zip64 record
    save("zip", "cd_ffffffff.pt", src[:eocd] + bytes(cut))
    save("zip", "comment_max.pt", src[:eocd] + bytes(tail[:20]) + struct.pack("<H", 65535) + b"x" * 65535)
    # The loader's check of keys repeated once prefixes are removed was quadratic too: 8,900 keys, then model.<first>.
    regress("zip", "shared_tensor_8900_keys.pt", torch_zip([("archive/data.pkl", shared_tensor_pickle(8900, last="model.aaa")),
                                                           ("archive/data/0", bytes(16))]))


def malformed():
    src = open(os.path.join(CORPUS, "weights", "attention_rope_f32.safetensors"), "rb").read()
    n = struct.unpack("<Q", src[:8])[0]
    header, data = json.loads(src[8:8 + n]), src[8 + n:]
    meta = header["__metadata__"]
    cfg = json.loads(meta["config"])
    name = next(k for k in header if k != "__metadata__")
    rows = {
        "deep_task.safetensors": ({**header, "__metadata__": {**meta, "task": '{"kind": "generic", "x": %s}' % nested(100000)}},
                                  "metadata 'task': JSON nested deeper than 64 levels"),
        "deep_header.safetensors": ('{"a": %s}' % nested(100000), "header: JSON nested deeper than 64 levels"),
        "over_compute_budget.safetensors": ({**header, "__metadata__": {**meta, "config": json.dumps({**cfg, "seq_len": 4000, "H_cycles": 64, "L_cycles": 64})}},
                                            "the limit is 1 TFLOP per step"),
        "control_characters.safetensors": ({**header, "evil\n\x1b[31mname\x00": header[name]}, "unexpected tensor 'evil\\n\\x1b[31mname\\x00'"),
    }
    expected = open(os.path.join(MALFORMED, "EXPECTED.tsv")).read()
    for file, (h, words) in rows.items():
        text = (h if isinstance(h, str) else json.dumps(h)).encode()
        extra = data if file != "control_characters.safetensors" else data + data[header[name]["data_offsets"][0]:header[name]["data_offsets"][1]]
        if file == "control_characters.safetensors":  # the copy of the tensor sits after the data region
            size = header[name]["data_offsets"][1] - header[name]["data_offsets"][0]
            h = {**h, "evil\n\x1b[31mname\x00": {**header[name], "data_offsets": [len(data), len(data) + size]}}
            text = json.dumps(h).encode()
        with open(os.path.join(MALFORMED, file), "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + extra)
        if "\n" + file + "\t" not in "\n" + expected:
            expected += "%s\t%s\n" % (file, words)
    open(os.path.join(MALFORMED, "EXPECTED.tsv"), "w").write(expected)


if __name__ == "__main__":
    for f in (arc, config, weights, sudoku, maze, yaml, pickle_, zip_, malformed):
        f()
