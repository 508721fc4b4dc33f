// ARC augmentations, identifier names, voting, and a whole ARC solve on a tiny model with named rows.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "arc_solver.h"
#include "test_util.h"

using namespace trm;
using arc::Grid;

static Grid grid(std::vector<std::vector<int>> rows) {
    Grid g;
    g.rows = int(rows.size());
    g.cols = int(rows[0].size());
    for (auto& r : rows)
        for (int v : r) g.cells.push_back(uint8_t(v));
    return g;
}

TEST_CASE("the 8 dihedral transforms are numpy's, and each inverse undoes its transform", "[arc]") {
    const Grid g = grid({{1, 2, 3}, {4, 5, 6}});
    const std::vector<Grid> expect = {
        g,
        grid({{3, 6}, {2, 5}, {1, 4}}),    // rot90
        grid({{6, 5, 4}, {3, 2, 1}}),      // rot180
        grid({{4, 1}, {5, 2}, {6, 3}}),    // rot270
        grid({{1, 4}, {2, 5}, {3, 6}}),    // transpose
        grid({{3, 2, 1}, {6, 5, 4}}),      // flip left-right
        grid({{4, 5, 6}, {1, 2, 3}}),      // flip up-down
        grid({{6, 3}, {5, 2}, {4, 1}}),    // rot90 then flip left-right
    };
    for (int t = 0; t < 8; ++t) {
        INFO("transform " << t);
        CHECK(arc::dihedral(g, t) == expect[size_t(t)]);
        CHECK(arc::inverse_dihedral(arc::dihedral(g, t), t) == g);
    }
}

TEST_CASE("augmentation names parse, and restore() inverts augment() for every transform and a colour permutation", "[arc]") {
    const Grid g = grid({{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 0, 1}});
    for (int t = 0; t < 8; ++t) {
        const auto a = arc::parse_identifier("abc123|||t" + std::to_string(t) + "|||0371925846");
        CHECK(a.task_id == "abc123");
        CHECK(a.transform == t);
        CHECK(int(a.colours[1]) == 3);
        const Grid aug = arc::augment(a, g);
        CHECK_FALSE(aug == g);  // the colours moved even where the shape did not
        CHECK(arc::restore(a, aug) == g);
        CHECK(arc::identifier(a) == "abc123|||t" + std::to_string(t) + "|||0371925846");
    }
    CHECK(arc::parse_identifier("plain").task_id == "plain");
    CHECK(arc::identifier(arc::parse_identifier("plain")) == "plain");  // the original is named by its task id alone
    CHECK(arc::identifier(arc::parse_identifier("plain|||t0|||0123456789")) == "plain");
    CHECK_THROWS_WITH(arc::parse_identifier("x|||t9|||0123456789"), Catch::Contains("expected '<task>|||t<0-7>"));
    CHECK_THROWS_WITH(arc::parse_identifier("x|||t1|||1023456789"), Catch::Contains("keeping 0"));
    CHECK_THROWS_WITH(arc::parse_identifier("x|||t1|||0113456789"), Catch::Contains("permutation"));
}

TEST_CASE("voting ranks by count, then by mean confidence", "[arc]") {
    const Grid a = grid({{1}}), b = grid({{2}}), c = grid({{3}});
    // b: 2 votes (0.9, 0.1 -> 0.5); c: 2 votes (0.7, 0.7 -> 0.7); a: 1 vote (1.0)
    const auto r = arc::vote({b, a, c, b, c}, {0.9, 1.0, 0.7, 0.1, 0.7});
    REQUIRE(r.size() == 3);
    CHECK(r[0].grid == c);
    CHECK(r[0].votes == 2);
    CHECK(r[0].mean_confidence == Approx(0.7));
    CHECK(r[1].grid == b);
    CHECK(r[2].grid == a);
}

TEST_CASE("an ARC solve runs every named copy of the task as one batch", "[arc]") {
    Config c = test::tiny_config();
    c.seq_len = 900;
    c.vocab_size = 12;
    c.num_puzzle_identifiers = 4;
    c.H_cycles = 1;
    c.L_cycles = 1;
    SafetensorsWriter w = test::tiny_model_writer(c);
    const std::vector<std::string> names = {"<blank>", "t1|||t3|||0234567891", "t1", "other|||t1|||0123456789"};
    w.set_metadata("task", nlohmann::json({{"kind", "arc"}, {"puzzle_identifiers", names}}).dump());
    const auto bytes = w.bytes();
    auto model = Model::load(bytes.data(), bytes.size(), "arc-tiny");

    const auto copies = arc::copies_for(*model, "t1", 0);
    REQUIRE(copies.size() == 2);
    CHECK(copies[0].puzzle_id == 2);  // the original first
    CHECK(copies[1].puzzle_id == 1);
    CHECK(copies[1].augmentation.transform == 3);
    CHECK(arc::copies_for(*model, "t1", 1).size() == 1);
    CHECK_THROWS_WITH(arc::copies_for(*model, "nope", 0), Catch::Contains("no puzzle-embedding row for task 'nope'"));

    const auto task = arc::parse_task(R"({"train":[],"test":[{"input":[[1,2],[3,4]]}]})", "t1.json");
    Solver solver(model, int(copies.size()));
    arc::load_copies(solver, copies, task.test[0].input);
    solver.step();
    const auto attempts = arc::vote_copies(solver, copies);
    int votes = 0;
    for (const auto& a : attempts) votes += a.votes;
    CHECK(votes == 2);
    CHECK(attempts[0].mean_confidence > 0.0);
    CHECK(attempts[0].mean_confidence < 1.0);

    // How sure the model is of each cell: the attempt's shape, probabilities; none for a grid no copy gave.
    for (const auto& a : attempts) {
        const auto p = arc::cell_certainty(solver, copies, a.grid);
        REQUIRE(p.size() == a.grid.cells.size());
        for (float x : p) CHECK((x > 0.0f && x <= 1.0f));
    }
    CHECK(arc::cell_certainty(solver, copies, grid({{9, 9, 9}, {9, 9, 9}, {9, 9, 9}, {9, 9, 9}})).empty());
}

TEST_CASE("ARC needs an arc model with named rows", "[arc]") {
    auto bytes = test::tiny_model_writer(test::tiny_config()).bytes();
    auto model = Model::load(bytes.data(), bytes.size(), "tiny");
    CHECK_THROWS_WITH(arc::copies_for(*model, "t1", 0), Catch::Contains("ARC needs an arc model"));
}
