#include "solve.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "json_read.h"

namespace trm {

using Clock = std::chrono::steady_clock;

const char* strategy_name(Strategy s) {
    switch (s) {
        case Strategy::Model: return "model";
        case Strategy::Steps: return "steps";
        case Strategy::Vote: return "vote";
        case Strategy::Commit: return "commit";
    }
    return "?";
}

static Strategy parse_strategy(const std::string& name, const std::string& where) {
    for (Strategy s : {Strategy::Model, Strategy::Steps, Strategy::Vote, Strategy::Commit})
        if (name == strategy_name(s)) return s;
    throw Error(where + " = '" + name + "'; expected model, steps, vote, commit or best");
}

// `best`: the weight file's task.strategy when it names one, else the codec's measured choice.
static Strategy resolve_strategy(const std::string& name, const Model& model, const TaskCodec& codec) {
    if (name != "best") return parse_strategy(name, "strategy");
    const nlohmann::json task = nlohmann::json::parse(model.task_json(), nullptr, false);
    if (task.is_object() && task.contains("strategy")) {
        if (!task["strategy"].is_string() || task["strategy"] == "best")
            throw Error("weights: metadata task.strategy must be one of model, steps, vote, commit");
        return parse_strategy(task["strategy"].get<std::string>(), "weights: metadata task.strategy");
    }
    return parse_strategy(codec.best_strategy(), "codec best strategy");
}

const char* best_strategy(const Model& model) {
    return strategy_name(resolve_strategy("best", model, *codec_for(model, "best strategy")));
}

SolveOptions SolveOptions::from_json(const std::string& text, const std::string& label) {
    const nlohmann::json j = parse_json(text, label);
    if (!j.is_object()) throw Error(label + ": expected a JSON object of solve options");
    SolveOptions o;
    auto integer = [&](const char* key, int& out, int lo) {
        const auto& v = j[key];
        if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > (1 << 30))
            throw Error(label + ": " + key + " = " + v.dump() + "; expected an integer >= " + std::to_string(lo));
        out = v.get<int>();
    };
    for (const auto& [key, v] : j.items()) {
        if (key == "strategy") {
            if (!v.is_string()) throw Error(label + ": strategy = " + v.dump() + "; expected model, steps, vote, commit or best");
            o.strategy = v.get<std::string>();
        } else if (key == "earlyHalt") {
            if (!v.is_boolean()) throw Error(label + ": earlyHalt = " + v.dump() + "; expected true or false");
            o.early_halt = v.get<bool>();
        } else if (key == "carry") {
            if (!v.is_boolean()) throw Error(label + ": carry = " + v.dump() + "; expected true or false");
            o.carry = v.get<bool>();
        } else if (key == "maxSteps") integer("maxSteps", o.max_steps, 1);
        else if (key == "copies") integer("copies", o.copies, 1);
        else if (key == "commit") integer("commit", o.commit, 1);
        else if (key == "roundSteps") integer("roundSteps", o.round_steps, 1);
        else if (key == "maxCalls") integer("maxCalls", o.max_calls, 1);
        else if (key == "backtracks") integer("backtracks", o.backtracks, 0);
        else if (key == "threshold") {
            if (!v.is_number() || !(v.get<double>() > 0) || v.get<double>() > 2)
                throw Error(label + ": threshold = " + v.dump() + "; expected a number in (0, 2] (above 1: no cell past the count)");
            o.threshold = v.get<double>();
        }
        else if (key == "threads") integer("threads", o.threads, 1);
        else if (key == "seed") {
            int s = 0;
            integer("seed", s, 0);
            o.seed = uint64_t(s);
        } else
            throw Error(label + ": unknown option '" + key +
                        "'; expected strategy, earlyHalt, maxSteps, copies, commit, roundSteps, maxCalls, backtracks, threshold, carry, seed, threads");
    }
    return o;
}

// A round's commitment and what it was chosen from, so that backtracking can undo it and choose again.
struct SolveRun::Frame {
    std::vector<int32_t> grid;      // before the commitment
    std::vector<uint8_t> banned;    // choices already refuted under `grid`
    std::vector<float> probs;       // the round's probabilities that ranked the choices
    std::vector<std::pair<int, int32_t>> committed;  // (cell, token) committed from here
};

SolveRun::SolveRun(std::shared_ptr<const Model> model, const std::string& puzzle, const SolveOptions& options) : model_(std::move(model)) {
    codec_ = codec_for(*model_, "solve");
    if (!codec_->has_text())
        throw Error(std::string("solve: the model's task is '") + codec_->name() +
                    "'; text puzzles need a sudoku or maze model (pass tokens for raw input)");
    puzzle_ = codec_->normalize(puzzle);
    givens_ = codec_->encode(puzzle_);
    init(options);
}

SolveRun::SolveRun(std::shared_ptr<const Model> model, const std::vector<int32_t>& tokens, int32_t puzzle_id, const SolveOptions& options)
    : model_(std::move(model)), puzzle_id_(puzzle_id), raw_(true) {
    codec_ = codec_for(*model_, "solve");
    const int seq_len = model_->config().seq_len;
    if (int(tokens.size()) != seq_len)
        throw Error("input: " + std::to_string(tokens.size()) + " tokens; the model expects seq_len " + std::to_string(seq_len));
    const int vocab = model_->config().vocab_size;
    for (size_t i = 0; i < tokens.size(); ++i)  // before any symmetry indexes its token map with them
        if (tokens[i] < 0 || tokens[i] >= vocab)
            throw Error("input: token " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                        " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
    givens_ = tokens;
    if (codec_->has_text()) puzzle_ = codec_->decode(tokens.data());
    init(options);
}

SolveRun::~SolveRun() = default;

void SolveRun::init(const SolveOptions& o) {
    opt_ = o;
    const Config& c = model_->config();
    const int N = c.halt_max_steps;
    seq_len_ = c.seq_len;
    vocab_ = c.vocab_size;
    strategy_ = resolve_strategy(o.strategy, *model_, *codec_);
    const std::string name = strategy_name(strategy_);
    int copies = 1;
    if (strategy_ == Strategy::Vote) copies = o.copies ? o.copies : std::min(8, codec_->symmetry_count());
    if (strategy_ == Strategy::Commit) copies = o.copies ? o.copies : std::min(8, codec_->symmetry_count());
    if ((strategy_ == Strategy::Vote || strategy_ == Strategy::Commit) && codec_->choices().empty())
        throw Error("strategy '" + name + "' needs a task whose rules the engine knows (sudoku or maze); the model's task is '" +
                    codec_->name() + "'");
    if (copies > codec_->symmetry_count())
        throw Error("strategy '" + name + "': " + std::to_string(copies) + " copies, but task '" + codec_->name() + "' has " +
                    std::to_string(codec_->symmetry_count()) + " symmetries");
    for (int k = 0; k < copies; ++k) symmetries_.push_back(codec_->symmetry(k, o.seed));

    max_calls_ = o.max_calls ? o.max_calls : 16 * N;
    switch (strategy_) {
        case Strategy::Model: max_steps_ = o.max_steps ? o.max_steps : N; break;
        case Strategy::Steps:
            max_steps_ = o.max_steps ? o.max_steps : 8 * N;
            if (!o.max_calls) max_calls_ = std::max(max_calls_, max_steps_);
            max_steps_ = std::min(max_steps_, max_calls_);
            break;
        case Strategy::Vote: max_steps_ = std::min(o.max_steps ? o.max_steps : N, max_calls_ / copies); break;
        case Strategy::Commit: max_steps_ = max_calls_ / copies; break;
    }
    if (max_steps_ < 1)
        throw Error("strategy '" + name + "': maxCalls " + std::to_string(max_calls_) + " is below the " + std::to_string(copies) +
                    " model calls of one step");

    solver_ = std::make_unique<Solver>(model_, copies, o.threads);
    probs_.assign(size_t(seq_len_) * vocab_, 0.f);
    work_ = givens_;
    banned_.assign(size_t(seq_len_) * vocab_, 0);
    if (strategy_ != Strategy::Commit) load_copies(givens_);
}

void SolveRun::load_copies(const std::vector<int32_t>& grid, bool keep_carry) {
    std::vector<int32_t> view(static_cast<size_t>(seq_len_));
    for (size_t b = 0; b < symmetries_.size(); ++b) {
        const Symmetry& s = symmetries_[b];
        for (int i = 0; i < seq_len_; ++i) view[size_t(i)] = s.token[size_t(grid[size_t(s.cell[size_t(i)])])];
        solver_->set_puzzle(int(b), view.data(), puzzle_id_, keep_carry);
    }
}

const float* SolveRun::logits() const { return solver_->logits(0); }
const int32_t* SolveRun::network_tokens() const { return solver_->predictions(0); }

void SolveRun::average_probabilities() {
    std::fill(probs_.begin(), probs_.end(), 0.f);
    const float w = 1.f / float(symmetries_.size());
    std::vector<float> p(static_cast<size_t>(vocab_));
    for (size_t b = 0; b < symmetries_.size(); ++b) {
        const Symmetry& s = symmetries_[b];
        const float* logits = solver_->logits(int(b));
        for (int i = 0; i < seq_len_; ++i) {
            const float* l = logits + size_t(i) * vocab_;
            const float top = *std::max_element(l, l + vocab_);
            float sum = 0;
            for (int t = 0; t < vocab_; ++t) sum += p[size_t(t)] = std::exp(l[t] - top);
            float* out = probs_.data() + size_t(s.cell[size_t(i)]) * vocab_;
            for (int t = 0; t < vocab_; ++t) out[t] += w * p[size_t(s.token[size_t(t)])] / sum;
        }
    }
}

std::vector<int32_t> SolveRun::fill(const std::vector<int32_t>& grid) const {
    std::vector<int32_t> out = grid;
    for (int i = 0; i < seq_len_; ++i) {
        if (!codec_->open(grid[size_t(i)])) continue;
        const float* p = probs_.data() + size_t(i) * vocab_;
        int32_t best = -1, best_any = -1;
        for (int32_t t : codec_->choices()) {
            if (best_any < 0 || p[t] > p[best_any]) best_any = t;
            if (!banned_[size_t(i) * vocab_ + size_t(t)] && (best < 0 || p[t] > p[best]) && codec_->legal(grid, i, t)) best = t;
        }
        out[size_t(i)] = best >= 0 ? best : best_any;
    }
    return out;
}

std::vector<int32_t> SolveRun::verified_copy() const {
    std::vector<int32_t> restored(static_cast<size_t>(seq_len_)), inverse(static_cast<size_t>(vocab_));
    for (size_t b = 0; b < symmetries_.size(); ++b) {
        const Symmetry& s = symmetries_[b];
        for (int t = 0; t < vocab_; ++t) inverse[size_t(s.token[size_t(t)])] = t;
        const int32_t* pred = solver_->predictions(int(b));
        for (int i = 0; i < seq_len_; ++i) restored[size_t(s.cell[size_t(i)])] = inverse[size_t(pred[i])];
        for (int i = 0; i < seq_len_; ++i)
            if (!codec_->open(givens_[size_t(i)])) restored[size_t(i)] = givens_[size_t(i)];
        if (codec_->verify(puzzle_, codec_->decode(restored.data())).ok) return restored;
    }
    return {};
}

// Whether the rules rule out every answer of `grid`: the codec's own check, or an open cell whose legal choices were
// all refuted.
bool SolveRun::no_room(const std::vector<int32_t>& grid) const {
    if (codec_->dead_end(grid)) return true;
    for (int i = 0; i < seq_len_; ++i) {
        if (!codec_->open(grid[size_t(i)])) continue;
        bool any = false;
        for (int32_t t : codec_->choices())
            any = any || (!banned_[size_t(i) * vocab_ + size_t(t)] && codec_->legal(grid, i, t));
        if (!any) return true;
    }
    return false;
}

// Commits up to `count` open cells of f.grid, most probable legal choice first, each legal with those before it.
bool SolveRun::commit_from(Frame& f, int count) {
    work_ = f.grid;
    banned_ = f.banned;
    struct Choice { float p; int cell; int32_t token; };
    std::vector<Choice> ranked;
    for (int i = 0; i < seq_len_; ++i) {
        if (!codec_->open(f.grid[size_t(i)])) continue;
        for (int32_t t : codec_->choices())
            if (t != f.grid[size_t(i)] && !f.banned[size_t(i) * vocab_ + size_t(t)] && codec_->legal(f.grid, i, t))
                ranked.push_back({f.probs[size_t(i) * vocab_ + size_t(t)], i, t});
    }
    std::stable_sort(ranked.begin(), ranked.end(), [](const Choice& a, const Choice& b) { return a.p > b.p; });
    f.committed.clear();
    for (const Choice& c : ranked) {
        if (int(f.committed.size()) == count) break;
        if (!codec_->open(work_[size_t(c.cell)]) || !codec_->legal(work_, c.cell, c.token)) continue;
        work_[size_t(c.cell)] = c.token;
        f.committed.emplace_back(c.cell, c.token);
    }
    return !f.committed.empty();
}

// Undoes commitments, latest first: the latest choice is refuted (banned under the grid it was made on) and the next
// most probable legal choice from that grid replaces it; a grid with no choice left is undone in turn. No model call:
// the round that follows runs the model on the new grid.
bool SolveRun::backtrack() {
    const int limit = opt_.backtracks >= 0 ? opt_.backtracks : 256;
    while (!frames_.empty()) {
        if (backtracks_ >= limit) return backjump();
        Frame& f = frames_.back();
        const auto [cell, token] = f.committed.at(0);
        f.banned[size_t(cell) * vocab_ + size_t(token)] = 1;
        work_ = f.grid;
        banned_ = f.banned;
        ++backtracks_;
        if (no_room(work_) || !commit_from(f, 1)) {
            frames_.pop_back();  // nothing left to try on this grid: refute the choice before it
            continue;
        }
        if (!no_room(work_)) {
            note_ = "backtrack " + std::to_string(backtracks_) + " to commitment " + std::to_string(frames_.size());
            return true;
        }  // else the replacement is refuted at once: the loop bans it
    }
    note_ = "dead end; nothing left to undo";
    return false;
}

// A dead end that refutations made (an open cell whose every legal choice was refuted): the committed cells without
// which one of its unrefuted choices would be legal.
std::vector<int> SolveRun::blocking_commitments() const {
    for (int i = 0; i < seq_len_; ++i) {
        if (!codec_->open(work_[size_t(i)])) continue;
        auto free_choice = [&](const std::vector<int32_t>& grid) {
            for (int32_t t : codec_->choices())
                if (!banned_[size_t(i) * vocab_ + size_t(t)] && codec_->legal(grid, i, t)) return true;
            return false;
        };
        if (free_choice(work_)) continue;
        std::vector<int> cells;
        std::vector<int32_t> without = work_;
        for (const Frame& f : frames_) {
            const int cell = f.committed.at(0).first;
            without[size_t(cell)] = f.grid[size_t(cell)];
            if (free_choice(without)) cells.push_back(cell);
            without[size_t(cell)] = work_[size_t(cell)];
        }
        return cells;
    }
    return {};
}

// A dead end once the backtracks are spent: of the commitments the rules implicate (codec conflict), the one the
// copies were least sure of is undone with every commitment after it, and refuted under the grid it was made on; the
// next round runs the model on that grid, so the cell's next choice comes from fresh probabilities. Jumps cost no
// rule budget, only the model calls of the rounds that follow. A dead end the conflict does not explain (a cell whose
// every legal choice was refuted) undoes a commitment that blocks one of its other choices.
bool SolveRun::backjump() {
    while (no_room(work_)) {
        std::vector<int> cells = codec_->conflict(work_);
        if (cells.empty()) cells = blocking_commitments();
        int pick = -1;
        float least = 2;
        for (size_t k = 0; k < frames_.size(); ++k) {
            const auto [cell, token] = frames_[k].committed.at(0);
            if (work_[size_t(cell)] != token || std::find(cells.begin(), cells.end(), cell) == cells.end()) continue;
            const float p = frames_[k].probs[size_t(cell) * vocab_ + size_t(token)];
            if (p <= least) least = p, pick = int(k);
        }
        if (pick < 0) {
            note_ = "dead end; nothing left to undo";
            return false;
        }
        frames_.resize(size_t(pick) + 1);
        Frame& f = frames_.back();
        const auto [cell, token] = f.committed.at(0);
        work_ = f.grid;
        banned_ = f.banned;
        banned_[size_t(cell) * vocab_ + size_t(token)] = 1;
        frames_.pop_back();
        ++jumps_;
        note_ = "jump " + std::to_string(jumps_) + " to commitment " + std::to_string(frames_.size() + 1);
    }
    jumped_ = true;
    return true;
}

// Ends a commit round: the most probable legal open cells become givens for the next round, one at a time, each
// checked against the rules (a dead end is undone at once, without a model call).
bool SolveRun::finish_round() {
    const int count = opt_.commit ? opt_.commit : 8;
    int made = 0;
    jumped_ = false;
    for (;;) {
        frames_.push_back(Frame{work_, banned_, probs_, {}});
        Frame& f = frames_.back();
        if (!commit_from(f, 1)) {
            frames_.pop_back();
            break;
        }
        if (made >= count) {  // past the round's count, only the choices the copies agree on at least `threshold`
            const auto [cell, token] = f.committed[0];
            if (f.probs[size_t(cell) * vocab_ + size_t(token)] < opt_.threshold) {
                work_ = f.grid;
                frames_.pop_back();
                break;
            }
        }
        ++made;
        if (no_room(work_)) {
            jumped_ = false;
            if (!backtrack()) return false;
            if (jumped_) break;  // the model runs on the grid the jump went back to
        }
    }
    if (made == 0 && !jumped_) {
        note_ = "stuck: no open cell has a legal choice left";
        return false;
    }
    if (note_.empty()) note_ = "round " + std::to_string(round_) + ": " + std::to_string(made) + " cells committed";
    else note_ = "round " + std::to_string(round_) + ": " + std::to_string(made) + " cells committed, " + note_;
    return true;
}

void SolveRun::show(const std::vector<int32_t>& tokens) {
    SolveStep& s = last_;
    std::vector<int> changed;
    if (codec_->has_text()) {
        const std::string text = codec_->decode(tokens.data());
        const bool compare_tokens = raw_;
        for (int i = 0; i < seq_len_; ++i)
            if (s.step == 0 || (compare_tokens ? tokens[size_t(i)] != s.tokens[size_t(i)] : text[size_t(i)] != s.prediction[size_t(i)]))
                changed.push_back(i);
        s.prediction = text;
        s.verdict = codec_->verify(puzzle_, text);
    } else {
        for (int i = 0; i < seq_len_; ++i)
            if (s.step == 0 || tokens[size_t(i)] != s.tokens[size_t(i)]) changed.push_back(i);
        s.verdict = codec_->verify("", "");
    }
    s.tokens = tokens;
    s.changed = std::move(changed);
}

const SolveStep& SolveRun::step() {
    begin_step();
    solver_->step();
    return end_step();
}

void SolveRun::begin_step() {
    if (done_) throw Error("solve: the run is finished after " + std::to_string(steps_) + " steps");
    if (begun_) throw Error("solve: begin_step twice without end_step");
    begun_ = true;
    t0_ = Clock::now();
    note_.clear();
    if (strategy_ == Strategy::Commit && round_step_ == 0) {
        ++round_;
        load_copies(work_, opt_.carry);
    }
    calls_ += solver_->any_active();
}

const SolveStep& SolveRun::end_step() {
    if (!begun_) throw Error("solve: end_step without begin_step");
    begun_ = false;
    ++steps_;

    std::vector<int32_t> shown;
    int givens_changed = 0;
    if (codec_->has_text()) {  // a codec that knows which cells are givens
        const int32_t* own = network_tokens();
        for (int i = 0; i < seq_len_; ++i) givens_changed += !codec_->open(givens_[size_t(i)]) && own[i] != givens_[size_t(i)];
    }
    if (strategy_ == Strategy::Model) {
        shown.assign(network_tokens(), network_tokens() + seq_len_);
        if (codec_->has_text())
            for (int i = 0; i < seq_len_; ++i)
                if (!codec_->open(givens_[size_t(i)])) shown[size_t(i)] = givens_[size_t(i)];
    } else {
        average_probabilities();
        if (strategy_ == Strategy::Vote) shown = verified_copy();
        if (shown.empty()) shown = fill(strategy_ == Strategy::Commit ? work_ : givens_);
    }
    show(shown);  // compares with the previous step's answer, so before last_.step moves on
    SolveStep& s = last_;
    s.step = steps_;
    s.max_steps = max_steps_;
    s.q_halt = solver_->q_halt(0);
    s.q_continue = solver_->q_continue(0);
    s.confidence = 1.0 / (1.0 + std::exp(-double(s.q_halt)));
    s.model_calls = calls_;
    s.givens_changed = givens_changed;

    const int next_cost = int(symmetries_.size());
    switch (strategy_) {
        case Strategy::Model:
            if (opt_.early_halt) solver_->halt_confident();
            done_ = steps_ >= max_steps_ || !solver_->active(0);
            break;
        case Strategy::Steps:
            done_ = s.verdict.ok || steps_ >= max_steps_;
            break;
        case Strategy::Vote:
            if (opt_.early_halt) solver_->halt_confident();
            done_ = s.verdict.ok || steps_ >= max_steps_ || !solver_->any_active();
            break;
        case Strategy::Commit: {
            ++round_step_;
            const int round_steps = opt_.round_steps ? opt_.round_steps : std::max(1, model_->config().halt_max_steps / 4);
            done_ = s.verdict.ok;
            if (!done_ && (round_step_ >= round_steps || (round_step_ >= 2 && s.changed.empty()))) {
                round_step_ = 0;
                done_ = !finish_round();
            }
            break;
        }
    }
    if (!done_ && strategy_ != Strategy::Model && calls_ + next_cost > max_calls_) {
        done_ = true;
        note_ += std::string(note_.empty() ? "" : "; ") + "model-call bound reached";
    }
    s.note = note_;
    s.done = done_;
    s.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0_).count();
    return s;
}

}  // namespace trm
