#include "matching/routing.hpp"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "mime/address.hpp"
#include "mime/printable.hpp"
#include "mime/strings.hpp"

namespace casemail::matching {

struct Pattern::Compiled {
    explicit Compiled(const std::string& expression, const RE2::Options& options) : re(expression, options) {}
    RE2 re;
};

Result<Pattern> Pattern::compile(const std::string& expression) {
    RE2::Options options;
    options.set_case_sensitive(false);
    options.set_log_errors(false);
    options.set_max_mem(8 << 20);
    auto compiled = std::make_shared<Compiled>(expression, options);
    if (!compiled->re.ok()) return fail("invalid regular expression: " + compiled->re.error());
    Pattern p;
    p.compiled_ = std::move(compiled);
    p.text_ = expression;
    return p;
}

bool Pattern::search(std::string_view text) const {
    return compiled_ && RE2::PartialMatch(text.substr(0, max_scan_bytes), compiled_->re);
}

namespace {

std::string lower(std::string_view s) { return mime::to_lower_ascii(s); }

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80; }

// `word` (lower case) in `text` (lower case) as a whole word or phrase.
bool has_word(std::string_view text, const std::string& word) {
    for (auto at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
        bool starts = at == 0 || !is_word_char(text[at - 1]);
        bool ends = at + word.size() == text.size() || !is_word_char(text[at + word.size()]);
        if (starts && ends) return true;
    }
    return false;
}

// "" when `words` or `regex` (whichever is set) matches `text`, else why not.
std::string text_miss(const char* what, const std::string& text, const std::vector<std::string>& words,
                      const std::optional<Pattern>& regex, std::vector<std::string>& why) {
    if (!words.empty()) {
        auto hay = lower(std::string_view(text).substr(0, max_scan_bytes));
        for (const auto& w : words)
            if (has_word(hay, lower(w))) {
                why.push_back(fmt::format("{} has the word '{}'", what, w));
                return {};
            }
        return fmt::format("{} has none of the words", what);
    }
    if (regex) {
        if (!regex->search(text)) return fmt::format("{} does not match /{}/", what, regex->text());
        why.push_back(fmt::format("{} matches /{}/", what, regex->text()));
    }
    return {};
}

std::string from_miss(const mime::ParsedMessage& msg, const RouteRule& r, std::vector<std::string>& why) {
    if (r.from.empty()) return {};
    for (const auto& a : msg.from) {
        auto norm = mime::normalize_address(a.address);
        for (const auto& f : r.from)
            if (f == norm || (f.starts_with("@") && norm.ends_with(f))) {
                why.push_back(fmt::format("from {} is {}", mime::printable(norm, 100), f));
                return {};
            }
    }
    return "the sender is none of from";
}

std::string attachment_miss(const mime::ParsedMessage& msg, const RouteRule& r, std::vector<std::string>& why) {
    if (r.has_attachment.empty()) return {};
    auto want = lower(r.has_attachment);
    for (const auto& a : msg.attachments) {
        auto type = lower(a.content_type);
        bool hit = want.find('/') != std::string::npos
                       ? (want.ends_with("/*") ? type.starts_with(want.substr(0, want.size() - 1)) : type == want)
                       : lower(a.filename).ends_with("." + want);
        if (hit) {
            why.push_back(fmt::format("attachment {} ({})", mime::printable(a.filename, 80), type));
            return {};
        }
    }
    return "no attachment of type " + r.has_attachment;
}

std::string header_miss(const mime::ParsedMessage& msg, const RouteRule& r, std::vector<std::string>& why) {
    if (r.header_name.empty()) return {};
    auto value = msg.header(r.header_name);
    if (!value) return "no header " + r.header_name;
    if (!r.header_value.empty() && lower(mime::trim(*value)) != lower(r.header_value))
        return fmt::format("header {} is not {}", r.header_name, r.header_value);
    why.push_back(r.header_value.empty() ? "header " + r.header_name + " present"
                                         : fmt::format("header {}: {}", r.header_name, r.header_value));
    return {};
}

// "" when every condition of `r` holds (each noted in `why`), else the first that did not.
std::string miss(const mime::ParsedMessage& msg, const std::string& mailbox, const RouteRule& r,
                 std::vector<std::string>& why) {
    if (!r.mailbox.empty()) {
        if (r.mailbox != mime::normalize_address(mailbox)) return "received at another mailbox";
        why.push_back("received at " + r.mailbox);
    }
    for (auto m : {from_miss(msg, r, why), text_miss("subject", msg.subject, r.subject_words, r.subject_regex, why),
                   text_miss("body", msg.text, r.body_words, r.body_regex, why), attachment_miss(msg, r, why),
                   header_miss(msg, r, why)})
        if (!m.empty()) return m;
    return {};
}

}  // namespace

std::optional<RouteMatch> route(const mime::ParsedMessage& msg, const std::string& mailbox,
                                const std::vector<RouteRule>& rules) {
    for (const auto& r : rules) {
        std::vector<std::string> why;
        if (miss(msg, mailbox, r, why).empty()) return RouteMatch{&r, std::move(why)};
    }
    return std::nullopt;
}

std::vector<std::string> explain_misses(const mime::ParsedMessage& msg, const std::string& mailbox,
                                        const std::vector<RouteRule>& rules) {
    std::vector<std::string> out;
    for (const auto& r : rules) {
        std::vector<std::string> why;
        auto m = miss(msg, mailbox, r, why);
        if (m.empty()) break;
        out.push_back(fmt::format("rule '{}' (line {}): {}", r.name, r.line, m));
    }
    return out;
}

std::optional<std::string> request_type_name(const std::string& text) {
    for (const char* name : {"Report", "Request", "Inquire About"})
        if (lower(text) == lower(name)) return std::string(name);
    return std::nullopt;
}

}  // namespace casemail::matching
