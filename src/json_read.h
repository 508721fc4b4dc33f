// The one JSON reader of the engine: weight-file headers and metadata, configs, ARC tasks, solve options and the
// checkpoint side files (dataset.json, identifiers.json) all go through it.
// nlohmann's parser is iterative, but printing, comparing and copying a value recurse: a file nested a million levels
// deep parses and then overflows the stack (natively a crash, in WASM an exception through the module's frames that
// skips every destructor). Nesting is therefore bounded before parsing; no format the engine reads nests past 5.
#pragma once
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace trm {

constexpr int kMaxJsonDepth = 64;

// Parses [begin, end). Malformed JSON gives a discarded value (is_discarded()), for the caller's own message; nesting
// deeper than kMaxJsonDepth throws Error("<label>: JSON nested deeper than 64 levels (arrays and objects); ...").
nlohmann::json parse_json(const char* begin, const char* end, const std::string& label);
inline nlohmann::json parse_json(const std::string& text, const std::string& label) {
    return parse_json(text.data(), text.data() + text.size(), label);
}

// Text for a one-line message: control characters (newline, ESC, NUL, DEL...) as \n, \t, \r or \xNN, and the C1
// controls (U+0080-U+009F) as \u00NN, so that nothing read from a file can break a line or drive a terminal; cut to
// `max` bytes with "...". Backslashes stay as they are: JSON text prints as itself.
std::string printable(const std::string& s, size_t max = 200);

}  // namespace trm
