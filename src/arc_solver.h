// ARC inference: a task's test input is run once per augmented copy that the model has a puzzle-embedding row
// for (one batch), each prediction is decoded and un-augmented, and the copies vote (TRM_SPEC.md "ARC").
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "model.h"
#include "tasks.h"

namespace trm::arc {

struct Copy {
    int32_t puzzle_id;        // row of puzzle_emb.weights
    Augmentation augmentation;
};

// The rows of `model` named for `task_id` (from the weight file's task.puzzle_identifiers), at most
// `max_copies` (0: all), original first. Throws trm::Error when the model has none for this task.
std::vector<Copy> copies_for(const Model& model, const std::string& task_id, int max_copies);

// Puts copy i of `input` into slot i of `solver` (which must have a batch of copies.size()).
void load_copies(Solver& solver, const std::vector<Copy>& copies, const Grid& input);

// Decodes every slot's current prediction, restores it to the task's frame and votes.
std::vector<Attempt> vote_copies(const Solver& solver, const std::vector<Copy>& copies);

// How sure the model is of each cell of `grid` (an attempt of vote_copies): per cell, [grid.rows * grid.cols], the
// probability (softmax of the slot's logits) of the cell's colour, averaged over the copies whose restored prediction
// is `grid`, each read at the position and in the colour its augmentation gives that cell. Empty when no copy gave it.
std::vector<float> cell_certainty(const Solver& solver, const std::vector<Copy>& copies, const Grid& grid);

}  // namespace trm::arc
