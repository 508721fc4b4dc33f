"""Puzzle data for training and evaluation: CSV loading, the reference token encodings (TRM_SPEC.md "Task
encodings"), and on-the-fly augmentation. Generated puzzles come from the engine (`build/native/trm generate`), as CSV files.

Every puzzle is a pair of int arrays: question tokens [seq_len] and answer (label) tokens [seq_len].
"""
import csv
import numpy as np

# --- encodings ---
SUDOKU_SEQ, SUDOKU_VOCAB = 81, 11  # token 1 = blank, digit d = d + 1, 0 = padding
MAZE_SIDE = 30
MAZE_SEQ, MAZE_VOCAB = MAZE_SIDE * MAZE_SIDE, 6
MAZE_CHARS = "# SGo"  # tokens 1..5: wall, open, start, goal, path
WALL, OPEN, START, GOAL, PATH = 1, 2, 3, 4, 5


def encode_sudoku(text):
    if len(text) != SUDOKU_SEQ:
        raise ValueError(f"sudoku: expected {SUDOKU_SEQ} characters, got {len(text)}")
    return np.array([1 if c in ".0" else int(c) + 1 for c in text], dtype=np.int64)


def decode_sudoku(tokens):
    return "".join("." if t <= 1 else str(int(t) - 1) for t in tokens)


def encode_maze(text):
    if len(text) != MAZE_SEQ:
        raise ValueError(f"maze: expected {MAZE_SEQ} characters, got {len(text)}")
    try:
        return np.array([MAZE_CHARS.index(c) + 1 for c in text], dtype=np.int64)
    except ValueError:
        raise ValueError(f"maze: characters must be one of {MAZE_CHARS!r}")


def decode_maze(tokens):
    return "".join(MAZE_CHARS[int(t) - 1] if 1 <= t <= 5 else "?" for t in tokens)


ENCODERS = {"sudoku": encode_sudoku, "maze": encode_maze}


def load_csv(paths, task, limit=None):
    """Read `question,answer` CSV file(s); returns (questions [N, seq_len], answers [N, seq_len]) int64."""
    if isinstance(paths, str):
        paths = [paths]
    encode = ENCODERS[task]
    qs, ans = [], []
    for path in paths:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or not {"question", "answer"} <= set(reader.fieldnames):
                raise ValueError(f"{path}: expected a header 'question,answer'")
            for row in reader:
                try:
                    qs.append(encode(row["question"]))
                    ans.append(encode(row["answer"]))
                except ValueError as e:
                    raise ValueError(f"{path}: line {reader.line_num}: {e}")
                if limit is not None and len(qs) >= limit:
                    return np.stack(qs), np.stack(ans)
    if not qs:
        raise ValueError(f"{paths}: no puzzles")
    return np.stack(qs), np.stack(ans)


# --- sudoku augmentation ---
# The engine's symmetries (src/codecs.cpp), drawn here with numpy for speed in the training loop;
# tests/python/test_data.py holds both to the engine's (`trm symmetries`).
def sudoku_transform(digit_order, rows, cols, transpose):
    """(token map [11], cell map [81]) with augmented[i] = token_map[puzzle[cell_map[i]]]: digit d + 1 shown as
    digit_order[d] + 1 (padding and blank stay), new row r takes old row rows[r], new column c old column cols[c],
    then transposed or not."""
    digits = np.concatenate(([0, 1], np.asarray(digit_order) + 2))
    cells = np.asarray(rows)[:, None] * 9 + np.asarray(cols)[None, :]  # [9, 9]: old cell index for each new cell
    if transpose:
        cells = cells.T
    return digits, cells.reshape(-1)


def sudoku_permutation(rng):
    """A random validity-preserving transform: digits relabelled, bands and the rows within each band permuted,
    stacks and their columns likewise, transposed or not; as sudoku_transform gives it."""
    digit_order = rng.permutation(9)
    bands = rng.permutation(3)
    rows = np.concatenate([b * 3 + rng.permutation(3) for b in bands])
    stacks = rng.permutation(3)
    cols = np.concatenate([s * 3 + rng.permutation(3) for s in stacks])
    return sudoku_transform(digit_order, rows, cols, rng.random() < 0.5)


def augment_sudoku(q, a, rng):
    digits, cells = sudoku_permutation(rng)
    return digits[q[cells]], digits[a[cells]]


def is_valid_sudoku_solution(tokens):
    g = np.asarray(tokens).reshape(9, 9) - 1
    want = set(range(1, 10))
    return (all(set(g[r]) == want for r in range(9)) and all(set(g[:, c]) == want for c in range(9))
            and all(set(g[r:r + 3, c:c + 3].reshape(-1)) == want for r in (0, 3, 6) for c in (0, 3, 6)))


# --- maze augmentation ---
def dihedral(grid, k):
    """The k-th of the 8 dihedral transforms of a square grid (k < 4: rotations, k >= 4: transpose first)."""
    if k >= 4:
        grid = grid.T
    return np.rot90(grid, k % 4)


def augment_maze(q, a, rng):
    k = int(rng.integers(8))
    return (dihedral(q.reshape(MAZE_SIDE, MAZE_SIDE), k).reshape(-1).copy(),
            dihedral(a.reshape(MAZE_SIDE, MAZE_SIDE), k).reshape(-1).copy())


AUGMENT = {"sudoku": augment_sudoku, "maze": augment_maze}


# --- streams of training puzzles ---
class PuzzleStream:
    """Endless augmented puzzles drawn from groups of puzzles (one per training file): a group by `weights`
    (default: in proportion to its size), then a puzzle of it uniformly."""

    def __init__(self, task, groups, augment=True, seed=0, weights=None):
        self.task, self.groups, self.augment = task, groups, augment
        sizes = np.array([len(q) for q, _ in groups], dtype=np.float64)
        self.weights = sizes / sizes.sum() if weights is None else np.asarray(weights, dtype=np.float64)
        self.rng = np.random.default_rng(seed)

    def take(self, n):
        """n puzzles: (questions [n, seq_len], answers [n, seq_len]) int64."""
        qs, ans = [], []
        for g in self.rng.choice(len(self.groups), size=n, p=self.weights / self.weights.sum()):
            gq, ga = self.groups[g]
            i = int(self.rng.integers(len(gq)))
            q, a = gq[i], ga[i]
            if self.augment:
                q, a = AUGMENT[self.task](q, a, self.rng)
            qs.append(q)
            ans.append(a)
        return np.stack(qs), np.stack(ans)
