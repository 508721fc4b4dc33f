"""scripts/convert_checkpoint.py on the reference checkpoints, and its refusals."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import convert_checkpoint
import trm_safetensors
from conftest import ROOT, VECTORS
from trm_config import TRMConfig, weight_shapes

CONFIG_FIELDS = ["seq_len", "vocab_size", "hidden_size", "num_heads", "expansion", "L_layers", "H_cycles",
                 "L_cycles", "halt_max_steps", "mlp_t", "pos_encodings", "puzzle_emb_ndim", "puzzle_emb_len",
                 "num_puzzle_identifiers", "rms_norm_eps", "rope_theta"]
EXPECTED_KIND = {"sudoku_mlp_t": "sudoku", "sudoku_att_rope": "sudoku", "maze_att_rope": "maze",
                 "arc_att_rope_puzzle_emb": "arc", "learned_pos_no_puzzle_emb": "sudoku"}


def convert(args, capsys):
    rc = convert_checkpoint.main([str(a) for a in args])
    captured = capsys.readouterr()
    return rc, captured.err


@pytest.mark.parametrize("dtype", ["f32", "bf16"])
def test_converts_every_reference_case(case, dtype, tmp_path, capsys):
    out = tmp_path / "w.safetensors"
    rc, err = convert([os.path.join(case, "step_0"), "--config", os.path.join(case, "all_config.yaml"),
                       "--out", out, "--dtype", dtype], capsys)
    assert rc == 0, err
    tensors, meta, dtypes = trm_safetensors.read(out)
    assert meta["format"] == "trm/1"
    config = json.loads(meta["config"])
    assert list(config) == CONFIG_FIELDS
    assert isinstance(config["mlp_t"], bool) and isinstance(config["pos_encodings"], str)
    assert all(isinstance(config[k], int) for k in ["seq_len", "vocab_size", "hidden_size", "L_layers"])
    assert isinstance(config["rms_norm_eps"], float) and isinstance(config["rope_theta"], float)
    assert json.loads(meta["task"]) == {"kind": EXPECTED_KIND[os.path.basename(case)]}
    source = json.loads(meta["source"])
    assert len(source["sha256"]) == 64 and source["converted_from"].endswith("step_0")

    cfg = TRMConfig.from_dict(config)
    shapes = weight_shapes(cfg)
    assert set(tensors) == set(shapes)
    assert set(dtypes.values()) == {dtype.upper()}
    reference = torch.load(os.path.join(case, "step_0"), map_location="cpu")
    for key, value in reference.items():
        name = key.replace("_orig_mod.", "").replace("model.", "").replace("inner.", "")
        assert tensors[name].shape == shapes[name]
        want = value.float().numpy()
        if dtype == "f32":
            np.testing.assert_array_equal(tensors[name], want)  # H_init/L_init: bf16 widens exactly
        else:
            np.testing.assert_allclose(tensors[name], want, rtol=2 ** -8, atol=0)


def test_header_layout(tmp_path, capsys):
    case = os.path.join(VECTORS, "sudoku_mlp_t")
    out = tmp_path / "w.safetensors"
    rc, err = convert([os.path.join(case, "step_0"), "--config", os.path.join(case, "all_config.yaml"),
                       "--out", out], capsys)
    assert rc == 0, err
    raw = out.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    assert n % 8 == 0
    header = json.loads(raw[8:8 + n])
    assert list(header) == sorted(header)
    offsets = [header[k]["data_offsets"] for k in sorted(header) if k != "__metadata__"]
    assert offsets[0][0] == 0 and offsets[-1][1] == len(raw) - 8 - n
    assert all(a[1] == b[0] for a, b in zip(offsets, offsets[1:]))


def modified_checkpoint(tmp_path, change):
    case = os.path.join(VECTORS, "sudoku_att_rope")
    sd = torch.load(os.path.join(case, "step_0"), map_location="cpu")
    change(sd)
    path = tmp_path / "modified_step"
    torch.save(sd, path)
    return [path, "--config", os.path.join(case, "all_config.yaml"), "--out", tmp_path / "w.safetensors"]


PREFIX = "_orig_mod.model.inner."


def test_refuses_wrong_shape(tmp_path, capsys):
    key = PREFIX + "L_level.layers.1.mlp.down_proj.weight"
    args = modified_checkpoint(tmp_path, lambda sd: sd.__setitem__(key, torch.zeros(64, 255)))
    rc, err = convert(args, capsys)
    assert rc == 1
    assert err.count("\n") == 1
    assert "L_level.layers.1.mlp.down_proj.weight" in err and "[64, 256]" in err and "[64, 255]" in err
    assert not (tmp_path / "w.safetensors").exists()


def test_refuses_missing_tensor(tmp_path, capsys):
    args = modified_checkpoint(tmp_path, lambda sd: sd.pop(PREFIX + "q_head.bias"))
    rc, err = convert(args, capsys)
    assert rc == 1 and err.count("\n") == 1
    assert "missing" in err and "q_head.bias" in err and "[2]" in err


def test_refuses_extra_tensor(tmp_path, capsys):
    args = modified_checkpoint(tmp_path, lambda sd: sd.__setitem__(PREFIX + "L_level.layers.2.mlp.down_proj.weight",
                                                                   torch.zeros(64, 256)))
    rc, err = convert(args, capsys)
    assert rc == 1 and err.count("\n") == 1
    assert "L_level.layers.2.mlp.down_proj.weight" in err


def test_ignores_known_buffers(tmp_path, capsys):
    args = modified_checkpoint(tmp_path, lambda sd: sd.__setitem__(PREFIX + "rotary_emb.cos_cached",
                                                                   torch.zeros(97, 16)))
    rc, err = convert(args, capsys)
    assert rc == 0, err
    tensors, _, _ = trm_safetensors.read(tmp_path / "w.safetensors")
    assert not any("rotary" in k for k in tensors)


def test_keep_puzzles(tmp_path, capsys):
    case = os.path.join(VECTORS, "arc_att_rope_puzzle_emb")
    names = ["<blank>", "aaa", "aaa|||t1|||0123456789", "bbb", "ccc|||t3|||0213456789"]
    (tmp_path / "identifiers.json").write_text(json.dumps(names))
    (tmp_path / "keep.txt").write_text("aaa\nccc\n")
    out = tmp_path / "w.safetensors"
    rc, err = convert([os.path.join(case, "step_0"), "--config", os.path.join(case, "all_config.yaml"), "--out", out,
                       "--identifiers", tmp_path / "identifiers.json", "--keep-puzzles", tmp_path / "keep.txt"], capsys)
    assert rc == 0, err
    tensors, meta, _ = trm_safetensors.read(out)
    assert json.loads(meta["task"]) == {"kind": "arc", "puzzle_identifiers": [names[1], names[2], names[4]]}
    assert json.loads(meta["config"])["num_puzzle_identifiers"] == 3
    full = torch.load(os.path.join(case, "step_0"), map_location="cpu")[PREFIX + "puzzle_emb.weights"].numpy()
    np.testing.assert_array_equal(tensors["puzzle_emb.weights"], full[[1, 2, 4]])


def test_command_line_exit_status(tmp_path):
    args = modified_checkpoint(tmp_path, lambda sd: sd.pop(PREFIX + "H_init"))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "convert_checkpoint.py")] + [str(a) for a in args],
                          capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "H_init" in proc.stderr
