#include "json_read.h"

#include <cstdio>

#include "error.h"

namespace trm {

nlohmann::json parse_json(const char* begin, const char* end, const std::string& label) {
    // Brackets outside strings; a string's escaped quote does not end it. Unbalanced text is left to the parser.
    int depth = 0;
    bool in_string = false;
    for (const char* p = begin; p < end; ++p) {
        const char c = *p;
        if (in_string) {
            if (c == '\\') ++p;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxJsonDepth)
                throw Error(label + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                            " levels (arrays and objects) at byte " + std::to_string(p - begin) +
                            "; expected a shallow document");
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return nlohmann::json::parse(begin, end, nullptr, /*allow_exceptions=*/false);
}

std::string printable(const std::string& s, size_t max) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if (c == 0xc2 && i + 1 < s.size() && (static_cast<unsigned char>(s[i + 1]) & 0xe0) == 0x80) {
            char buf[8];  // U+0080-U+009F, the C1 controls (U+009B is a terminal's CSI)
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(s[++i]));
            out += buf;
        } else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += char(c);
        }
    }
    return out;
}

}  // namespace trm
