#include "mime/address.hpp"

#include <algorithm>
#include <cctype>

namespace casemail::mime {
namespace {

bool is_atext(unsigned char c) {
    if (std::isalnum(c) || c >= 0x80) return true;  // 0x80+: RFC 6532 UTF-8 local parts
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
        case '-': case '/': case '=': case '?': case '^': case '_': case '`': case '{':
        case '|': case '}': case '~':
            return true;
        default:
            return false;
    }
}

bool valid_dot_atom(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.') return false;
    char prev = 0;
    for (char ch : s) {
        if (ch == '.') {
            if (prev == '.') return false;
        } else if (!is_atext(static_cast<unsigned char>(ch))) {
            return false;
        }
        prev = ch;
    }
    return true;
}

bool valid_quoted_local(std::string_view s) {
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '\\') {
            if (++i + 1 >= s.size()) return false;
            continue;
        }
        if (c == '"' || c == '\r' || c == '\n' || c == 0) return false;
    }
    return true;
}

bool valid_domain(std::string_view d) {
    if (d.empty() || d.size() > 253) return false;
    if (d.front() == '[') {  // address literal, e.g. [192.0.2.1]
        if (d.back() != ']') return false;
        return std::all_of(d.begin() + 1, d.end() - 1, [](char ch) {
            auto c = static_cast<unsigned char>(ch);
            return c > 32 && c < 127 && c != '[' && c != ']' && c != '\\';
        });
    }
    std::size_t start = 0;
    while (start <= d.size()) {
        auto dot = d.find('.', start);
        auto label = d.substr(start, dot == std::string_view::npos ? d.npos : dot - start);
        if (label.empty() || label.size() > 63) return false;
        if (label.front() == '-' || label.back() == '-') return false;
        for (char ch : label) {
            auto c = static_cast<unsigned char>(ch);
            if (!(std::isalnum(c) || c == '-' || c >= 0x80)) return false;
        }
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string normalize_address(std::string_view address) {
    auto s = trim(address);
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = trim(s.substr(1, s.size() - 2));
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return c < 0x80 ? static_cast<char>(std::tolower(c)) : ch;
    });
    return out;
}

bool valid_addr_spec(std::string_view address) {
    if (address.empty() || address.size() > 254) return false;
    auto at = address.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return false;
    auto local = address.substr(0, at);
    auto domain = address.substr(at + 1);
    if (local.size() > 64 && local.front() != '"') return false;
    bool local_ok = local.front() == '"' ? valid_quoted_local(local) : valid_dot_atom(local);
    return local_ok && valid_domain(domain);
}

}  // namespace casemail::mime
