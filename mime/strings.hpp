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

// Equal ignoring ASCII case.
bool iequals_ascii(std::string_view a, std::string_view b);

// RFC 5322 quoted-string: `s[i]` is the opening '"'. Returns the content with quoted-pairs
// ('\x') unescaped and advances `i` past the closing quote; `closed` is false when the input
// ends first (then `i` is s.size()).
std::string read_quoted_string(std::string_view s, std::size_t& i, bool& closed);

// The parts joined with `separator`.
std::string join(const std::vector<std::string>& parts, std::string_view separator);

}  // namespace casemail::mime
