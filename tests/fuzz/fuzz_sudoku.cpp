// libFuzzer target: sudoku text codec and validator. Input: puzzle text, optionally "\n" and an answer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "safetensors.h"
#include "tasks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string in(reinterpret_cast<const char*>(data), size);
    const size_t nl = in.find('\n');
    const std::string puzzle = in.substr(0, nl), answer = nl == std::string::npos ? puzzle : in.substr(nl + 1);
    trm::sudoku::verify(puzzle, answer);  // never throws
    try {
        const auto t = trm::sudoku::encode(puzzle);
        std::string expect = trm::puzzle_text(puzzle, "sudoku");  // a byte-order mark dropped, no-break spaces
        for (char& ch : expect) if (ch == '0') ch = '.';
        if (trm::sudoku::decode(t.data()) != expect) std::abort();
    } catch (const trm::Error&) {
    }
    return 0;
}
