#include "arc_solver.h"

#include <algorithm>
#include <cmath>

namespace trm::arc {

std::vector<Copy> copies_for(const Model& model, const std::string& task_id, int max_copies) {
    const Config& c = model.config();
    if (model.task_kind() != TaskKind::Arc || c.seq_len != kSeqLen || c.vocab_size != 12)
        throw Error("arc: the loaded model is a '" + std::string(task_kind_name(model.task_kind())) + "' model (seq_len " + std::to_string(c.seq_len) +
                    ", vocab " + std::to_string(c.vocab_size) + "); ARC needs an arc model with seq_len 900 and vocab 12");
    if (model.puzzle_identifiers().empty())
        throw Error("arc: the model's metadata 'task.puzzle_identifiers' is empty: it names no puzzle-embedding rows, so no task can be run");
    std::vector<Copy> out;
    const auto& names = model.puzzle_identifiers();
    for (size_t i = 0; i < names.size(); ++i) {
        if (names[i].compare(0, task_id.size(), task_id) != 0) continue;  // cheap filter before parsing
        Augmentation a = parse_identifier(names[i]);
        if (a.task_id != task_id) continue;
        Copy copy{int32_t(i), a};
        if (a.transform == 0 && names[i] == task_id) out.insert(out.begin(), copy);
        else out.push_back(copy);
    }
    if (out.empty())
        throw Error("arc: the model has no puzzle-embedding row for task '" + task_id +
                    "': its embedding must be learned first (train on the task's demonstrations), or load weights converted with that task kept");
    if (max_copies > 0 && int(out.size()) > max_copies) out.resize(size_t(max_copies));
    return out;
}

void load_copies(Solver& solver, const std::vector<Copy>& copies, const Grid& input) {
    if (solver.batch() != int(copies.size()))
        throw Error("arc: solver batch " + std::to_string(solver.batch()) + " differs from " + std::to_string(copies.size()) + " copies");
    for (size_t i = 0; i < copies.size(); ++i) {
        const std::vector<int32_t> tokens = encode(augment(copies[i].augmentation, input));
        solver.set_puzzle(int(i), tokens.data(), copies[i].puzzle_id);
    }
}

std::vector<Attempt> vote_copies(const Solver& solver, const std::vector<Copy>& copies) {
    std::vector<Grid> grids;
    std::vector<double> confidence;
    for (size_t i = 0; i < copies.size(); ++i) {
        grids.push_back(restore(copies[i].augmentation, decode(solver.predictions(int(i)))));
        confidence.push_back(1.0 / (1.0 + std::exp(-double(solver.q_halt(int(i))))));
    }
    return vote(grids, confidence);
}

std::vector<float> cell_certainty(const Solver& solver, const std::vector<Copy>& copies, const Grid& grid) {
    const int V = solver.model().config().vocab_size;
    std::vector<float> sum(grid.cells.size(), 0.0f);
    int voters = 0;
    for (size_t i = 0; i < copies.size(); ++i) {
        const Grid seen = decode(solver.predictions(int(i)));  // in the copy's frame
        if (!(restore(copies[i].augmentation, seen) == grid)) continue;
        // Where each restored cell sits in the copy's frame: the row and column indices (< 30) of the copy's grid,
        // moved as restore() moves the cells.
        Grid row = seen, col = seen;
        for (int r = 0; r < seen.rows; ++r)
            for (int c = 0; c < seen.cols; ++c) {
                row.cells[size_t(r * seen.cols + c)] = uint8_t(r);
                col.cells[size_t(r * seen.cols + c)] = uint8_t(c);
            }
        row = inverse_dihedral(row, copies[i].augmentation.transform);
        col = inverse_dihedral(col, copies[i].augmentation.transform);
        const float* logits = solver.logits(int(i));
        for (size_t k = 0; k < grid.cells.size(); ++k) {
            const int at = row.cells[k] * kMaxSide + col.cells[k];
            const float* l = logits + size_t(at) * V;
            float max = l[0], total = 0.0f;
            for (int v = 1; v < V; ++v) max = std::max(max, l[v]);
            for (int v = 0; v < V; ++v) total += std::exp(l[v] - max);
            const int token = seen.cells[size_t(row.cells[k] * seen.cols + col.cells[k])] + 2;  // the colour shown, as the copy sees it
            sum[k] += std::exp(l[token] - max) / total;
        }
        ++voters;
    }
    if (voters == 0) return {};
    for (float& p : sum) p /= float(voters);
    return sum;
}

}  // namespace trm::arc
