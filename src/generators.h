// Puzzle generators: graded sudokus and mazes with a chosen shortest-path length. One home for both, so the
// evaluation files, the training data and the page draw puzzles by the same rules. Deterministic for a seed on
// every platform (own PRNG and integer mapping: std:: distributions differ between standard libraries).
#pragma once
#include <cstdint>
#include <string>

namespace trm {

// xoshiro256** seeded through splitmix64: small, fast, and the same stream everywhere.
class Rng {
public:
    explicit Rng(uint64_t seed);
    uint64_t next();
    int below(int n);  // uniform in [0, n), n >= 1
private:
    uint64_t s_[4];
};

struct GeneratedPuzzle {
    std::string question, answer;  // in the task's text form (DESIGN.md): sudoku 81 chars, maze 900 chars
};

namespace sudoku {
enum class Grade { Singles, Harder };
// Solutions of an 81-character puzzle ('.' or '0' blank), counted up to `limit`.
int count_solutions(const std::string& puzzle, int limit = 2);
// Whether naked and hidden singles alone fill every blank (the "singles only" grade of newspaper puzzles).
bool solvable_by_singles(const std::string& puzzle);
// A puzzle with exactly one solution, between min_givens and max_givens givens (17..80), graded:
// Singles: naked and hidden singles solve it; Harder: they do not.
GeneratedPuzzle generate(Rng& rng, Grade grade, int min_givens, int max_givens);
}  // namespace sudoku

namespace maze {
// A 30x30 maze like Maze-Hard's (independent random walls at `wall_fraction`), whose shortest path from S to G
// has min_cells..max_cells cells, S and G included (Maze-Hard's are 110-147); the answer marks one shortest path
// with 'o' (a walk down the BFS distances from G, trying up, right, down, left in that order).
GeneratedPuzzle generate(Rng& rng, int min_cells, int max_cells, double wall_fraction = 0.37);
}  // namespace maze

}  // namespace trm
