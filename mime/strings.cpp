#include "mime/strings.hpp"

namespace casemail::mime {

namespace {
// std::isspace in the "C" locale, without the locale lookup: trim() runs on every header.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
}  // namespace

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::string to_lower_ascii(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string read_quoted_string(std::string_view s, std::size_t& i, bool& closed) {
    std::string text;
    closed = false;
    ++i;  // opening quote
    while (i < s.size()) {
        char c = s[i++];
        if (c == '\\' && i < s.size()) {
            text += s[i++];
            continue;
        }
        if (c == '"') {
            closed = true;
            break;
        }
        text += c;
    }
    return text;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += separator;
        out += p;
    }
    return out;
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        auto end = text.find(separator, i);
        if (end == std::string_view::npos) end = text.size();
        if (end > i) out.emplace_back(text.substr(i, end - i));
        i = end + 1;
    }
    return out;
}

}  // namespace casemail::mime
