// libFuzzer target: the whole weight-file loader (safetensors header, metadata, config, tensors). Whatever the
// bytes, load() either returns a model or throws trm::Error; a model that loads must also run a step.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::shared_ptr<const trm::Model> m;
    try {
        m = trm::Model::load(data, size, "fuzz");
    } catch (const trm::Error&) {
        return 0;
    }
    const trm::Config& c = m->config();
    if (int64_t(c.positions()) * c.hidden_size > (1 << 16) || c.H_cycles * c.L_cycles * c.L_layers > 64) return 0;  // keep runs fast
    trm::Solver s(m, 1);
    std::vector<int32_t> tokens(size_t(c.seq_len), c.vocab_size - 1);
    s.set_puzzle(0, tokens.data(), 0);
    s.step();
    return 0;
}
