// Official TRM checkpoints as models: the architecture from the run's all_config.yaml (plus what the tensors'
// shapes, dataset.json or the task determine), the tensors read by offset from the torch.save file, the result
// as the project's trm/1 weight set, which loads as a Model or is written as a .safetensors file (f32, f16, bf16
// or int8, as scripts/quantize.py writes them). One entry point, load_model(), takes either kind of file.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model.h"
#include "torch_checkpoint.h"

namespace trm {

// What comes with a checkpoint, as text (the browser has no file system) with the label that names it in errors.
// Empty text: not given.
struct CheckpointInputs {
    std::string config_text, config_label;            // all_config.yaml, or a JSON config (whose fields override)
    std::string dataset_text, dataset_label;          // dataset.json: seq_len, vocab_size, num_puzzle_identifiers
    std::string identifiers_text, identifiers_label;  // identifiers.json: the puzzle-embedding rows' names (ARC)
    std::string keep_text, keep_label;                // task ids, one a line: keep only their rows (needs identifiers)
    std::string task;                                 // sudoku, maze, arc or generic; empty: from seq_len/vocab_size
};

// A model's tensors and metadata, ready to be written as trm/1 safetensors.
struct WeightSet {
    struct Tensor {
        std::string name;
        DType dtype;
        std::vector<int64_t> shape;
        std::vector<uint8_t> data;
    };
    std::vector<Tensor> tensors;
    std::vector<std::pair<std::string, std::string>> metadata;  // format, config, task, source
    std::vector<std::string> notes;                            // what was assumed (printed by the CLI on success)
};

// Reads an official checkpoint: only the tensors the model uses, and of puzzle_emb.weights only the kept rows.
// Tensors keep their stored dtype. Every refusal names the file, the field and what was expected.
WeightSet read_official_checkpoint(const ByteSource& src, const CheckpointInputs& in);

// The weight set of a trm/1 .safetensors file (for `trm convert` from one precision to another).
WeightSet read_weight_file(const std::string& path);

// trm/1 safetensors bytes. dtype: "" keeps each tensor's own; "f32", "f16", "bf16"; "int8" stores 2-D matrices as
// I8 with a per-row F32 NAME.scale (scale = absmax / 127, q = round(w / scale)) and the rest as F32.
std::vector<uint8_t> weight_file_bytes(const WeightSet& w, const std::string& dtype, const std::string& label);

// Command-line style options: files by path. config_path empty: all_config.yaml beside the checkpoint.
struct LoadOptions {
    std::string config_path, dataset_path, identifiers_path, keep_puzzles_path, task;
    bool any() const { return !config_path.empty() || !dataset_path.empty() || !identifiers_path.empty() || !keep_puzzles_path.empty() || !task.empty(); }
};
CheckpointInputs checkpoint_inputs(const std::string& checkpoint_path, const LoadOptions& o);

// A checkpoint read piecewise (the browser: a File through Blob.slice). Throws NeedBytes or NeedRanges for what
// src lacks: the caller adds those ranges and calls again. With the file's first 64 KiB and last MiB given first
// (magic number, data.pkl, zip directory), the misses are the local headers, then every tensor range at once
// (tests/cpp/test_checkpoint.cpp load_piecewise). On success the pieces are released: memory then holds the network
// and the kept puzzle-embedding rows.
std::shared_ptr<const Model> load_checkpoint_pieces(PieceSource& src, const CheckpointInputs& in, bool simd_kernels,
                                                    std::vector<std::string>* notes = nullptr);

// A .safetensors weight file or a torch.save checkpoint (told apart by their first bytes). notes (optional)
// receives what was assumed about the architecture.
std::shared_ptr<const Model> load_model(const std::string& path, const LoadOptions& o, bool simd_kernels,
                                        std::vector<std::string>* notes = nullptr);

// The command line's side. Every command that takes a weight file also takes these options (for checkpoints).
bool is_load_option(const std::string& name);  // --config, --dataset, --identifiers, --keep-puzzles
// Loads pos[0] with the load options in `opt`; prints what was assumed on stderr, one line each.
std::shared_ptr<const Model> load_model_for_cli(const std::string& path, const std::map<std::string, std::string>& opt, bool simd_kernels);
// trm convert IN --out OUT [--dtype f32|f16|bf16|int8] [--task K] [load options]: writes a trm/1 .safetensors file.
int convert_command(const std::vector<std::string>& pos, const std::map<std::string, std::string>& opt);

}  // namespace trm
