#include "mime/printable.hpp"

#include "mime/decode.hpp"

namespace casemail::mime {

std::string printable(std::string_view text, std::size_t max_bytes) {
    std::string out;
    out.reserve(std::min(text.size(), max_bytes) + 3);
    for (char ch : text) {
        if (out.size() >= max_bytes) {
            // Do not end inside a UTF-8 sequence.
            while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
                out.pop_back();
            if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
            out += "...";
            return valid_utf8(out) ? out : repair_utf8(out);
        }
        auto c = static_cast<unsigned char>(ch);
        out += (c < 0x20 || c == 0x7f) ? '?' : ch;
    }
    // Invalid UTF-8 becomes U+FFFD: what printable() returns goes into JSON and the store.
    return valid_utf8(out) ? out : repair_utf8(out);
}

std::vector<std::string> printable_lines(std::string_view text, std::size_t max_bytes_per_line) {
    std::vector<std::string> out;
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        out.push_back(printable(line, max_bytes_per_line));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
    return out;
}

}  // namespace casemail::mime
