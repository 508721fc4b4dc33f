// libFuzzer target: a whole PyTorch checkpoint from bytes (zip directory, data.pkl, tensor locations), then the
// official-checkpoint loader over it with a fixed all_config.yaml, from memory and piecewise. Whatever the bytes, the
// result is a model or a trm::Error; every tensor location and every range asked for lies inside the input.
#include <cstddef>
#include <cstdint>
#include <algorithm>
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
    // The same bytes read piecewise, as the browser reads a File: every range asked for is given, 64 bytes at the
    // least, until a model or a refusal; a request must lie inside the file and the rounds must end.
    trm::PieceSource pieces(size, "fuzz.pt");
    const trm::CheckpointInputs in{"arch:\n  H_cycles: 1\n  L_cycles: 1\n  L_layers: 1\n  expansion: 2\n  halt_max_steps: 1\n"
                                   "  hidden_size: 8\n  num_heads: 2\n  pos_encodings: rope\n  puzzle_emb_ndim: 0\n  seq_len: 6\n",
                                   "all_config.yaml", "", "", "", "", "", "", ""};
    auto give = [&](uint64_t o, uint64_t n) {
        if (o > size || n > size - o) std::abort();
        n = std::max<uint64_t>(n, std::min<uint64_t>(64, size - o));
        pieces.add(o, data + o, size_t(n));
    };
    for (int round = 0;; ++round) {
        if (round > 1000) std::abort();
        try {
            trm::load_checkpoint_pieces(pieces, in, false);
            break;
        } catch (const trm::NeedRanges& e) {
            for (const auto& r : e.ranges) give(r.first, r.second);
        } catch (const trm::NeedBytes& e) {
            give(e.offset, e.size);
        } catch (const trm::Error&) {
            break;
        }
    }
    return 0;
}
