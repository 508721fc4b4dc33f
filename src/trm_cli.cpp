// build/native/trm: info, predict, solve, eval (DESIGN.md "Native CLI").
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <thread>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "arc_solver.h"
#include "checkpoint_loader.h"
#include "codecs.h"
#include "generators.h"
#include "json_read.h"
#include "model.h"
#include "solve.h"
#include "tasks.h"

using namespace trm;
using Clock = std::chrono::steady_clock;

static const char* kUsage =
    "usage:\n"
    "  trm info W.safetensors\n"
    "  W may also be an official PyTorch checkpoint (step_N): --config all_config.yaml (default: beside it)\n"
    "      [--dataset dataset.json] [--identifiers identifiers.json [--keep-puzzles TASK_IDS.txt]]\n"
    "  trm convert CHECKPOINT|W --out OUT.safetensors [--dtype f32|f16|bf16|int8] [--task K] [checkpoint options]\n"
    "  trm predict W --inputs I.safetensors --steps N --out O.safetensors [--threads T]\n"
    "  trm solve W PUZZLE [--strategy S] [--halt early|never] [--steps N] [--threads T] [--json]   (PUZZLE: text or a file holding it)\n"
    "  trm solve W --task arc TASK.json [--task-id ID] [--test K] [--max-copies N] [--halt early|never] [--steps N] [--json]\n"
    "  trm eval W --data FILE.csv [--strategy S] [--limit N] [--halt early|never|both] [--threads T] [--json]\n"
    "  --strategy model|steps|vote|commit|best (solve, eval; default model): see src/solve.h\n"
    "      --steps N (model, vote: steps per run; steps: all steps), --copies N (vote, commit: augmented copies per batch),\n"
    "      --commit N (cells per round), --round-steps N, --max-calls N (model calls at most; default 16 x halt_max_steps),\n"
    "      --threshold P (commit: also every cell at least this probable; default 0.99), --backtracks N,\n"
    "      --carry 0|1 (commit: each round goes on from the last round's carry), --seed N (symmetries drawn)\n"
    "  trm generate sudoku --count N --seed S [--grade singles|harder] [--givens 28-36] [--out FILE.csv]\n"
    "  trm generate maze --count N --seed S [--path 20-40] [--walls 0.37] [--out FILE.csv]\n"
    "      question,answer CSV (stdout by default); the same seed gives the same puzzles on every machine.\n"
    "      sudoku grades: singles (naked and hidden singles solve it), harder (they do not); --givens: a range.\n"
    "      maze --path: shortest-path cells, S and G included (Maze-Hard: 110-147)\n"
    "  trm arc augment|restore   ARC augmentations for scripts (scripts/train/arc_data.py): one JSON request a line on\n"
    "      standard input, {\"name\": ROW} or {\"task\": ID, \"transform\": 0-7, \"colours\": [10]}, with \"grids\": [GRID...]\n"
    "      (restore: or \"tokens\": [[900]...]); one answer a line on standard output, flushed: {\"name\", \"task\",\n"
    "      \"transform\", \"colours\", \"grids\": augmented or restored, \"tokens\": encoded, as 900 hex digits (augment)}\n"
    "  trm symmetries sudoku|maze --count N [--seed S]   the symmetries the vote and commit strategies use (k = 0..N-1,\n"
    "      drawn from --seed as theirs, default 1): one JSON line each, {\"cell\": [...], \"token\": [...]} (codecs.h Symmetry)\n"
    "  --threads: worker threads per step (default: one per hardware thread)\n"
    "  --kernels eigen|simd (predict, solve, eval): the matrix-product path; simd is the one the WASM builds run\n"
    "      (f32x4 tiles, and the integer kernels for int8 files); default eigen\n";

// Command-line arguments: positionals, and `--name value` options (flags listed in `flags` take no value).
struct Args {
    std::vector<std::string> pos;
    std::map<std::string, std::string> opt;
    Args(int argc, char** argv, std::initializer_list<const char*> flags) {
        for (int i = 2; i < argc; ++i) {
            std::string a = argv[i];
            if (a.rfind("--", 0) == 0) {
                bool flag = false;
                for (const char* f : flags) flag = flag || a == f;
                if (flag) opt[a] = "1";
                else if (i + 1 < argc) opt[a] = argv[++i];
                else throw Error("option " + a + " needs a value");
            } else pos.push_back(a);
        }
    }
    std::string get(const std::string& k, const std::string& def = "") const {
        auto it = opt.find(k);
        return it == opt.end() ? def : it->second;
    }
    std::string need(const std::string& k) const {
        auto it = opt.find(k);
        if (it == opt.end()) throw Error("missing option " + k);
        return it->second;
    }
    int integer(const std::string& k, int def, int lo, int hi) const {
        auto it = opt.find(k);
        if (it == opt.end()) return def;
        char* end = nullptr;
        long v = std::strtol(it->second.c_str(), &end, 10);
        if (!end || *end || v < lo || v > hi)
            throw Error("option " + k + " = '" + it->second + "'; expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
        return int(v);
    }
    int threads() const { return integer("--threads", 0, 1, 256); }
    bool early_halt() const {
        const std::string h = get("--halt", "early");
        if (h != "early" && h != "never") throw Error("option --halt = '" + h + "'; expected early or never");
        return h == "early";
    }
    bool simd_kernels() const {
        const std::string k = get("--kernels", Model::kSimdKernelsByDefault ? "simd" : "eigen");
        if (k != "eigen" && k != "simd") throw Error("option --kernels = '" + k + "'; expected eigen or simd");
        return k == "simd";
    }
    // The weight file pos[0]: .safetensors, or an official checkpoint with --config etc. (checkpoint_loader.h).
    std::shared_ptr<const Model> model(bool simd = Model::kSimdKernelsByDefault) const { return load_model_for_cli(pos.at(0), opt, simd); }
    void check_known(std::initializer_list<const char*> known) const {
        for (const auto& [k, v] : opt) {
            bool ok = is_load_option(k);
            for (const char* n : known) ok = ok || k == n;
            if (!ok) throw Error("unknown option " + k);
        }
    }
};

static std::string read_text(const std::string& path) {
    std::vector<uint8_t> b = read_file(path);
    return std::string(b.begin(), b.end());
}

// CPU time of the calling thread: what a puzzle costs, whatever else shares the machine.
static double thread_cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

static double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// ---------------------------------------------------------------------------------------------------------------

static int cmd_info(const Args& a) {
    if (a.pos.size() != 1) throw Error("info needs one weight file");
    a.check_known({});
    auto m = a.model();
    const Config& c = m->config();
    // Text from the file (and its name) escaped: a newline or an escape sequence in it must not reach the terminal.
    std::printf("file        %s\n", printable(a.pos[0], SIZE_MAX).c_str());
    std::printf("task        %s\n", printable(m->task_json(), SIZE_MAX).c_str());
    std::printf("variant     %s, positions %s, %d layers, hidden %d, heads %d, expansion %g\n",
                c.mlp_t ? "token-mixing MLP (mlp_t)" : "attention", pos_encoding_name(c.pos_encodings), c.L_layers,
                c.hidden_size, c.num_heads, c.expansion);
    std::printf("sequence    %d tokens + %d puzzle-prefix positions, vocabulary %d\n", c.seq_len, c.prefix_len(), c.vocab_size);
    std::printf("recursion   H_cycles %d x L_cycles %d, up to %d supervision steps\n", c.H_cycles, c.L_cycles, c.halt_max_steps);
    std::printf("puzzle emb  %d rows x %d\n", c.num_puzzle_identifiers, c.puzzle_emb_ndim);
    std::printf("parameters  %lld (storage %s)\n", (long long)m->parameter_count(), m->storage_dtype().c_str());
    std::printf("config      %s\n", c.to_json().c_str());
    if (!m->source().empty()) std::printf("source      %s\n", printable(m->source(), SIZE_MAX).c_str());
    return 0;
}

static int cmd_predict(const Args& a) {
    if (a.pos.size() != 1) throw Error("predict needs one weight file");
    a.check_known({"--inputs", "--steps", "--out", "--threads", "--kernels"});
    auto m = a.model(a.simd_kernels());
    const Config& c = m->config();
    const std::string in_path = a.need("--inputs"), out_path = a.need("--out");
    const int steps = a.integer("--steps", c.halt_max_steps, 1, 100000);
    if (!a.opt.count("--steps")) throw Error("missing option --steps");

    std::vector<uint8_t> in_bytes = read_file(in_path);
    SafetensorsFile in = parse_safetensors(in_bytes.data(), in_bytes.size(), in_path);
    const TensorView* inputs = in.find("inputs");
    const TensorView* ids = in.find("puzzle_identifiers");
    if (!inputs || inputs->dtype != DType::I32 || inputs->shape.size() != 2 || inputs->shape[1] != c.seq_len || inputs->shape[0] < 1)
        throw Error(in_path + ": tensor 'inputs' must be I32 [B, " + std::to_string(c.seq_len) + "]");
    const int B = int(inputs->shape[0]);
    if (!ids || ids->dtype != DType::I32 || ids->shape != std::vector<int64_t>{B})
        throw Error(in_path + ": tensor 'puzzle_identifiers' must be I32 [" + std::to_string(B) + "]");
    std::vector<int32_t> tok(size_t(B) * c.seq_len), pid(static_cast<size_t>(B));
    std::memcpy(tok.data(), inputs->data, tok.size() * 4);
    std::memcpy(pid.data(), ids->data, pid.size() * 4);

    Solver solver(m, B, a.threads());
    for (int b = 0; b < B; ++b) solver.set_puzzle(b, tok.data() + size_t(b) * c.seq_len, pid[size_t(b)]);
    SafetensorsWriter out;
    const size_t TV = size_t(c.seq_len) * c.vocab_size, SD = size_t(c.positions()) * c.hidden_size;
    std::vector<float> logits(B * TV), qh(B), qc(B), zh(B * SD);
    for (int k = 0; k < steps; ++k) {
        solver.step();
        for (int b = 0; b < B; ++b) {
            std::memcpy(logits.data() + b * TV, solver.logits(b), TV * 4);
            std::memcpy(zh.data() + b * SD, solver.z_H(b), SD * 4);
            qh[size_t(b)] = solver.q_halt(b);
            qc[size_t(b)] = solver.q_continue(b);
        }
        const std::string p = "step" + std::to_string(k) + ".";
        out.add(p + "logits", DType::F32, {B, c.seq_len, c.vocab_size}, logits.data());
        out.add(p + "q_halt_logits", DType::F32, {B}, qh.data());
        out.add(p + "q_continue_logits", DType::F32, {B}, qc.data());
        out.add(p + "z_H", DType::F32, {B, c.positions(), c.hidden_size}, zh.data());
    }
    out.write(out_path);
    return 0;
}

// Rows of `flat` (side characters each), indented, as the solve command prints a grid.
static std::string pretty(const std::string& flat, int side) {
    std::string s;
    for (int r = 0; r * side < int(flat.size()); ++r) s += "  " + flat.substr(size_t(r * side), size_t(side)) + "\n";
    return s;
}

// The solve options shared by solve and eval (src/solve.h SolveOptions).
static SolveOptions solve_options(const Args& a, bool early_halt) {
    SolveOptions o;
    o.strategy = a.get("--strategy", "model");
    o.early_halt = early_halt;
    o.max_steps = a.integer("--steps", 0, 1, 100000);
    o.copies = a.integer("--copies", 0, 1, 4096);
    o.commit = a.integer("--commit", 0, 1, 100000);
    o.round_steps = a.integer("--round-steps", 0, 1, 100000);
    o.max_calls = a.integer("--max-calls", 0, 1, 1 << 30);
    o.backtracks = a.integer("--backtracks", -1, 0, 1 << 30);
    o.seed = uint64_t(a.integer("--seed", 1, 0, 2147483647));
    o.carry = a.integer("--carry", 0, 0, 1) == 1;
    if (a.opt.count("--threshold")) {
        const std::string v = a.get("--threshold");
        char* end = nullptr;
        o.threshold = std::strtod(v.c_str(), &end);
        if (v.empty() || *end || !(o.threshold > 0) || o.threshold > 2)
            throw Error("option --threshold = '" + v + "'; expected a number in (0, 2]");
    }
    return o;
}

// The model's codec for a text command: sudoku and maze only.
static std::shared_ptr<const TaskCodec> text_codec(const Model& m, const std::string& command) {
    auto codec = codec_for(m, command);
    if (!codec->has_text())
        throw Error(command + ": the model's task is '" + task_kind_name(m.task_kind()) + "'; " + command + " handles sudoku and maze models (use predict for raw tokens)");
    return codec;
}

// ARC: every augmented copy the model knows for the task runs as one batch; the copies vote on the answer.
static int cmd_solve_arc(const Args& a, std::shared_ptr<const Model> m) {
    const std::string path = a.pos.back();
    const arc::Task task = arc::parse_task(read_text(path), path);
    std::string id = a.get("--task-id");
    if (id.empty()) {  // the file name without folders and extension, as ARC task ids are
        id = path.substr(path.find_last_of('/') + 1);
        id = id.substr(0, id.rfind(".json"));
    }
    const int test = a.integer("--test", 0, 0, int(task.test.size()) - 1);
    const auto copies = arc::copies_for(*m, id, a.integer("--max-copies", 0, 0, 1 << 20));
    const bool json = a.opt.count("--json"), early = a.early_halt();
    const int max_steps = a.integer("--steps", m->config().halt_max_steps, 1, 100000);
    Solver solver(m, int(copies.size()), a.threads());
    arc::load_copies(solver, copies, task.test[size_t(test)].input);
    for (int k = 1; k <= max_steps && solver.any_active(); ++k) {
        const auto t0 = Clock::now();
        solver.step();
        const double ms = ms_since(t0);
        const auto attempts = arc::vote_copies(solver, copies);
        if (json)
            std::printf("%s\n", nlohmann::json({{"step", k}, {"ms", ms}, {"active", solver.any_active()}, {"distinct", attempts.size()},
                                                {"top_votes", attempts[0].votes}}).dump().c_str());
        else
            std::printf("step %d/%d  %d copies  %zu distinct answers, the leader has %d votes  %.1f ms\n", k, max_steps,
                        int(copies.size()), attempts.size(), attempts[0].votes, ms);
        std::fflush(stdout);
        if (early) solver.halt_confident();
    }
    const auto attempts = arc::vote_copies(solver, copies);
    const arc::Pair& pair = task.test[size_t(test)];
    nlohmann::json out = {{"done", true}, {"task", id}, {"test", test}, {"copies", copies.size()}, {"attempts", nlohmann::json::array()}};
    for (size_t i = 0; i < attempts.size() && i < 2; ++i) {
        nlohmann::json at = {{"grid", nlohmann::json::parse(arc::to_json(attempts[i].grid))}, {"votes", attempts[i].votes},
                             {"confidence", attempts[i].mean_confidence}};
        if (pair.has_output) at["correct"] = attempts[i].grid == pair.output;
        out["attempts"].push_back(at);
        if (!json)
            std::printf("attempt %zu: %d votes, confidence %.1f%%%s\n  %s\n", i + 1, attempts[i].votes, 100 * attempts[i].mean_confidence,
                        pair.has_output ? (attempts[i].grid == pair.output ? ", CORRECT" : ", wrong") : "", arc::to_json(attempts[i].grid).c_str());
    }
    if (json) std::printf("%s\n", out.dump().c_str());
    return 0;
}

static int cmd_solve(const Args& a) {
    if (a.pos.size() != 2) throw Error("solve needs a weight file and a puzzle");
    a.check_known({"--halt", "--steps", "--threads", "--json", "--task", "--task-id", "--test", "--max-copies", "--kernels", "--strategy",
                   "--copies", "--commit", "--round-steps", "--max-calls", "--backtracks", "--seed", "--carry", "--threshold"});
    auto m = a.model(a.simd_kernels());
    const std::string kind = a.get("--task", task_kind_name(m->task_kind()));
    if (parse_task_kind(kind) != m->task_kind())
        throw Error("solve: --task " + kind + " but the model's task is '" + task_kind_name(m->task_kind()) + "'");
    const auto codec = codec_for(*m, "solve");
    if (codec->kind() == TaskKind::Arc) return cmd_solve_arc(a, m);
    text_codec(*m, "solve");
    std::string text = a.pos[1];
    if (std::ifstream(text).good()) text = read_text(text);
    const bool json = a.opt.count("--json");
    SolveOptions o = solve_options(a, a.early_halt());
    o.threads = a.threads();
    SolveRun run(m, text, o);
    const bool plain = run.strategy() == Strategy::Model;  // the plain model prints exactly what it always has
    while (!run.done()) {
        const SolveStep& s = run.step();
        if (json) {
            nlohmann::json line = {{"step", s.step}, {"q_halt", s.q_halt}, {"q_continue", s.q_continue}, {"confidence", s.confidence},
                                   {"changed", s.changed.size()}, {"ms", s.ms}, {"prediction", s.prediction}};
            if (!plain) {
                line["model_calls"] = s.model_calls;
                line["note"] = s.note;
            }
            std::printf("%s\n", line.dump().c_str());
        } else {
            std::printf("step %d/%d  confidence %5.1f%% (q_halt %+.3f)  %zu cells changed  %.1f ms", s.step, s.max_steps,
                        100 * s.confidence, s.q_halt, s.changed.size(), s.ms);
            if (!plain) std::printf("  %d model calls%s%s", s.model_calls, s.note.empty() ? "" : "  ", s.note.c_str());
            std::printf("\n%s", pretty(s.prediction, run.codec().side()).c_str());
        }
        std::fflush(stdout);
    }
    const SolveStep& s = run.last();
    if (json) {
        nlohmann::json out = {{"done", true}, {"steps", s.step}, {"answer", s.prediction}, {"verified", s.verdict.ok},
                              {"message", s.verdict.message}, {"bad_cells", s.verdict.bad_cells}, {"givens_changed", s.givens_changed}};
        if (!plain) {
            out["strategy"] = strategy_name(run.strategy());
            out["model_calls"] = s.model_calls;
        }
        std::printf("%s\n", out.dump().c_str());
    } else {
        std::printf("%s after %d steps: %s", s.verdict.ok ? "VERIFIED" : "NOT VERIFIED", s.step, s.verdict.message.c_str());
        if (!plain) std::printf(" (strategy %s, %d model calls)", strategy_name(run.strategy()), s.model_calls);
        if (s.givens_changed) std::printf("; the network changed %d givens, shown as given", s.givens_changed);
        std::printf("\n");
    }
    return 0;
}

// question,answer rows of a CSV (header first). Quotes around a field are removed.
static std::vector<std::pair<std::string, std::string>> read_csv(const std::string& path, int limit) {
    std::ifstream f(path);
    if (!f) throw Error(path + ": cannot open file");
    std::string line;
    if (!std::getline(f, line)) throw Error(path + ": empty file; expected a header 'question,answer'");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line != "question,answer") throw Error(path + ": header is '" + line + "'; expected 'question,answer'");
    std::vector<std::pair<std::string, std::string>> rows;
    int n = 1;
    auto unquote = [](std::string s) { return s.size() >= 2 && s.front() == '"' && s.back() == '"' ? s.substr(1, s.size() - 2) : s; };
    while ((limit <= 0 || int(rows.size()) < limit) && std::getline(f, line)) {
        ++n;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        const size_t comma = line.find(',');
        if (comma == std::string::npos) throw Error(path + ": line " + std::to_string(n) + " has no comma; expected question,answer");
        rows.emplace_back(unquote(line.substr(0, comma)), unquote(line.substr(comma + 1)));
    }
    return rows;
}

static int cmd_eval(const Args& a) {
    if (a.pos.size() != 1) throw Error("eval needs one weight file");
    a.check_known({"--data", "--limit", "--halt", "--batch", "--threads", "--json", "--kernels", "--strategy", "--steps", "--copies",
                   "--commit", "--round-steps", "--max-calls", "--backtracks", "--seed", "--carry", "--threshold"});
    auto m = a.model(a.simd_kernels());
    const auto codec = text_codec(*m, "eval");
    const std::string data = a.need("--data");
    const auto rows = read_csv(data, a.integer("--limit", 0, 0, 1 << 30));
    if (rows.empty()) throw Error(data + ": no puzzles");
    // --halt early: a puzzle stops at its first step with q_halt > 0; never: every puzzle runs all N steps;
    // both: all N steps, scoring each puzzle's answer at the early-halting step too (one pass, both numbers).
    const std::string halt = a.get("--halt", "early");
    if (halt != "early" && halt != "never" && halt != "both")
        throw Error("option --halt = '" + halt + "'; expected early, never or both");
    const bool score_early = halt != "never", score_all = halt != "early", json = a.opt.count("--json");
    a.integer("--batch", 8, 1, 4096);  // accepted for older command lines: each worker now runs one puzzle at a time
    SolveOptions opt = solve_options(a, halt == "early");
    {
        const SolveRun probe(m, rows[0].first, opt);  // refuses bad options before any work
        if (halt == "both" && probe.strategy() != Strategy::Model)
            throw Error("option --halt both scores the plain model only; use --strategy model, or --halt early|never");
    }
    const int T = m->config().seq_len;

    // Encode everything first so that a bad row is reported before any work.
    std::vector<std::vector<int32_t>> ans(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
        try {
            codec->encode(rows[i].first);
            ans[i] = codec->encode(rows[i].second);
        } catch (const Error& e) {
            throw Error(data + ": row " + std::to_string(i + 1) + ": " + e.what());
        }
    }

    // `model` scores the network's own answer, as the paper's "model alone" (a changed given is wrong); every other
    // strategy scores the answer it shows. shown_exact scores the answer shown (givens restored) for all of them.
    struct Score {
        std::atomic<size_t> exact{0}, cells_right{0}, steps{0}, calls{0}, shown_exact{0}, givens_changed{0}, puzzles_givens_changed{0};
    } early_score, all_score;
    std::atomic<int64_t> cpu_us{0};
    // Puzzles are independent: each worker thread solves one at a time with a single-threaded SolveRun, taking the
    // next puzzle from one shared queue.
    const int workers = std::max(1, std::min<int>(a.threads() > 0 ? a.threads() : ThreadPool::hardware_threads(), int(rows.size())));
    std::atomic<size_t> next{0}, done{0};
    std::mutex error_mu;
    std::string error;
    // One puzzle's figures at one point of its run; added to a Score only once the puzzle is done, so that the
    // progress line divides by the puzzles it has counted.
    struct Tally {
        size_t exact, cells_right, steps, calls, shown_exact, givens_changed, puzzles_givens_changed;
    };
    auto tally = [&](size_t row, const SolveRun& run) {
        const SolveStep& step = run.last();
        const int32_t* scored = run.strategy() == Strategy::Model ? run.network_tokens() : step.tokens.data();
        int right = 0, shown_right = 0;
        for (int i = 0; i < T; ++i) {
            right += scored[i] == ans[row][size_t(i)];
            shown_right += step.tokens[size_t(i)] == ans[row][size_t(i)];
        }
        return Tally{right == T, size_t(right), size_t(step.step), size_t(step.model_calls), shown_right == T,
                     size_t(step.givens_changed), step.givens_changed > 0};
    };
    auto add = [](Score& s, const Tally& t) {
        s.exact += t.exact;
        s.cells_right += t.cells_right;
        s.steps += t.steps;
        s.calls += t.calls;
        s.shown_exact += t.shown_exact;
        s.givens_changed += t.givens_changed;
        s.puzzles_givens_changed += t.puzzles_givens_changed;
    };
    auto work = [&] {
        try {
            for (size_t r; (r = next++) < rows.size();) {
                const double cpu0 = thread_cpu_ms();
                SolveRun run(m, rows[r].first, opt);
                bool early_scored = false;
                Tally early{};
                while (!run.done()) {
                    const SolveStep& s = run.step();
                    if (score_early && score_all && !early_scored && (s.q_halt > 0.f || run.done())) {
                        early = tally(r, run);  // where early halting stops it
                        early_scored = true;
                    }
                }
                if (early_scored) add(early_score, early);
                add(score_all ? all_score : early_score, tally(r, run));
                cpu_us += int64_t(1000 * (thread_cpu_ms() - cpu0));
                ++done;
            }
        } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lock(error_mu);
            if (error.empty()) error = e.what();
            next = rows.size();  // the others stop taking puzzles
        }
    };
    opt.threads = 1;
    const auto t0 = Clock::now();
    const bool tty = isatty(2);
    const Score& shown = score_early ? early_score : all_score;
    auto report = [&](bool final) {
        const size_t d = done;
        std::fprintf(stderr, "%seval %zu/%zu  exact %.2f%%  cells %.2f%%  mean steps %.2f  mean model calls %.1f  %.1f puzzles/s%s",
                     tty ? "\r" : "", d, rows.size(), d ? 100.0 * double(shown.exact) / double(d) : 0.0,
                     d ? 100.0 * double(shown.cells_right) / (double(d) * T) : 0.0, d ? double(shown.steps) / double(d) : 0.0,
                     d ? double(shown.calls) / double(d) : 0.0, double(d) / std::max(1e-9, ms_since(t0) / 1000), (final || !tty) ? "\n" : "");
    };
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) pool.emplace_back(work);
    for (auto last = Clock::now(); done < rows.size() && error.empty();) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (ms_since(last) > (tty ? 500 : 10000)) { report(false); last = Clock::now(); }
    }
    for (std::thread& t : pool) t.join();
    if (!error.empty()) throw Error(error);
    report(true);
    const double secs = ms_since(t0) / 1000, n = double(done);
    const std::string strategy = strategy_name(SolveRun(m, rows[0].first, opt).strategy());
    auto metrics = [&](const Score& s) {
        return nlohmann::json({{"exact_accuracy", double(s.exact) / n}, {"cell_accuracy", double(s.cells_right) / (n * T)},
                               {"mean_steps", double(s.steps) / n}, {"mean_model_calls", double(s.calls) / n},
                               {"shown_exact_accuracy", double(s.shown_exact) / n},
                               {"mean_givens_changed", double(s.givens_changed) / n},
                               {"puzzles_givens_changed", double(s.puzzles_givens_changed) / n}});
    };
    if (json) {
        nlohmann::json out = {{"count", size_t(done)}, {"halt", halt}, {"seconds", secs}, {"threads", workers}, {"batch", 1},
                              {"strategy", strategy}, {"ms_per_puzzle", 1000 * secs * workers / n},
                              {"cpu_ms_per_puzzle", double(cpu_us) / 1000 / n},
                              {"kernels", m->int8_kernels() ? "simd+int8" : m->simd_kernels() ? "simd" : "eigen"}};
        if (halt == "both") {
            out["early"] = metrics(early_score);
            out["never"] = metrics(all_score);
        } else {
            out.update(metrics(shown));
        }
        std::printf("%s\n", out.dump().c_str());
    } else {
        for (const auto& [name, s] : {std::pair<const char*, const Score*>{"early", &early_score}, {"never", &all_score}})
            if (halt == name || halt == "both")
                std::printf("%zu puzzles  exact %.2f%%  cells %.2f%%  mean steps %.2f (halt %s)  strategy %s  mean model calls %.1f  "
                            "%.1f ms per puzzle (%.1f ms CPU)  %.1f s  shown exact %.2f%%  the network changed givens in %.2f%% of puzzles\n",
                            size_t(done), 100 * double(s->exact) / n, 100 * double(s->cells_right) / (n * T), double(s->steps) / n, name,
                            strategy.c_str(), double(s->calls) / n, 1000 * secs * workers / n, double(cpu_us) / 1000 / n, secs,
                            100 * double(s->shown_exact) / n, 100 * double(s->puzzles_givens_changed) / n);
    }
    return 0;
}

// "LO-HI" or "N" -> [lo, hi] within [min, max].
static std::pair<int, int> parse_range(const Args& a, const std::string& k, const std::string& def, int min, int max) {
    const std::string v = a.get(k, def);
    const size_t dash = v.find('-');
    char* end = nullptr;
    const long lo = std::strtol(v.c_str(), &end, 10);
    long hi = lo;
    bool ok = end != v.c_str() && (dash == std::string::npos ? *end == 0 : end == v.c_str() + dash);
    if (ok && dash != std::string::npos) {
        const char* h = v.c_str() + dash + 1;
        hi = std::strtol(h, &end, 10);
        ok = end != h && *end == 0;
    }
    if (!ok || lo < min || hi > max || lo > hi)
        throw Error("option " + k + " = '" + v + "'; expected N or LO-HI within " + std::to_string(min) + "-" + std::to_string(max));
    return {int(lo), int(hi)};
}

static int cmd_generate(const Args& a) {
    const std::optional<TaskKind> kind = a.pos.size() == 1 ? parse_task_kind(a.pos[0]) : std::nullopt;
    if (kind != TaskKind::Sudoku && kind != TaskKind::Maze) throw Error("generate needs a kind: sudoku or maze");
    const bool is_sudoku = kind == TaskKind::Sudoku;
    if (is_sudoku) a.check_known({"--count", "--seed", "--grade", "--givens", "--out"});
    else a.check_known({"--count", "--seed", "--path", "--walls", "--out"});
    const int count = a.integer("--count", 0, 1, 100000000);
    if (!count) throw Error("missing option --count");
    if (a.get("--seed").empty()) throw Error("missing option --seed (the same seed gives the same puzzles)");
    Rng rng(uint64_t(a.integer("--seed", 0, 0, 2147483647)));
    const std::string out = a.get("--out");
    std::ofstream file;
    if (!out.empty()) {
        file.open(out);
        if (!file) throw Error(out + ": cannot create file");
    }
    std::ostream& os = out.empty() ? std::cout : file;
    os << "question,answer\n";
    if (is_sudoku) {
        const std::string grade = a.get("--grade", "singles");
        if (grade != "singles" && grade != "harder") throw Error("option --grade = '" + grade + "'; expected singles or harder");
        const auto [lo, hi] = parse_range(a, "--givens", "28-36", 17, 80);
        for (int i = 0; i < count; ++i) {
            const GeneratedPuzzle p = sudoku::generate(rng, grade == "singles" ? sudoku::Grade::Singles : sudoku::Grade::Harder, lo, hi);
            os << p.question << ',' << p.answer << '\n';
        }
    } else {
        const auto [lo, hi] = parse_range(a, "--path", "20-40", 2, maze::kCells);
        const std::string w = a.get("--walls", "0.37");
        char* end = nullptr;
        const double walls = std::strtod(w.c_str(), &end);
        if (end == w.c_str() || *end || !(walls >= 0 && walls < 0.9)) throw Error("option --walls = '" + w + "'; expected a fraction in [0, 0.9)");
        for (int i = 0; i < count; ++i) {
            const GeneratedPuzzle p = maze::generate(rng, lo, hi, walls);
            os << p.question << ',' << p.answer << '\n';
        }
    }
    os.flush();
    if (!os) throw Error((out.empty() ? std::string("standard output") : out) + ": write failed");
    return 0;
}

// trm arc augment|restore (kUsage): the ARC augmentations of src/tasks.h for the training scripts, which ask for a
// whole dataset through one process.
static int cmd_arc(const Args& a) {
    a.check_known({});
    const std::string mode = a.pos.size() == 1 ? a.pos[0] : "";
    if (mode != "augment" && mode != "restore") throw Error("arc needs a mode: augment or restore");
    const bool restoring = mode == "restore";
    auto grid_json = [](const arc::Grid& g) {
        nlohmann::json rows = nlohmann::json::array();
        for (int r = 0; r < g.rows; ++r)
            rows.push_back(std::vector<int>(g.cells.begin() + r * g.cols, g.cells.begin() + (r + 1) * g.cols));
        return rows;
    };
    std::string line;
    for (int n = 1; std::getline(std::cin, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = "standard input line " + std::to_string(n);
        const nlohmann::json j = parse_json(line, where);
        if (j.is_discarded() || !j.is_object()) throw Error(where + ": expected a JSON object (trm arc: see usage)");
        auto parse_identifier = [&](const std::string& name) {
            try {
                return arc::parse_identifier(name);
            } catch (const Error& e) {
                throw Error(where + ": " + e.what());
            }
        };
        arc::Augmentation aug;
        if (j.contains("name")) {
            if (!j["name"].is_string()) throw Error(where + ": \"name\" must be a row name (a string)");
            aug = parse_identifier(j["name"].get<std::string>());
        } else {
            const nlohmann::json& t = j.value("transform", nlohmann::json());
            const nlohmann::json& c = j.value("colours", nlohmann::json());
            if (!j.value("task", nlohmann::json()).is_string() || !t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > 7 ||
                !c.is_array() || c.size() != 10)
                throw Error(where + ": expected \"name\", or \"task\" (a string), \"transform\" (0-7) and \"colours\" (10 colours)");
            arc::Augmentation given;
            given.task_id = j["task"].get<std::string>();
            given.transform = int(t.get<int64_t>());
            for (size_t k = 0; k < 10; ++k) {
                if (!c[k].is_number_integer() || c[k].get<int64_t>() < 0 || c[k].get<int64_t>() > 9)
                    throw Error(where + ": colours[" + std::to_string(k) + "] = " + c[k].dump() + "; expected a colour 0-9");
                given.colours[k] = uint8_t(c[k].get<int64_t>());
            }
            aug = parse_identifier(arc::identifier(given));  // refuses what a row name cannot say
            if (aug.task_id != given.task_id) throw Error(where + ": task '" + given.task_id + "'; a task id must not hold '|||'");
        }
        std::vector<arc::Grid> grids;
        const bool tokens = restoring && j.contains("tokens");
        const nlohmann::json& list = j.value(tokens ? "tokens" : "grids", nlohmann::json());
        if (!list.is_array())
            throw Error(where + ": expected \"grids\": [GRID...]" + (restoring ? " or \"tokens\": [[900 tokens]...]" : ""));
        for (size_t k = 0; k < list.size(); ++k) {
            const std::string at = where + ": " + (tokens ? "tokens" : "grids") + "[" + std::to_string(k) + "]";
            if (!tokens) {
                grids.push_back(arc::parse_grid(list[k], at));
                continue;
            }
            const nlohmann::json& t = list[k];
            if (!t.is_array() || t.size() != size_t(arc::kSeqLen)) throw Error(at + ": expected a list of 900 tokens");
            std::vector<int32_t> v;
            for (const auto& x : t) {
                if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > 11) throw Error(at + ": " + x.dump() + " is not a token 0-11");
                v.push_back(int32_t(x.get<int64_t>()));
            }
            grids.push_back(arc::decode(v.data()));
        }
        nlohmann::json out = {{"name", arc::identifier(aug)}, {"task", aug.task_id}, {"transform", aug.transform},
                              {"colours", std::vector<int>(aug.colours, aug.colours + 10)}};
        nlohmann::json done = nlohmann::json::array(), encoded = nlohmann::json::array();
        for (const arc::Grid& g : grids) {
            const arc::Grid x = restoring ? arc::restore(aug, g) : arc::augment(aug, g);
            done.push_back(grid_json(x));
            if (!restoring) {  // 900 hex digits: a dataset's worth of tokens reads fast
                std::string hex;
                for (int32_t t : arc::encode(x)) hex += "0123456789ab"[t];
                encoded.push_back(hex);
            }
        }
        out["grids"] = done;
        if (!restoring) out["tokens"] = encoded;
        std::cout << out.dump() << '\n' << std::flush;
        if (!std::cout) throw Error("standard output: write failed");
    }
    return 0;
}

// trm symmetries (kUsage): the symmetries of src/codecs.cpp, for the training scripts' tests of their augmentations.
static int cmd_symmetries(const Args& a) {
    a.check_known({"--count", "--seed"});
    const std::optional<TaskKind> kind = a.pos.size() == 1 ? parse_task_kind(a.pos[0]) : std::nullopt;
    if (kind != TaskKind::Sudoku && kind != TaskKind::Maze) throw Error("symmetries needs a kind: sudoku or maze");
    const std::shared_ptr<const TaskCodec> codec = codec_for(*kind);
    const int count = a.integer("--count", 0, 1, std::min(codec->symmetry_count(), 100000));
    if (!count) throw Error("missing option --count");
    const uint64_t seed = uint64_t(a.integer("--seed", 1, 0, 2147483647));
    for (int k = 0; k < count; ++k) {
        const Symmetry s = codec->symmetry(k, seed);
        std::cout << nlohmann::json({{"cell", s.cell}, {"token", s.token}}).dump() << '\n';
    }
    std::cout.flush();
    if (!std::cout) throw Error("standard output: write failed");
    return 0;
}

// Error messages quote names and values from files: one line each, escaped (json_read.h printable), at most this long.
constexpr size_t kMaxMessage = 2000;

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        std::fputs(kUsage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string cmd = argv[1];
    try {
        if (cmd == "info") return cmd_info(Args(argc, argv, {}));
        if (cmd == "predict") return cmd_predict(Args(argc, argv, {}));
        if (cmd == "solve") return cmd_solve(Args(argc, argv, {"--json"}));
        if (cmd == "eval") return cmd_eval(Args(argc, argv, {"--json"}));
        if (cmd == "generate") return cmd_generate(Args(argc, argv, {}));
        if (cmd == "arc") return cmd_arc(Args(argc, argv, {}));
        if (cmd == "symmetries") return cmd_symmetries(Args(argc, argv, {}));
        if (cmd == "convert") { const Args a(argc, argv, {}); return convert_command(a.pos, a.opt); }
        std::fprintf(stderr, "trm: unknown command '%s'\n%s", printable(cmd).c_str(), kUsage);
        return 2;
    } catch (const Error& e) {
        std::fprintf(stderr, "trm %s: %s\n", cmd.c_str(), printable(e.what(), kMaxMessage).c_str());
        return 1;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "trm %s: out of memory\n", cmd.c_str());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "trm %s: %s\n", cmd.c_str(), printable(e.what(), kMaxMessage).c_str());
        return 1;
    }
}
