// libFuzzer target: the `config` metadata parser. A config that parses must survive a round trip through to_json().
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    trm::Config c;
    try {
        c = trm::Config::from_json(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    } catch (const trm::Error&) {
        return 0;
    }
    const trm::Config d = trm::Config::from_json(c.to_json(), "round trip");
    if (d.to_json() != c.to_json()) std::abort();
    return 0;
}
