#!/usr/bin/python3
"""Train a TRM with the reference recipe (TinyRecursiveModels' pretrain.py + losses.py), on CPU or CUDA.

    # sudoku token-MLP model on the training CSVs, 60 minutes, one CPU thread
    scripts/train/train.py --task sudoku --train ../shared/data/sudoku/train/forum_hardest_train.csv \
        --mlp-t --pos none --hidden 128 --out runs/sudoku --minutes 60
    # maze attention model on generated mazes
    scripts/train/train.py --task maze --generate --hidden 128 --heads 4 --out runs/maze
    # ARC attention model on a dataset built by scripts/train/arc_data.py (one puzzle-embedding row per identifier)
    scripts/train/train.py --task arc --arc-data data_cache/arc --hidden 64 --heads 4 --L-cycles 4 --out runs/arc
    # resume (every setting comes from the checkpoint; flags given here override it)
    scripts/train/train.py --resume runs/sudoku/last.pt --minutes 60
    # several GPUs (or CPU processes over gloo; Debian's torch 1.13 torchrun fails under Python 3.11, so there
    # start each process yourself with MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK and LOCAL_RANK set)
    torchrun --nproc_per_node 4 scripts/train/train.py ...

The recipe: a batch holds B puzzle slots; each optimiser step runs one supervision step on every slot, carrying
(zH, zL) over from the slot's previous step (detached: deep supervision), with gradients only through the last H
cycle. A slot halts after halt_max_steps steps or when q_halt > 0 (with exploration: with probability
--halt-exploration a slot must first reach a random minimum of 2..halt_max_steps steps); a halted slot takes a
fresh puzzle. Loss per slot = stable-max cross-entropy averaged over its cells + 0.5 * BCE(q_halt, whole answer
right). AdamW (betas 0.9, 0.95) with linear warm-up, an EMA of the weights (evaluated and exported), bf16 autocast
on CUDA (on CPU with --bf16). Checkpoints (last.pt every --ckpt-minutes, best.pt when the held-out exact/cell accuracy improves) hold
everything needed to resume; the held-out slice comes from the training files, never from an eval set.

ARC (--task arc): every slot carries its example's puzzle-embedding row. As in the reference, that table is not
trained by AdamW but by sign-SGD on the rows the batch touched (row -= lr * sign(grad), after decoupled weight
decay), with its own learning rate --puzzle-emb-lr under the same warm-up; the checkpoint keeps the row names.
"""
import argparse
import copy
import datetime
import json
import os
import platform
import signal
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import arc_data  # noqa: E402
import data  # noqa: E402
from evaluate import evaluate  # noqa: E402
from trm_config import TRMConfig, param_count  # noqa: E402
from trm_model import TRM  # noqa: E402

TASK_SIZES = {"sudoku": (data.SUDOKU_SEQ, data.SUDOKU_VOCAB), "maze": (data.MAZE_SEQ, data.MAZE_VOCAB),
              "arc": (arc_data.SEQ_LEN, arc_data.VOCAB)}


def make_parser(suppress=False):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 argument_default=argparse.SUPPRESS if suppress else None)
    d = (lambda v: {}) if suppress else (lambda v: {"default": v})
    g = ap.add_argument_group("data")
    g.add_argument("--task", choices=sorted(TASK_SIZES), **d("sudoku"))
    g.add_argument("--train", nargs="+", help="training CSV file(s) (question,answer); `trm generate` makes graded "
                   "sudokus and mazes of a chosen path length")
    g.add_argument("--train-weights", nargs="+", type=float, help="how often each --train file is drawn, relative to "
                   "the others (default: in proportion to its size)")
    g.add_argument("--train-weights-end", nargs="+", type=float, help="the weights at --total-steps, reached linearly "
                   "from --train-weights (a curriculum: e.g. short mazes first, long ones later)")
    g.add_argument("--arc-data", help="arc: a folder built by scripts/train/arc_data.py")
    g.add_argument("--holdout", type=int, help="puzzles held out of each training file for model selection", **d(64))
    g.add_argument("--no-augment", dest="augment", action="store_false", **d(True))
    g = ap.add_argument_group("model (TRM_SPEC.md configuration)")
    g.add_argument("--hidden", type=int, **d(128))
    g.add_argument("--heads", type=int, **d(4))
    g.add_argument("--expansion", type=float, **d(4.0))
    g.add_argument("--layers", type=int, **d(2))
    g.add_argument("--H-cycles", dest="H_cycles", type=int, **d(3))
    g.add_argument("--L-cycles", dest="L_cycles", type=int, **d(6))
    g.add_argument("--halt-max-steps", type=int, **d(16))
    g.add_argument("--mlp-t", action="store_true", **d(False))
    g.add_argument("--pos", choices=["rope", "learned", "none"], **d("rope"))
    g.add_argument("--puzzle-emb-len", type=int, help="prefix positions (puzzle_emb_ndim = hidden)", **d(16))
    g = ap.add_argument_group("optimisation")
    g.add_argument("--batch", type=int, help="puzzle slots per optimiser step (per process)", **d(64))
    g.add_argument("--lr", type=float, **d(1e-3))
    g.add_argument("--warmup", type=int, help="linear warm-up steps", **d(500))
    g.add_argument("--total-steps", type=int, help="the whole campaign's planned optimiser steps: the learning rate "
                   "follows a cosine from --lr down to --lr * --lr-min-ratio at this step, across every resume "
                   "(default: constant after warm-up)")
    g.add_argument("--lr-min-ratio", type=float, **d(0.01))
    g.add_argument("--weight-decay", type=float, **d(0.1))
    g.add_argument("--puzzle-emb-lr", type=float, help="arc: sign-SGD rate of the puzzle-embedding rows", **d(1e-2))
    g.add_argument("--puzzle-emb-wd", type=float, help="arc: weight decay of the puzzle-embedding rows", **d(0.1))
    g.add_argument("--ema", type=float, help="EMA rate (0: none)", **d(0.999))
    g.add_argument("--halt-exploration", type=float, **d(0.1))
    g.add_argument("--seed", type=int, **d(0))
    g = ap.add_argument_group("run")
    g.add_argument("--out", help="run folder (checkpoints, log)")
    g.add_argument("--resume", help="checkpoint to resume from (its settings are used unless given here)")
    g.add_argument("--minutes", type=float, help="stop after this much wall time (this invocation)")
    g.add_argument("--max-steps", type=int, help="stop at this optimiser step")
    g.add_argument("--ckpt-minutes", type=float, **d(5.0))
    g.add_argument("--eval-minutes", type=float, help="held-out evaluation interval", **d(10.0))
    g.add_argument("--log-seconds", type=float, **d(30.0))
    g.add_argument("--threads", type=int, help="CPU threads", **d(1))
    g.add_argument("--bf16", action="store_true", help="bf16 autocast on CPU too (always on with CUDA); about 2.5x "
                   "faster on CPUs with AVX512-BF16", **d(False))
    g.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    return ap


def parse_args(argv=None):
    args = make_parser().parse_args(argv)
    if args.resume:
        given = vars(make_parser(suppress=True).parse_args(argv))
        saved = torch.load(args.resume, map_location="cpu")["args"]
        merged = vars(make_parser().parse_args([]))  # options newer than the checkpoint take their defaults
        merged.update(saved)
        merged.update(given)
        merged["resume"] = args.resume
        args = argparse.Namespace(**merged)
    return args


# --- the recipe's pieces ---
def stablemax_cross_entropy(logits, labels):
    """Per-cell loss [B, L] of the reference's stable max: s(x) = x + 1 for x >= 0, 1 / (1 - x) for x < 0,
    p = s(x) / sum s(x); computed in float64 as the reference does."""
    x = logits.double()
    s = torch.where(x < 0, 1.0 / (1.0 - x + 1e-30), x + 1.0)
    logp = torch.log(s / s.sum(-1, keepdim=True))
    return -logp.gather(-1, labels.clamp_min(0)[..., None]).squeeze(-1)


def lr_at(step, args, base=None):
    base = args.lr if base is None else base
    warm = min(1.0, (step + 1) / max(args.warmup, 1))
    total = getattr(args, "total_steps", None)
    if not total or step < args.warmup:
        return base * warm
    t = min(1.0, (step - args.warmup) / max(total - args.warmup, 1))
    low = getattr(args, "lr_min_ratio", 0.01)
    return base * (low + (1 - low) * 0.5 * (1 + np.cos(np.pi * t)))


def train_weights_at(step, args, sizes):
    """Sampling weight of each training file at this step (normalised)."""
    start = np.array(args.train_weights if getattr(args, "train_weights", None) else sizes, dtype=np.float64)
    end = getattr(args, "train_weights_end", None)
    if end:
        t = min(1.0, step / max(getattr(args, "total_steps", None) or 1, 1))
        start = (1 - t) * start + t * np.array(end, dtype=np.float64)
    return start / start.sum()


class SignSGD(torch.optim.Optimizer):
    """The reference's optimiser of the puzzle-embedding table: only the rows with a gradient in this step (the
    puzzles in the batch) move, by lr * sign(grad), after decoupled weight decay. Sign updates give every puzzle
    row the same step size however rarely it is drawn. No state."""

    def __init__(self, params, lr, weight_decay):
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay, "base_lr": lr})

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                rows = p.grad.abs().sum(-1) != 0  # [rows]: the rows this batch touched
                g = p.grad[rows]
                p[rows] = p[rows] * (1 - group["lr"] * group["weight_decay"]) - group["lr"] * torch.sign(g)


class Optimizers:
    """AdamW for the network and SignSGD for the puzzle-embedding table, seen as one optimiser by the loop."""

    def __init__(self, adamw, sign):
        self.parts = {"adamw": adamw, "sign": sign}

    @property
    def param_groups(self):
        return self.parts["adamw"].param_groups + self.parts["sign"].param_groups

    @property
    def state(self):
        return self.parts["adamw"].state  # SignSGD keeps none

    def zero_grad(self, set_to_none=True):
        for o in self.parts.values():
            o.zero_grad(set_to_none=set_to_none)

    def step(self):
        for o in self.parts.values():
            o.step()

    def state_dict(self):
        return {k: o.state_dict() for k, o in self.parts.items()}

    def load_state_dict(self, state):
        for k, o in self.parts.items():
            o.load_state_dict(state[k])


def make_optimizer(model, args):
    adamw = dict(lr=args.lr, betas=(0.9, 0.95), weight_decay=args.weight_decay)
    if args.task != "arc":  # sudoku and maze: one shared puzzle row, trained with the rest (as before)
        return torch.optim.AdamW(model.parameters(), **adamw)
    table = model.puzzle_emb.weights
    rest = [p for p in model.parameters() if p is not table]
    return Optimizers(torch.optim.AdamW(rest, **adamw), SignSGD([table], args.puzzle_emb_lr, args.puzzle_emb_wd))


class Slots:
    """The B puzzle slots of the deep-supervision loop: their puzzles, carry and step counts."""

    def __init__(self, model, stream, B, device):
        self.model, self.stream, self.device = model, stream, device
        S, D = model.cfg.S, model.cfg.hidden_size
        self.inputs = torch.zeros(B, model.cfg.seq_len, dtype=torch.long, device=device)  # [B, L]
        self.labels = torch.zeros(B, model.cfg.seq_len, dtype=torch.long, device=device)  # [B, L]
        self.ids = torch.zeros(B, dtype=torch.long, device=device)  # [B] puzzle rows (0 unless the stream gives them)
        self.zH = torch.zeros(B, S, D, device=device)  # [B, S, D]
        self.zL = torch.zeros(B, S, D, device=device)  # [B, S, D]
        self.steps = torch.zeros(B, dtype=torch.long, device=device)  # [B]
        self.halted = torch.ones(B, dtype=torch.bool, device=device)  # [B]: all start empty
        self.stagger = True  # the first puzzles start at random step counts, so slots don't all halt together

    def refill(self):
        """Give every halted slot a fresh puzzle and the initial carry."""
        idx = self.halted.nonzero().squeeze(-1)
        if len(idx) == 0:
            return
        batch = self.stream.take(len(idx))  # (questions, answers[, puzzle rows])
        self.inputs[idx] = torch.from_numpy(batch[0]).to(self.device)
        self.labels[idx] = torch.from_numpy(batch[1]).to(self.device)
        if len(batch) > 2:
            self.ids[idx] = torch.from_numpy(batch[2]).to(self.device)
        self.zH[idx] = self.model.H_init.float().to(self.device)
        self.zL[idx] = self.model.L_init.float().to(self.device)
        self.steps[idx] = 0
        if self.stagger:
            self.steps[idx] = torch.randint(0, self.model.cfg.halt_max_steps, (len(idx),), device=self.device)
            self.stagger = False
        self.halted[idx] = False


def train_step(net, model, slots, optimizer, args, device):
    """One optimiser step = one supervision step on every slot. Returns metrics of this step (sums)."""
    cfg = model.cfg
    slots.refill()
    bf16 = device.type == "cuda" or getattr(args, "bf16", False)
    # no autocast weight cache: a cast made in the no_grad H cycles would be reused by the last cycle without grad
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16, cache_enabled=False):
        (zH, zL), logits, q_halt, q_continue = net((slots.zH, slots.zL), slots.inputs, slots.ids)
    slots.zH, slots.zL = zH.float(), zL.float()
    labels = slots.labels
    mask = labels != 0  # token 0 is padding: not scored
    cells = mask.sum(-1).clamp_min(1)  # [B]
    with torch.no_grad():
        right = (logits.argmax(-1) == labels) & mask
        solved = right.sum(-1) == mask.sum(-1)  # [B]
    lm_loss = (stablemax_cross_entropy(logits, labels) * mask).sum(-1) / cells  # [B]
    q_loss = F.binary_cross_entropy_with_logits(q_halt.float(), solved.float(), reduction="none")  # [B]
    B = labels.shape[0]
    loss = (lm_loss.sum() + 0.5 * q_loss.sum()) / B
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()

    with torch.no_grad():  # halting, with exploration
        slots.steps += 1
        halted = slots.steps >= cfg.halt_max_steps
        if cfg.halt_max_steps > 1:
            explore = torch.rand(B, device=device) < args.halt_exploration
            min_steps = explore * torch.randint(2, cfg.halt_max_steps + 1, (B,), device=device)
            halted = halted | ((q_halt > 0) & (slots.steps >= min_steps))
        slots.halted = halted
        h = halted.float()
        return {"loss": float(loss), "lm_loss": float(lm_loss.mean()), "q_loss": float(q_loss.mean()),
                "halted": float(h.sum()), "exact": float((solved.float() * h).sum()),
                "cell": float(((right.sum(-1) / cells) * h).sum()),
                "q_acc": float((((q_halt >= 0) == solved).float() * h).sum()),
                "steps": float((slots.steps.float() * h).sum())}


class EMA:
    """Exponential moving average of the parameters (buffers copied as they are)."""

    def __init__(self, model, rate):
        self.rate = rate
        self.shadow = {k: v.detach().clone().float() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model):
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].mul_(self.rate).add_(v.float(), alpha=1 - self.rate)

    def copy_to(self, model):
        model.load_state_dict(self.shadow)


def hardware_string(device):
    if device.type == "cuda":
        return f"{torch.cuda.device_count()}x {torch.cuda.get_device_name(0)}"
    name, flags = platform.processor() or platform.machine(), ""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
        name = info.split("model name")[1].split(":", 1)[1].split("\n")[0].strip()
        flags = ", AVX512-BF16" if "avx512_bf16" in info else ""
    except (OSError, IndexError):
        pass
    return f"CPU {name}{flags}, {torch.get_num_threads()} thread(s)"


# --- checkpoints ---
def compact(state):
    """Optimizer state with floating tensors in bf16 (a checkpoint half the size; restored to f32)."""
    if isinstance(state, dict):
        return {k: compact(v) for k, v in state.items()}
    if isinstance(state, list):
        return [compact(v) for v in state]
    if torch.is_tensor(state) and state.dtype == torch.float32 and state.dim() > 0:
        return state.to(torch.bfloat16)
    return state


def save_checkpoint(path, model, ema, optimizer, args, progress, best, identifiers=None):
    state = {"format": "trm-train/1", "args": {k: v for k, v in vars(args).items() if k != "resume"},
             "config": json.loads(model.cfg.to_json()), "model": model.state_dict(),
             "ema": ema.shadow if ema else None, "optimizer": compact(optimizer.state_dict()),
             "progress": progress, "best": best}
    if identifiers is not None:  # names of the puzzle-embedding rows (export writes them into the weight file)
        state["puzzle_identifiers"] = identifiers
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


class ArcStream:
    """Endless ARC examples drawn uniformly from a built dataset (already augmented: each copy has its row)."""

    def __init__(self, arrays, index, seed):
        self.arrays, self.index = arrays, index
        self.rng = np.random.default_rng(seed)

    def take(self, n):
        """(questions, answers) int64 [n, 900] and puzzle rows int64 [n]."""
        pick = self.index[self.rng.integers(len(self.index), size=n)]
        a = self.arrays
        return a["inputs"][pick].astype(np.int64), a["labels"][pick].astype(np.int64), a["puzzle_ids"][pick].astype(np.int64)


def build_arc_data(args, rank):
    """(stream, held-out questions, answers, puzzle rows, description, identifiers). The held-out examples come
    from training tasks only (never from the evaluation tasks' demonstrations, which their rows need) and are
    taken out of the stream."""
    if not args.arc_data:
        raise SystemExit("train: --task arc needs --arc-data DIR (built by scripts/train/arc_data.py)")
    try:
        arrays, names, manifest = arc_data.load(args.arc_data)
    except arc_data.ArcDataError as e:
        raise SystemExit(f"train: {e}")
    candidates = np.flatnonzero(~arrays["eval_demo"])
    order = np.random.default_rng(12345).permutation(candidates)  # fixed: the same slice on every resume
    held = order[:args.holdout]
    train_idx = np.setdiff1d(np.arange(len(arrays["puzzle_ids"])), held)
    stream = ArcStream(arrays, train_idx, seed=args.seed * 1000 + rank + int(time.time()) % 100000)
    desc = (f"ARC {args.arc_data} ({len(train_idx)} examples, {len(names)} puzzle rows, {manifest.get('augmentations')} "
            f"augmented copies per task; {len(held)} training-task examples held out for selection)")
    return (stream, arrays["inputs"][held].astype(np.int64), arrays["labels"][held].astype(np.int64),
            arrays["puzzle_ids"][held].astype(np.int64), desc, names)


def build_data(args, rank):
    """(training stream, held-out sets [(file name, questions, answers)], description of the data)."""
    if not args.train:
        raise SystemExit("train: give --train CSV file(s) (`build/native/trm generate` makes sudokus and mazes)")
    for path in args.train:  # a resumed checkpoint names the files it was trained on, perhaps on another machine
        if not os.path.exists(path):
            raise SystemExit(f"train: training file {path} (--train, or the resumed checkpoint's 'train') not found: "
                             f"pass --train with where those files are here")
    for name in ("train_weights", "train_weights_end"):
        w = getattr(args, name, None)
        if w and (len(w) != len(args.train) or min(w) < 0 or sum(w) <= 0):
            raise SystemExit(f"train: --{name.replace('_', '-')} has {len(w)} weights for {len(args.train)} --train "
                             f"files; expected one non-negative weight per file, not all zero")
    groups, held = [], []
    for path in args.train:  # each file: a fixed held-out slice (the same on every resume), the rest to train on
        q, a = data.load_csv(path, args.task)
        order = np.random.default_rng(12345).permutation(len(q))
        h, rest = order[:args.holdout], order[args.holdout:]
        if len(rest) == 0:
            raise SystemExit(f"train: {path}: {len(q)} puzzles, all held out by --holdout {args.holdout}")
        groups.append((q[rest], a[rest]))
        held.append((os.path.basename(path), q[h], a[h]))
    stream = data.PuzzleStream(args.task, groups=groups, augment=args.augment,
                               seed=args.seed * 1000 + rank + int(time.time()) % 100000)
    names = ", ".join(f"{os.path.basename(p)} ({len(g[0])})" for p, g in zip(args.train, groups))
    return stream, held, f"{names}; {args.holdout} of each file held out for selection"


def main(argv=None):
    args = parse_args(argv)
    if not args.out:
        raise SystemExit("train: --out is required")
    for path in args.train or []:
        if "/eval/" in os.path.abspath(path).replace(os.sep, "/"):
            raise SystemExit(f"train: {path} is under an eval/ folder: never train on evaluation data")
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank = int(os.environ.get("RANK", "0"))
    if args.device:
        device = torch.device(args.device)
    else:
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if distributed:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if device.type == "cuda":
            torch.cuda.set_device(local)
            device = torch.device("cuda", local)
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed + rank)
    is_main = rank == 0
    log_file = None
    if is_main:
        os.makedirs(args.out, exist_ok=True)
        log_file = open(os.path.join(args.out, "log.txt"), "a")

    def log(msg):
        if is_main:
            line = f"[{datetime.datetime.now().strftime('%H:%M:%S')}] {msg}"
            print(line, flush=True)
            log_file.write(line + "\n")
            log_file.flush()

    seq_len, vocab = TASK_SIZES[args.task]
    identifiers, held_ids = None, None
    if args.task == "arc":
        if args.puzzle_emb_len <= 0:
            raise SystemExit("train: --task arc needs --puzzle-emb-len > 0 (the puzzle embedding is the task)")
        stream, held_q, held_a, held_ids, data_desc, identifiers = build_arc_data(args, rank)
        held = [("arc", held_q, held_a, held_ids)]
    cfg = TRMConfig.from_dict({
        "seq_len": seq_len, "vocab_size": vocab, "hidden_size": args.hidden, "num_heads": args.heads,
        "expansion": args.expansion, "L_layers": args.layers, "H_cycles": args.H_cycles, "L_cycles": args.L_cycles,
        "halt_max_steps": args.halt_max_steps, "mlp_t": args.mlp_t, "pos_encodings": args.pos,
        "puzzle_emb_ndim": args.hidden if args.puzzle_emb_len > 0 else 0, "puzzle_emb_len": args.puzzle_emb_len,
        "num_puzzle_identifiers": len(identifiers) if identifiers else 1, "rms_norm_eps": 1e-5, "rope_theta": 10000.0},
        where="train arguments")
    model = TRM(cfg).to(device)
    optimizer = make_optimizer(model, args)
    ema = EMA(model, args.ema) if args.ema > 0 else None
    progress = {"step": 0, "samples": 0, "puzzles": 0, "wall_s": 0.0, "hardware": hardware_string(device)}
    best = None
    if args.resume:
        state = torch.load(args.resume, map_location="cpu")
        if state.get("puzzle_identifiers", identifiers) != identifiers:
            raise SystemExit(f"train: {args.resume}: its puzzle_identifiers differ from {args.arc_data}/identifiers.json "
                             f"(the rows would mean other puzzles)")
        model.load_state_dict(state["model"])
        opt_state = state["optimizer"]
        optimizer.load_state_dict(opt_state)
        for st in optimizer.state.values():  # compact() stored moments in bf16
            for k, v in st.items():
                if torch.is_tensor(v) and v.dtype == torch.bfloat16:
                    st[k] = v.float().to(device)
        if ema and state["ema"]:
            ema.shadow = {k: v.float().to(device) for k, v in state["ema"].items()}
        progress, best = state["progress"], state["best"]
        here = hardware_string(device)
        if here not in progress.get("hardware", ""):  # record every machine the run used
            progress["hardware"] = f"{progress.get('hardware')}; then {here}"
        log(f"resumed from {args.resume} at step {progress['step']}")
    net = model
    if distributed:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    if args.task != "arc":
        stream, held, data_desc = build_data(args, rank)
        held = [(name, q, a, None) for name, q, a in held]
        sizes = [len(g[0]) for g in stream.groups]
        stream.weights = train_weights_at(progress["step"], args, sizes)
    eval_model = copy.deepcopy(model)
    slots = Slots(model, stream, args.batch, device)
    log(f"model: {param_count(cfg):,} parameters, config {cfg.to_json()}")
    log(f"data: {data_desc}; device {hardware_string(device)}")

    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(flag=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(flag=True))

    def checkpoint(name):
        if is_main:
            save_checkpoint(os.path.join(args.out, name), model, ema, optimizer, args, progress, best, identifiers)

    def held_out_eval():
        """Every held-out set with all steps and with early halting; best.pt on the mean over the sets."""
        nonlocal best
        if not is_main or sum(len(h[1]) for h in held) == 0:
            return
        (ema.copy_to(eval_model) if ema else eval_model.load_state_dict(model.state_dict()))
        t = time.time()
        files = {}
        for name, q, a, ids in held:
            # under the training's autocast: bf16 makes this 2-3x faster on the CPU, and selection needs only the order
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda" or bool(args.bf16)):
                res = evaluate(eval_model, q, a, batch_size=min(256, len(q)), puzzle_ids=ids)
            e, n = res["early"], res["never"]
            files[name] = res
            log(f"held-out {name} ({len(q)} puzzles, {'EMA' if ema else 'live'} weights): exact {n['exact_accuracy']:.4f}"
                f" cell {n['cell_accuracy']:.4f} (all steps) | exact {e['exact_accuracy']:.4f} cell "
                f"{e['cell_accuracy']:.4f} mean steps {e['mean_steps']:.2f} (early halting)")
        mean = {mode: {k: float(np.mean([r[mode][k] for r in files.values()])) for k in files[name][mode]}
                for mode in ("early", "never")}
        log(f"held-out mean over {len(files)} set(s): exact {mean['never']['exact_accuracy']:.4f} cell "
            f"{mean['never']['cell_accuracy']:.4f} (all steps) | exact {mean['early']['exact_accuracy']:.4f} "
            f"(early halting) | {time.time() - t:.0f} s")
        key = (mean["never"]["exact_accuracy"], mean["never"]["cell_accuracy"])
        if best is None or key > (best["never"]["exact_accuracy"], best["never"]["cell_accuracy"]):
            best = dict(mean, files=files, step=progress["step"])
            checkpoint("best.pt")
            log(f"new best at step {progress['step']}: saved {os.path.join(args.out, 'best.pt')}")

    start = time.time()
    wall0, step0 = progress["wall_s"], progress["step"]
    last_log = last_ckpt = last_eval = start
    acc = {}
    log_steps = 0
    world = torch.distributed.get_world_size() if distributed else 1

    def should_stop():
        s = (stop["flag"] or (args.max_steps is not None and progress["step"] >= args.max_steps)
             or (args.minutes is not None and time.time() - start >= 60 * args.minutes))
        if distributed:  # every process must stop at the same step
            t = torch.tensor([float(s)], device=device)
            torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
            s = bool(t.item())
        return s

    while not should_stop():
        for group in optimizer.param_groups:  # the puzzle table's group keeps its own base rate
            group["lr"] = lr_at(progress["step"], args, group.get("base_lr"))
        if args.task != "arc" and getattr(args, "train_weights_end", None):
            stream.weights = train_weights_at(progress["step"], args, sizes)
        m = train_step(net, model, slots, optimizer, args, device)
        if ema:
            ema.update(model)
        progress["step"] += 1
        progress["samples"] += args.batch * world
        progress["puzzles"] += int(m["halted"])
        progress["wall_s"] = wall0 + time.time() - start
        for k, v in m.items():
            acc[k] = acc.get(k, 0.0) + v
        log_steps += 1
        now = time.time()
        if now - last_log >= args.log_seconds:
            h = max(acc["halted"], 1)
            log(f"step {progress['step']} | loss {acc['loss'] / log_steps:.4f} (lm {acc['lm_loss'] / log_steps:.4f}"
                f" q {acc['q_loss'] / log_steps:.4f}) | halted: cell {acc['cell'] / h:.4f} exact {acc['exact'] / h:.4f}"
                f" q_acc {acc['q_acc'] / h:.3f} steps {acc['steps'] / h:.2f} | "
                f"{log_steps * args.batch * world / (now - last_log):.1f} samples/s | lr {lr_at(progress['step'], args):.2e}"
                f" | {progress['wall_s'] / 60:.1f} min")
            acc, log_steps, last_log = {}, 0, now
        if now - last_eval >= 60 * args.eval_minutes:
            held_out_eval()
            last_eval = time.time()
        if now - last_ckpt >= 60 * args.ckpt_minutes:
            checkpoint("last.pt")
            last_ckpt = time.time()
    if not stop["flag"]:  # a signal asks for a quick exit: save, skip the final evaluation
        held_out_eval()
    checkpoint("last.pt")
    elapsed = time.time() - start
    run_steps = progress["step"] - step0
    log(f"summary: step {progress['step']} ({run_steps} this run, {run_steps * args.batch * world / max(elapsed, 1e-9):.1f} "
        f"samples/s), {progress['samples']:,} sample-steps and {progress['puzzles']:,} finished puzzles in all; "
        f"wall time {elapsed / 60:.1f} min this run, {progress['wall_s'] / 60:.1f} min in all; best held-out exact "
        f"{best['never']['exact_accuracy'] if best else float('nan'):.4f} (all steps) at step "
        f"{best['step'] if best else '-'}; checkpoints in {args.out}")
    if distributed:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
