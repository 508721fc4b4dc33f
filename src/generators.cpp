// Puzzle generators (generators.h): graded sudokus and mazes with a chosen shortest-path length.
#include "generators.h"

#include <algorithm>
#include <vector>

#include "error.h"
#include "tasks.h"

namespace trm {

static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

Rng::Rng(uint64_t seed) {
    for (uint64_t& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next() {
    auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
    const uint64_t result = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

// The high 32 bits scaled to [0, n): a bias below n / 2^32, and the same mapping on every platform.
int Rng::below(int n) { return int(((next() >> 32) * uint64_t(n)) >> 32); }

template <class T>
static void shuffle(std::vector<T>& v, Rng& rng) {
    for (int i = int(v.size()) - 1; i > 0; --i) std::swap(v[size_t(i)], v[size_t(rng.below(i + 1))]);
}

// ---------------------------------------------------------------------------------------------------------------
// Sudoku: a grid of 81 digits (0 blank) with the digits used in each row, column and box as bit masks.

namespace sudoku {

static int box_of(int cell) { return cell / 27 * 3 + cell % 9 / 3; }
static int popcount(unsigned m) { return __builtin_popcount(m); }

struct Board {
    int digit[kCells] = {};
    unsigned row[9] = {}, col[9] = {}, box[9] = {};  // bit d set: digit d (1..9) is used

    unsigned candidates(int c) const { return ~(row[c / 9] | col[c % 9] | box[box_of(c)]) & 0x3FEu; }
    void place(int c, int d) {
        digit[c] = d;
        row[c / 9] |= 1u << d, col[c % 9] |= 1u << d, box[box_of(c)] |= 1u << d;
    }
    void clear(int c) {
        const unsigned m = ~(1u << digit[c]);
        row[c / 9] &= m, col[c % 9] &= m, box[box_of(c)] &= m;
        digit[c] = 0;
    }
};

static Board board_of(const std::string& puzzle) {
    if (puzzle.size() != size_t(kCells)) throw Error("sudoku: puzzle has " + std::to_string(puzzle.size()) + " characters; expected 81");
    Board b;
    for (int c = 0; c < kCells; ++c) {
        const char ch = puzzle[size_t(c)];
        if (ch >= '1' && ch <= '9') {
            if (!(b.candidates(c) & (1u << (ch - '0')))) throw Error("sudoku: the givens break a rule at cell " + std::to_string(c));
            b.place(c, ch - '0');
        } else if (ch != '.' && ch != '0') {
            throw Error("sudoku: character '" + std::string(1, ch) + "' at cell " + std::to_string(c) + " is not '.', '0' or a digit");
        }
    }
    return b;
}

static std::string text_of(const Board& b) {
    std::string s(kCells, '.');
    for (int c = 0; c < kCells; ++c)
        if (b.digit[c]) s[size_t(c)] = char('0' + b.digit[c]);
    return s;
}

// Depth-first search on the blank with the fewest candidates; stops once `limit` solutions are counted.
static void count_from(Board& b, int limit, int& found) {
    int best = -1, best_n = 10;
    for (int c = 0; c < kCells && best_n > 1; ++c)
        if (!b.digit[c]) {
            const int n = popcount(b.candidates(c));
            if (n == 0) return;
            if (n < best_n) best = c, best_n = n;
        }
    if (best < 0) { ++found; return; }
    for (unsigned m = b.candidates(best); m && found < limit; m &= m - 1) {
        b.place(best, __builtin_ctz(m));
        count_from(b, limit, found);
        b.clear(best);
    }
}

int count_solutions(const std::string& puzzle, int limit) {
    Board b = board_of(puzzle);
    int found = 0;
    count_from(b, limit, found);
    return found;
}

bool solvable_by_singles(const std::string& puzzle) {
    Board b = board_of(puzzle);
    for (;;) {
        bool progress = false, blank = false;
        for (int c = 0; c < kCells; ++c) {  // naked singles: a blank with one candidate
            if (b.digit[c]) continue;
            const unsigned m = b.candidates(c);
            if (m == 0) return false;
            if (popcount(m) == 1) b.place(c, __builtin_ctz(m)), progress = true;
            else blank = true;
        }
        if (!blank) return true;
        for (int u = 0; u < 27; ++u) {  // hidden singles: a digit with one place left in a row, column or box
            int cells[9];
            for (int i = 0; i < 9; ++i)
                cells[i] = u < 9 ? u * 9 + i : u < 18 ? i * 9 + (u - 9) : (u - 18) / 3 * 27 + (u - 18) % 3 * 3 + i / 3 * 9 + i % 3;
            for (int d = 1; d <= 9; ++d) {
                int where = -1, n = 0;
                for (int c : cells) {
                    if (b.digit[c] == d) { n = -1; break; }
                    if (!b.digit[c] && (b.candidates(c) & (1u << d))) where = c, ++n;
                }
                if (n == 0) return false;
                if (n == 1) b.place(where, d), progress = true;
            }
        }
        if (!progress) return false;
    }
}

// A uniformly shuffled search that fills an empty board: a random complete grid.
static bool fill(Board& b, Rng& rng, int c) {
    if (c == kCells) return true;
    std::vector<int> digits;
    for (unsigned m = b.candidates(c); m; m &= m - 1) digits.push_back(__builtin_ctz(m));
    shuffle(digits, rng);
    for (int d : digits) {
        b.place(c, d);
        if (fill(b, rng, c + 1)) return true;
        b.clear(c);
    }
    return false;
}

GeneratedPuzzle generate(Rng& rng, Grade grade, int min_givens, int max_givens) {
    if (min_givens < 17 || max_givens > 80 || min_givens > max_givens)
        throw Error("sudoku generator: givens " + std::to_string(min_givens) + "-" + std::to_string(max_givens) + "; expected a range within 17-80");
    // Bounded, so that a range the grade can hardly reach (a singles-only puzzle with 17 givens, a harder one with
    // 75) ends with an error instead of hanging the CLI or the page's worker.
    constexpr int kMaxTries = 1000;
    for (int attempt = 0; attempt < kMaxTries; ++attempt) {
        Board full;
        fill(full, rng, 0);
        const std::string answer = text_of(full);
        const int target = min_givens + rng.below(max_givens - min_givens + 1);
        std::vector<int> order(kCells);
        for (int c = 0; c < kCells; ++c) order[size_t(c)] = c;
        shuffle(order, rng);
        // Remove givens in random order while the puzzle stays unique; for Singles also while singles still solve
        // it (which implies unique), so the grade holds at every step, not just at the end.
        std::string q = answer;
        int givens = kCells;
        for (int c : order) {
            if (givens == target) break;
            const char kept = q[size_t(c)];
            q[size_t(c)] = '.';
            const bool ok = grade == Grade::Singles ? solvable_by_singles(q) : count_solutions(q, 2) == 1;
            if (ok) --givens;
            else q[size_t(c)] = kept;
        }
        if (givens != target) continue;
        if (grade == Grade::Harder && solvable_by_singles(q)) continue;
        return {q, answer};
    }
    throw Error("sudoku generator: no " + std::string(grade == Grade::Singles ? "singles-only" : "harder") + " puzzle with " +
                std::to_string(min_givens) + "-" + std::to_string(max_givens) + " givens in " + std::to_string(kMaxTries) +
                " tries; expected a range the grade reaches (singles: about 22-80, harder: about 22-45)");
}

}  // namespace sudoku

// ---------------------------------------------------------------------------------------------------------------
// Maze

namespace maze {

GeneratedPuzzle generate(Rng& rng, int min_cells, int max_cells, double wall_fraction) {
    if (min_cells < 2 || min_cells > max_cells || max_cells > kCells)
        throw Error("maze generator: path cells " + std::to_string(min_cells) + "-" + std::to_string(max_cells) + "; expected a range within 2-900");
    if (!(wall_fraction >= 0 && wall_fraction < 0.9))
        throw Error("maze generator: wall fraction " + std::to_string(wall_fraction) + "; expected 0 <= f < 0.9");
    const int lo = min_cells - 1, hi = max_cells - 1;  // in moves
    const uint64_t wall_below = uint64_t(wall_fraction * 9007199254740992.0);  // fraction of 2^53
    for (int tries = 0; tries < 100000; ++tries) {
        std::string m(kCells, ' ');
        std::vector<int> open;
        for (int c = 0; c < kCells; ++c) {
            if ((rng.next() >> 11) < wall_below) m[size_t(c)] = '#';
            else open.push_back(c);
        }
        if (open.size() < 2) continue;
        // S: a random open cell, or, when nothing lies in range of it, the far end of its component (how long
        // paths are found: about one grid in 60 has a pair 110+ cells apart).
        int s = open[size_t(rng.below(int(open.size())))];
        std::vector<int> dist = distances(m, s);
        auto in_range = [&](const std::vector<int>& d) {
            std::vector<int> cells;
            for (int c = 0; c < kCells; ++c)
                if (d[size_t(c)] >= lo && d[size_t(c)] <= hi) cells.push_back(c);
            return cells;
        };
        std::vector<int> goals = in_range(dist);
        if (goals.empty()) {
            s = int(std::max_element(dist.begin(), dist.end()) - dist.begin());
            dist = distances(m, s);
            goals = in_range(dist);
            if (goals.empty()) continue;
        }
        const int g = goals[size_t(rng.below(int(goals.size())))];
        std::string answer = m;
        const std::vector<int> to_goal = distances(m, g);
        for (int c = s; c != g;) {
            const int r = c / kSide, k = c % kSide;
            const int next[4] = {r > 0 ? c - kSide : -1, k < kSide - 1 ? c + 1 : -1, r < kSide - 1 ? c + kSide : -1, k > 0 ? c - 1 : -1};
            for (int n : next)
                if (n >= 0 && to_goal[size_t(n)] == to_goal[size_t(c)] - 1) { c = n; break; }
            if (c != g) answer[size_t(c)] = 'o';
        }
        m[size_t(s)] = answer[size_t(s)] = 'S';
        m[size_t(g)] = answer[size_t(g)] = 'G';
        return {m, answer};
    }
    throw Error("maze generator: no S and G " + std::to_string(min_cells) + "-" + std::to_string(max_cells) +
                " path cells apart in 100,000 random grids at wall fraction " + std::to_string(wall_fraction));
}

}  // namespace maze

}  // namespace trm
