// Puzzle generators: graded sudokus and mazes of a chosen shortest-path length.
#include <catch2/catch.hpp>

#include <algorithm>

#include "generators.h"
#include "safetensors.h"
#include "tasks.h"

using namespace trm;

static int givens(const std::string& q) { return int(std::count_if(q.begin(), q.end(), [](char c) { return c >= '1' && c <= '9'; })); }

TEST_CASE("sudoku solution counting and the singles grade on known puzzles", "[generators]") {
    const std::string solution = "846712935372695184195483267984237651517964823263851749728549316439126578651378492";
    std::string one_blank = solution;
    one_blank[40] = '.';
    CHECK(sudoku::count_solutions(one_blank) == 1);
    CHECK(sudoku::solvable_by_singles(one_blank));
    CHECK(sudoku::count_solutions(std::string(81, '.')) == 2);  // counting stops at the limit
    CHECK(sudoku::count_solutions(std::string(81, '.'), 5) == 5);
    // Consistent givens without a completion: row 1 holds 1-8, and the 9 its last cell needs is in that column.
    std::string stuck = "12345678." + std::string(72, '.');
    stuck[17] = '9';
    CHECK(sudoku::count_solutions(stuck) == 0);
    CHECK_FALSE(sudoku::solvable_by_singles(stuck));
    std::string clash = stuck;
    clash[9] = '1';  // the same digit twice in a box
    CHECK_THROWS_WITH(sudoku::count_solutions(clash), Catch::Contains("givens break a rule at cell 9"));
    // A well-known hard puzzle: one solution, and singles alone are stuck.
    const std::string hard = "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..";
    CHECK(sudoku::count_solutions(hard) == 1);
    CHECK_FALSE(sudoku::solvable_by_singles(hard));
}

TEST_CASE("generated sudokus have one solution, the asked givens and grade", "[generators]") {
    Rng rng(7);
    for (int i = 0; i < 20; ++i) {
        const bool singles = i % 2 == 0;
        const GeneratedPuzzle p = sudoku::generate(rng, singles ? sudoku::Grade::Singles : sudoku::Grade::Harder, 28, 36);
        INFO(p.question);
        CHECK(givens(p.question) >= 28);
        CHECK(givens(p.question) <= 36);
        CHECK(sudoku::count_solutions(p.question) == 1);
        CHECK(sudoku::solvable_by_singles(p.question) == singles);
        const Verdict v = sudoku::verify(p.question, p.answer);
        CHECK(v.ok);
    }
}

TEST_CASE("generators give the same puzzles for the same seed, others for another", "[generators]") {
    Rng a(42), b(42), c(43);
    const auto pa = sudoku::generate(a, sudoku::Grade::Singles, 30, 30), pb = sudoku::generate(b, sudoku::Grade::Singles, 30, 30);
    const auto pc = sudoku::generate(c, sudoku::Grade::Singles, 30, 30);
    CHECK(pa.question == pb.question);
    CHECK(pa.question != pc.question);
    Rng m1(5), m2(5);
    CHECK(maze::generate(m1, 20, 40).question == maze::generate(m2, 20, 40).question);
    Rng r(1);  // the integer mapping stays in range
    for (int i = 0; i < 1000; ++i) {
        const int v = r.below(7);
        REQUIRE(v >= 0);
        REQUIRE(v < 7);
    }
}

TEST_CASE("generated mazes: a shortest path of the asked length, marked so the validator accepts it", "[generators]") {
    Rng rng(3);
    for (const auto& [lo, hi] : std::vector<std::pair<int, int>>{{20, 40}, {60, 80}, {110, 147}}) {
        for (int i = 0; i < 3; ++i) {
            const GeneratedPuzzle p = maze::generate(rng, lo, hi);
            const int cells = maze::shortest_path_length(p.question) + 1;  // moves + 1
            CHECK(cells >= lo);
            CHECK(cells <= hi);
            CHECK(int(std::count(p.answer.begin(), p.answer.end(), 'o')) == cells - 2);
            const Verdict v = maze::verify(p.question, p.answer);
            INFO(v.message);
            CHECK(v.ok);
            const double walls = double(std::count(p.question.begin(), p.question.end(), '#')) / maze::kCells;
            CHECK(walls > 0.3);
            CHECK(walls < 0.45);
        }
    }
}

TEST_CASE("generators refuse ranges they cannot meet, naming them", "[generators]") {
    Rng rng(1);
    CHECK_THROWS_WITH(sudoku::generate(rng, sudoku::Grade::Singles, 10, 20), Catch::Contains("givens 10-20; expected a range within 17-80"));
    CHECK_THROWS_WITH(sudoku::generate(rng, sudoku::Grade::Singles, 36, 28), Catch::Contains("givens 36-28"));
    // Reachable in principle but practically never: an error after a bounded search, not a hang.
    CHECK_THROWS_WITH(sudoku::generate(rng, sudoku::Grade::Harder, 75, 80), Catch::Contains("no harder puzzle with 75-80 givens in 1000 tries"));
    CHECK_THROWS_WITH(maze::generate(rng, 40, 20), Catch::Contains("path cells 40-20"));
    CHECK_THROWS_WITH(maze::generate(rng, 20, 40, 0.95), Catch::Contains("wall fraction"));
    CHECK_THROWS_WITH(sudoku::count_solutions("12"), Catch::Contains("2 characters; expected 81"));
}

TEST_CASE("trm generate writes question,answer CSV files and refuses bad options", "[generators]") {
    const std::string dir = std::string(TRM_CONVERTED_DIR);
    const std::string out = dir + "/generated_sudoku.csv", err = dir + "/generated_err.txt";
    REQUIRE(std::system((std::string(TRM_CLI) + " generate sudoku --count 3 --seed 9 --grade harder --givens 30 --out " + out).c_str()) == 0);
    std::vector<uint8_t> bytes = read_file(out);
    std::string text(bytes.begin(), bytes.end());
    REQUIRE(text.rfind("question,answer\n", 0) == 0);
    CHECK(std::count(text.begin(), text.end(), '\n') == 4);
    const std::string row = text.substr(16, 163);
    CHECK(givens(row.substr(0, 81)) == 30);
    CHECK(sudoku::verify(row.substr(0, 81), row.substr(82, 81)).ok);
    CHECK_FALSE(sudoku::solvable_by_singles(row.substr(0, 81)));
    const std::string bad = std::string(TRM_CLI) + " generate sudoku --count 3 --seed 9 --givens 40-30 2> " + err;
    CHECK(std::system(bad.c_str()) != 0);
    bytes = read_file(err);
    CHECK(std::string(bytes.begin(), bytes.end()) == "trm generate: option --givens = '40-30'; expected N or LO-HI within 17-80\n");
    CHECK(std::system((std::string(TRM_CLI) + " generate maze --count 1 2> " + err).c_str()) != 0);
    bytes = read_file(err);
    CHECK(std::string(bytes.begin(), bytes.end()).find("missing option --seed") != std::string::npos);
}
