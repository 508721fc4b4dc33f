"""scripts/train/trm_model.py reproduces the reference outputs from the converted reference checkpoints."""
import os

import numpy as np
import torch

import convert_checkpoint
import trm_safetensors
from trm_model import TRM


def relative_error(got, want):
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))


def test_matches_reference(case, tmp_path):
    weights = tmp_path / "w.safetensors"
    convert_checkpoint.convert(os.path.join(case, "step_0"), os.path.join(case, "all_config.yaml"), str(weights))
    model, _ = TRM.from_weight_file(weights)
    model.eval()
    ref, meta, _ = trm_safetensors.read(os.path.join(case, "reference.safetensors"))
    inputs = torch.from_numpy(ref["inputs"].astype(np.int64))
    ids = torch.from_numpy(ref["puzzle_identifiers"].astype(np.int64))
    carry = model.initial_carry(inputs.shape[0])
    with torch.no_grad():
        for k in range(int(meta["steps"])):
            carry, logits, q_halt, q_continue = model(carry, inputs, ids)
            for name, got in (("logits", logits), ("q_halt_logits", q_halt), ("q_continue_logits", q_continue),
                              ("z_H", carry[0])):
                want = ref[f"step{k}.{name}"]
                assert got.shape == want.shape, (k, name)
                err = relative_error(got.numpy(), want)
                assert err < 1e-4, f"step{k}.{name}: relative error {err:.2e}"
    # state_dict() is the weight file: a rename-free dump
    arrays, _, _ = trm_safetensors.read(weights)
    dumped = model.weight_arrays()
    assert set(dumped) == set(arrays)
    for name in arrays:
        np.testing.assert_array_equal(dumped[name], arrays[name])


def test_loads_int8_matrices(tmp_path):
    """An int8 matrix is stored as NAME (I8 [rows, cols]) plus NAME.scale (F32 [rows]): W = q * scale."""
    case = os.path.join(os.path.dirname(__file__), "..", "vectors", "sudoku_mlp_t")
    weights = tmp_path / "w.safetensors"
    convert_checkpoint.convert(os.path.join(case, "step_0"), os.path.join(case, "all_config.yaml"), str(weights))
    arrays, meta, _ = trm_safetensors.read(weights)
    name = "L_level.layers.0.mlp.gate_up_proj.weight"
    w = arrays[name]
    scale = (np.abs(w).max(1) / 127).astype(np.float32)
    q = np.round(w / scale[:, None]).astype(np.int8)
    arrays = dict(arrays, **{name: q, name + ".scale": scale})
    trm_safetensors.write(tmp_path / "q.safetensors", arrays, metadata=meta)
    model, _ = TRM.from_weight_file(tmp_path / "q.safetensors")
    np.testing.assert_allclose(model.weight_arrays()[name], q.astype(np.float32) * scale[:, None], rtol=1e-6)


def test_silu_gate_matches_silu_times_u_with_gradients():
    from trm_model import silu_gate
    g = torch.randn(7, 5, dtype=torch.float64, requires_grad=True)
    u = torch.randn(7, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(silu_gate, (g, u))  # the hand-written backward against finite differences
    grad = torch.randn(7, 5, dtype=torch.float64)
    got = torch.autograd.grad(silu_gate(g, u), (g, u), grad)
    want = torch.autograd.grad(torch.nn.functional.silu(g) * u, (g, u), grad)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)
    with torch.no_grad():  # the inference path (no autograd.Function, so ONNX export sees plain ops)
        torch.testing.assert_close(silu_gate(g, u), torch.nn.functional.silu(g) * u)
