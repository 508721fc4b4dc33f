// libFuzzer target: the restricted unpickler on a state dict's data.pkl. Whatever the bytes, it returns tensors
// that lie inside their storages or throws trm::Error; it never executes anything and allocates in proportion to
// the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "torch_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        for (const trm::PickledTensor& t : trm::unpickle_state_dict(data, size, "fuzz.pkl")) {
            int64_t n = 1;
            for (int64_t d : t.shape) n *= d;
            if (t.offset < 0 || t.offset + n > t.storage_numel) std::abort();
        }
    } catch (const trm::Error&) {
    }
    return 0;
}
