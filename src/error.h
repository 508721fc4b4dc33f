// trm::Error: every refusal in the engine, with a message that names the file, the field and what was expected.
#pragma once
#include <stdexcept>
#include <string>

namespace trm {

// A NUL quoted from a file would end what() early: it is kept as the text \x00 (json_read.h printable's spelling).
struct Error : std::runtime_error {
    explicit Error(const std::string& what) : std::runtime_error(without_nul(what)) {}
    explicit Error(const char* what) : std::runtime_error(what) {}

private:
    static std::string without_nul(std::string s) {
        for (size_t i = s.find('\0'); i != std::string::npos; i = s.find('\0', i)) s.replace(i, 1, "\\x00");
        return s;
    }
};

}  // namespace trm
