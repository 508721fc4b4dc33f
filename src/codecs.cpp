#include "codecs.h"

#include <algorithm>
#include <cctype>
#include <numeric>

#include "generators.h"  // trm::Rng: the same stream natively and in WASM, so symmetries agree across front ends

namespace trm {

// --- defaults: a task known only by its tokens ---------------------------------------------------------------------

static Error no_text(const TaskCodec& c) {
    return Error(std::string("task '") + c.name() + "' has no text form: pass tokens (seq_len integers)");
}
std::string TaskCodec::normalize(const std::string&) const { throw no_text(*this); }
std::vector<int32_t> TaskCodec::encode(const std::string&) const { throw no_text(*this); }
std::string TaskCodec::decode(const int32_t*) const { throw no_text(*this); }
Verdict TaskCodec::verify(const std::string&, const std::string&) const {
    Verdict v;
    v.message = std::string("no validator for task kind '") + name() + "'";
    return v;
}
const std::vector<int32_t>& TaskCodec::choices() const {
    static const std::vector<int32_t> none;
    return none;
}
bool TaskCodec::legal(const std::vector<int32_t>&, int, int32_t) const { return true; }
Symmetry TaskCodec::symmetry(int k, uint64_t) const {
    if (k != 0) throw Error(std::string("task '") + name() + "' has no symmetries to vote over");
    Symmetry s;
    s.cell.resize(size_t(seq_len_));
    std::iota(s.cell.begin(), s.cell.end(), 0);
    s.token.resize(size_t(vocab_));
    std::iota(s.token.begin(), s.token.end(), 0);
    return s;
}

namespace {

class GenericCodec : public TaskCodec {
public:
    GenericCodec(std::string name, TaskKind kind, int seq_len, int vocab) : name_(std::move(name)), kind_(kind) {
        seq_len_ = seq_len;
        vocab_ = vocab;
    }
    TaskKind kind() const override { return kind_; }
    const char* name() const override { return name_.c_str(); }
private:
    std::string name_;
    TaskKind kind_;
};

// Fisher-Yates with the project's portable generator.
template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
    for (int i = int(v.size()) - 1; i > 0; --i) std::swap(v[size_t(i)], v[size_t(rng.below(i + 1))]);
}

// --- sudoku: tokens 1 blank, 2-10 digits ---------------------------------------------------------------------------

class SudokuCodec : public TaskCodec {
public:
    SudokuCodec() {
        seq_len_ = sudoku::kCells;
        vocab_ = 11;
        for (int i = 0; i < 81; ++i)
            for (int j = 0; j < 81; ++j) {
                const bool row = i / 9 == j / 9, col = i % 9 == j % 9, box = (i / 27 == j / 27) && (i % 9 / 3 == j % 9 / 3);
                if (i != j && (row || col || box)) peers_[i].push_back(j);
            }
        for (int u = 0; u < 9; ++u)
            for (int j = 0; j < 9; ++j) {
                units_[u].push_back(u * 9 + j);                                       // row u
                units_[9 + u].push_back(j * 9 + u);                                   // column u
                units_[18 + u].push_back((u / 3 * 3 + j / 3) * 9 + u % 3 * 3 + j % 3);  // box u
            }
    }
    TaskKind kind() const override { return TaskKind::Sudoku; }
    const char* name() const override { return "sudoku"; }
    bool has_text() const override { return true; }
    int side() const override { return 9; }
    std::string normalize(const std::string& text) const override {
        std::string t = puzzle_text(text, "sudoku");
        t.erase(std::remove_if(t.begin(), t.end(), [](char ch) { return std::isspace((unsigned char)ch); }), t.end());
        sudoku::encode(t);  // validates
        return t;
    }
    std::vector<int32_t> encode(const std::string& text) const override { return sudoku::encode(text); }
    std::string decode(const int32_t* tokens) const override { return sudoku::decode(tokens); }
    Verdict verify(const std::string& puzzle, const std::string& answer) const override { return sudoku::verify(puzzle, answer); }

    bool open(int32_t token) const override { return token == 1; }
    const std::vector<int32_t>& choices() const override { return digits_; }
    bool legal(const std::vector<int32_t>& grid, int i, int32_t token) const override {
        for (int j : peers_[i])
            if (grid[size_t(j)] == token) return false;
        return true;
    }
    bool dead_end(const std::vector<int32_t>& grid) const override {
        for (int i = 0; i < 81; ++i) {
            if (!open(grid[size_t(i)])) continue;
            bool any = false;
            for (int32_t t : digits_) any = any || legal(grid, i, t);
            if (!any) return true;
        }
        for (const auto& unit : units_)
            for (int32_t t : digits_) {
                bool placed = false, room = false;
                for (int i : unit) {
                    placed = placed || grid[size_t(i)] == t;
                    room = room || (open(grid[size_t(i)]) && legal(grid, i, t));
                }
                if (!placed && !room) return true;
            }
        return false;
    }
    std::vector<int> conflict(const std::vector<int32_t>& grid) const override {
        std::vector<int> cells;
        auto fixed_peers = [&](int i, int32_t only) {  // fixed peers of cell i (holding `only`, if not 0)
            for (int j : peers_[i])
                if (!open(grid[size_t(j)]) && (only == 0 || grid[size_t(j)] == only)) cells.push_back(j);
        };
        for (int i = 0; i < 81; ++i) {  // a cell with no legal digit: its fixed peers rule out all nine
            if (!open(grid[size_t(i)])) continue;
            bool any = false;
            for (int32_t t : digits_) any = any || legal(grid, i, t);
            if (!any) {
                fixed_peers(i, 0);
                return cells;
            }
        }
        for (const auto& unit : units_)  // a digit with no place in a unit: the unit's fixed cells and what rules out the rest
            for (int32_t t : digits_) {
                bool placed = false, room = false;
                for (int i : unit) {
                    placed = placed || grid[size_t(i)] == t;
                    room = room || (open(grid[size_t(i)]) && legal(grid, i, t));
                }
                if (placed || room) continue;
                for (int i : unit) {
                    if (!open(grid[size_t(i)])) cells.push_back(i);
                    else fixed_peers(i, t);
                }
                return cells;
            }
        return cells;
    }
    int symmetry_count() const override { return 1 << 30; }
    // Digits relabelled, bands and the rows within each band permuted, stacks and their columns likewise, then
    // transposed or not.
    Symmetry symmetry(int k, uint64_t seed) const override {
        if (k == 0) return TaskCodec::symmetry(0, seed);
        Rng rng(seed * 0x9E3779B97F4A7C15ull + uint64_t(k));
        std::vector<int> digit(9), rows(9), cols(9);
        std::iota(digit.begin(), digit.end(), 0);
        shuffle(digit, rng);
        for (std::vector<int>* lines : {&rows, &cols}) {
            std::vector<int> groups = {0, 1, 2};
            shuffle(groups, rng);
            for (int g = 0; g < 3; ++g) {
                std::vector<int> within = {0, 1, 2};
                shuffle(within, rng);
                for (int j = 0; j < 3; ++j) (*lines)[size_t(g * 3 + j)] = groups[size_t(g)] * 3 + within[size_t(j)];
            }
        }
        const bool transpose = rng.below(2);
        Symmetry s;
        s.cell.resize(81);
        for (int r = 0; r < 9; ++r)
            for (int c = 0; c < 9; ++c) {
                const int rr = transpose ? c : r, cc = transpose ? r : c;
                s.cell[size_t(r * 9 + c)] = rows[size_t(rr)] * 9 + cols[size_t(cc)];
            }
        s.token = {0, 1};
        for (int d = 0; d < 9; ++d) s.token.push_back(digit[size_t(d)] + 2);
        return s;
    }
    // On validation files (never the evaluation seeds) the shipped model votes its way to more solves than commit
    // at a quarter of the model calls (weights/README.md, "Test-time strategies").
    const char* best_strategy() const override { return "vote"; }

private:
    std::vector<int> peers_[81];
    std::vector<int> units_[27];
    const std::vector<int32_t> digits_ = {2, 3, 4, 5, 6, 7, 8, 9, 10};
};

// --- maze: tokens 1-5 over "# SGo"; an open cell (' ') is either off the path or on it ('o') ----------------------

class MazeCodec : public TaskCodec {
public:
    MazeCodec() {
        seq_len_ = maze::kCells;
        vocab_ = 6;
    }
    TaskKind kind() const override { return TaskKind::Maze; }
    const char* name() const override { return "maze"; }
    bool has_text() const override { return true; }
    int side() const override { return maze::kSide; }
    std::string normalize(const std::string& text) const override { return maze::normalize(text); }
    std::vector<int32_t> encode(const std::string& text) const override { return maze::encode(text); }
    std::string decode(const int32_t* tokens) const override { return maze::decode(tokens); }
    Verdict verify(const std::string& puzzle, const std::string& answer) const override { return maze::verify(puzzle, answer); }

    bool open(int32_t token) const override { return token == kOpen; }
    const std::vector<int32_t>& choices() const override { return choices_; }
    // A path may only run over open cells. (Whether a cell lies on a shortest path is not asked here: the distances
    // that answer it would solve the maze, and the strategies are to show what the model does.)
    bool legal(const std::vector<int32_t>& grid, int i, int32_t token) const override {
        return (token == kOpen || token == kPath) && (grid[size_t(i)] == kOpen || grid[size_t(i)] == kPath);
    }
    int symmetry_count() const override { return 8; }
    // The 8 dihedral transforms of the square: bit 0 flips rows, bit 1 flips columns, bit 2 transposes.
    Symmetry symmetry(int k, uint64_t seed) const override {
        if (k < 0 || k > 7) throw Error("maze: symmetry " + std::to_string(k) + " is outside the 8 dihedral transforms 0-7");
        Symmetry s = TaskCodec::symmetry(0, seed);
        const int n = maze::kSide;
        for (int r = 0; r < n; ++r)
            for (int c = 0; c < n; ++c) {
                int rr = k & 4 ? c : r, cc = k & 4 ? r : c;
                if (k & 1) rr = n - 1 - rr;
                if (k & 2) cc = n - 1 - cc;
                s.cell[size_t(r * n + c)] = rr * n + cc;
            }
        return s;
    }
    const char* best_strategy() const override { return "model"; }  // the shipped model: no strategy solved a maze

private:
    static constexpr int32_t kOpen = 2, kPath = 5;
    const std::vector<int32_t> choices_ = {kOpen, kPath};
};

}  // namespace

std::shared_ptr<const TaskCodec> codec_for(const Model& model, const std::string& command) {
    const TaskKind kind = model.task_kind();
    const Config& c = model.config();
    auto require = [&](int seq_len, int vocab) {
        if (c.seq_len != seq_len || c.vocab_size < vocab)
            throw Error(command + ": a " + std::string(task_kind_name(kind)) + " model must have seq_len " + std::to_string(seq_len) + " and a vocabulary of at least " +
                        std::to_string(vocab) + " tokens; this one has seq_len " + std::to_string(c.seq_len) + ", vocabulary " +
                        std::to_string(c.vocab_size));
    };
    switch (kind) {
        case TaskKind::Sudoku:
            require(sudoku::kCells, 11);
            return codec_for(kind);
        case TaskKind::Maze:
            require(maze::kCells, 6);
            return codec_for(kind);
        case TaskKind::Arc:
        case TaskKind::Generic:
            break;
    }
    return std::make_shared<GenericCodec>(task_kind_name(kind), kind, c.seq_len, c.vocab_size);
}

std::shared_ptr<const TaskCodec> codec_for(TaskKind kind) {
    if (kind == TaskKind::Sudoku) return std::make_shared<SudokuCodec>();
    if (kind == TaskKind::Maze) return std::make_shared<MazeCodec>();
    throw Error(std::string("task '") + task_kind_name(kind) + "' has no fixed encoding; expected sudoku or maze");
}

}  // namespace trm
