// libFuzzer target: a whole PyTorch checkpoint from bytes (zip directory, data.pkl, tensor locations), then the
// official-checkpoint loader over it with a fixed all_config.yaml. Whatever the bytes, the result is a model or a
// trm::Error; every tensor location it returns lies inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "checkpoint_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const trm::MemorySource src(data, size, "fuzz.pt");
    try {
        const trm::TorchCheckpoint ck = trm::read_torch_checkpoint(src);
        for (const trm::CheckpointTensor& t : ck.tensors)
            if (t.offset > size || t.nbytes > size - t.offset) std::abort();
        trm::CheckpointInputs in;
        in.config_label = "all_config.yaml";
        in.config_text = "arch:\n  H_cycles: 1\n  L_cycles: 1\n  L_layers: 1\n  expansion: 2\n  halt_max_steps: 1\n"
                         "  hidden_size: 8\n  num_heads: 2\n  pos_encodings: rope\n  puzzle_emb_ndim: 0\n  seq_len: 6\n";
        const trm::WeightSet w = trm::read_official_checkpoint(src, in);
        const std::vector<uint8_t> bytes = trm::weight_file_bytes(w, "", "fuzz.pt");
        trm::Model::load(bytes.data(), bytes.size(), "fuzz.pt", false);
    } catch (const trm::Error&) {
    }
    return 0;
}
