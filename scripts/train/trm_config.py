"""TRM architecture configuration: the fields of TRM_SPEC.md "Configuration", the derived sizes, and the weight
names and shapes of TRM_SPEC.md "Weights". Shared by the converter, the PyTorch model and the exporter."""
import json
import math
from dataclasses import asdict, dataclass, fields

# Fields the reference's config class gives a default; every other field must be in the yaml.
DEFAULTS = {"mlp_t": False, "puzzle_emb_len": 16, "rms_norm_eps": 1e-5, "rope_theta": 10000.0}
POS_ENCODINGS = ("rope", "learned", "none")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class TRMConfig:
    seq_len: int
    vocab_size: int
    hidden_size: int
    num_heads: int
    expansion: float
    L_layers: int
    H_cycles: int
    L_cycles: int
    halt_max_steps: int
    mlp_t: bool
    pos_encodings: str
    puzzle_emb_ndim: int
    puzzle_emb_len: int
    num_puzzle_identifiers: int
    rms_norm_eps: float
    rope_theta: float

    # --- derived sizes (TRM_SPEC.md "Derived") ---
    @property
    def P(self):
        """Puzzle-prefix positions."""
        if self.puzzle_emb_len:
            return self.puzzle_emb_len
        return -(-self.puzzle_emb_ndim // self.hidden_size)

    @property
    def S(self):
        """Positions the network runs on."""
        return self.seq_len + self.P

    def to_json(self):
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_dict(cls, d, where="config"):
        """Build from a yaml `arch` section or a weight file's config JSON; extra fields are ignored."""
        if not isinstance(d, dict):
            raise ConfigError(f"{where}: expected a mapping of architecture fields")
        values = {}
        for f in fields(cls):
            if f.name in d:
                v = d[f.name]
            elif f.name in DEFAULTS:
                v = DEFAULTS[f.name]
            else:
                raise ConfigError(f"{where}: field '{f.name}' is missing")
            try:
                if f.type is bool:
                    if not isinstance(v, bool):
                        raise TypeError
                elif f.type is int:
                    if isinstance(v, bool) or float(v) != int(v):
                        raise TypeError
                    v = int(v)
                elif f.type is float:
                    if isinstance(v, bool):
                        raise TypeError
                    v = float(v)
                else:
                    v = str(v)
            except (TypeError, ValueError):
                raise ConfigError(f"{where}: field '{f.name}' must be {f.type.__name__}, got {v!r}")
            values[f.name] = v
        cfg = cls(**values)
        cfg.validate(where)
        return cfg

    def validate(self, where="config"):
        def need(ok, msg):
            if not ok:
                raise ConfigError(f"{where}: {msg}")
        for name in ("seq_len", "vocab_size", "hidden_size", "num_heads", "L_layers", "H_cycles", "L_cycles",
                     "halt_max_steps", "num_puzzle_identifiers"):
            need(getattr(self, name) >= 1, f"field '{name}' must be >= 1, got {getattr(self, name)}")
        need(self.puzzle_emb_ndim >= 0 and self.puzzle_emb_len >= 0, "puzzle_emb_ndim and puzzle_emb_len must be >= 0")
        need(self.pos_encodings in POS_ENCODINGS, f"field 'pos_encodings' must be one of {POS_ENCODINGS}, "
             f"got {self.pos_encodings!r}")
        need(self.expansion > 0, f"field 'expansion' must be > 0, got {self.expansion}")
        need(self.puzzle_emb_ndim > 0 or self.puzzle_emb_len == 0,
             f"puzzle_emb_len {self.puzzle_emb_len} needs puzzle_emb_ndim > 0 (the prefix is the puzzle embedding)")
        need(self.P * self.hidden_size >= self.puzzle_emb_ndim,
             f"puzzle_emb_ndim {self.puzzle_emb_ndim} does not fit in puzzle_emb_len {self.puzzle_emb_len} "
             f"positions of hidden_size {self.hidden_size}")
        if not self.mlp_t:
            need(self.hidden_size % self.num_heads == 0,
                 f"hidden_size {self.hidden_size} must be a multiple of num_heads {self.num_heads}")
            if self.pos_encodings == "rope":
                need((self.hidden_size // self.num_heads) % 2 == 0, "RoPE needs an even head_dim")


def swiglu_width(expansion, w):
    """SwiGLU hidden width for input width w: round(expansion * w * 2/3) rounded up to a multiple of 256."""
    inter = round(expansion * w * 2 / 3)
    return -(-inter // 256) * 256


def weight_shapes(cfg):
    """name -> shape of every tensor of TRM_SPEC.md "Weights" for this configuration."""
    D = cfg.hidden_size
    shapes = {
        "embed_tokens.embedding_weight": (cfg.vocab_size, D),
        "lm_head.weight": (cfg.vocab_size, D),
        "q_head.weight": (2, D),
        "q_head.bias": (2,),
        "H_init": (D,),
        "L_init": (D,),
    }
    if cfg.puzzle_emb_ndim > 0:
        shapes["puzzle_emb.weights"] = (cfg.num_puzzle_identifiers, cfg.puzzle_emb_ndim)
    if cfg.pos_encodings == "learned":
        shapes["embed_pos.embedding_weight"] = (cfg.S, D)
    I = swiglu_width(cfg.expansion, D)
    It = swiglu_width(cfg.expansion, cfg.S)
    for i in range(cfg.L_layers):
        p = f"L_level.layers.{i}."
        if cfg.mlp_t:
            shapes[p + "mlp_t.gate_up_proj.weight"] = (2 * It, cfg.S)
            shapes[p + "mlp_t.down_proj.weight"] = (cfg.S, It)
        else:
            shapes[p + "self_attn.qkv_proj.weight"] = (3 * D, D)
            shapes[p + "self_attn.o_proj.weight"] = (D, D)
        shapes[p + "mlp.gate_up_proj.weight"] = (2 * I, D)
        shapes[p + "mlp.down_proj.weight"] = (D, I)
    return shapes


def guess_task(cfg):
    """Task kind from seq_len/vocab_size (the reference dataset builders' encodings)."""
    return {(81, 11): "sudoku", (900, 6): "maze", (900, 12): "arc"}.get((cfg.seq_len, cfg.vocab_size), "generic")


def param_count(cfg):
    return sum(math.prod(s) for s in weight_shapes(cfg).values())
