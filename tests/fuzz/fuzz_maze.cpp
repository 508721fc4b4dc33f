// libFuzzer target: maze text codec and validator. Input: maze text, optionally "\x01" and an answer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "safetensors.h"
#include "tasks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string in(reinterpret_cast<const char*>(data), size);
    const size_t sep = in.find('\x01');
    const std::string maze = in.substr(0, sep), answer = sep == std::string::npos ? maze : in.substr(sep + 1);
    try {
        const auto t = trm::maze::encode(maze);
        if (trm::maze::decode(t.data()) != trm::maze::normalize(maze)) std::abort();
        trm::maze::verify(maze, answer);
        trm::maze::shortest_path_length(maze);
    } catch (const trm::Error&) {
    }
    return 0;
}
