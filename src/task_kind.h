// The task a model was trained for, as the weight file's task.kind names it (DESIGN.md "Weight file"): one enum and
// one spelling each, so that code compares kinds, not strings.
#pragma once
#include <optional>
#include <string>

namespace trm {

enum class TaskKind { Sudoku, Maze, Arc, Generic };

inline const char* task_kind_name(TaskKind k) {
    switch (k) {
        case TaskKind::Sudoku: return "sudoku";
        case TaskKind::Maze: return "maze";
        case TaskKind::Arc: return "arc";
        case TaskKind::Generic: return "generic";
    }
    return "generic";
}

// The kind spelled `name`; nothing when it names none.
inline std::optional<TaskKind> parse_task_kind(const std::string& name) {
    for (TaskKind k : {TaskKind::Sudoku, TaskKind::Maze, TaskKind::Arc, TaskKind::Generic})
        if (name == task_kind_name(k)) return k;
    return std::nullopt;
}

constexpr const char* kTaskKindList = "sudoku, maze, arc or generic";  // for messages

}  // namespace trm
