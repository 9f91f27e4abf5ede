#include "matching/subject.hpp"

#include <algorithm>
#include <cctype>

#include "matching/token.hpp"
#include "mime/address.hpp"

namespace casemail::matching {
namespace {

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

char up(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }

// Token occurrences as (position, length).
std::vector<std::pair<std::size_t, std::size_t>> token_spans(std::string_view s, std::string_view prefix) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    if (prefix.empty()) return out;
    for (std::size_t i = 0; i + prefix.size() < s.size(); ++i) {
        if (i > 0 && word_char(s[i - 1])) continue;
        bool match = true;
        for (std::size_t k = 0; k < prefix.size() && match; ++k) match = up(s[i + k]) == prefix[k];
        if (!match || s[i + prefix.size()] != '-') continue;
        std::size_t j = i + prefix.size() + 1;
        while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        if (j >= s.size() || s[j] != '-') continue;
        std::size_t end = j + 1;
        while (end < s.size() && std::isalnum(static_cast<unsigned char>(s[end]))) ++end;
        if (end < s.size() && word_char(s[end])) continue;
        if (parse_token(s.substr(i, end - i))) out.emplace_back(i, end - i);
    }
    return out;
}

std::string collapse_ws(std::string_view s) {
    std::string out;
    bool space = false;
    for (char c : s) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = !out.empty();
        } else {
            if (space) out += ' ';
            space = false;
            out += c;
        }
    }
    return out;
}

// Length of a reply/forward prefix at the start of `s` ("Re: ", "RE[2]: ", "Fwd: "), or 0.
std::size_t reply_prefix(std::string_view s) {
    static constexpr std::string_view words[] = {"re", "aw", "fw", "fwd", "wg", "sv", "tr", "vs", "rv", "antw", "ref", "r"};
    std::size_t n = 0;
    while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
    std::string word;
    for (std::size_t k = 0; k < n; ++k) word += static_cast<char>(std::tolower(static_cast<unsigned char>(s[k])));
    if (std::find(std::begin(words), std::end(words), word) == std::end(words)) return 0;
    std::size_t i = n;
    if (i < s.size() && (s[i] == '[' || s[i] == '(')) {  // RE[2]: / Re(3):
        char close = s[i] == '[' ? ']' : ')';
        auto end = s.find(close, i);
        if (end == std::string_view::npos || end - i > 4) return 0;
        i = end + 1;
    }
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size() || (s[i] != ':' && s[i] != '\xEF')) return 0;
    if (s[i] == '\xEF') {  // full-width colon U+FF1A (EF BC 9A), common in CJK clients
        if (s.substr(i, 3) != "\xEF\xBC\x9A") return 0;
        i += 2;
    }
    ++i;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return i;
}

}  // namespace

std::vector<std::string> find_subject_tokens(std::string_view subject, std::string_view prefix) {
    std::vector<std::string> out;
    for (auto [pos, len] : token_spans(subject, prefix)) {
        std::string t(subject.substr(pos, len));
        for (auto& c : t) c = up(c);
        if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
    }
    return out;
}

std::string case_title(std::string_view subject, std::string_view prefix) {
    std::string s(subject);
    // Remove tokens, with their brackets when bracketed.
    auto spans = token_spans(s, prefix);
    for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        auto [pos, len] = *it;
        if (pos > 0 && (s[pos - 1] == '[' || s[pos - 1] == '(') && pos + len < s.size() &&
            (s[pos + len] == ']' || s[pos + len] == ')')) {
            --pos;
            len += 2;
        }
        s.erase(pos, len);
    }
    s = collapse_ws(s);
    // Strip prefix chains, also ones the token removal exposed ("RE: [tok] RE: x").
    for (;;) {
        auto n = reply_prefix(s);
        if (n == 0) break;
        s = collapse_ws(s.substr(n));
    }
    while (!s.empty() && (s.front() == '-' || s.front() == ':')) s = collapse_ws(s.substr(1));
    return s.empty() ? std::string("(no subject)") : s;
}

bool is_no_reply_address(std::string_view address) {
    auto at = address.rfind('@');
    std::string local;
    for (char c : address.substr(0, at == std::string_view::npos ? address.size() : at))
        local += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto plus = local.find('+'); plus != std::string::npos) local.resize(plus);
    std::string squashed;
    for (char c : local)
        if (c != '-' && c != '_' && c != '.') squashed += c;
    static constexpr std::string_view never[] = {"noreply", "donotreply", "bounce", "bounces", "noreplies"};
    return mime::is_mail_system_address(address) ||
           std::find(std::begin(never), std::end(never), squashed) != std::end(never) ||
           squashed.starts_with("noreply") || squashed.starts_with("donotreply");
}

}  // namespace casemail::matching
