// Task codecs: puzzle text <-> model tokens (TRM_SPEC.md "Task encodings"), and validators that say whether an
// answer is right by the rules of the puzzle, without knowing the solution.
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace trm {

struct Verdict {
    bool ok = false;
    std::string message;          // one line: why the answer is (or is not) valid
    std::vector<int> bad_cells;   // row-major indices of the cells at fault
};

// The one rule for puzzle text, applied by the codecs below whatever the front end (both CLIs, the JS API, the page):
// ASCII, read as UTF-8 text; one leading byte-order mark (U+FEFF) is dropped and a no-break space (U+00A0) is a
// space; any other character outside ASCII, or a byte that is not UTF-8 (read as U+FFFD, as JavaScript decodes it),
// is refused by code point and byte offset. `task` names the codec in the message. Returns the ASCII text.
std::string puzzle_text(const std::string& text, const char* task);

namespace sudoku {
constexpr int kCells = 81;
// 81 characters (puzzle_text), row-major, '.' or '0' blank, '1'-'9' given. Refuses other lengths, other characters and
// givens that already break a rule (naming the row, column or box). Tokens: blank 1, digit d -> d + 1.
std::vector<int32_t> encode(const std::string& puzzle);
// Prediction tokens [81] -> 81 characters, '1'-'9', or '.' where the token is not a digit.
std::string decode(const int32_t* tokens);
// A complete grid obeying the rules and keeping every given of `puzzle`.
Verdict verify(const std::string& puzzle, const std::string& answer);
}  // namespace sudoku

namespace maze {
constexpr int kSide = 30, kCells = kSide * kSide;
constexpr const char* kCharset = "# SGo";  // wall, open, start, goal, path -> tokens 1..5
// 900 characters (puzzle_text) row-major, or 30 lines of 30, over "# SGo"; exactly one S and one G.
std::vector<int32_t> encode(const std::string& maze);
std::string decode(const int32_t* tokens);  // tokens outside 1..5 become '?'
std::string normalize(const std::string& maze);  // the 900-character row-major form (validated like encode)
// The answer keeps the maze's walls, S and G, and its 'o' cells form a shortest path from S to G.
Verdict verify(const std::string& maze, const std::string& answer);
int shortest_path_length(const std::string& maze);  // moves from S to G through non-wall cells; -1 if none
// Moves from cell `from` to each cell of a 900-character row-major maze through non-wall cells; -1 if unreachable.
std::vector<int> distances(const std::string& flat, int from);
}  // namespace maze

namespace arc {
constexpr int kMaxSide = 30, kSeqLen = kMaxSide * kMaxSide;
struct Grid {
    int rows = 0, cols = 0;
    std::vector<uint8_t> cells;  // [rows * cols], colours 0-9
    bool operator==(const Grid& o) const { return rows == o.rows && cols == o.cols && cells == o.cells; }
};
struct Pair {
    Grid input, output;
    bool has_output = false;
};
struct Task {
    std::vector<Pair> train, test;
};
// An ARC task JSON: {"train": [{"input": grid, "output": grid}...], "test": [{"input": grid[, "output": grid]}...]}.
// Grids: 1-30 rows of equal length 1-30, colours 0-9. `label` names the file in errors.
Task parse_task(const std::string& json, const std::string& label);
Grid parse_grid(const nlohmann::json& j, const std::string& where);  // one grid of a task; `where` names it in errors
// Grid -> 900 tokens: colour c -> c + 2 in the top-left, end-of-grid marker 1 on row `rows` (cols 0..cols-1)
// and on column `cols` (rows 0..rows-1), padding 0 elsewhere.
std::vector<int32_t> encode(const Grid& g);
// The largest top-left rectangle of colour tokens (the reference's crop).
Grid decode(const int32_t* tokens);
std::string to_json(const Grid& g);

// Augmentations of the reference ARC dataset: colours remapped (colour 0 kept), then one of 8 dihedral transforms
// (0 identity, 1-3 rotations by 90/180/270 degrees counter-clockwise, 4 transpose, 5 left-right flip,
// 6 up-down flip, 7 rotation by 90 then left-right flip).
Grid dihedral(const Grid& g, int transform);
Grid inverse_dihedral(const Grid& g, int transform);
struct Augmentation {
    std::string task_id;
    int transform = 0;
    uint8_t colours[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};  // colour c becomes colours[c]
};
// A puzzle-embedding row name: "<task id>" or "<task id>|||t<k>|||<10 digits, a permutation of 0-9 keeping 0>".
Augmentation parse_identifier(const std::string& name);
std::string identifier(const Augmentation& a);  // the name parse_identifier reads; the task id alone for the original
Grid augment(const Augmentation& a, const Grid& g);   // the model's view of a grid
Grid restore(const Augmentation& a, const Grid& g);   // undoes augment()

// One distinct answer among the predictions of all augmented copies.
struct Attempt {
    Grid grid;
    int votes = 0;
    double mean_confidence = 0;  // mean sigmoid(q_halt) of the copies that gave it
};
// Ranks distinct grids by votes, ties broken by mean confidence (the official evaluation's pass@2 ranking).
std::vector<Attempt> vote(const std::vector<Grid>& grids, const std::vector<double>& confidences);
}  // namespace arc

}  // namespace trm
