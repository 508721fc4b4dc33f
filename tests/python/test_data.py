"""scripts/train/data.py: encodings, and augmentations keep solutions solutions (mazes: shortest paths) and are the
engine's symmetries (`build/native/trm symmetries`)."""
import json
import os
import subprocess
from collections import deque

import numpy as np
import pytest

import data
from conftest import ROOT

TRM_BIN = os.environ.get("TRM_BIN", os.path.join(ROOT, "build", "native", "trm"))
needs_engine = pytest.mark.skipif(not os.access(TRM_BIN, os.X_OK), reason=f"engine not built ({TRM_BIN}): "
                                  "scripts/build.sh native")


def engine_symmetries(kind, count, seed=1):
    """[(token map, cell map)] of the engine's symmetries k = 0..count-1 (src/codecs.h Symmetry: the model's cell i
    shows the puzzle's cell cell[i], token t shown as token[t])."""
    out = subprocess.run([TRM_BIN, "symmetries", kind, "--count", str(count), "--seed", str(seed)],
                         capture_output=True, text=True, check=True).stdout
    return [(np.array(s["token"]), np.array(s["cell"])) for s in map(json.loads, out.splitlines())]


def sudoku_parameters(tokens, cells):
    """sudoku_transform's arguments for a (token map, cell map); asserts that the map has the form it gives (rows
    within bands, bands permuted; columns likewise; transposed or not)."""
    assert tokens[:2].tolist() == [0, 1] and sorted(tokens[2:].tolist()) == list(range(2, 11))
    grid = cells.reshape(9, 9)
    transpose = len(set(grid[0] // 9)) != 1  # the first new row comes from one old row unless transposed
    if transpose:
        grid = grid.T
    rows, cols = grid[:, 0] // 9, grid[0] % 9
    for lines in (rows, cols):
        assert sorted(lines.tolist()) == list(range(9))
        assert all(len(set(lines[3 * b:3 * b + 3] // 3)) == 1 for b in range(3))  # a band's rows stay together
    return tokens[2:] - 2, rows, cols, transpose


def solved_sudoku():
    """A valid solution grid as tokens (digit + 1)."""
    return np.array([(r * 3 + r // 3 + c) % 9 + 1 for r in range(9) for c in range(9)]) + 1


def test_sudoku_encoding_round_trip():
    text = "1.3" + "." * 77 + "9"
    tokens = data.encode_sudoku(text)
    assert tokens[0] == 2 and tokens[1] == 1 and tokens[-1] == 10
    assert data.decode_sudoku(tokens) == text


def test_sudoku_augmentation_maps_solutions_to_solutions():
    rng = np.random.default_rng(0)
    a = solved_sudoku()
    assert data.is_valid_sudoku_solution(a)
    q = a.copy()
    q[rng.random(81) < 0.6] = 1  # blanks
    seen = set()
    for _ in range(200):
        q2, a2 = data.augment_sudoku(q, a, rng)
        assert data.is_valid_sudoku_solution(a2)
        given = q2 != 1
        assert given.sum() == (q != 1).sum()
        assert np.array_equal(q2[given], a2[given])  # the clues are still the solution's digits
        seen.add(a2.tobytes())
    assert len(seen) > 150  # the transforms really vary


def test_sudoku_augmentation_includes_transpose():
    rng = np.random.default_rng(1)
    kinds = set()
    for _ in range(100):
        _, cells = data.sudoku_permutation(rng)
        cells = cells.reshape(9, 9)
        kinds.add(bool(len(set(cells[0] // 9)) == 1))  # first row from one old row (no transpose) or column
    assert kinds == {True, False}


@needs_engine
def test_sudoku_augmentation_is_the_engines_symmetry_group():
    # The engine's symmetries have the form data.sudoku_permutation draws, and sudoku_transform builds each of them
    # exactly; and every draw of data.sudoku_permutation has that form too.
    for tokens, cells in engine_symmetries("sudoku", 200, seed=7):
        got = data.sudoku_transform(*sudoku_parameters(tokens, cells))
        assert got[0].tolist() == tokens.tolist() and got[1].tolist() == cells.tolist()
    rng = np.random.default_rng(2)
    transposed = set()
    for _ in range(200):
        transposed.add(sudoku_parameters(*data.sudoku_permutation(rng))[3])
    assert transposed == {True, False}


@needs_engine
def test_maze_augmentation_is_the_engines_dihedral_group():
    engine = engine_symmetries("maze", 8)
    assert all(tokens.tolist() == list(range(6)) for tokens, _ in engine)  # a maze's tokens are not relabelled
    index = np.arange(data.MAZE_SEQ).reshape(data.MAZE_SIDE, data.MAZE_SIDE)
    ours = {data.dihedral(index, k).reshape(-1).tobytes() for k in range(8)}
    assert len(ours) == 8 and ours == {cells.astype(index.dtype).tobytes() for _, cells in engine}


def bfs_distances(open_grid, start):
    """Moves from `start` over the open cells of a boolean grid; -1 where unreachable."""
    h, w = open_grid.shape
    dist = np.full((h, w), -1, dtype=np.int64)
    dist[start] = 0
    queue = deque([start])
    while queue:
        y, x = queue.popleft()
        for dy, dx in ((-1, 0), (0, 1), (1, 0), (0, -1)):
            ny, nx = y + dy, x + dx
            if 0 <= ny < h and 0 <= nx < w and open_grid[ny, nx] and dist[ny, nx] < 0:
                dist[ny, nx] = dist[y, x] + 1
                queue.append((ny, nx))
    return dist


def small_maze():
    """An asymmetric 30x30 maze (a wall with one gap) labelled with a shortest path: (question, answer)."""
    q = np.full((30, 30), data.OPEN, dtype=np.int64)
    q[10, :] = data.WALL
    q[10, 22] = data.OPEN  # the gap
    q[3, 4], q[25, 7] = data.START, data.GOAL
    a = q.copy()
    cells = [(y, 4) for y in range(4, 10)] + [(9, x) for x in range(5, 23)] + [(y, 22) for y in range(10, 26)]
    cells += [(25, x) for x in range(21, 7, -1)]
    for c in cells:
        a[c] = data.PATH
    return q.reshape(-1), a.reshape(-1)


def maze_is_labelled_with_a_shortest_path(q, a):
    side = data.MAZE_SIDE
    qg, ag = q.reshape(side, side), a.reshape(side, side)
    assert (qg == data.START).sum() == 1 and (qg == data.GOAL).sum() == 1
    assert not (qg == data.PATH).any()
    assert np.array_equal(np.where(ag == data.PATH, data.OPEN, ag), qg)  # only open cells became path
    start = tuple(np.argwhere(qg == data.START)[0])
    goal = tuple(np.argwhere(qg == data.GOAL)[0])
    dist = bfs_distances(qg != data.WALL, start)
    n_path = int((ag == data.PATH).sum())
    assert n_path == dist[goal] - 1  # as many path cells as a shortest path has between S and G
    on_path = (ag == data.PATH) | (ag == data.START) | (ag == data.GOAL)
    walk = bfs_distances(on_path, start)
    assert walk[goal] == dist[goal]  # the marked cells connect S to G in that many moves
    return n_path


def test_small_maze_is_labelled_with_a_shortest_path():
    q, a = small_maze()
    assert maze_is_labelled_with_a_shortest_path(q, a) == 6 + 18 + 16 + 14
    assert np.array_equal(data.encode_maze(data.decode_maze(a)), a)
    broken = a.copy()
    broken[np.flatnonzero(a == data.PATH)[3]] = data.OPEN  # a gap in the path
    with pytest.raises(AssertionError):
        maze_is_labelled_with_a_shortest_path(q, broken)


def test_maze_dihedral_transforms_keep_shortest_paths():
    rng = np.random.default_rng(3)
    q, a = small_maze()
    grids = set()
    for k in range(8):
        qk = data.dihedral(q.reshape(30, 30), k).reshape(-1)
        ak = data.dihedral(a.reshape(30, 30), k).reshape(-1)
        maze_is_labelled_with_a_shortest_path(qk, ak)
        grids.add(qk.tobytes())
    assert len(grids) == 8
    q2, a2 = data.augment_maze(q, a, rng)
    maze_is_labelled_with_a_shortest_path(q2, a2)


def test_load_csv(tmp_path):
    sol = data.decode_sudoku(solved_sudoku())
    path = tmp_path / "s.csv"
    path.write_text(f"question,answer\n{'.' * 3 + sol[3:]},{sol}\n{sol},{sol}\n")
    q, a = data.load_csv(str(path), "sudoku")
    assert q.shape == (2, 81) and (q[0, :3] == 1).all() and np.array_equal(a[0], a[1])
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\n123,456\n")
    with pytest.raises(ValueError, match="bad.csv: line 2"):
        data.load_csv(str(bad), "sudoku")


def test_stream_draws_groups_by_weight():
    sol = solved_sudoku()
    groups = [(np.stack([sol] * 3), np.stack([sol] * 3)), (np.stack([sol * 0 + 1] * 5), np.stack([sol] * 5))]
    stream = data.PuzzleStream("sudoku", groups=groups, augment=False, seed=0, weights=[0.0, 1.0])
    q, a = stream.take(50)
    assert (q == 1).all() and q.shape == (50, 81)  # only the second group (all blank)
    stream.weights = np.array([1.0, 1.0])
    q, _ = stream.take(400)
    blank = (q == 1).all(-1).mean()
    assert 0.4 < blank < 0.6
