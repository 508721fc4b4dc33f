// libFuzzer target: the YAML-subset reader of all_config.yaml. Whatever the text, a JSON value or a trm::Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "safetensors.h"  // trm::Error
#include "yaml_subset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        trm::parse_yaml_subset(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml").dump();
    } catch (const trm::Error&) {
    } catch (const nlohmann::json::exception&) {  // dump() of a string that is not UTF-8
    }
    return 0;
}
