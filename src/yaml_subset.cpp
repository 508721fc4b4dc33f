// The YAML subset reader of yaml_subset.h: lines with their indentation, then recursive descent over blocks.
#include "yaml_subset.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "error.h"
#include "json_read.h"

namespace trm {

namespace {

struct Line {
    int number;           // 1-based, for messages
    int indent;           // column of the first non-space character
    std::string text;     // without the indentation and trailing spaces
};

class YamlReader {
public:
    YamlReader(const std::string& text, const std::string& label) : label_(label) {
        int number = 0;
        size_t p = 0;
        while (p <= text.size()) {
            size_t e = text.find('\n', p);
            if (e == std::string::npos) e = text.size();
            std::string s = text.substr(p, e - p);
            p = e + 1;
            ++number;
            if (!s.empty() && s.back() == '\r') s.pop_back();
            size_t ind = 0;
            while (ind < s.size() && s[ind] == ' ') ++ind;
            if (ind < s.size() && s[ind] == '\t') fail(number, "a tab in the indentation; expected spaces");
            size_t end = s.size();
            while (end > ind && (s[end - 1] == ' ' || s[end - 1] == '\t')) --end;
            if (end == ind || s[ind] == '#') continue;  // blank or comment-only
            const std::string t = s.substr(ind, end - ind);
            if (t == "---" || t == "..." || t[0] == '%') fail(number, "document marker or directive '" + t + "'; expected a single plain document");
            lines_.push_back({number, int(ind), t});
            if (e == text.size()) break;
        }
    }

    nlohmann::json document() {
        if (lines_.empty()) return nullptr;
        size_t i = 0;
        nlohmann::json v = node(i, lines_[0].indent);
        if (i < lines_.size()) fail(lines_[i].number, "unexpected indentation of '" + lines_[i].text + "'");
        return v;
    }

private:
    [[noreturn]] void fail(int line, const std::string& what) const {
        throw Error(label_ + ":" + std::to_string(line) + ": " + what);
    }

    static bool is_item(const std::string& t) { return t == "-" || t.rfind("- ", 0) == 0; }

    // Blocks nest by recursion: the depth is bounded so that no file can exhaust the stack (all_config.yaml nests 3).
    nlohmann::json node(size_t& i, int indent) {
        if (++depth_ > kMaxJsonDepth)
            fail(lines_[i].number, "blocks nested deeper than " + std::to_string(kMaxJsonDepth) + " levels; expected a shallow document");
        nlohmann::json v = is_item(lines_[i].text) ? sequence(i, indent) : mapping(i, indent);
        --depth_;
        return v;
    }

    // Position of the ':' that ends a mapping key (followed by a space or the end), outside quotes; npos if none.
    static size_t key_colon(const std::string& t) {
        char quote = 0;
        for (size_t k = 0; k < t.size(); ++k) {
            const char c = t[k];
            if (quote) {
                if (c == quote) quote = 0;
            } else if ((c == '"' || c == '\'') && k == 0) {
                quote = c;
            } else if (c == ':' && (k + 1 == t.size() || t[k + 1] == ' ')) {
                return k;
            } else if (c == ' ' && k + 1 < t.size() && t[k + 1] == '#') {
                return std::string::npos;  // a comment starts before any key colon
            }
        }
        return std::string::npos;
    }

    nlohmann::json mapping(size_t& i, int indent) {
        nlohmann::json m = nlohmann::json::object();
        while (i < lines_.size() && lines_[i].indent >= indent) {
            const Line& L = lines_[i];
            if (L.indent > indent) fail(L.number, "unexpected indentation of '" + L.text + "'");
            if (is_item(L.text)) fail(L.number, "a sequence item where a mapping key was expected");
            if (L.text[0] == '?') fail(L.number, "complex mapping keys ('?') are not supported");
            const size_t colon = key_colon(L.text);
            if (colon == std::string::npos) fail(L.number, "expected 'key: value', got '" + L.text + "'");
            const nlohmann::json key = scalar(L.text.substr(0, colon), L.number);
            if (!key.is_string() && !key.is_number_integer()) fail(L.number, "mapping key '" + L.text.substr(0, colon) + "' is not a string");
            const std::string k = key.is_string() ? key.get<std::string>() : key.dump();
            if (m.contains(k)) fail(L.number, "key '" + k + "' appears twice");
            std::string rest = L.text.substr(colon + 1);
            rest.erase(0, rest.find_first_not_of(' ') == std::string::npos ? rest.size() : rest.find_first_not_of(' '));
            ++i;
            if (rest.empty() || rest[0] == '#') {
                if (i < lines_.size() && lines_[i].indent > indent) m[k] = node(i, lines_[i].indent);
                else if (i < lines_.size() && lines_[i].indent == indent && is_item(lines_[i].text)) m[k] = sequence(i, indent);
                else m[k] = nullptr;
            } else {
                m[k] = folded_scalar(rest, L.number, i, indent);
            }
        }
        return m;
    }

    nlohmann::json sequence(size_t& i, int indent) {
        nlohmann::json s = nlohmann::json::array();
        while (i < lines_.size() && lines_[i].indent == indent && is_item(lines_[i].text)) {
            Line& L = lines_[i];
            size_t c = 1;
            while (c < L.text.size() && L.text[c] == ' ') ++c;
            if (c == L.text.size()) {  // "-" alone: the item is the more-indented block below, or null
                ++i;
                s.push_back(i < lines_.size() && lines_[i].indent > indent ? node(i, lines_[i].indent) : nlohmann::json());
                continue;
            }
            const std::string rest = L.text.substr(c);
            if (is_item(rest) || key_colon(rest) != std::string::npos) {
                // "- key: value" or "- - x": the item is a block that starts at the content's column.
                L.indent += int(c);
                L.text = rest;
                s.push_back(node(i, L.indent));
            } else {
                ++i;
                s.push_back(folded_scalar(rest, L.number, i, indent));
            }
        }
        if (i < lines_.size() && lines_[i].indent > indent) fail(lines_[i].number, "unexpected indentation of '" + lines_[i].text + "'");
        return s;
    }

    // A scalar that yaml.dump may have folded onto following, more-indented lines (long strings).
    nlohmann::json folded_scalar(std::string text, int number, size_t& i, int indent) {
        while (i < lines_.size() && lines_[i].indent > indent) {
            if (!text.empty() && text.back() == '\\' && text[0] == '"') text.pop_back();  // escaped line break: no space
            else text += ' ';
            text += lines_[i].text;
            ++i;
        }
        return scalar(text, number);
    }

    nlohmann::json scalar(const std::string& raw, int number) const {
        std::string t = raw;
        while (!t.empty() && t.back() == ' ') t.pop_back();
        if (t.empty()) return nullptr;
        const char c = t[0];
        if (c == '"') return double_quoted(t, number);
        if (c == '\'') {
            std::string out;
            size_t k = 1;
            for (; k < t.size(); ++k) {
                if (t[k] == '\'') {
                    if (k + 1 < t.size() && t[k + 1] == '\'') { out += '\''; ++k; continue; }
                    break;
                }
                out += t[k];
            }
            if (k >= t.size()) fail(number, "single-quoted string is not closed");
            trailing(t, k + 1, number);
            return out;
        }
        if (t == "[]") return nlohmann::json::array();
        if (t == "{}") return nlohmann::json::object();
        if (c == '[' || c == '{') fail(number, "flow collection '" + t + "' is not supported; expected [] or {} or block style");
        if (c == '&' || c == '*') fail(number, "anchors and aliases are not supported ('" + t + "')");
        if (c == '!') fail(number, "tags are not supported ('" + t + "')");
        if (c == '|' || c == '>') fail(number, "block scalars ('" + t + "') are not supported");
        if (c == '@' || c == '`') fail(number, "'" + std::string(1, c) + "' cannot start a plain scalar");
        const size_t hash = t.find(" #");
        if (hash != std::string::npos) t.erase(hash);
        while (!t.empty() && t.back() == ' ') t.pop_back();
        return plain(t);
    }

    void trailing(const std::string& t, size_t k, int number) const {
        while (k < t.size() && t[k] == ' ') ++k;
        if (k < t.size() && t[k] != '#') fail(number, "text after a quoted string: '" + t.substr(k) + "'");
    }

    nlohmann::json double_quoted(const std::string& t, int number) const {
        std::string out;
        size_t k = 1;
        for (; k < t.size() && t[k] != '"'; ++k) {
            if (t[k] != '\\') { out += t[k]; continue; }
            if (++k >= t.size()) break;
            switch (t[k]) {
                case '\\': out += '\\'; break;
                case '"': out += '"'; break;
                case '/': out += '/'; break;
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case '0': out += '\0'; break;
                case ' ': out += ' '; break;
                default: fail(number, std::string("escape '\\") + t[k] + "' in a double-quoted string is not supported");
            }
        }
        if (k >= t.size()) fail(number, "double-quoted string is not closed");
        trailing(t, k + 1, number);
        return out;
    }

    // YAML 1.1 core types as PyYAML resolves them, plus exponents without a '.' (1e-05), which it writes for floats.
    static nlohmann::json plain(const std::string& t) {
        if (t == "~" || t == "null" || t == "Null" || t == "NULL") return nullptr;
        if (t == "true" || t == "True" || t == "TRUE") return true;
        if (t == "false" || t == "False" || t == "FALSE") return false;
        if (t == ".inf" || t == ".Inf" || t == ".INF" || t == "+.inf") return INFINITY;
        if (t == "-.inf" || t == "-.Inf" || t == "-.INF") return -INFINITY;
        if (t == ".nan" || t == ".NaN" || t == ".NAN") return NAN;
        size_t k = (t[0] == '-' || t[0] == '+') ? 1 : 0;
        const size_t digits0 = k;
        while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k]))) ++k;
        const bool int_digits = k > digits0;
        if (k == t.size() && int_digits) {
            errno = 0;
            const long long v = std::strtoll(t.c_str(), nullptr, 10);
            if (errno == 0) return v;
            return t;  // beyond 64 bits: keep the text; no architecture field is that large
        }
        bool frac_digits = false;
        if (k < t.size() && t[k] == '.') {
            ++k;
            while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k]))) { ++k; frac_digits = true; }
        }
        if (!int_digits && !frac_digits) return t;
        if (k < t.size() && (t[k] == 'e' || t[k] == 'E')) {
            ++k;
            if (k < t.size() && (t[k] == '-' || t[k] == '+')) ++k;
            const size_t e0 = k;
            while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k]))) ++k;
            if (k == e0) return t;
        }
        if (k != t.size()) return t;
        return std::strtod(t.c_str(), nullptr);
    }

    std::string label_;
    std::vector<Line> lines_;
    int depth_ = 0;
};

}  // namespace

nlohmann::json parse_yaml_subset(const std::string& text, const std::string& label) {
    return YamlReader(text, label).document();
}

}  // namespace trm
