// The codec registry: for each task kind, one object that turns puzzle text into tokens and back, checks an answer by
// the puzzle's rules, and knows what the test-time strategies (solve.h) need of the task: which cells are still open,
// which tokens an open cell may take, which of those break no rule, and the symmetries that keep a puzzle a puzzle.
// Front ends ask codec_for(model) instead of comparing task-kind strings.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model.h"
#include "task_kind.h"
#include "tasks.h"

namespace trm {

// A bijection of a puzzle's cells and tokens that keeps it a valid puzzle of its task (TRM_SPEC.md augmentations).
struct Symmetry {
    std::vector<int> cell;       // [seq_len]: the model's cell i shows the puzzle's cell cell[i]
    std::vector<int32_t> token;  // [vocab]: the puzzle's token t is shown as token[t]
};

class TaskCodec {
public:
    virtual ~TaskCodec() = default;
    virtual TaskKind kind() const = 0;
    virtual const char* name() const = 0;  // as the weight file's task.kind spells it
    // Puzzles as text (sudoku, maze); the others take tokens only.
    virtual bool has_text() const { return false; }
    virtual int side() const { return 0; }  // characters per printed row
    virtual std::string normalize(const std::string& text) const;  // the canonical text; throws naming the fault
    virtual std::vector<int32_t> encode(const std::string& text) const;
    virtual std::string decode(const int32_t* tokens) const;
    virtual Verdict verify(const std::string& puzzle, const std::string& answer) const;

    // What the strategies need. Tokens [seq_len] of a puzzle in which some cells are fixed (givens, or cells a
    // strategy committed) and others open.
    virtual bool open(int32_t token) const { (void)token; return false; }
    virtual const std::vector<int32_t>& choices() const;  // tokens an open cell may take in an answer
    // Whether `token` in open cell i breaks no rule given the fixed cells of `grid` (a necessary condition only).
    virtual bool legal(const std::vector<int32_t>& grid, int i, int32_t token) const;
    // Whether the rules already show that `grid` has no answer (an open cell, or a missing digit, with no legal place).
    virtual bool dead_end(const std::vector<int32_t>& grid) const { (void)grid; return false; }
    // The fixed cells whose values make the first dead end that dead_end() finds (the conflict to undo); empty when
    // there is none, or for a task whose rules give no such reason.
    virtual std::vector<int> conflict(const std::vector<int32_t>& grid) const { (void)grid; return {}; }
    // Symmetry k of the task (k = 0 the identity), drawn from `seed` where the group is too large to list.
    virtual int symmetry_count() const { return 1; }  // distinct ones symmetry() gives (sudoku: effectively unbounded)
    virtual Symmetry symmetry(int k, uint64_t seed) const;
    // The strategy used for `best` when the weight file names none (task.strategy): the best measured with the shipped
    // model (README, "Test-time strategies").
    virtual const char* best_strategy() const { return "model"; }

protected:
    int seq_len_ = 0, vocab_ = 0;
};

// The codec of `model`'s task (task.kind in the weight file): throws trm::Error naming `command` when a sudoku or
// maze model has the wrong seq_len or vocabulary. Kinds without a codec of their own get the generic one (tokens only).
std::shared_ptr<const TaskCodec> codec_for(const Model& model, const std::string& command);
// The codec of a task whose encoding is fixed (sudoku, maze), without a model; throws trm::Error for the others.
std::shared_ptr<const TaskCodec> codec_for(TaskKind kind);

}  // namespace trm
