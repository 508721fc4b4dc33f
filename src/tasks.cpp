#include "tasks.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>

#include "error.h"
#include "json_read.h"

namespace trm {

static std::string cell_name(int i, int side) {
    return "row " + std::to_string(i / side + 1) + ", column " + std::to_string(i % side + 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Sudoku

std::string puzzle_text(const std::string& text, const char* task) {
    std::string out;
    size_t i = text.compare(0, 3, "\xef\xbb\xbf") == 0 ? 3 : 0;
    for (; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            out += char(c);
            continue;
        }
        if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xa0) {
            out += ' ';
            ++i;
            continue;
        }
        // The code point of a well-formed sequence (shortest form, no surrogates, at most U+10FFFF), else U+FFFD.
        const int len = c >= 0xf8 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        uint32_t cp = len == 1 ? 0xfffd : c & (0xff >> (len + 1));
        for (int k = 1; k < len && cp != 0xfffd; ++k) {
            const unsigned char b = i + size_t(k) < text.size() ? static_cast<unsigned char>(text[i + size_t(k)]) : 0;
            cp = (b & 0xc0) == 0x80 ? (cp << 6) | (b & 0x3f) : 0xfffd;
        }
        static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (len == 1 || cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
        char name[16];
        std::snprintf(name, sizeof name, "U+%04X", unsigned(cp));
        throw Error(std::string(task) + ": character " + name + (cp == 0xfffd ? " (not UTF-8)" : "") + " at byte " +
                    std::to_string(i) + " is not ASCII; puzzle text is ASCII (a leading byte-order mark and no-break spaces are allowed)");
    }
    return out;
}

namespace sudoku {

// The 27 units (9 rows, 9 columns, 9 boxes) as cell indices.
static const std::vector<std::vector<int>>& units() {
    static const std::vector<std::vector<int>> u = [] {
        std::vector<std::vector<int>> r;
        for (int i = 0; i < 9; ++i) {
            std::vector<int> row, col, box;
            for (int j = 0; j < 9; ++j) {
                row.push_back(i * 9 + j);
                col.push_back(j * 9 + i);
                box.push_back((i / 3 * 3 + j / 3) * 9 + (i % 3 * 3 + j % 3));
            }
            r.push_back(row); r.push_back(col); r.push_back(box);
        }
        return r;
    }();
    return u;
}
static std::string unit_name(size_t u) {
    static const char* kinds[] = {"row", "column", "box"};
    return std::string(kinds[u % 3]) + " " + std::to_string(u / 3 + 1);
}

// Cells holding a digit that appears more than once in one of its units ('1'-'9' only; others ignored).
static std::vector<int> duplicate_cells(const std::string& g, std::string* first_unit) {
    std::vector<int> bad;
    for (size_t u = 0; u < units().size(); ++u) {
        for (char d = '1'; d <= '9'; ++d) {
            std::vector<int> at;
            for (int i : units()[u])
                if (g[size_t(i)] == d) at.push_back(i);
            if (at.size() > 1) {
                if (first_unit && first_unit->empty()) *first_unit = "digit " + std::string(1, d) + " appears twice in " + unit_name(u);
                bad.insert(bad.end(), at.begin(), at.end());
            }
        }
    }
    std::sort(bad.begin(), bad.end());
    bad.erase(std::unique(bad.begin(), bad.end()), bad.end());
    return bad;
}

std::vector<int32_t> encode(const std::string& text) {
    const std::string puzzle = puzzle_text(text, "sudoku");
    if (puzzle.size() != kCells)
        throw Error("sudoku: puzzle has " + std::to_string(puzzle.size()) + " characters; expected 81 (row-major, '.' or '0' for blanks)");
    std::string g = puzzle;
    std::vector<int32_t> t(kCells);
    for (int i = 0; i < kCells; ++i) {
        const char ch = puzzle[size_t(i)];
        if (ch == '.' || ch == '0') { t[size_t(i)] = 1; g[size_t(i)] = '.'; }
        else if (ch >= '1' && ch <= '9') t[size_t(i)] = ch - '0' + 1;
        else throw Error("sudoku: character '" + std::string(1, ch) + "' at " + cell_name(i, 9) + " is not a digit, '.' or '0'");
    }
    std::string why;
    if (!duplicate_cells(g, &why).empty()) throw Error("sudoku: the givens contradict each other: " + why);
    return t;
}

std::string decode(const int32_t* tokens) {
    std::string s(kCells, '.');
    for (int i = 0; i < kCells; ++i)
        if (tokens[i] >= 2 && tokens[i] <= 10) s[size_t(i)] = char('0' + tokens[i] - 1);
    return s;
}

Verdict verify(const std::string& puzzle, const std::string& answer) {
    Verdict v;
    if (answer.size() != kCells) { v.message = "answer has " + std::to_string(answer.size()) + " cells; expected 81"; return v; }
    // Every fault is marked: empty cells, changed givens and cells in a repeated digit; the message names the first kind.
    std::vector<std::string> faults;
    int empty = 0, changed = 0;
    for (int i = 0; i < kCells; ++i) {
        const char a = answer[size_t(i)], p = size_t(i) < puzzle.size() ? puzzle[size_t(i)] : '.';
        if (a < '1' || a > '9') { v.bad_cells.push_back(i); ++empty; }
        else if (p >= '1' && p <= '9' && p != a) { v.bad_cells.push_back(i); ++changed; }
    }
    if (empty) faults.push_back(std::to_string(empty) + " cells are not filled with a digit");
    if (changed) faults.push_back("the answer changes " + std::to_string(changed) + " given cells");
    std::string why;
    for (int i : duplicate_cells(answer, &why)) v.bad_cells.push_back(i);
    if (!why.empty()) faults.push_back(why);
    std::sort(v.bad_cells.begin(), v.bad_cells.end());
    v.bad_cells.erase(std::unique(v.bad_cells.begin(), v.bad_cells.end()), v.bad_cells.end());
    v.ok = faults.empty();
    v.message = v.ok ? "valid solution" : faults[0];
    for (size_t f = 1; f < faults.size(); ++f) v.message += "; " + faults[f];
    return v;
}

}  // namespace sudoku

// ---------------------------------------------------------------------------------------------------------------
// Maze

namespace maze {

std::string normalize(const std::string& raw) {
    const std::string text = puzzle_text(raw, "maze");
    std::string flat;
    // Accept 900 characters on one line, or 30 lines of 30 (a trailing newline or \r\n allowed).
    if (text.find('\n') == std::string::npos) flat = text;
    else {
        size_t start = 0;
        int line = 0;
        while (start < text.size()) {
            size_t end = text.find('\n', start);
            if (end == std::string::npos) end = text.size();
            std::string row = text.substr(start, end - start);
            if (!row.empty() && row.back() == '\r') row.pop_back();
            ++line;
            if (!(row.empty() && end + 1 >= text.size())) {
                if (row.size() != size_t(kSide))
                    throw Error("maze: line " + std::to_string(line) + " has " + std::to_string(row.size()) + " characters; expected 30");
                flat += row;
            }
            start = end + 1;
        }
    }
    if (flat.size() != size_t(kCells))
        throw Error("maze: " + std::to_string(flat.size()) + " cells; expected 900 (30 x 30, row-major, or 30 lines of 30)");
    int starts = 0, goals = 0;
    for (int i = 0; i < kCells; ++i) {
        const char ch = flat[size_t(i)];
        if (!std::strchr(kCharset, ch) || ch == 0)
            throw Error("maze: character '" + std::string(1, ch) + "' at " + cell_name(i, kSide) + " is not one of '#', ' ', 'S', 'G', 'o'");
        starts += ch == 'S';
        goals += ch == 'G';
    }
    if (starts != 1) throw Error("maze: " + std::to_string(starts) + " start cells 'S'; expected exactly one");
    if (goals != 1) throw Error("maze: " + std::to_string(goals) + " goal cells 'G'; expected exactly one");
    return flat;
}

std::vector<int32_t> encode(const std::string& maze) {
    const std::string flat = normalize(maze);
    std::vector<int32_t> t(kCells);
    for (int i = 0; i < kCells; ++i) t[size_t(i)] = int32_t(std::strchr(kCharset, flat[size_t(i)]) - kCharset) + 1;
    return t;
}

std::string decode(const int32_t* tokens) {
    std::string s(kCells, '?');
    for (int i = 0; i < kCells; ++i)
        if (tokens[i] >= 1 && tokens[i] <= 5) s[size_t(i)] = kCharset[tokens[i] - 1];
    return s;
}

// Breadth-first distances from cell `from` over cells for which passable(i) holds.
template <class Passable>
static std::vector<int> bfs(int from, Passable passable) {
    std::vector<int> dist(kCells, -1);
    std::deque<int> q{from};
    dist[size_t(from)] = 0;
    while (!q.empty()) {
        const int c = q.front();
        q.pop_front();
        const int r = c / kSide, k = c % kSide;
        const int nbr[4] = {r > 0 ? c - kSide : -1, r < kSide - 1 ? c + kSide : -1, k > 0 ? c - 1 : -1, k < kSide - 1 ? c + 1 : -1};
        for (int n : nbr)
            if (n >= 0 && dist[size_t(n)] < 0 && passable(n)) {
                dist[size_t(n)] = dist[size_t(c)] + 1;
                q.push_back(n);
            }
    }
    return dist;
}

std::vector<int> distances(const std::string& flat, int from) {
    return bfs(from, [&](int i) { return flat[size_t(i)] != '#'; });
}

int shortest_path_length(const std::string& maze) {
    const std::string m = normalize(maze);
    const int s = int(m.find('S')), g = int(m.find('G'));
    return bfs(s, [&](int i) { return m[size_t(i)] != '#'; })[size_t(g)];
}

Verdict verify(const std::string& maze, const std::string& answer) {
    Verdict v;
    const std::string m = normalize(maze);
    if (answer.size() != size_t(kCells)) { v.message = "answer has " + std::to_string(answer.size()) + " cells; expected 900"; return v; }
    for (int i = 0; i < kCells; ++i) {
        const char a = answer[size_t(i)], q = m[size_t(i)];
        const bool kept = (q == '#') == (a == '#') && (q == 'S') == (a == 'S') && (q == 'G') == (a == 'G') && std::strchr(kCharset, a) && a;
        if (!kept) v.bad_cells.push_back(i);
    }
    if (!v.bad_cells.empty()) { v.message = std::to_string(v.bad_cells.size()) + " cells change the maze's walls, S or G"; return v; }
    const int s = int(m.find('S')), g = int(m.find('G'));
    const std::vector<int> along = bfs(s, [&](int i) { const char a = answer[size_t(i)]; return a == 'o' || a == 'G'; });
    int path_cells = 0;
    for (int i = 0; i < kCells; ++i)
        if (answer[size_t(i)] == 'o') {
            ++path_cells;
            if (along[size_t(i)] < 0) v.bad_cells.push_back(i);
        }
    if (along[size_t(g)] < 0) { v.message = "the path does not connect S to G"; return v; }
    if (!v.bad_cells.empty()) { v.message = std::to_string(v.bad_cells.size()) + " path cells are not connected to the path from S"; return v; }
    const int shortest = shortest_path_length(m);
    if (path_cells != shortest - 1) {
        v.message = "the path has " + std::to_string(path_cells + 1) + " moves; the shortest has " + std::to_string(shortest);
        return v;
    }
    v.ok = true;
    v.message = "valid shortest path of " + std::to_string(shortest) + " moves";
    return v;
}

}  // namespace maze

// ---------------------------------------------------------------------------------------------------------------
// ARC

namespace arc {

Grid parse_grid(const nlohmann::json& j, const std::string& where) {
    if (!j.is_array() || j.empty()) throw Error(where + ": grid must be a non-empty list of rows");
    if (j.size() > size_t(kMaxSide)) throw Error(where + ": grid has " + std::to_string(j.size()) + " rows; at most 30 allowed");
    Grid g;
    g.rows = int(j.size());
    for (size_t r = 0; r < j.size(); ++r) {
        const auto& row = j[r];
        if (!row.is_array() || row.empty()) throw Error(where + ": row " + std::to_string(r) + " must be a non-empty list of colours");
        if (r == 0) {
            if (row.size() > size_t(kMaxSide)) throw Error(where + ": grid has " + std::to_string(row.size()) + " columns; at most 30 allowed");
            g.cols = int(row.size());
        } else if (row.size() != size_t(g.cols))
            throw Error(where + ": row " + std::to_string(r) + " has " + std::to_string(row.size()) + " cells; row 0 has " + std::to_string(g.cols) + " (grids must be rectangular)");
        for (size_t c = 0; c < row.size(); ++c) {
            const auto& v = row[c];
            if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 9)
                throw Error(where + ": cell [" + std::to_string(r) + "][" + std::to_string(c) + "] = " + v.dump() + "; expected a colour 0-9");
            g.cells.push_back(uint8_t(v.get<int64_t>()));
        }
    }
    return g;
}

Task parse_task(const std::string& json, const std::string& label) {
    nlohmann::json j = parse_json(json, label);
    if (j.is_discarded() || !j.is_object()) throw Error(label + ": not a JSON object with \"train\" and \"test\" lists");
    Task t;
    for (const char* part : {"train", "test"}) {
        if (!j.contains(part) || !j[part].is_array()) throw Error(label + ": missing list \"" + part + "\"");
        auto& pairs = std::string(part) == "train" ? t.train : t.test;
        for (size_t i = 0; i < j[part].size(); ++i) {
            const auto& p = j[part][i];
            const std::string where = label + ": " + part + "[" + std::to_string(i) + "]";
            if (!p.is_object() || !p.contains("input")) throw Error(where + ": missing \"input\" grid");
            Pair pr;
            pr.input = parse_grid(p["input"], where + ".input");
            if (p.contains("output")) {
                pr.output = parse_grid(p["output"], where + ".output");
                pr.has_output = true;
            } else if (std::string(part) == "train")
                throw Error(where + ": missing \"output\" grid");
            pairs.push_back(std::move(pr));
        }
    }
    if (t.test.empty()) throw Error(label + ": \"test\" holds no pairs");
    return t;
}

std::vector<int32_t> encode(const Grid& g) {
    std::vector<int32_t> t(kSeqLen, 0);
    for (int r = 0; r < g.rows; ++r)
        for (int c = 0; c < g.cols; ++c) t[size_t(r * kMaxSide + c)] = g.cells[size_t(r * g.cols + c)] + 2;
    if (g.rows < kMaxSide)
        for (int c = 0; c < g.cols; ++c) t[size_t(g.rows * kMaxSide + c)] = 1;
    if (g.cols < kMaxSide)
        for (int r = 0; r < g.rows; ++r) t[size_t(r * kMaxSide + g.cols)] = 1;
    return t;
}

Grid decode(const int32_t* tokens) {
    // For each row count, the run of colour tokens on the last row limits the width; keep the largest area.
    int best_area = 0, best_rows = 0, best_cols = 0, width = kMaxSide;
    for (int rows = 1; rows <= kMaxSide; ++rows) {
        for (int c = 0; c < width; ++c) {
            const int32_t x = tokens[(rows - 1) * kMaxSide + c];
            if (x < 2 || x > 11) { width = c; break; }
        }
        if (rows * width > best_area) { best_area = rows * width; best_rows = rows; best_cols = width; }
    }
    Grid g;
    g.rows = best_rows;
    g.cols = best_cols;
    for (int r = 0; r < best_rows; ++r)
        for (int c = 0; c < best_cols; ++c) g.cells.push_back(uint8_t(tokens[r * kMaxSide + c] - 2));
    return g;
}

std::string to_json(const Grid& g) {
    nlohmann::json j = nlohmann::json::array();
    for (int r = 0; r < g.rows; ++r) {
        nlohmann::json row = nlohmann::json::array();
        for (int c = 0; c < g.cols; ++c) row.push_back(int(g.cells[size_t(r * g.cols + c)]));
        j.push_back(row);
    }
    return j.dump();
}

Grid dihedral(const Grid& g, int t) {
    // out[i][j] = g[src(i, j)] for the output shape; rotations are numpy's rot90 (counter-clockwise).
    const bool swap = t == 1 || t == 3 || t == 4 || t == 7;
    Grid o;
    o.rows = swap ? g.cols : g.rows;
    o.cols = swap ? g.rows : g.cols;
    o.cells.resize(g.cells.size());
    const int R = g.rows, C = g.cols;
    for (int i = 0; i < o.rows; ++i)
        for (int j = 0; j < o.cols; ++j) {
            int r = i, c = j;
            switch (t) {
                case 0: break;
                case 1: r = j; c = C - 1 - i; break;              // rot90
                case 2: r = R - 1 - i; c = C - 1 - j; break;      // rot180
                case 3: r = R - 1 - j; c = i; break;              // rot270
                case 4: r = j; c = i; break;                      // transpose
                case 5: c = C - 1 - j; break;                     // flip left-right
                case 6: r = R - 1 - i; break;                     // flip up-down
                case 7: r = R - 1 - j; c = C - 1 - i; break;      // rot90 then flip left-right
                default: throw Error("arc: dihedral transform " + std::to_string(t) + " is outside 0-7");
            }
            o.cells[size_t(i * o.cols + j)] = g.cells[size_t(r * C + c)];
        }
    return o;
}

Grid inverse_dihedral(const Grid& g, int t) {
    static const int inverse[8] = {0, 3, 2, 1, 4, 5, 6, 7};
    if (t < 0 || t > 7) throw Error("arc: dihedral transform " + std::to_string(t) + " is outside 0-7");
    return dihedral(g, inverse[t]);
}

Augmentation parse_identifier(const std::string& name) {
    Augmentation a;
    const std::string sep = "|||";
    const size_t p1 = name.find(sep);
    if (p1 == std::string::npos) { a.task_id = name; return a; }
    const size_t p2 = name.find(sep, p1 + sep.size());
    const std::string why = "arc: puzzle identifier '" + name + "': expected '<task>|||t<0-7>|||<permutation of 0123456789 keeping 0>'";
    if (p2 == std::string::npos) throw Error(why);
    a.task_id = name.substr(0, p1);
    const std::string t = name.substr(p1 + sep.size(), p2 - p1 - sep.size()), perm = name.substr(p2 + sep.size());
    if (t.size() != 2 || t[0] != 't' || t[1] < '0' || t[1] > '7') throw Error(why);
    a.transform = t[1] - '0';
    if (perm.size() != 10 || perm[0] != '0') throw Error(why);
    bool seen[10] = {};
    for (int c = 0; c < 10; ++c) {
        const int v = perm[size_t(c)] - '0';
        if (v < 0 || v > 9 || seen[v]) throw Error(why);
        seen[v] = true;
        a.colours[c] = uint8_t(v);
    }
    return a;
}

std::string identifier(const Augmentation& a) {
    std::string colours;
    for (uint8_t c : a.colours) colours += char('0' + c);
    if (a.transform == 0 && colours == "0123456789") return a.task_id;
    return a.task_id + "|||t" + std::to_string(a.transform) + "|||" + colours;
}

Grid augment(const Augmentation& a, const Grid& g) {
    Grid m = g;
    for (uint8_t& c : m.cells) c = a.colours[c];
    return dihedral(m, a.transform);
}

Grid restore(const Augmentation& a, const Grid& g) {
    uint8_t inverse[10];
    for (int c = 0; c < 10; ++c) inverse[a.colours[c]] = uint8_t(c);
    Grid m = inverse_dihedral(g, a.transform);
    for (uint8_t& c : m.cells) c = c < 10 ? inverse[c] : c;
    return m;
}

std::vector<Attempt> vote(const std::vector<Grid>& grids, const std::vector<double>& confidences) {
    std::vector<Attempt> out;
    for (size_t i = 0; i < grids.size(); ++i) {
        auto it = std::find_if(out.begin(), out.end(), [&](const Attempt& a) { return a.grid == grids[i]; });
        if (it == out.end()) { out.push_back({grids[i], 0, 0.0}); it = out.end() - 1; }
        it->votes += 1;
        it->mean_confidence += confidences[i];
    }
    for (Attempt& a : out) a.mean_confidence /= a.votes;
    std::stable_sort(out.begin(), out.end(), [](const Attempt& x, const Attempt& y) {
        return x.votes != y.votes ? x.votes > y.votes : x.mean_confidence > y.mean_confidence;
    });
    return out;
}

}  // namespace arc

}  // namespace trm
