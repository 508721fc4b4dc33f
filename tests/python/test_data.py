"""scripts/train/data.py: encodings, augmentations keep solutions solutions, generated mazes are labelled with
shortest paths."""
import numpy as np
import pytest

import data


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


def maze_is_labelled_with_a_shortest_path(q, a):
    side = data.MAZE_SIDE
    qg, ag = q.reshape(side, side), a.reshape(side, side)
    assert (qg == data.START).sum() == 1 and (qg == data.GOAL).sum() == 1
    assert not (qg == data.PATH).any()
    assert np.array_equal(np.where(ag == data.PATH, data.OPEN, ag), qg)  # only open cells became path
    start = tuple(np.argwhere(qg == data.START)[0])
    goal = tuple(np.argwhere(qg == data.GOAL)[0])
    dist = data.bfs_distances(qg != data.WALL, start)
    n_path = int((ag == data.PATH).sum())
    assert n_path == dist[goal] - 1  # as many path cells as a shortest path has between S and G
    on_path = (ag == data.PATH) | (ag == data.START) | (ag == data.GOAL)
    walk = data.bfs_distances(on_path, start)
    assert walk[goal] == dist[goal]  # the marked cells connect S to G in that many moves
    return n_path


def test_generated_mazes_are_labelled_with_shortest_paths():
    rng = np.random.default_rng(2)
    for _ in range(3):
        q, a = data.generate_maze(rng)
        assert q.shape == (900,) and set(np.unique(q)) <= {1, 2, 3, 4}
        assert maze_is_labelled_with_a_shortest_path(q, a) >= 110
        assert data.decode_maze(q).count("S") == 1
        assert np.array_equal(data.encode_maze(data.decode_maze(a)), a)


def test_maze_dihedral_transforms_keep_shortest_paths():
    rng = np.random.default_rng(3)
    q, a = data.generate_maze(rng, min_path=40)
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
