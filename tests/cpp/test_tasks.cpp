// Task codecs and validators.
#include <catch2/catch.hpp>

#include "safetensors.h"
#include "tasks.h"

using namespace trm;

// A solved sudoku and a puzzle made from it by blanking cells.
static const std::string kSolution = "846712935372695184195483267984237651517964823263851749728549316439126578651378492";
static const std::string kPuzzle = "...7.2..5....95.8.19..8..67..4...6....79...2.26...1......5......39.....8....784..";

TEST_CASE("sudoku encode/decode round trip and token values", "[tasks]") {
    auto t = sudoku::encode(kPuzzle);
    REQUIRE(t.size() == 81);
    CHECK(t[0] == 1);        // blank
    CHECK(t[3] == 8);        // digit 7 -> token 8
    auto s = sudoku::encode(kSolution);
    CHECK(sudoku::decode(s.data()) == kSolution);
    CHECK(sudoku::decode(t.data()) == kPuzzle);
    std::string zeros = kPuzzle;
    for (char& ch : zeros) if (ch == '.') ch = '0';
    CHECK(sudoku::encode(zeros) == t);
}

TEST_CASE("sudoku inputs that are not puzzles are refused with a reason", "[tasks]") {
    CHECK_THROWS_WITH(sudoku::encode(kPuzzle.substr(1)), Catch::Contains("80 characters; expected 81"));
    std::string bad = kPuzzle;
    bad[10] = 'x';
    CHECK_THROWS_WITH(sudoku::encode(bad), Catch::Contains("'x' at row 2, column 2"));
    std::string clash = kPuzzle;
    clash[0] = '7';  // row 1 already has a 7
    CHECK_THROWS_WITH(sudoku::encode(clash), Catch::Contains("digit 7 appears twice in row 1"));
}

TEST_CASE("sudoku verifier: valid, broken rule, changed given, incomplete", "[tasks]") {
    CHECK(sudoku::verify(kPuzzle, kSolution).ok);
    std::string swapped = kSolution;
    std::swap(swapped[0], swapped[1]);  // rows stay permutations, columns break; cell 0 is not a given
    auto v = sudoku::verify(kPuzzle, swapped);
    CHECK_FALSE(v.ok);
    CHECK(std::find(v.bad_cells.begin(), v.bad_cells.end(), 0) != v.bad_cells.end());
    std::string given = kSolution;
    given[3] = '1';  // a changed given, which also repeats the 1 of its row, column and box
    v = sudoku::verify(kPuzzle, given);
    CHECK_FALSE(v.ok);
    CHECK_THAT(v.message, Catch::StartsWith("the answer changes 1 given cells; digit 1 appears twice"));
    CHECK(std::find(v.bad_cells.begin(), v.bad_cells.end(), 3) != v.bad_cells.end());
    CHECK(std::find(v.bad_cells.begin(), v.bad_cells.end(), 4) != v.bad_cells.end());  // the row's other 1
    std::string hole = kSolution;
    hole[80] = '.';
    CHECK_THAT(sudoku::verify(kPuzzle, hole).message, Catch::Contains("not filled"));
}

// A small maze: S top-left, G bottom-right of an open 30x30 box with one wall line; the shortest path is known.
static std::string open_maze() {
    std::string m(900, ' ');
    for (int i = 0; i < 30; ++i) { m[i] = m[870 + i] = '#'; m[i * 30] = m[i * 30 + 29] = '#'; }
    for (int r = 1; r < 28; ++r) m[r * 30 + 10] = '#';  // a wall with a gap in row 28
    m[1 * 30 + 1] = 'S';
    m[1 * 30 + 20] = 'G';
    return m;
}

TEST_CASE("maze encode/decode round trip, both text forms", "[tasks]") {
    const std::string m = open_maze();
    auto t = maze::encode(m);
    CHECK(t[0] == 1);   // '#'
    CHECK(t[31] == 3);  // 'S'
    CHECK(maze::decode(t.data()) == m);
    std::string lines;
    for (int r = 0; r < 30; ++r) lines += m.substr(size_t(r * 30), 30) + "\n";
    CHECK(maze::encode(lines) == t);
}

TEST_CASE("maze inputs that are not mazes are refused", "[tasks]") {
    std::string m = open_maze();
    CHECK_THROWS_WITH(maze::encode(m.substr(0, 899)), Catch::Contains("899 cells; expected 900"));
    std::string two = m;
    two[32] = 'S';
    CHECK_THROWS_WITH(maze::encode(two), Catch::Contains("2 start cells 'S'; expected exactly one"));
    std::string nog = m;
    nog[50] = ' ';
    CHECK_THROWS_WITH(maze::encode(nog), Catch::Contains("0 goal cells"));
    std::string bad = m;
    bad[40] = 'x';
    CHECK_THROWS_WITH(maze::encode(bad), Catch::Contains("'x' at row 2, column 11"));
}

TEST_CASE("maze verifier accepts exactly the shortest paths", "[tasks]") {
    const std::string m = open_maze();
    // Shortest: from (1,1) down to row 28, through the gap at column 10, up to (1,20): 27 + 9 ... computed by BFS.
    const int d = maze::shortest_path_length(m);
    CHECK(d == 27 + 9 + 27 + 10);
    std::string a = m;
    auto mark = [&](int r, int c) { if (a[size_t(r * 30 + c)] == ' ') a[size_t(r * 30 + c)] = 'o'; };
    for (int r = 1; r <= 28; ++r) mark(r, 1);
    for (int c = 1; c <= 20; ++c) mark(28, c);
    for (int r = 1; r <= 28; ++r) mark(r, 20);
    auto v = maze::verify(m, a);
    CHECK(v.ok);
    CHECK(v.message == "valid shortest path of " + std::to_string(d) + " moves");
    std::string detour = a;
    detour[size_t(5 * 30 + 2)] = 'o';  // a stray cell next to the path: connected, but longer than shortest
    CHECK_THAT(maze::verify(m, detour).message, Catch::Contains("the shortest has"));
    std::string gap = a;
    gap[size_t(28 * 30 + 15)] = ' ';
    CHECK_THAT(maze::verify(m, gap).message, Catch::Contains("does not connect S to G"));
    std::string wall = a;
    wall[size_t(5 * 30 + 10)] = 'o';
    CHECK_THAT(maze::verify(m, wall).message, Catch::Contains("change the maze's walls"));
}

TEST_CASE("ARC grids encode with end markers and decode by the largest top-left rectangle", "[tasks]") {
    auto task = arc::parse_task(R"({"train":[{"input":[[1,2],[3,4]],"output":[[0]]}],"test":[{"input":[[5,6,7]]}]})", "t.json");
    REQUIRE(task.train.size() == 1);
    REQUIRE(task.test.size() == 1);
    CHECK_FALSE(task.test[0].has_output);
    const arc::Grid& g = task.train[0].input;
    auto t = arc::encode(g);
    CHECK(t[0] == 3); CHECK(t[1] == 4); CHECK(t[2] == 1);   // row 0: colours 1, 2, marker at column 2
    CHECK(t[30] == 5); CHECK(t[31] == 6); CHECK(t[32] == 1);
    CHECK(t[60] == 1); CHECK(t[61] == 1); CHECK(t[62] == 0); // marker row, then padding
    CHECK(arc::decode(t.data()) == g);
    // A full 30x30 grid has no markers and decodes whole.
    arc::Grid full{30, 30, std::vector<uint8_t>(900, 9)};
    CHECK(arc::decode(arc::encode(full).data()) == full);
    CHECK(arc::to_json(g) == "[[1,2],[3,4]]");
}

TEST_CASE("ARC task JSON that breaks the rules is refused", "[tasks]") {
    auto err = [](const std::string& j) {
        try { arc::parse_task(j, "t.json"); } catch (const Error& e) { return std::string(e.what()); }
        return std::string();
    };
    CHECK_THAT(err("[]"), Catch::Contains("not a JSON object"));
    CHECK_THAT(err(R"({"train":[],"test":[{"input":[]}]})"), Catch::Contains("test[0].input: grid must be a non-empty list"));
    CHECK_THAT(err(R"({"train":[],"test":[{"input":[[1,2],[3]]}]})"), Catch::Contains("row 1 has 1 cells; row 0 has 2"));
    CHECK_THAT(err(R"({"train":[],"test":[{"input":[[10]]}]})"), Catch::Contains("cell [0][0] = 10; expected a colour 0-9"));
    std::string big = "[" ;
    for (int r = 0; r < 31; ++r) big += std::string(r ? "," : "") + "[0]";
    big += "]";
    CHECK_THAT(err(R"({"train":[],"test":[{"input":)" + big + "}]}"), Catch::Contains("31 rows; at most 30"));
    CHECK_THAT(err(R"({"train":[{"input":[[1]]}],"test":[{"input":[[1]]}]})"), Catch::Contains("train[0]: missing \"output\""));
    CHECK_THAT(err(R"({"train":[],"test":[]})"), Catch::Contains("\"test\" holds no pairs"));
}
