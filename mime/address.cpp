#include "mime/address.hpp"
#include "mime/strings.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>

namespace casemail::mime {
namespace {

// std::isalnum in the "C" locale, without the locale lookup.
bool is_ascii_alnum(unsigned char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); }

bool is_atext(unsigned char c) {
    if (is_ascii_alnum(c) || c >= 0x80) return true;  // 0x80+: RFC 6532 UTF-8 local parts
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
            if (!(is_ascii_alnum(c) || c == '-' || c >= 0x80)) return false;
        }
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return true;
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

bool is_mail_system_address(std::string_view address) {
    std::string local;  // lower case, without a +tag, without separators: mailer_daemon, Mailer.Daemon
    for (char c : normalize_address(address.substr(0, address.rfind('@')))) {
        if (c == '+') break;
        if (c != '-' && c != '_' && c != '.') local += c;
    }
    return local == "mailerdaemon" || local == "postmaster";
}

}  // namespace casemail::mime

#include "mime/decode.hpp"
#include "mime/printable.hpp"

namespace casemail::mime {
namespace {

// One lexical item of an address list (RFC 5322 §3.2).
struct Token {
    enum Kind { atom, quoted, comment, special, angle } kind;
    std::string text;  // for angle: the content between < and >
};

std::vector<Token> tokenize_addresses(std::string_view s, Defects& defects) {
    std::vector<Token> out;
    std::size_t i = 0;
    while (i < s.size()) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            ++i;
        } else if (c == '"') {
            bool closed = false;
            std::string text = read_quoted_string(s, i, closed);
            if (!closed) add_defect(defects, "unterminated quoted string in address");
            out.push_back({Token::quoted, text});
        } else if (c == '(') {
            std::string text;
            int depth = 0;
            while (i < s.size()) {
                char d = s[i++];
                if (d == '\\' && i < s.size()) { text += s[i++]; continue; }
                if (d == '(') { if (depth++ > 0) text += d; continue; }
                if (d == ')') { if (--depth == 0) break; text += d; continue; }
                text += d;
            }
            if (depth > 0) add_defect(defects, "unterminated comment in address");
            out.push_back({Token::comment, text});
        } else if (c == '<') {
            auto end = s.find('>', i + 1);
            if (end == std::string_view::npos) {
                add_defect(defects, "unterminated angle address");
                out.push_back({Token::angle, std::string(s.substr(i + 1))});
                break;
            }
            out.push_back({Token::angle, std::string(s.substr(i + 1, end - i - 1))});
            i = end + 1;
        } else if (c == ',' || c == ';' || c == ':') {
            out.push_back({Token::special, std::string(1, c)});
            ++i;
        } else {
            auto start = i;
            while (i < s.size() && !std::strchr(" \t\r\n\"(<,;:", s[i])) ++i;
            if (i < s.size() && s[i] == '>') ++i;
            out.push_back({Token::atom, std::string(s.substr(start, i - start))});
        }
    }
    return out;
}

// "<@route1,@route2:user@host>" → "user@host" (RFC 5322 §4.4 obs-route).
std::string strip_route(std::string addr) {
    auto s = trim(addr);
    if (!s.empty() && s.front() == '@') {
        auto colon = s.find(':');
        if (colon != std::string_view::npos) return std::string(trim(s.substr(colon + 1)));
    }
    return std::string(s);
}


}  // namespace

std::vector<Address> parse_address_list(std::string_view value, std::vector<std::string>& defects,
                                        std::string_view fallback_charset) {
    std::vector<Address> out;
    auto tokens = tokenize_addresses(value, defects);
    // Walk mailbox by mailbox; ',' ends one, ':' opens a group (its name is dropped), ';' closes.
    std::vector<std::string> phrase;      // words before an angle address or the addr-spec
    std::vector<std::string> comments;
    std::optional<std::string> angle;
    std::string bare;                     // addr-spec written without angle brackets
    bool bare_broken = false;
    bool strip_leading_comma = false;
    auto finish = [&] {
        std::string addr;
        std::string name;
        if (angle) {
            addr = strip_route(*angle);
            name = join(phrase, " ");
            if (!bare.empty()) name += (name.empty() ? "" : " ") + bare;  // stray words
        } else if (!bare.empty() || !phrase.empty()) {
            // "user@host", "user@host (Name)", or garbage such as "John Smith".
            std::string candidate = bare.empty() ? join(phrase, " ") : join(phrase, " ") + bare;
            if (!bare_broken && phrase.empty()) {
                addr = bare;
            } else if (candidate.find('@') != std::string::npos && !bare.empty() && phrase.size() <= 1 &&
                       valid_addr_spec(candidate)) {
                addr = candidate;  // quoted local part: "a b"@host
            } else {
                add_defect(defects, "unparseable address: " + printable(candidate, 80));
            }
            if (!comments.empty()) name = join(comments, " ");
        }
        if (!addr.empty() && !valid_utf8(addr)) {  // RFC 6532 addresses are UTF-8; these are bytes
            add_defect(defects, "unparseable address: " + printable(addr, 80));
            addr.clear();
        }
        if (!addr.empty() && !angle && !valid_addr_spec(addr)) {
            add_defect(defects, "unparseable address: " + printable(addr, 80));
            addr.clear();
        }
        if (!addr.empty()) {
            auto at = addr.rfind('@');
            if (at == std::string::npos || at == 0 || at + 1 == addr.size()) {
                add_defect(defects, "unparseable address: " + printable(addr, 80));
                addr.clear();
            } else if (!valid_addr_spec(addr)) {
                add_defect(defects, "invalid address kept: " + printable(addr, 80));
            }
        }
        if (!addr.empty()) {
            if (name.empty() && angle && !comments.empty()) name = join(comments, " ");
            name = decode_header_text(name, defects, fallback_charset);
            if (strip_leading_comma) {
                auto n = trim(name);
                if (!n.empty() && n.front() == ',') name = std::string(trim(n.substr(1)));
                strip_leading_comma = false;
            }
            if (out.size() < max_addresses_per_header)
                out.push_back({std::string(trim(name)), std::move(addr)});
            else if (out.size() == max_addresses_per_header)
                add_defect(defects, "too many addresses in one header; rest ignored");
        } else if (angle && angle->empty()) {
            // "<>" — the null reverse-path; not an address.
        }
        phrase.clear();
        comments.clear();
        angle.reset();
        bare.clear();
        bare_broken = false;
    };
    for (std::size_t k = 0; k < tokens.size(); ++k) {
        auto& t = tokens[k];  // its text is moved out; only later tokens are looked ahead at
        switch (t.kind) {
            case Token::quoted:
                if (!bare.empty() && bare.back() == '@') {
                    bare += t.text;
                } else if (k + 1 < tokens.size() && tokens[k + 1].kind == Token::atom &&
                           tokens[k + 1].text.front() == '@' && !angle) {
                    bare += "\"" + t.text + "\"";  // "quoted local"@domain
                } else {
                    phrase.push_back(std::move(t.text));
                }
                break;
            case Token::atom:
                if (angle) {
                    bare += (bare.empty() ? "" : " ") + t.text;
                } else if (t.text.find('@') != std::string::npos || (!bare.empty() && bare.back() == '@')) {
                    if (!bare.empty() && bare.back() != '@' && t.text.front() != '@') {
                        phrase.push_back(bare);
                        bare_broken = true;
                    }
                    bare += t.text;
                } else {
                    if (!bare.empty()) bare_broken = true;
                    phrase.push_back(std::move(t.text));
                }
                break;
            case Token::comment:
                comments.push_back(std::move(t.text));
                break;
            case Token::angle:
                if (angle) {
                    // No comma between two mailboxes. Python's email generator writes this
                    // when it folds the separating comma into an encoded-word
                    // ("<a@x> =?utf-8?q?=2C?= =?utf-8?b?...?= <b@y>"): the words after the
                    // first address are the next mailbox's name.
                    add_defect(defects, "missing comma between addresses");
                    std::string next_phrase = bare;
                    bare.clear();
                    finish();
                    if (!next_phrase.empty()) phrase.push_back(next_phrase);
                    strip_leading_comma = true;
                }
                angle = std::move(t.text);
                break;
            case Token::special:
                if (t.text == ":") {
                    // group name, or part of an obs-route outside brackets: drop the phrase
                    phrase.clear();
                    comments.clear();
                    bare.clear();
                } else {
                    finish();
                }
                break;
        }
    }
    finish();
    return out;
}

}  // namespace casemail::mime
