#include "daemon/protocol/imap_fetch.hpp"

#include <fmt/format.h>

#include <charconv>

#include "mime/printable.hpp"
#include "mime/strings.hpp"

namespace casemail::protocol::imap {
namespace {

constexpr char literal_marker = '\x01';

std::optional<std::uint64_t> number(std::string_view s) {
    std::uint64_t n = 0;
    if (s.empty() || s.size() > 19) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return n;
}

// Tokens of a FETCH attribute list, one at a time.
class Tokens {
public:
    explicit Tokens(std::string_view s) : s_(s) {}
    bool at_end() {
        skip_spaces();
        return i_ >= s_.size() || s_[i_] == ')';
    }
    // An atom (also BODY[...]<n> with its brackets), a number, NIL.
    std::string_view atom() {
        skip_spaces();
        auto start = i_;
        int depth = 0;
        while (i_ < s_.size()) {
            char c = s_[i_];
            if (c == '[') ++depth;
            else if (c == ']') --depth;
            else if (depth == 0 && (c == ' ' || c == '(' || c == ')' || c == '"' || c == literal_marker)) break;
            ++i_;
        }
        return s_.substr(start, i_ - start);
    }
    // A value we do not read: an atom, a quoted string, a parenthesised list, a literal.
    bool skip_value(std::size_t& literal_index) {
        skip_spaces();
        if (i_ >= s_.size()) return false;
        if (s_[i_] == '(') return skip_list(literal_index);
        if (s_[i_] == '"') return quoted().has_value();
        if (s_[i_] == literal_marker) {
            ++i_;
            ++literal_index;
            return true;
        }
        return !atom().empty();
    }
    std::optional<std::string> quoted() {
        skip_spaces();
        if (i_ >= s_.size() || s_[i_] != '"') return std::nullopt;
        bool closed = false;
        auto text = mime::read_quoted_string(s_, i_, closed);
        if (!closed) return std::nullopt;
        return text;
    }
    bool next_is(char c) {
        skip_spaces();
        return i_ < s_.size() && s_[i_] == c;
    }
    void take() { ++i_; }

private:
    void skip_spaces() {
        while (i_ < s_.size() && s_[i_] == ' ') ++i_;
    }
    bool skip_list(std::size_t& literal_index) {
        ++i_;  // '('
        while (!next_is(')')) {
            if (i_ >= s_.size() || !skip_value(literal_index)) return false;
        }
        ++i_;
        return true;
    }
    std::string_view s_;
    std::size_t i_ = 0;
};

bool is_body_section(std::string_view name) {
    // BODY[] or BODY[]<origin>: the whole message (no part, no header-only section).
    return mime::iequals_ascii(name, "BODY[]") ||
           (name.size() > 7 && mime::iequals_ascii(name.substr(0, 7), "BODY[]<") && name.back() == '>');
}

}  // namespace

std::string fetch_sizes_command(const std::vector<Uid>& uids) {
    return fmt::format("UID FETCH {} (UID RFC822.SIZE)", sequence_set(uids));
}

std::string fetch_bodies_command(const std::vector<Uid>& uids, std::size_t max_bytes) {
    return fmt::format("UID FETCH {} (UID RFC822.SIZE BODY.PEEK[]<0.{}>)", sequence_set(uids), max_bytes);
}

FetchReader::FetchReader(std::string tag, FetchLimits limits) : tag_(std::move(tag)), limits_(limits) {}

bool FetchReader::fail(std::string why) {
    failed_ = true;
    error_ = std::move(why);
    return false;
}

bool FetchReader::feed(std::string_view bytes) {
    if (failed_) return false;
    if (done_) return bytes.empty() || fail("data after the tagged completion");
    buffer_.append(bytes);
    for (;;) {
        bool progressed = in_literal_ ? read_literal() : read_line();
        if (failed_) return false;
        if (!progressed) break;
        if (done_) {
            if (!buffer_.empty()) return fail("data after the tagged completion");
            break;
        }
    }
    return true;
}

// Bytes of the current literal: kept up to max_body + 1, the rest dropped.
bool FetchReader::read_literal() {
    if (buffer_.empty()) return false;
    auto take = static_cast<std::size_t>(std::min<std::uint64_t>(literal_left_, buffer_.size()));
    auto& lit = literals_.back();
    std::size_t room = limits_.max_body + 1 > lit.size() ? limits_.max_body + 1 - lit.size() : 0;
    lit.append(buffer_, 0, std::min(take, room));
    buffer_.erase(0, take);
    literal_left_ -= take;
    if (literal_left_ == 0) in_literal_ = false;
    return true;
}

// One line of response text: either it announces a literal ({n} at its end) or it ends the
// response.
bool FetchReader::read_line() {
    auto end = buffer_.find("\r\n");
    if (end == std::string::npos) {
        if (text_.size() + buffer_.size() > limits_.max_line)
            return fail(fmt::format("a response is longer than {} bytes outside its literals", limits_.max_line));
        return false;
    }
    if (text_.size() + end > limits_.max_line)
        return fail(fmt::format("a response is longer than {} bytes outside its literals", limits_.max_line));
    std::string_view line(buffer_.data(), end);
    if (line.find(literal_marker) != std::string_view::npos) return fail("a control byte in a response line");
    if (!line.empty() && line.back() == '}') {
        auto open = line.rfind('{');
        auto n = open == std::string_view::npos ? std::nullopt : number(line.substr(open + 1, line.size() - open - 2));
        if (!n) return fail("bad literal size in: " + mime::printable(line, 80));
        if (literals_.size() >= limits_.max_literals)
            return fail(fmt::format("more than {} literals in one response", limits_.max_literals));
        text_.append(line.substr(0, open));
        text_.push_back(literal_marker);
        literals_.emplace_back();
        literal_sizes_.push_back(*n);
        literal_left_ = *n;
        in_literal_ = *n > 0;
        buffer_.erase(0, end + 2);
        return true;
    }
    text_.append(line);
    buffer_.erase(0, end + 2);
    return finish_response();
}

bool FetchReader::finish_response() {
    std::string text;
    text.swap(text_);
    std::string_view t = text;
    bool result = true;
    if (t.starts_with("* ")) {
        auto rest = t.substr(2);
        auto space = rest.find(' ');
        auto seq = number(rest.substr(0, space));
        auto after = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
        if (seq && after.size() >= 7 && mime::iequals_ascii(after.substr(0, 7), "FETCH (")) result = parse_fetch(after.substr(7));
        else if (seq && mime::iequals_ascii(after, "EXISTS")) exists_seen_ = true;
        else if (rest.starts_with("OK [UIDVALIDITY ")) uidvalidity_from(rest.substr(16));
        else if (rest.starts_with("OK [UIDNEXT ")) uidnext_from(rest.substr(12));
        // Other untagged answers (RECENT, EXPUNGE, OK ...) say nothing about what we fetch.
    } else if (t.starts_with(tag_ + " ")) {
        auto status = t.substr(tag_.size() + 1);
        done_ = true;
        ok_ = status.size() >= 2 && mime::iequals_ascii(status.substr(0, 2), "OK");
        if (!ok_) error_ = mime::printable(status, 300);
    } else {
        result = fail("unexpected line: " + mime::printable(t, 80));
    }
    literals_.clear();
    literal_sizes_.clear();
    return result;
}

void FetchReader::uidvalidity_from(std::string_view rest) {
    auto n = number(rest.substr(0, rest.find(']')));
    if (n && *n > 0 && *n <= 0xffffffffu) uidvalidity_ = static_cast<std::uint32_t>(*n);
}

void FetchReader::uidnext_from(std::string_view rest) {
    auto n = number(rest.substr(0, rest.find(']')));
    if (n && *n > 0 && *n <= 0xffffffffu) uidnext_ = static_cast<Uid>(*n);
}

// A literal arrives cut already (read_literal); a quoted string, bounded only by max_line, is
// cut here, so a body over max_body is marked truncated however the server sent it.
void FetchReader::keep_body(FetchItem& item, std::string bytes, std::uint64_t announced) const {
    if (bytes.size() > limits_.max_body + 1) bytes.resize(limits_.max_body + 1);
    item.body = std::move(bytes);
    item.body_bytes = announced;
    item.truncated = announced > limits_.max_body;
}

bool FetchReader::parse_fetch(std::string_view attributes) {
    Tokens tokens(attributes);
    FetchItem item;
    std::size_t literal_index = 0;
    while (!tokens.at_end()) {
        auto name = tokens.atom();
        if (name.empty()) return fail("malformed FETCH response");
        if (mime::iequals_ascii(name, "UID") || mime::iequals_ascii(name, "RFC822.SIZE")) {
            auto n = number(tokens.atom());
            if (!n || (name.size() == 3 && (*n == 0 || *n > 0xffffffffu))) return fail("bad number in a FETCH response");
            if (name.size() == 3) item.uid = static_cast<Uid>(*n);
            else item.size = *n;
        } else if (is_body_section(name)) {
            item.has_body = true;
            if (tokens.next_is(literal_marker)) {
                tokens.take();
                auto announced = literal_sizes_[literal_index];
                keep_body(item, std::move(literals_[literal_index++]), announced);
            } else if (auto q = tokens.quoted()) {
                auto announced = q->size();
                keep_body(item, std::move(*q), announced);
            } else if (!mime::iequals_ascii(tokens.atom(), "NIL")) {
                return fail("bad BODY[] value in a FETCH response");
            }
        } else if (!tokens.skip_value(literal_index)) {
            return fail("malformed FETCH response");
        }
    }
    if (item.uid == 0) {
        if (item.has_body) return fail("a FETCH response with a body but no UID");
        return true;  // a flags update the server volunteered
    }
    items_.push_back(std::move(item));
    return true;
}

}  // namespace casemail::protocol::imap
