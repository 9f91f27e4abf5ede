// Small ASCII string helpers shared by the parsers and the store. ASCII only on purpose:
// header names, charsets, addresses' domains and keywords are ASCII; UTF-8 text is left as is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace casemail::mime {

// Without leading and trailing ASCII white space.
std::string_view trim(std::string_view s);

// ASCII letters lower-cased; other bytes (UTF-8 included) unchanged.
std::string to_lower_ascii(std::string_view s);

// Equal ignoring ASCII case. Inline: header lookups call it for every field.
inline bool iequals_ascii(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// RFC 5322 quoted-string: `s[i]` is the opening '"'. Returns the content with quoted-pairs
// ('\x') unescaped and advances `i` past the closing quote; `closed` is false when the input
// ends first (then `i` is s.size()).
std::string read_quoted_string(std::string_view s, std::size_t& i, bool& closed);

// The parts joined with `separator`.
std::string join(const std::vector<std::string>& parts, std::string_view separator);
// join's inverse for lists stored as text: the non-empty parts between `separator`s.
std::vector<std::string> split(std::string_view text, char separator);

}  // namespace casemail::mime
