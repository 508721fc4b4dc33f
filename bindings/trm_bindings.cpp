// Embind surface over src/: marshalling only. Every engine call that can fail is wrapped by `guarded`, which turns a
// C++ exception into a null/false result and keeps the message for lastError(), so that no exception crosses into
// JavaScript (an exception unwinding through Embind frames would leak the shadow stack); web/trm-worker.js turns
// that into an Error with the same message. Arrays go out as fresh typed-array copies, or as views into the heap
// that the caller copies at once (a view goes stale when memory grows).
#include <emscripten/bind.h>
#include <emscripten/em_js.h>
#include <emscripten/heap.h>
#include <emscripten/val.h>
#include <malloc.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <new>
#include <string>
#include <vector>

#include "arc_solver.h"
#include "generators.h"
#include "model.h"
#include "solve.h"
#include "tasks.h"

using emscripten::val;

namespace {

std::string g_error;  // the message of the last failed call

template <class F, class R>
R guarded(F&& f, R fail) {
    g_error.clear();
    try {
        return f();
    } catch (const std::bad_alloc&) {
        g_error = "out of memory";
    } catch (const std::exception& e) {
        g_error = e.what();
    }
    return fail;
}

val int32_array(const int32_t* p, size_t n) { return val::global("Int32Array").new_(emscripten::typed_memory_view(n, p)); }

val int_list(const std::vector<int>& v) {
    val a = val::array();
    for (size_t i = 0; i < v.size(); ++i) a.set(i, v[i]);
    return a;
}

val verdict(const trm::Verdict& v) {
    val o = val::object();
    o.set("ok", v.ok);
    o.set("message", v.message);
    o.set("badCells", int_list(v.bad_cells));
    return o;
}

// Accepts a JavaScript Int32Array or array of numbers.
std::vector<int32_t> tokens_from(const val& tokens) { return emscripten::convertJSArrayToNumberVector<int32_t>(tokens); }

// trm::Model, loaded and immutable.
struct Model {
    std::shared_ptr<const trm::Model> m;
    std::string configJson() const { return m->config().to_json(); }
    std::string taskJson() const { return m->task_json(); }
    std::string taskKind() const { return trm::task_kind_name(m->task_kind()); }
    std::string source() const { return m->source(); }
    std::string storageDtype() const { return m->storage_dtype(); }
    double parameterCount() const { return double(m->parameter_count()); }
    int prefixLen() const { return m->config().prefix_len(); }
    int positions() const { return m->config().positions(); }
    // What strategy 'best' runs for this model ("" when its task's shape is wrong, which a solve reports).
    std::string bestStrategy() const {
        try {
            return trm::best_strategy(*m);
        } catch (const std::exception&) {
            return "";
        }
    }
    // A weight by its file name, float32 as loaded (web/webgpu/ uploads them); null when the configuration has none.
    val weight(const std::string& name) const {
        const float* w = m->weight(name);
        if (!w) return val::null();
        size_t n = 1;
        for (const trm::WeightShape& s : trm::weight_shapes(m->config()))
            if (s.name == name) for (int64_t d : s.shape) n *= size_t(d);
        return val::global("Float32Array").new_(emscripten::typed_memory_view(n, w));
    }
    // The RoPE tables [S, head_dim] (empty without RoPE), as the engine computed them.
    val ropeCos() const { return val::global("Float32Array").new_(emscripten::typed_memory_view(m->rope_cos.size(), m->rope_cos.data())); }
    val ropeSin() const { return val::global("Float32Array").new_(emscripten::typed_memory_view(m->rope_sin.size(), m->rope_sin.data())); }
    val puzzleIdentifiers() const {
        val a = val::array();
        for (size_t i = 0; i < m->puzzle_identifiers().size(); ++i) a.set(i, m->puzzle_identifiers()[i]);
        return a;
    }
};

// `bytes` is a JavaScript Uint8Array, copied into the WASM heap by one TypedArray.set. (Embind's std::string
// accepts one too, but copies it a byte at a time, and in the threads build every byte also checks whether the heap
// has grown: most of a 20 MB file's 0.8-1.0 s load.) The model converts every weight into its own arena, so the copy is
// freed on return.
Model* loadModel(const val& bytes, const std::string& label) {
    return guarded([&] {
        const std::vector<uint8_t> data = emscripten::convertJSArrayToNumberVector<uint8_t>(bytes);
        return new Model{trm::Model::load(data.data(), data.size(), label)};
    }, static_cast<Model*>(nullptr));
}

// A step run by an external network (web/webgpu/, see trm::Solver::set_outputs). The request: the slots to run,
// in order, each {slot, x: Float32Array [S*D] when its input changed (else null), resetCarry}.
val external_request(const trm::Solver& s) {
    const trm::Config& c = s.model().config();
    const size_t SD = size_t(c.positions()) * c.hidden_size;
    val slots = val::array();
    int n = 0;
    for (int b = 0; b < s.batch(); ++b) {
        if (!s.active(b)) continue;
        val o = val::object();
        o.set("slot", b);
        o.set("x", s.fresh_input(b) ? val::global("Float32Array").new_(emscripten::typed_memory_view(SD, s.x(b))) : val::null());
        o.set("resetCarry", s.fresh_carry(b));
        slots.set(n++, o);
    }
    return slots;
}
// The answer: for slots[i], logits [i, seq_len, V], qHalt[i], qContinue[i] (Float32Arrays).
void external_result(trm::Solver& s, const val& slots, const val& logits, const val& qHalt, const val& qContinue) {
    const trm::Config& c = s.model().config();
    const size_t TV = size_t(c.seq_len) * c.vocab_size;
    const std::vector<int32_t> b = emscripten::convertJSArrayToNumberVector<int32_t>(slots);
    const std::vector<float> l = emscripten::convertJSArrayToNumberVector<float>(logits);
    const std::vector<float> qh = emscripten::convertJSArrayToNumberVector<float>(qHalt);
    const std::vector<float> qc = emscripten::convertJSArrayToNumberVector<float>(qContinue);
    if (l.size() != b.size() * TV || qh.size() != b.size() || qc.size() != b.size())
        throw trm::Error("external step: " + std::to_string(l.size()) + " logits and " + std::to_string(qh.size()) + "/" +
                         std::to_string(qc.size()) + " q values for " + std::to_string(b.size()) + " slots");
    for (size_t i = 0; i < b.size(); ++i) s.set_outputs(b[i], l.data() + i * TV, qh[i], qc[i]);
}

// Slot b's carry zH, zL (Float32Arrays [S*D]) from the external network, when it fails mid-solve and step() takes
// over (web/trm-worker.js). A slot whose carry set_puzzle reset since the network last ran it holds H_init/L_init
// here already, which is what the network would have started from: it is left alone.
void take_carry(trm::Solver& s, int b, const val& zH, const val& zL) {
    const trm::Config& c = s.model().config();
    const size_t SD = size_t(c.positions()) * c.hidden_size;
    if (b < 0 || b >= s.batch()) throw trm::Error("takeCarry: slot " + std::to_string(b) + " is outside the batch of " + std::to_string(s.batch()));
    if (s.fresh_carry(b)) return;
    const std::vector<float> h = emscripten::convertJSArrayToNumberVector<float>(zH);
    const std::vector<float> l = emscripten::convertJSArrayToNumberVector<float>(zL);
    if (h.size() != SD || l.size() != SD)
        throw trm::Error("takeCarry: slot " + std::to_string(b) + ": zH has " + std::to_string(h.size()) + " and zL " +
                         std::to_string(l.size()) + " values; expected positions x hidden_size = " + std::to_string(SD));
    s.set_carry(b, h.data(), l.data());
}

// trm::Solver for a batch of puzzles.
struct Solver {
    trm::Solver s;
    int seq_len, vocab, SD;
    bool setPuzzle(int b, const val& tokens, int puzzle_id) {
        return guarded([&] {
            const std::vector<int32_t> t = tokens_from(tokens);
            if (int(t.size()) != seq_len)
                throw trm::Error("input: " + std::to_string(t.size()) + " tokens; the model expects seq_len " + std::to_string(seq_len));
            s.set_puzzle(b, t.data(), puzzle_id);
            return true;
        }, false);
    }
    bool step() { return guarded([&] { s.step(); return true; }, false); }
    // step() with the network run elsewhere: stepRequest(), the external network, stepResult(slots, ...).
    val stepRequest() const { return external_request(s); }
    bool stepResult(const val& slots, const val& logits, const val& qHalt, const val& qContinue) {
        return guarded([&] { external_result(s, slots, logits, qHalt, qContinue); return true; }, false);
    }
    void halt(int b) { if (b >= 0 && b < s.batch()) s.halt(b); }
    void haltConfident() { s.halt_confident(); }
    bool active(int b) const { return b >= 0 && b < s.batch() && s.active(b); }
    int stepsDone(int b) const { return s.steps_done(b); }
    int threads() const { return s.threads(); }
    float qHalt(int b) const { return s.q_halt(b); }
    float qContinue(int b) const { return s.q_continue(b); }
    // Views into the heap: copy them before the next call into the module.
    val predictions(int b) const { return val(emscripten::typed_memory_view(size_t(seq_len), s.predictions(b))); }
    val logits(int b) const { return val(emscripten::typed_memory_view(size_t(seq_len) * vocab, s.logits(b))); }
    val zH(int b) const { return val(emscripten::typed_memory_view(size_t(SD), s.z_H(b))); }
    bool takeCarry(int b, const val& zH, const val& zL) { return guarded([&] { take_carry(s, b, zH, zL); return true; }, false); }
};

// threads: the solver's thread pool (the single-thread build runs everything inline whatever it says).
Solver* makeSolver(const Model& model, int batch, int threads) {
    return guarded([&] {
        const trm::Config& c = model.m->config();
        return new Solver{trm::Solver(model.m, batch, threads), c.seq_len, c.vocab_size, c.positions() * c.hidden_size};
    }, static_cast<Solver*>(nullptr));
}

// Task codecs and validators (src/tasks.h). Encoders return null on refusal (message in lastError()).
val sudokuEncode(const std::string& p) {
    return guarded([&] { auto t = trm::sudoku::encode(p); return int32_array(t.data(), t.size()); }, val::null());
}
std::string sudokuDecode(const val& tokens) {
    auto t = tokens_from(tokens);
    t.resize(trm::sudoku::kCells, 0);
    return trm::sudoku::decode(t.data());
}
val sudokuVerify(const std::string& puzzle, const std::string& answer) {
    return guarded([&] { return verdict(trm::sudoku::verify(puzzle, answer)); }, val::null());
}
val mazeNormalize(const std::string& m) {
    return guarded([&] { return val(trm::maze::normalize(m)); }, val::null());
}
val mazeEncode(const std::string& m) {
    return guarded([&] { auto t = trm::maze::encode(m); return int32_array(t.data(), t.size()); }, val::null());
}
std::string mazeDecode(const val& tokens) {
    auto t = tokens_from(tokens);
    t.resize(trm::maze::kCells, 0);
    return trm::maze::decode(t.data());
}
val mazeVerify(const std::string& maze, const std::string& answer) {
    return guarded([&] { return verdict(trm::maze::verify(maze, answer)); }, val::null());
}

// One puzzle's solve (src/solve.h): the loop, halting, decoding, verification and strategies are all in C++; this
// only turns each step into a JavaScript object.
struct SolveRun {
    std::unique_ptr<trm::SolveRun> r;
    bool raw;  // made from tokens: the prediction goes out as tokens too
    // {step, maxSteps, prediction, tokens, changed, confidence, qHalt, qContinue, verified, message, badCells, ms,
    //  modelCalls, givensChanged, note, strategy, done[, logits]}; null on failure (message in lastError()).
    val step(bool logits) {
        return guarded([&] { return object(r->step(), logits); }, val::null());
    }
    // step() with the network run elsewhere: beginStep() gives external_request's slots (null on failure), the external
    // network runs them, endStep(slots, logits, qHalt, qContinue, withLogits) gives the step as step() does.
    val beginStep() {
        return guarded([&] { r->begin_step(); return external_request(r->solver()); }, val::null());
    }
    val endStep(const val& slots, const val& logits, const val& qHalt, const val& qContinue, bool withLogits) {
        return guarded([&] {
            external_result(r->solver(), slots, logits, qHalt, qContinue);
            return object(r->end_step(), withLogits);
        }, val::null());
    }
    // The begun step's network run here after all (the external one failed; see takeCarry), then endStep.
    val finishStep(bool withLogits) {
        return guarded([&] { r->solver().step(); return object(r->end_step(), withLogits); }, val::null());
    }
    bool takeCarry(int b, const val& zH, const val& zL) { return guarded([&] { take_carry(r->solver(), b, zH, zL); return true; }, false); }
    val object(const trm::SolveStep& s, bool logits) const {
        val o = val::object();
        o.set("step", s.step);
        o.set("maxSteps", s.max_steps);
        val tokens = int32_array(s.tokens.data(), s.tokens.size());
        o.set("tokens", tokens);
        o.set("prediction", raw ? val(int32_array(s.tokens.data(), s.tokens.size())) : val(s.prediction));
        o.set("changed", int_list(s.changed));
        o.set("confidence", s.confidence);
        o.set("qHalt", s.q_halt);
        o.set("qContinue", s.q_continue);
        o.set("verified", s.verdict.ok);
        o.set("message", s.verdict.message);
        o.set("badCells", int_list(s.verdict.bad_cells));
        o.set("ms", s.ms);
        o.set("modelCalls", s.model_calls);
        o.set("givensChanged", s.givens_changed);
        o.set("note", s.note);
        o.set("strategy", std::string(trm::strategy_name(r->strategy())));
        o.set("done", s.done);
        if (logits) {
            const trm::Config& c = cfg;
            o.set("logits", val::global("Float32Array").new_(emscripten::typed_memory_view(size_t(c.seq_len) * c.vocab_size, r->logits())));
        }
        return o;
    }
    bool done() const { return r->done(); }
    std::string strategy() const { return trm::strategy_name(r->strategy()); }
    trm::Config cfg;
};

// input: puzzle text (sudoku, maze) or tokens (Int32Array or array, any task) with puzzle row `puzzleId`;
// optionsJson: trm::SolveOptions::from_json's names.
SolveRun* makeSolveRun(const Model& model, const val& input, int puzzleId, const std::string& optionsJson) {
    return guarded([&] {
        const trm::SolveOptions o = trm::SolveOptions::from_json(optionsJson, "solve options");
        if (input.isString())
            return new SolveRun{std::make_unique<trm::SolveRun>(model.m, input.as<std::string>(), o), false, model.m->config()};
        return new SolveRun{std::make_unique<trm::SolveRun>(model.m, tokens_from(input), puzzleId, o), true, model.m->config()};
    }, static_cast<SolveRun*>(nullptr));
}

// ARC (src/arc_solver.h): one test input of a task, run as a batch of the augmented copies the model has rows for.
struct ArcRun {
    trm::arc::Task task;
    int test;
    std::vector<trm::arc::Copy> copies;
    trm::Solver s;
    int copyCount() const { return int(copies.size()); }
    bool step() { return guarded([&] { s.step(); return true; }, false); }
    val stepRequest() const { return external_request(s); }
    bool stepResult(const val& slots, const val& logits, const val& qHalt, const val& qContinue) {
        return guarded([&] { external_result(s, slots, logits, qHalt, qContinue); return true; }, false);
    }
    bool takeCarry(int b, const val& zH, const val& zL) { return guarded([&] { take_carry(s, b, zH, zL); return true; }, false); }
    void haltConfident() { s.halt_confident(); }
    int active() const { return s.any_active(); }  // copies not halted
    // The distinct answers so far, ranked (trm::arc::vote_copies): {"distinct": n, "attempts": [{"grid", "votes",
    // "confidence", "correct"?, "certainty"?}]} with the first `top` of them; "correct" when the task holds this test's
    // output; with `certainty`, each cell's probability in rows like the grid's (trm::arc::cell_certainty, 4 decimals).
    std::string attemptsJson(int top, bool certainty) const {
        return guarded([&] {
            const auto attempts = trm::arc::vote_copies(s, copies);
            const trm::arc::Pair& pair = task.test[size_t(test)];
            nlohmann::json out = {{"distinct", attempts.size()}, {"attempts", nlohmann::json::array()}};
            for (size_t i = 0; i < attempts.size() && int(i) < top; ++i) {
                nlohmann::json at = {{"grid", nlohmann::json::parse(trm::arc::to_json(attempts[i].grid))},
                                     {"votes", attempts[i].votes}, {"confidence", attempts[i].mean_confidence}};
                if (pair.has_output) at["correct"] = attempts[i].grid == pair.output;
                if (certainty) {
                    const std::vector<float> p = trm::arc::cell_certainty(s, copies, attempts[i].grid);
                    nlohmann::json rows = nlohmann::json::array();
                    for (int r = 0; r < attempts[i].grid.rows && !p.empty(); ++r) {
                        nlohmann::json row = nlohmann::json::array();
                        for (int c = 0; c < attempts[i].grid.cols; ++c)
                            row.push_back(std::round(double(p[size_t(r * attempts[i].grid.cols + c)]) * 1e4) / 1e4);
                        rows.push_back(row);
                    }
                    at["certainty"] = rows;
                }
                out["attempts"].push_back(at);
            }
            return out.dump();
        }, std::string());
    }
};

// taskJson: an ARC task file's text (`label` names it in errors); taskId selects the model's rows; maxCopies 0: all.
ArcRun* makeArcRun(const Model& model, const std::string& taskJson, const std::string& label, const std::string& taskId,
                   int test, int maxCopies, int threads) {
    return guarded([&] {
        trm::arc::Task task = trm::arc::parse_task(taskJson, label);
        if (test < 0 || test >= int(task.test.size()))
            throw trm::Error(label + ": test " + std::to_string(test) + " is out of range; the task has " +
                             std::to_string(task.test.size()) + " test input" + (task.test.size() == 1 ? "" : "s"));
        if (maxCopies < 0) throw trm::Error("arc: maxCopies = " + std::to_string(maxCopies) + "; expected 0 (all) or more");
        auto copies = trm::arc::copies_for(*model.m, taskId, maxCopies);
        trm::Solver s(model.m, int(copies.size()), threads);
        trm::arc::load_copies(s, copies, task.test[size_t(test)].input);
        return new ArcRun{std::move(task), test, std::move(copies), std::move(s)};
    }, static_cast<ArcRun*>(nullptr));
}

// One puzzle from src/generators.h, so the page draws puzzles by the same rules as the evaluation files:
// {question, answer} in the task's text form. kind 'sudoku': lo-hi givens, grade 'singles' or 'harder';
// kind 'maze': lo-hi shortest-path cells (S and G included), grade unused. seed: an integer in [0, 2^53).
val generatePuzzle(const std::string& kind, double seed, int lo, int hi, const std::string& grade) {
    return guarded([&] {
        if (!(seed >= 0 && seed < 9007199254740992.0) || seed != double(uint64_t(seed)))
            throw trm::Error("generate: seed " + std::to_string(seed) + "; expected an integer in [0, 2^53)");
        trm::Rng rng{uint64_t(seed)};
        trm::GeneratedPuzzle p;
        const std::optional<trm::TaskKind> k = trm::parse_task_kind(kind);
        if (k == trm::TaskKind::Sudoku) {
            if (grade != "singles" && grade != "harder")
                throw trm::Error("generate: grade '" + grade + "'; expected 'singles' or 'harder'");
            p = trm::sudoku::generate(rng, grade == "singles" ? trm::sudoku::Grade::Singles : trm::sudoku::Grade::Harder, lo, hi);
        } else if (k == trm::TaskKind::Maze) {
            p = trm::maze::generate(rng, lo, hi);
        } else {
            throw trm::Error("generate: kind '" + kind + "'; expected 'sudoku' or 'maze'");
        }
        val o = val::object();
        o.set("question", p.question);
        o.set("answer", p.answer);
        return o;
    }, val::null());
}

// A cancel during a step (model.h set_interrupt): web/trm-worker.js sets Module.trmInterrupted, which reads the
// shared cancel flag the page writes while this thread is busy in the step.
EM_JS(int, interrupt_requested, (), { return Module.trmInterrupted && Module.trmInterrupted() ? 1 : 0; });
const bool g_interrupt_installed = (trm::set_interrupt(+[] { return interrupt_requested() != 0; }), true);

std::string lastError() { return g_error; }
double heapSize() { return double(emscripten_get_heap_size()); }   // bytes of WASM memory
double heapUsed() { return double(mallinfo().uordblks); }          // bytes malloc has handed out

}  // namespace

EMSCRIPTEN_BINDINGS(trm) {
    using namespace emscripten;
    class_<Model>("Model")
        .function("configJson", &Model::configJson)
        .function("taskJson", &Model::taskJson)
        .function("taskKind", &Model::taskKind)
        .function("source", &Model::source)
        .function("storageDtype", &Model::storageDtype)
        .function("parameterCount", &Model::parameterCount)
        .function("prefixLen", &Model::prefixLen)
        .function("positions", &Model::positions)
        .function("bestStrategy", &Model::bestStrategy)
        .function("puzzleIdentifiers", &Model::puzzleIdentifiers)
        .function("weight", &Model::weight)
        .function("ropeCos", &Model::ropeCos)
        .function("ropeSin", &Model::ropeSin);
    function("loadModel", &loadModel, allow_raw_pointers());

    class_<Solver>("Solver")
        .function("setPuzzle", &Solver::setPuzzle)
        .function("step", &Solver::step)
        .function("stepRequest", &Solver::stepRequest)
        .function("stepResult", &Solver::stepResult)
        .function("halt", &Solver::halt)
        .function("haltConfident", &Solver::haltConfident)
        .function("active", &Solver::active)
        .function("stepsDone", &Solver::stepsDone)
        .function("threads", &Solver::threads)
        .function("qHalt", &Solver::qHalt)
        .function("qContinue", &Solver::qContinue)
        .function("predictions", &Solver::predictions)
        .function("logits", &Solver::logits)
        .function("zH", &Solver::zH)
        .function("takeCarry", &Solver::takeCarry);
    function("makeSolver", &makeSolver, allow_raw_pointers());

    class_<SolveRun>("SolveRun")
        .function("step", &SolveRun::step)
        .function("beginStep", &SolveRun::beginStep)
        .function("endStep", &SolveRun::endStep)
        .function("finishStep", &SolveRun::finishStep)
        .function("takeCarry", &SolveRun::takeCarry)
        .function("done", &SolveRun::done)
        .function("strategy", &SolveRun::strategy);
    function("makeSolveRun", &makeSolveRun, allow_raw_pointers());

    class_<ArcRun>("ArcRun")
        .function("copies", &ArcRun::copyCount)
        .function("step", &ArcRun::step)
        .function("stepRequest", &ArcRun::stepRequest)
        .function("stepResult", &ArcRun::stepResult)
        .function("takeCarry", &ArcRun::takeCarry)
        .function("haltConfident", &ArcRun::haltConfident)
        .function("active", &ArcRun::active)
        .function("attemptsJson", &ArcRun::attemptsJson);
    function("makeArcRun", &makeArcRun, allow_raw_pointers());

    function("sudokuEncode", &sudokuEncode);
    function("sudokuDecode", &sudokuDecode);
    function("sudokuVerify", &sudokuVerify);
    function("mazeNormalize", &mazeNormalize);
    function("mazeEncode", &mazeEncode);
    function("mazeDecode", &mazeDecode);
    function("mazeVerify", &mazeVerify);
    function("generatePuzzle", &generatePuzzle);

    function("lastError", &lastError);
    function("heapSize", &heapSize);
    function("heapUsed", &heapUsed);
}
