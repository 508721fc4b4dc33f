// Sample sudoku puzzles for the demo page, copied from the project's training data (never from eval/):
//   shared/data/sudoku/train/sudoku_extreme_train1k.csv  (Sudoku-Extreme sample, from the HRM/TRM datasets, MIT)
//   shared/data/sudoku/train/forum_hardest_train.csv     (tdoku benchmark collections, BSD-2-Clause)
//   shared/data/sudoku/train/seventeen_clue.csv          (Royle's 17-clue puzzles, via tdoku, BSD-2-Clause)
// The puzzles themselves come from public forum lists. They are training puzzles: a model trained on these
// files may have seen them. Difficulty is graded by how much search a plain backtracking solver needs.
export const SUDOKU_SAMPLES = [
  { name: 'Easy', source: 'sudoku_extreme_train1k', puzzle: '.32.4.......5.7..1.95.138.....4.87.66249.......3...5..2.1..9.7..8.6.1.9.95..2.3..' },
  { name: 'Medium', source: 'sudoku_extreme_train1k', puzzle: '2......8......4.9...7.1.5..5.29......7..652..6.14.....7...5.6.......3..8....4..3.' },
  { name: 'Hard', source: 'forum_hardest_train', puzzle: '.2......94.7....3.69...........1.9..5..7...6......2..83..6...7...45..........8..1' },
  { name: 'Extreme', source: 'sudoku_extreme_train1k', puzzle: '........7.....3...4...28......7...5........6.82..1.......6.5.....5...1..3.....2..' },
  { name: '17 clues', source: 'seventeen_clue', puzzle: '................12..3.45...............1.6..7.54.8...3......5.....2.....2..7....9' },
];
