// The one solve loop: runs a model's supervision steps on one puzzle and reports every step as the front ends show it
// (the native CLI, the Embind bindings and so the worker, the JS API and the Node CLI only marshal what it yields).
// It owns halting, decoding, verification and the test-time strategies, each a named procedure that uses only the
// model and the task's rules (codecs.h):
//   model   the plain TRM: the network's raw prediction, halting when q_halt > 0 (or never); what the paper scores
//   steps   more supervision steps than the model was trained for, the carry continued, until the answer verifies
//   vote    the task's symmetries (sudoku: digits relabelled, bands/stacks and their rows/columns permuted, transposed;
//           maze: the 8 dihedral transforms) as one batch, each copy's probabilities mapped back and averaged per
//           cell; a copy whose own answer the validator accepts wins over the average
//   commit  each round runs augmented copies (as vote) for a few steps, then fills the open cells the copies are most
//           sure of that break no rule (the `commit` most probable, and any at least `threshold` probable), and feeds
//           them back as givens; on a dead end (a cell or digit with no legal place) it undoes the last commitment and
//           tries the next choice (backtracking by the rules, no model call), and once those backtracks are spent it
//           jumps: undoes the implicated commitment the copies were least sure of and runs the model again from there
//   best    the strategy the weight file names (task.strategy), else the one measured best for the task
// Every strategy shows the givens unchanged (text tasks: sudoku, maze); SolveStep::givens_changed counts the givens the
// network's own answer changed, so that `model` still reports what the paper scores. Every strategy but `model` shows
// each open cell as its most probable choice among those that break no rule with the givens. Model calls (supervision
// steps x batch copies) never exceed max_calls.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "codecs.h"
#include "model.h"

namespace trm {

enum class Strategy { Model, Steps, Vote, Commit };
const char* strategy_name(Strategy s);
// The strategy `best` runs for `model`: the weight file's task.strategy, else the one measured best with the shipped
// model of its task (TaskCodec::best_strategy). Throws trm::Error as codec_for does.
const char* best_strategy(const Model& model);

struct SolveOptions {
    std::string strategy = "model";  // model | steps | vote | commit | best
    bool early_halt = true;  // model, vote: a run (a copy) stops at its first step with q_halt > 0
    int max_steps = 0;       // model, vote: supervision steps (0: halt_max_steps); steps: all steps (0: 8 x halt_max_steps)
    int copies = 0;          // vote, commit: augmented copies run as one batch (0: 8)
    int commit = 0;          // commit: cells committed per round (0: 8)
    int round_steps = 0;     // commit: supervision steps per round at most (0: halt_max_steps / 4); a round also ends
                             // when a step changes no cell
    int max_calls = 0;       // model calls at most (0: 16 x halt_max_steps); the model strategy ignores it
    int backtracks = -1;     // commit: backtracks by the rules at most (-1: 256), each costing rule checks and no model
                             // call; past them a dead end jumps: the implicated commitment the copies were least sure of
                             // is undone with all after it and refuted, and the model runs again from there
    double threshold = 0.99; // commit: past the `commit` most probable, also every choice whose mean probability over the
                             // copies is at least this (above 1: none)
    bool carry = false;      // commit: each round goes on from the previous round's carry instead of starting afresh
    uint64_t seed = 1;       // draws the sudoku symmetries
    int threads = 1;         // the solver's thread pool

    // From a JSON object with these names (camelCase: maxSteps, roundSteps, maxCalls, earlyHalt); `label` names it in errors.
    static SolveOptions from_json(const std::string& json, const std::string& label);
};

// What one step shows.
struct SolveStep {
    int step = 0, max_steps = 0;   // this step, of at most max_steps
    std::string prediction;        // the answer shown (text tasks; empty for token-only tasks)
    std::vector<int32_t> tokens;   // its tokens [seq_len]
    std::vector<int> changed;      // cells that differ from the previous step's answer (all at step 1)
    float q_halt = 0, q_continue = 0;  // of the first copy
    double confidence = 0;         // sigmoid(q_halt)
    double ms = 0;                 // wall time of this step
    Verdict verdict;               // of the answer shown
    int givens_changed = 0;        // givens the network's own answer (the first copy's) changed; shown restored
    int model_calls = 0;           // so far
    std::string note;              // what the strategy did (e.g. "round 3: 4 cells committed"), empty for model
    bool done = false;
};

class SolveRun {
public:
    // A puzzle as text (sudoku, maze), validated by the model's codec.
    SolveRun(std::shared_ptr<const Model> model, const std::string& puzzle, const SolveOptions& options);
    // Raw tokens [seq_len] with a puzzle-embedding row (any task; text tasks also decode and verify).
    SolveRun(std::shared_ptr<const Model> model, const std::vector<int32_t>& tokens, int32_t puzzle_id, const SolveOptions& options);
    ~SolveRun();
    SolveRun(const SolveRun&) = delete;
    SolveRun& operator=(const SolveRun&) = delete;

    // Runs one step (throws trm::Error once done()).
    const SolveStep& step();
    // The same step with the network run elsewhere (the worker's WebGPU engine): begin_step(), then the external
    // network runs solver()'s active slots (Solver::set_outputs), then end_step(). step() is the three in one.
    void begin_step();
    const SolveStep& end_step();
    Solver& solver() { return *solver_; }
    bool done() const { return done_; }
    const SolveStep& last() const { return last_; }  // the latest step (step 0 before any)

    Strategy strategy() const { return strategy_; }
    int max_steps() const { return max_steps_; }
    int max_calls() const { return max_calls_; }
    int model_calls() const { return calls_; }
    int backtracks() const { return backtracks_; }
    int jumps() const { return jumps_; }
    const TaskCodec& codec() const { return *codec_; }
    const std::string& puzzle() const { return puzzle_; }  // canonical text ("" for token-only tasks)
    const float* logits() const;  // the first copy's logits of the last step [seq_len, vocab]
    // The network's own answer after the last step: the first copy's argmax, givens not restored [seq_len] (what the
    // paper scores as "model alone"; the first copy is the puzzle itself, in every strategy).
    const int32_t* network_tokens() const;
    // The copies' mean probabilities in the puzzle's frame after the last step [seq_len, vocab] (not for model).
    const std::vector<float>& probabilities() const { return probs_; }

private:
    struct Frame;
    void init(const SolveOptions& o);
    void load_copies(const std::vector<int32_t>& grid, bool keep_carry = false);
    void average_probabilities();                 // probs_ from every copy, mapped back
    std::vector<int32_t> fill(const std::vector<int32_t>& grid) const;  // the shown answer
    std::vector<int32_t> verified_copy() const;   // a copy's own answer that verifies, or empty
    bool finish_round();                           // commit: true when the run can go on
    bool commit_from(Frame& f, int count);
    bool backtrack();
    bool backjump();
    std::vector<int> blocking_commitments() const;
    bool no_room(const std::vector<int32_t>& grid) const;
    void show(const std::vector<int32_t>& tokens);

    std::shared_ptr<const Model> model_;
    std::shared_ptr<const TaskCodec> codec_;
    std::unique_ptr<Solver> solver_;
    Strategy strategy_ = Strategy::Model;
    SolveOptions opt_;
    std::string puzzle_;
    std::vector<int32_t> givens_;      // [seq_len] the puzzle's tokens
    int32_t puzzle_id_ = 0;
    bool raw_ = false;                 // made from tokens: changed cells compare tokens, as the worker always did
    int seq_len_ = 0, vocab_ = 0;
    int max_steps_ = 0, max_calls_ = 0, calls_ = 0, steps_ = 0, backtracks_ = 0;
    bool done_ = false;
    std::chrono::steady_clock::time_point t0_;  // when the step began
    bool begun_ = false;                          // between begin_step and end_step
    std::vector<Symmetry> symmetries_; // one per copy
    std::vector<float> probs_;         // [seq_len, vocab] the copies' mean probabilities in the puzzle's frame
    SolveStep last_;
    // commit
    std::vector<int32_t> work_;        // givens and committed cells
    std::vector<uint8_t> banned_;      // [seq_len, vocab] choices undone by backtracking, under the current commits
    std::vector<Frame> frames_;
    int round_ = 0, round_step_ = 0, jumps_ = 0;
    bool jumped_ = false;              // the last dead end jumped: the round ends
    std::string note_;
};

}  // namespace trm
