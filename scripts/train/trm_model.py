"""The Tiny Recursive Model in PyTorch, exactly as ../shared/docs/TRM_SPEC.md (read the two side by side).

Parameter and buffer names are the weight file's tensor names, so `state_dict()` is the weight file and a weight
file loads with `load_weight_arrays`. Runs on torch 1.13 (CPU) and torch 2.x (CUDA, bf16 autocast).

Shapes: B batch, L = seq_len tokens, P puzzle-prefix positions, S = L + P, D hidden, V vocab,
H heads, hd = D / H head width. The carry is [B, S, D] outside `TRM.forward`; inside, the blocks work sequence-major,
[S, B, D], so that the token MLP is one matrix product over [S, B*D] with no transposed copies (1.2x faster sudoku
training on the CPU than batch-major, where every token MLP transposed its input and output; measured with
scripts/train/bench_train.py).
"""
import json
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from trm_config import TRMConfig, swiglu_width, weight_shapes

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


def trunc_normal_(t, std):
    """Normal(0, std) truncated to +-2 std, in place."""
    with torch.no_grad():
        return nn.init.trunc_normal_(t, mean=0.0, std=std, a=-2 * std, b=2 * std)


def rms_norm(x, eps, dim=-1):
    """RMS norm over axis `dim` without weights, computed in float32, returned in x's dtype."""
    x32 = x.float()
    return (x32 * torch.rsqrt(x32.square().mean(dim, keepdim=True) + eps)).to(x.dtype)


class Linear(nn.Module):
    """y = x W^T (+ b): PyTorch layout, LeCun-normal init (std 1/sqrt(in))."""

    def __init__(self, n_in, n_out, bias=False):
        super().__init__()
        self.weight = nn.Parameter(trunc_normal_(torch.empty(n_out, n_in), std=1.0 / math.sqrt(n_in)))  # [out, in]
        self.bias = nn.Parameter(torch.zeros(n_out)) if bias else None  # [out]

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class Embedding(nn.Module):
    def __init__(self, n, dim, std):
        super().__init__()
        self.embedding_weight = nn.Parameter(trunc_normal_(torch.empty(n, dim), std=std))  # [n, dim]

    def forward(self, ids):
        return F.embedding(ids, self.embedding_weight)


class PuzzleEmbedding(nn.Module):
    """One learned row per puzzle identifier, zero-initialised as in the reference."""

    def __init__(self, n, dim):
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(n, dim))  # [num_puzzle_identifiers, puzzle_emb_ndim]

    def forward(self, ids):
        return F.embedding(ids, self.weights)


class SiluGate(torch.autograd.Function):
    """silu(g) * u = g sigmoid(g) u, with its backward written out. Why: torch 1.13's bf16 silu and silu_backward
    are slow on the CPU; as sigmoid and products the gate's forward and backward take 1.45x less time (bf16, one
    thread), to the same accuracy, and sudoku training as a whole runs 1.15x faster."""

    @staticmethod
    def forward(ctx, g, u):
        s = torch.sigmoid(g)
        ctx.save_for_backward(g, u, s)
        return g * s * u

    @staticmethod
    def backward(ctx, grad):
        g, u, s = ctx.saved_tensors
        gs = g * s  # silu(g); d silu / dg = s + gs (1 - s)
        return grad * u * (s + gs - gs * s), grad * gs


def silu_gate(g, u):
    return SiluGate.apply(g, u) if torch.is_grad_enabled() else g * torch.sigmoid(g) * u


class SwiGLU(nn.Module):
    """SwiGLU(x) = (silu(g) * u) down^T with [g, u] = split(x gate_up^T), gate first."""

    def __init__(self, width, expansion):
        super().__init__()
        inter = swiglu_width(expansion, width)
        self.gate_up_proj = Linear(width, 2 * inter)  # weight [2I, width]
        self.down_proj = Linear(inter, width)  # weight [width, I]

    def forward(self, x):  # x [..., width], mixes the last axis
        g, u = self.gate_up_proj(x).chunk(2, dim=-1)
        return self.down_proj(silu_gate(g, u))

    def mix_rows(self, x):  # x [width, N] -> [width, N]: the same map applied to each column, mixing the rows
        g, u = torch.mm(self.gate_up_proj.weight, x).chunk(2, dim=0)  # each [I, N]
        return torch.mm(self.down_proj.weight, silu_gate(g, u))


def rope_tables(S, head_dim, theta):
    """cos, sin [S, hd]: angle(pos, j) = pos * theta^(-2j/hd), the hd/2 angles concatenated twice."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))  # [hd/2]
    angles = torch.outer(torch.arange(S, dtype=torch.float32), inv_freq)  # [S, hd/2]
    angles = torch.cat((angles, angles), dim=-1)  # [S, hd]
    return angles.cos(), angles.sin()


def apply_rope(v, cos, sin):
    """v [S, B, H, hd] split in halves (a, b) -> (a cos - b sin, b cos + a sin); cos, sin [S, hd]."""
    a, b = v.chunk(2, dim=-1)
    rotated = torch.cat((-b, a), dim=-1)
    return v * cos[:, None, None, :].to(v.dtype) + rotated * sin[:, None, None, :].to(v.dtype)


class Attention(nn.Module):
    """Non-causal multi-head attention; q, k, v from qkv_proj in that order, heads contiguous."""

    def __init__(self, cfg):
        super().__init__()
        D = cfg.hidden_size
        self.num_heads, self.head_dim = cfg.num_heads, D // cfg.num_heads
        self.qkv_proj = Linear(D, 3 * D)  # weight [3D, D]
        self.o_proj = Linear(D, D)  # weight [D, D]

    def forward(self, x, rope):  # x [S, B, D]
        S, B, D = x.shape
        q, k, v = self.qkv_proj(x).view(S, B, 3, self.num_heads, self.head_dim).unbind(2)  # each [S, B, H, hd]
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        q, k, v = (t.permute(1, 2, 0, 3) for t in (q, k, v))  # [B, H, S, hd]
        if HAS_SDPA:
            out = F.scaled_dot_product_attention(q, k, v)
        else:
            # q scaled rather than the scores: S/hd times fewer products. Under bf16 autocast the scores and the
            # softmax stay bf16 (torch's softmax accumulates in float32): converting [B, H, S, S] to float32 and
            # back cost more than the two matrix products (2x slower training of the maze model).
            scores = (q * (1.0 / math.sqrt(self.head_dim))) @ k.transpose(-1, -2)  # [B, H, S, S]
            out = scores.softmax(-1) @ v
        return self.o_proj(out.permute(2, 0, 1, 3).reshape(S, B, D))


class Block(nn.Module):
    """Post-norm block: token mixing (attention, or the token MLP over the S axis), then the channel MLP."""

    def __init__(self, cfg):
        super().__init__()
        self.eps = cfg.rms_norm_eps
        if cfg.mlp_t:
            self.mlp_t = SwiGLU(cfg.S, cfg.expansion)  # mixes the S positions of each channel
        else:
            self.self_attn = Attention(cfg)
        self.mlp = SwiGLU(cfg.hidden_size, cfg.expansion)

    def forward(self, h, rope):  # h [S, B, D]
        if hasattr(self, "mlp_t"):
            S, B, D = h.shape
            x = h.reshape(S, B * D)  # [S, B*D]: column b*D + d is channel d of puzzle b
            h = rms_norm(x + self.mlp_t.mix_rows(x), self.eps, dim=0).view(S, B, D)  # the norm runs over the S axis
        else:
            h = rms_norm(h + self.self_attn(h, rope), self.eps)
        return rms_norm(h + self.mlp(h), self.eps)


class ReasoningModule(nn.Module):
    """Net(h, inj): h = h + inj, then each block in order. h, inj [S, B, D]."""

    def __init__(self, cfg):
        super().__init__()
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.L_layers))

    def forward(self, h, inj, rope):
        h = h + inj
        for block in self.layers:
            h = block(h, rope)
        return h


class TRM(nn.Module):
    def __init__(self, cfg: TRMConfig, halt_bias=-5.0):
        super().__init__()
        self.cfg = cfg
        D = cfg.hidden_size
        self.embed_tokens = Embedding(cfg.vocab_size, D, std=1.0 / math.sqrt(D))  # [V, D]
        self.lm_head = Linear(D, cfg.vocab_size)  # weight [V, D]
        self.q_head = Linear(D, 2, bias=True)  # weight [2, D], bias [2]: (q_halt, q_continue)
        with torch.no_grad():  # the halting head starts at "continue": the reference's q_halt = -5
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(halt_bias)
        if cfg.puzzle_emb_ndim > 0:
            self.puzzle_emb = PuzzleEmbedding(cfg.num_puzzle_identifiers, cfg.puzzle_emb_ndim)
        if cfg.pos_encodings == "learned":
            self.embed_pos = Embedding(cfg.S, D, std=1.0 / math.sqrt(D))  # [S, D]
        if cfg.pos_encodings == "rope" and not cfg.mlp_t:
            cos, sin = rope_tables(cfg.S, D // cfg.num_heads, cfg.rope_theta)
            self.register_buffer("rope_cos", cos, persistent=False)  # [S, hd]
            self.register_buffer("rope_sin", sin, persistent=False)  # [S, hd]
        self.register_buffer("H_init", trunc_normal_(torch.empty(D), std=1.0))  # [D]
        self.register_buffer("L_init", trunc_normal_(torch.empty(D), std=1.0))  # [D]
        self.L_level = ReasoningModule(cfg)

    # --- input embedding (TRM_SPEC.md "Forward", steps 1-4) ---
    def embed(self, inputs, puzzle_ids):
        """inputs [B, L] int, puzzle_ids [B] int -> x [B, S, D]."""
        cfg = self.cfg
        e = self.embed_tokens(inputs.long())  # [B, L, D]
        if cfg.puzzle_emb_ndim > 0:
            p = self.puzzle_emb(puzzle_ids.long())  # [B, ndim]
            p = F.pad(p, (0, cfg.P * cfg.hidden_size - cfg.puzzle_emb_ndim))  # [B, P*D]
            e = torch.cat((p.view(-1, cfg.P, cfg.hidden_size).to(e.dtype), e), dim=1)  # [B, S, D]
        if cfg.pos_encodings == "learned":
            e = 0.707106781 * (e + self.embed_pos.embedding_weight)
        return math.sqrt(cfg.hidden_size) * e

    def rope(self):
        return (self.rope_cos, self.rope_sin) if hasattr(self, "rope_cos") else None

    def initial_carry(self, batch_size):
        """(zH, zL), each [B, S, D]: H_init and L_init at every position."""
        shape = (batch_size, self.cfg.S, self.cfg.hidden_size)
        return self.H_init.float().expand(shape).clone(), self.L_init.float().expand(shape).clone()

    def heads(self, zH):
        """zH [S, B, D] -> logits [B, L, V], q_halt [B], q_continue [B] (float32)."""
        logits = self.lm_head(zH[self.cfg.P:]).transpose(0, 1).float()
        q = self.q_head(zH[0]).float()  # first position
        return logits, q[:, 0], q[:, 1]

    # --- one supervision step ---
    def forward(self, carry, inputs, puzzle_ids, grad_cycles=1, cycles=None):
        """One supervision step from carry (zH, zL) [B, S, D].

        Returns (new carry, detached), logits [B, L, V], q_halt [B], q_continue [B]. Only the last grad_cycles H
        cycles are differentiable (the earlier ones run under no_grad); the reference trains with 1. cycles:
        (H_cycles, L_cycles) to run instead of the config's, for training with a growing recursion depth; the
        weights are the same, and the engine always runs the config's."""
        cfg, rope = self.cfg, self.rope()
        H_cycles, L_cycles = cycles or (cfg.H_cycles, cfg.L_cycles)
        zH, zL = (z.transpose(0, 1).contiguous() for z in carry)  # [S, B, D]
        x = self.embed(inputs, puzzle_ids).transpose(0, 1).contiguous()  # [S, B, D]
        for k in range(H_cycles):
            with torch.set_grad_enabled(torch.is_grad_enabled() and k >= H_cycles - grad_cycles):
                for _ in range(L_cycles):
                    zL = self.L_level(zL, zH + x, rope)
                zH = self.L_level(zH, zL, rope)
        logits, q_halt, q_continue = self.heads(zH)
        return (zH.detach().transpose(0, 1), zL.detach().transpose(0, 1)), logits, q_halt, q_continue

    # --- weight file I/O ---
    def weight_arrays(self):
        """name -> float32 numpy array, exactly the tensors of TRM_SPEC.md "Weights"."""
        sd = self.state_dict()
        return {name: sd[name].detach().float().cpu().numpy() for name in weight_shapes(self.cfg)}

    def load_weight_arrays(self, arrays, where="weights"):
        shapes = weight_shapes(self.cfg)
        extra = sorted(set(arrays) - set(shapes))
        missing = sorted(set(shapes) - set(arrays))
        if extra or missing:
            raise ValueError(f"{where}: tensors do not match the config (missing {missing}, unexpected {extra})")
        sd = self.state_dict()
        for name, shape in shapes.items():
            if tuple(arrays[name].shape) != shape:
                raise ValueError(f"{where}: tensor '{name}': expected shape {list(shape)}, got {list(arrays[name].shape)}")
            with torch.no_grad():
                sd[name].copy_(torch.from_numpy(np.array(arrays[name], dtype=np.float32)))

    @classmethod
    def from_weight_file(cls, path):
        """Load a trm/1 weight file; returns (model, metadata dict)."""
        import trm_safetensors
        arrays, meta, _ = trm_safetensors.read(path)
        if meta.get("format") != "trm/1":
            raise ValueError(f"{path}: metadata 'format' must be 'trm/1', got {meta.get('format')!r}")
        cfg = TRMConfig.from_dict(json.loads(meta["config"]), where=f"{path}: config")
        model = cls(cfg)
        for name in [k for k in arrays if k.endswith(".scale")]:  # int8 matrix: W = q * scale per row
            base = name[:-len(".scale")]
            arrays[base] = arrays[base].astype(np.float32) * arrays.pop(name)[:, None]
        model.load_weight_arrays(arrays, where=str(path))
        return model, meta
