// The solve loop (src/solve.h) and the codec registry (src/codecs.h): every strategy on sudokus whose outcome is
// known in advance, with a model whose logits are fixed by hand.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <nlohmann/json.hpp>

#include "solve.h"
#include "test_util.h"

using namespace trm;

namespace {

// A sudoku model whose logits at each cell depend only on the input token there: logits[i][v] = table[token_i][v].
// Every block weight is zero, so attention and the MLPs add nothing; the embedding of token t is a large multiple of
// unit vector t and H_init = L_init = 0, so after the RMS norms z_H at a cell is sqrt(D) e_t and lm_head column t
// (scaled by 1/sqrt(D)) is the table row. q_head gives q_halt = `q_halt` at every step.
std::shared_ptr<const Model> table_model(const std::vector<std::vector<float>>& table, float q_halt, int halt_max_steps = 2) {
    Config c;
    c.seq_len = 81; c.vocab_size = 11; c.hidden_size = 16; c.num_heads = 2; c.expansion = 2;
    c.L_layers = 1; c.H_cycles = 1; c.L_cycles = 1; c.halt_max_steps = halt_max_steps;
    c.pos_encodings = PosEncoding::Rope;
    const int64_t D = 16, V = 11, I = c.mlp_width();
    SafetensorsWriter w;
    w.set_metadata("format", "trm/1");
    w.set_metadata("config", c.to_json());
    w.set_metadata("task", "{\"kind\":\"sudoku\"}");
    std::vector<std::vector<float>> keep;
    auto add = [&](const std::string& name, std::vector<int64_t> shape, std::vector<float> data) {
        keep.push_back(std::move(data));
        w.add(name, DType::F32, shape, keep.back().data());
    };
    auto zeros = [](int64_t n) { return std::vector<float>(size_t(n), 0.f); };
    std::vector<float> embed = zeros(V * D), head = zeros(V * D);
    for (int t = 0; t < V; ++t) embed[size_t(t * D + t)] = 100.f;
    for (int t = 0; t < V; ++t)
        for (int v = 0; v < V; ++v) head[size_t(v * D + t)] = table[size_t(t)][size_t(v)] / 4.f;  // sqrt(D) = 4
    add("embed_tokens.embedding_weight", {V, D}, embed);
    add("lm_head.weight", {V, D}, head);
    add("q_head.weight", {2, D}, zeros(2 * D));
    add("q_head.bias", {2}, {q_halt, -q_halt});
    add("H_init", {D}, zeros(D));
    add("L_init", {D}, zeros(D));
    add("L_level.layers.0.self_attn.qkv_proj.weight", {3 * D, D}, zeros(3 * D * D));
    add("L_level.layers.0.self_attn.o_proj.weight", {D, D}, zeros(D * D));
    add("L_level.layers.0.mlp.gate_up_proj.weight", {2 * I, D}, zeros(2 * I * D));
    add("L_level.layers.0.mlp.down_proj.weight", {D, I}, zeros(D * I));
    const std::vector<uint8_t> bytes = w.bytes();
    return Model::load(bytes.data(), bytes.size(), "table model");
}

// The table of a model that copies every given digit except 9, which it turns into 8 (so its raw answer changes
// givens), and predicts blanks with digit 2 first, then 1, then the rest.
std::vector<std::vector<float>> copying_table() {
    std::vector<std::vector<float>> t(11, std::vector<float>(11, 0.f));
    for (int d = 1; d <= 9; ++d) t[size_t(d + 1)][size_t(d == 9 ? 9 : d + 1)] = 8.f;
    for (int d = 1; d <= 9; ++d) t[1][size_t(d + 1)] = d == 2 ? 6.f : d == 1 ? 5.f : 4.f - 0.1f * float(d);
    return t;
}

// A valid solved grid: row r is 1..9 shifted by 3r + r/3.
std::string solved_grid() {
    std::string g;
    for (int r = 0; r < 9; ++r)
        for (int c = 0; c < 9; ++c) g += char('1' + (r * 3 + r / 3 + c) % 9);
    return g;
}

std::string blank(std::string g, std::initializer_list<int> cells) {
    for (int i : cells) g[size_t(i)] = '.';
    return g;
}

void require_givens_kept(const std::string& puzzle, const std::string& answer) {
    REQUIRE(answer.size() == puzzle.size());
    for (size_t i = 0; i < puzzle.size(); ++i)
        if (puzzle[i] != '.') REQUIRE(answer[i] == puzzle[i]);
}

SolveOptions with(const std::string& strategy) {
    SolveOptions o;
    o.strategy = strategy;
    return o;
}

const SolveStep& run_to_end(SolveRun& run) {
    while (!run.done()) run.step();
    return run.last();
}

}  // namespace

TEST_CASE("the fixed-logit model predicts what its table says; the plain model's answer shows the givens it changed as given", "[solve]") {
    auto m = table_model(copying_table(), -3.f);
    const std::string puzzle = blank(solved_grid(), {0});
    SolveRun run(m, puzzle, with("model"));
    const SolveStep& s = run_to_end(run);
    CHECK(s.step == 2);  // q_halt < 0: no early halt
    CHECK(s.prediction[0] == '2');  // blanks: digit 2 first
    const int32_t* own = run.network_tokens();
    CHECK(own[0] == 3);
    for (int i = 1; i < 81; ++i) {
        CHECK(own[i] == (puzzle[size_t(i)] == '9' ? 9 : puzzle[size_t(i)] - '0' + 1));  // the network turns every 9 into 8
        CHECK(s.prediction[size_t(i)] == puzzle[size_t(i)]);
    }
    CHECK(s.givens_changed == 9);  // the nine given 9s
    CHECK(s.model_calls == 2);
    CHECK_FALSE(s.verdict.ok);  // 2 in cell 0 repeats a digit of its row
    for (const char* strategy : {"steps", "vote", "commit"}) {  // the first copy's own answer changes them too
        INFO(strategy);
        SolveRun other(m, puzzle, with(strategy));
        CHECK(other.step().givens_changed == 9);
    }
}

TEST_CASE("a puzzle one cell from solved: every strategy but the plain model answers it, givens unchanged", "[solve]") {
    auto m = table_model(copying_table(), -3.f);
    const std::string puzzle = blank(solved_grid(), {40});  // the answer there is 6, not the model's 2
    REQUIRE(solved_grid()[40] != '2');
    SolveRun plain(m, puzzle, with("model"));
    CHECK_FALSE(run_to_end(plain).verdict.ok);
    for (const char* strategy : {"steps", "vote", "commit"}) {
        INFO(strategy);
        SolveRun run(m, puzzle, with(strategy));
        const SolveStep& s = run_to_end(run);
        CHECK(s.verdict.ok);
        CHECK(s.prediction == solved_grid());
        CHECK(s.step == 1);  // verified at once: no further model calls
        CHECK(run.model_calls() == (std::string(strategy) == "steps" ? 1 : 8));  // vote and commit: 8 copies by default
        require_givens_kept(puzzle, s.prediction);
    }
}

TEST_CASE("commit backtracks out of a contradiction and counts the model calls it costs", "[solve]") {
    // Cells 0 (answer 1), 1 (answer 2) and 27 (answer 2) blank. Cell 0 may legally hold 1 or 2; the model prefers 2
    // everywhere, so the most probable commitment, 2 in cell 0, leaves cell 1 with no legal digit: a dead end.
    auto m = table_model(copying_table(), -3.f);
    const std::string puzzle = blank(solved_grid(), {0, 1, 27});
    REQUIRE(solved_grid().substr(0, 2) == "12");
    REQUIRE(solved_grid()[27] == '2');
    for (int commit : {1, 4}) {
        INFO("commit " << commit);
        SolveOptions o = with("commit");
        o.commit = commit;
        o.copies = 1;
        SolveRun run(m, puzzle, o);
        const SolveStep& first = run.step();
        CHECK_FALSE(first.verdict.ok);  // 2 in all three blanks
        CHECK(first.prediction.substr(0, 2) == "22");
        const SolveStep& s = run_to_end(run);
        CHECK(s.verdict.ok);
        CHECK(s.prediction == solved_grid());
        CHECK(run.backtracks() == 1);
        CHECK(s.model_calls == 2);  // round 1 commits 2 into cell 0 (refuted by the rules, no model call); round 2 solves
        require_givens_kept(puzzle, s.prediction);
    }
}

TEST_CASE("commit past its backtracks jumps: the implicated commitment is refuted and the model runs again before it", "[solve]") {
    auto m = table_model(copying_table(), -3.f);
    const std::string puzzle = blank(solved_grid(), {0, 1, 27});  // as above: 2 in cell 0 leaves cell 1 no digit
    SolveOptions o = with("commit");
    o.copies = 1;
    o.backtracks = 0;
    SolveRun run(m, puzzle, o);
    const SolveStep& first = run.step();
    CHECK(first.note == "round 1: 1 cells committed, jump 1 to commitment 1");
    const SolveStep& s = run_to_end(run);
    CHECK(s.verdict.ok);
    CHECK(s.prediction == solved_grid());
    CHECK(run.backtracks() == 0);
    CHECK(run.jumps() == 1);
    CHECK(s.model_calls == 2);  // one model call after the jump: cell 0's next choice comes from that round
    require_givens_kept(puzzle, s.prediction);
}

TEST_CASE("commit with a threshold: past the count, every choice at least that probable, each legal", "[solve]") {
    auto m = table_model(copying_table(), -3.f);
    // Every 2 blanked, and cell 40 (a 9): the model's 2 is legal in each blank, with the same probability (about 0.5).
    const std::string puzzle = blank(solved_grid(), {1, 16, 22, 27, 42, 48, 62, 68, 74, 40});
    auto committed = [&](double threshold) {
        SolveOptions o = with("commit");
        o.copies = 1;
        o.commit = 1;
        o.round_steps = 1;
        o.threshold = threshold;
        SolveRun run(m, puzzle, o);
        const SolveStep& s = run.step();
        REQUIRE(s.note.rfind("round 1: ", 0) == 0);
        return std::stoi(s.note.substr(9));
    };
    CHECK(committed(2) == 1);
    CHECK(committed(0.9) == 1);
    CHECK(committed(0.3) == 9);  // one 2 in each row: a tenth would break a rule
}

TEST_CASE("the codec of a fixed encoding without a model has the model's codec's symmetries", "[solve]") {
    auto m = table_model(copying_table(), -3.f);
    const auto with_model = codec_for(*m, "test"), alone = codec_for(TaskKind::Sudoku);
    CHECK(alone->kind() == TaskKind::Sudoku);
    for (int k = 0; k < 4; ++k) {
        CHECK(alone->symmetry(k, 5).cell == with_model->symmetry(k, 5).cell);
        CHECK(alone->symmetry(k, 5).token == with_model->symmetry(k, 5).token);
    }
    CHECK(codec_for(TaskKind::Maze)->symmetry_count() == 8);
    CHECK_THROWS_WITH(codec_for(TaskKind::Arc), Catch::Contains("task 'arc' has no fixed encoding; expected sudoku or maze"));
}

TEST_CASE("the sudoku codec names the cells of a dead end", "[solve]") {
    auto m = table_model(copying_table(), -3.f);
    const auto codec = codec_for(*m, "test");
    // Cell 0's row holds 2-8 and its box 9 and 1: no digit is left for it.
    const std::string g = ".2345678.91" + std::string(70, '.');
    REQUIRE(codec->dead_end(codec->encode(g)));
    std::vector<int> cells = codec->conflict(codec->encode(g));
    std::sort(cells.begin(), cells.end());
    CHECK(cells == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 9, 10});
    CHECK(codec->conflict(codec->encode(blank(solved_grid(), {0, 1}))).empty());
}

TEST_CASE("steps runs past halt_max_steps with the carry continued, and stops at the model-call bound", "[solve]") {
    auto m = table_model(copying_table(), 3.f);  // q_halt > 0: the plain model halts after one step
    const std::string puzzle = blank(solved_grid(), {0, 1, 27});  // never verified: 2 in cells 0 and 1
    SolveRun plain(m, puzzle, with("model"));
    CHECK(run_to_end(plain).step == 1);
    SolveRun steps(m, puzzle, with("steps"));
    CHECK(run_to_end(steps).step == 16);  // 8 x halt_max_steps
    CHECK(steps.model_calls() == 16);
    SolveOptions o = with("steps");
    o.max_steps = 100;
    o.max_calls = 5;
    SolveRun bounded(m, puzzle, o);
    CHECK(run_to_end(bounded).model_calls == 5);
}

TEST_CASE("the model-call bound holds for every strategy, each augmented copy counted", "[solve]") {
    auto m = table_model(copying_table(), -3.f, 16);
    std::string puzzle = blank(solved_grid(), {0, 1, 27});
    puzzle[80] = '.';  // the model's 2 cannot go there either; nothing verifies while 2 is everywhere
    for (int bound : {1, 7, 40}) {
        for (const char* strategy : {"steps", "vote", "commit"}) {
            INFO(strategy << " with at most " << bound << " calls");
            SolveOptions o = with(strategy);
            o.max_calls = bound;
            o.copies = std::string(strategy) == "commit" ? 3 : 4;
            const int per_step = std::string(strategy) == "steps" ? 1 : o.copies;  // steps runs one copy
            if (bound < per_step) {
                CHECK_THROWS_WITH(SolveRun(m, puzzle, o), Catch::Contains("below the"));
                continue;
            }
            o.backtracks = 1000;
            SolveRun run(m, puzzle, o);
            const SolveStep& s = run_to_end(run);
            CHECK(s.model_calls <= bound);
            CHECK(s.model_calls == run.model_calls());
            require_givens_kept(puzzle, s.prediction);
        }
    }
}

TEST_CASE("vote runs its copies as one batch, each counted, and answers with the givens kept", "[solve]") {
    std::vector<std::vector<float>> copy(11, std::vector<float>(11, 0.f));
    for (int t = 0; t < 11; ++t) copy[size_t(t)][size_t(t < 2 ? 2 : t)] = 8.f;
    auto m = table_model(copy, -3.f);
    const std::string puzzle = blank(solved_grid(), {3, 50});
    SolveOptions o = with("vote");
    o.copies = 16;
    SolveRun run(m, puzzle, o);
    const SolveStep& s = run_to_end(run);
    CHECK(s.verdict.ok);
    CHECK(s.prediction == solved_grid());
    CHECK(s.model_calls == 16);
}

TEST_CASE("sudoku symmetries keep a solution a solution, and map cells and digits one to one", "[solve]") {
    auto m = table_model(copying_table(), -3.f);
    auto codec = codec_for(*m, "test");
    const std::string g = solved_grid();
    const std::vector<int32_t> tokens = codec->encode(g);
    for (int k = 0; k < 20; ++k) {
        const Symmetry s = codec->symmetry(k, 7);
        std::vector<int32_t> view(81);
        std::vector<int> seen(81, 0);
        for (int i = 0; i < 81; ++i) {
            view[size_t(i)] = s.token[size_t(tokens[size_t(s.cell[size_t(i)])])];
            ++seen[size_t(s.cell[size_t(i)])];
        }
        CHECK(std::count(seen.begin(), seen.end(), 1) == 81);
        CHECK(s.token[0] == 0);
        CHECK(s.token[1] == 1);
        CHECK(codec->verify(std::string(81, '.'), codec->decode(view.data())).ok);
        if (k == 0) CHECK(view == tokens);
    }
    CHECK(codec->symmetry(3, 7).cell == codec->symmetry(3, 7).cell);  // the same draw for the same seed
}

TEST_CASE("maze symmetries are the 8 dihedral transforms, and a path may run over open cells only", "[solve]") {
    Config c = test::tiny_config();
    c.seq_len = 900; c.vocab_size = 6;
    auto w = test::tiny_model_writer(c);
    w.set_metadata("task", "{\"kind\":\"maze\"}");
    const auto bytes = w.bytes();
    auto m = Model::load(bytes.data(), bytes.size(), "maze");
    auto codec = codec_for(*m, "test");
    CHECK(codec->kind() == TaskKind::Maze);
    CHECK(codec->symmetry_count() == 8);
    std::set<std::vector<int>> distinct;
    for (int k = 0; k < 8; ++k) distinct.insert(codec->symmetry(k, 1).cell);
    CHECK(distinct.size() == 8);
    CHECK_THROWS_WITH(codec->symmetry(8, 1), Catch::Contains("outside the 8 dihedral transforms"));
    std::string maze(900, ' ');
    maze[0] = 'S';
    maze[5] = 'G';
    maze[30] = '#';
    const std::vector<int32_t> grid = codec->encode(maze);
    CHECK(codec->legal(grid, 3, 5));
    CHECK(codec->legal(grid, 35, 5));  // a detour, but open: the codec does not solve the maze
    CHECK_FALSE(codec->legal(grid, 30, 5));  // a wall
    CHECK_FALSE(codec->legal(grid, 0, 5));   // the start
}

TEST_CASE("the registry: codecs by task kind, refusals that name what was expected", "[solve]") {
    const auto generic_bytes = test::tiny_model_writer(test::tiny_config()).bytes();
    auto generic = Model::load(generic_bytes.data(), generic_bytes.size(), "generic");
    auto codec = codec_for(*generic, "solve");
    CHECK(codec->kind() == TaskKind::Generic);
    CHECK_FALSE(codec->has_text());
    CHECK_THROWS_WITH(SolveRun(generic, std::string("12"), with("model")), Catch::Contains("text puzzles need a sudoku or maze model"));
    const std::vector<int32_t> tokens = {1, 2, 3, 4, 0, 1};
    CHECK_THROWS_WITH(SolveRun(generic, tokens, 0, with("vote")), Catch::Contains("needs a task whose rules the engine knows"));
    SolveRun raw(generic, tokens, 1, with("model"));
    const SolveStep& s = run_to_end(raw);
    CHECK(s.step == 3);
    CHECK(s.prediction.empty());
    CHECK(s.tokens.size() == 6);
    CHECK(s.verdict.message == "no validator for task kind 'generic'");

    Config c = test::tiny_config();
    auto w = test::tiny_model_writer(c);
    w.set_metadata("task", "{\"kind\":\"sudoku\"}");
    const auto bytes = w.bytes();
    CHECK_THROWS_WITH(codec_for(*Model::load(bytes.data(), bytes.size(), "s"), "solve"),
                      Catch::Contains("a sudoku model must have seq_len 81"));

    auto m = table_model(copying_table(), -3.f);
    CHECK_THROWS_WITH(SolveRun(m, solved_grid(), with("guess")), Catch::Contains("expected model, steps, vote, commit or best"));
    CHECK(SolveRun(m, solved_grid(), with("best")).strategy() == Strategy::Vote);
}

TEST_CASE("solve options from JSON: known names, checked types", "[solve]") {
    const SolveOptions o = SolveOptions::from_json(R"({"strategy":"vote","copies":4,"maxSteps":3,"earlyHalt":false,"seed":9})", "options");
    CHECK(o.strategy == "vote");
    CHECK(o.copies == 4);
    CHECK(o.max_steps == 3);
    CHECK_FALSE(o.early_halt);
    CHECK(o.seed == 9);
    CHECK_THROWS_WITH(SolveOptions::from_json(R"({"copise":4})", "options"), Catch::Contains("unknown option 'copise'"));
    CHECK_THROWS_WITH(SolveOptions::from_json(R"({"copies":0})", "options"), Catch::Contains("copies = 0; expected an integer >= 1"));
    CHECK_THROWS_WITH(SolveOptions::from_json("[1]", "options"), Catch::Contains("expected a JSON object"));
}

TEST_CASE("set_puzzle with keep_carry changes the input only: the carry and step count go on", "[solve]") {
    const auto bytes = test::tiny_model_writer(test::tiny_config()).bytes();
    auto m = Model::load(bytes.data(), bytes.size(), "tiny");
    const std::vector<int32_t> a = {1, 2, 3, 4, 0, 1}, b = {4, 3, 2, 1, 1, 0};
    Solver straight(m, 1), fed(m, 1), fresh(m, 1);
    straight.set_puzzle(0, a.data(), 1);
    straight.step();
    fed.set_puzzle(0, a.data(), 1);
    fed.step();
    fed.set_puzzle(0, b.data(), 1, true);  // the carry of a, the input of b
    CHECK(fed.steps_done(0) == 1);
    fed.step();
    straight.set_puzzle(0, a.data(), 1, true);
    straight.step();
    fresh.set_puzzle(0, b.data(), 1);
    fresh.step();
    fresh.step();
    Solver two(m, 1);  // two plain steps of a
    two.set_puzzle(0, a.data(), 1);
    two.step();
    two.step();
    const int n = 6 * 5;
    CHECK(std::equal(straight.logits(0), straight.logits(0) + n, two.logits(0)));  // the same input fed again: no change
    CHECK_FALSE(std::equal(fed.logits(0), fed.logits(0) + n, fresh.logits(0)));  // the carry of a made a difference
    CHECK(fed.steps_done(0) == 2);
}

TEST_CASE("a step whose network runs elsewhere (begin_step, Solver::set_outputs, end_step) is the step step() runs", "[solve]") {
    // The external network here is another run's solver: its outputs handed over slot by slot, as the worker hands
    // over the WebGPU engine's (web/webgpu/network.js).
    const std::string puzzle = blank(solved_grid(), {0, 10, 20, 30, 40, 50, 60, 70, 80, 3, 13, 23});
    for (const char* strategy : {"model", "vote", "commit"}) {
        SolveOptions o = with(strategy);
        o.copies = 3;
        o.max_calls = 18;
        SolveRun local(table_model(copying_table(), -1.f, 4), puzzle, o), split(table_model(copying_table(), -1.f, 4), puzzle, o);
        while (!local.done()) {
            split.begin_step();
            Solver& s = split.solver();
            std::vector<int> asked;
            for (int b = 0; b < s.batch(); ++b)
                if (s.active(b)) asked.push_back(b);
            local.step();
            for (int b : asked) {
                s.set_outputs(b, local.solver().logits(b), local.solver().q_halt(b), local.solver().q_continue(b));
                CHECK_FALSE(s.fresh_input(b));
                CHECK_FALSE(s.fresh_carry(b));
            }
            const SolveStep& got = split.end_step();
            const SolveStep& want = local.last();
            CHECK(got.step == want.step);
            CHECK(got.tokens == want.tokens);
            CHECK(got.changed == want.changed);
            CHECK(got.q_halt == want.q_halt);
            CHECK(got.model_calls == want.model_calls);
            CHECK(got.note == want.note);
            CHECK(got.done == want.done);
        }
        CHECK(split.done());
        CHECK_THROWS_AS(split.end_step(), Error);
    }
}

TEST_CASE("set_puzzle marks a slot's input fresh, and its carry fresh only when the carry starts again", "[solve]") {
    const auto bytes = test::tiny_model_writer(test::tiny_config()).bytes();
    auto m = Model::load(bytes.data(), bytes.size(), "tiny");
    const std::vector<int32_t> a = {1, 2, 3, 4, 0, 1};
    Solver s(m, 2);
    s.set_puzzle(1, a.data(), 1);
    CHECK(s.fresh_input(1));
    CHECK(s.fresh_carry(1));
    CHECK_FALSE(s.fresh_input(0));
    std::vector<float> logits(size_t(6 * 5), 0.f);
    logits[1] = 1.f;
    s.set_outputs(1, logits.data(), 0.5f, -0.5f);
    CHECK_FALSE(s.fresh_input(1));
    CHECK_FALSE(s.fresh_carry(1));
    CHECK(s.steps_done(1) == 1);
    CHECK(s.predictions(1)[0] == 1);
    CHECK(s.q_halt(1) == 0.5f);
    s.set_puzzle(1, a.data(), 1, true);  // keep_carry: the input only
    CHECK(s.fresh_input(1));
    CHECK_FALSE(s.fresh_carry(1));
    CHECK(m->weight("lm_head.weight") == m->lm_head.f32);
    CHECK(m->weight("H_init") == m->H_init);
    CHECK(m->weight("L_level.layers.0.mlp.down_proj.weight") == m->layers[0].mlp_down.f32);
    CHECK(m->weight("no.such.weight") == nullptr);
}

TEST_CASE("set_carry: after an external network's steps, step() goes on from the carry it hands over", "[solve]") {
    // The worker's WebGPU device lost mid-solve: the carry read back from the GPU goes into the solver, and the WASM
    // engine's next step is the one the GPU would have run.
    const auto bytes = test::tiny_model_writer(test::tiny_config()).bytes();
    auto m = Model::load(bytes.data(), bytes.size(), "tiny");
    const std::vector<int32_t> a = {1, 2, 3, 4, 0, 1};
    const size_t n = 6 * 5;
    Solver straight(m, 1), gpu(m, 1), split(m, 1), stale(m, 1);
    for (Solver* s : {&straight, &gpu, &split, &stale}) s->set_puzzle(0, a.data(), 1);
    straight.step();
    straight.step();
    gpu.step();  // the external network's step 1
    for (Solver* s : {&split, &stale}) s->set_outputs(0, gpu.logits(0), gpu.q_halt(0), gpu.q_continue(0));
    split.set_carry(0, gpu.z_H(0), gpu.z_L(0));
    CHECK_FALSE(split.fresh_carry(0));
    split.step();
    stale.step();  // without the carry: step 2 from H_init/L_init
    CHECK(split.steps_done(0) == 2);
    CHECK(std::equal(straight.logits(0), straight.logits(0) + n, split.logits(0)));
    CHECK(split.q_halt(0) == straight.q_halt(0));
    CHECK_FALSE(std::equal(straight.logits(0), straight.logits(0) + n, stale.logits(0)));
    CHECK_THROWS_AS(split.set_carry(1, gpu.z_H(0), gpu.z_L(0)), Error);
}
