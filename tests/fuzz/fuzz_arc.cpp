// libFuzzer target: ARC task JSON parser and grid codec. Every grid of a task that parses must survive
// encode -> decode unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "safetensors.h"
#include "tasks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    trm::arc::Task task;
    try {
        task = trm::arc::parse_task(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    } catch (const trm::Error&) {
        return 0;
    }
    for (const auto* pairs : {&task.train, &task.test})
        for (const trm::arc::Pair& p : *pairs) {
            const auto t = trm::arc::encode(p.input);
            if (!(trm::arc::decode(t.data()) == p.input)) std::abort();
        }
    return 0;
}
