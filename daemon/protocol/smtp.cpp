#include "daemon/protocol/smtp.hpp"

#include <fmt/format.h>

#include <utility>

#include "mime/address.hpp"
#include "mime/decode.hpp"
#include "mime/strings.hpp"

namespace casemail::protocol::smtp {
namespace {

std::string line(int code, std::string_view text) { return fmt::format("{} {}\r\n", code, text); }

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && mime::iequals_ascii(s.substr(0, prefix.size()), prefix);
}

std::string base64_decode(std::string_view text, bool& ok) {
    std::vector<std::string> defects;
    auto out = mime::decode_base64(text, defects);
    ok = defects.empty();
    return out;
}

}  // namespace

bool parse_path(std::string_view text, std::string& address, std::string& parameters) {
    text = mime::trim(text);
    if (text.empty() || text[0] != '<') return false;
    auto close = text.find('>');
    if (close == std::string_view::npos) return false;
    address = std::string(text.substr(1, close - 1));
    // Source routes (RFC 5321 4.1.2 obsolete "@a,@b:user@host") are dropped.
    if (auto colon = address.find(':'); !address.empty() && address[0] == '@' && colon != std::string::npos)
        address = address.substr(colon + 1);
    parameters = std::string(mime::trim(text.substr(close + 1)));
    if (!address.empty() && !mime::valid_addr_spec(mime::normalize_address(address))) return false;
    return true;
}

Session::Session(Limits limits, SessionPolicy policy, CheckLogin check_login)
    : limits_(limits), policy_(std::move(policy)), check_login_(std::move(check_login)) {}

std::string Session::greeting() const { return line(220, policy_.hostname + " ESMTP casemail relay"); }

void Session::reset_transaction() {
    envelope_.mail_from.clear();
    envelope_.rcpt_to.clear();
    data_.clear();
    data_too_big_ = data_line_too_long_ = data_bare_line_end_ = false;
    if (state_ != State::fresh) state_ = State::greeted;
}

void Session::message_handled() { reset_transaction(); }

void Session::tls_established() {
    tls_ = true;
    authenticated_ = false;
    envelope_ = {};
    data_.clear();
    state_ = State::fresh;
}

Reply Session::bad_command(std::string text) {
    if (++bad_commands_ >= limits_.max_bad_commands)
        return {line(421, "4.7.0 too many errors, closing connection"), true};
    return {std::move(text)};
}

Reply Session::on_line(std::string_view l, bool too_long, bool bare_line_end) {
    switch (state_) {
        case State::data: return data_line(l, too_long, bare_line_end);
        case State::auth_plain:
        case State::auth_login_user:
        case State::auth_login_password: {
            if (too_long) return bad_command(line(500, "5.5.2 line too long"));
            if (l == "*") {
                state_ = State::greeted;
                return {line(501, "5.0.0 authentication cancelled")};
            }
            bool ok = false;
            auto decoded = base64_decode(l, ok);
            if (!ok) {
                state_ = State::greeted;
                return bad_command(line(501, "5.5.2 invalid base64"));
            }
            if (state_ == State::auth_login_user) {
                login_user_ = decoded;
                state_ = State::auth_login_password;
                return {line(334, "UGFzc3dvcmQ6")};  // "Password:"
            }
            if (state_ == State::auth_login_password) return finish_auth(login_user_, decoded);
            auto a = decoded.find('\0');
            auto b = a == std::string::npos ? std::string::npos : decoded.find('\0', a + 1);
            if (b == std::string::npos) {
                state_ = State::greeted;
                return bad_command(line(501, "5.5.2 malformed PLAIN response"));
            }
            return finish_auth(decoded.substr(a + 1, b - a - 1), decoded.substr(b + 1));
        }
        default: return command(l, too_long);
    }
}

Reply Session::finish_auth(const std::string& user, const std::string& password) {
    state_ = State::greeted;
    auto check = check_login_ ? check_login_(user, password) : LoginCheck::rejected;
    if (check == LoginCheck::accepted) {
        authenticated_ = true;
        envelope_.user = user;
        return {line(235, "2.7.0 authentication successful")};
    }
    if (check == LoginCheck::deferred)
        return {line(421, "4.7.0 too many failed logins from your address, try again later"), true};
    if (++auth_failures_ >= limits_.max_auth_failures)
        return {line(421, "4.7.0 too many failed logins, closing connection"), true};
    return {line(535, "5.7.8 authentication credentials invalid")};
}

Reply Session::auth(std::string_view args) {
    if (!policy_.auth_offered) return bad_command(line(502, "5.5.1 AUTH not available"));
    if (authenticated_) return {line(503, "5.5.1 already authenticated")};
    if (state_ == State::fresh) return {line(503, "5.5.1 say EHLO first")};
    if (state_ != State::greeted) return {line(503, "5.5.1 AUTH not allowed during a mail transaction")};
    if (!tls_ && !policy_.allow_plaintext_auth) return {line(538, "5.7.11 encryption required: use STARTTLS first")};
    auto space = args.find(' ');
    auto mechanism = args.substr(0, space);
    auto initial = space == std::string_view::npos ? std::string_view() : mime::trim(args.substr(space + 1));
    if (mime::iequals_ascii(mechanism, "PLAIN")) {
        state_ = State::auth_plain;
        if (initial.empty()) return {line(334, "")};
        return on_line(initial == "=" ? std::string_view() : initial);
    }
    if (mime::iequals_ascii(mechanism, "LOGIN")) {
        state_ = State::auth_login_user;
        if (initial.empty()) return {line(334, "VXNlcm5hbWU6")};  // "Username:"
        return on_line(initial);
    }
    return {line(504, "5.5.4 unrecognized authentication mechanism")};
}

Reply Session::command(std::string_view l, bool too_long) {
    if (too_long) return bad_command(line(500, "5.5.2 line too long"));
    auto verb_end = l.find(' ');
    auto verb = l.substr(0, verb_end);
    auto args = verb_end == std::string_view::npos ? std::string_view() : mime::trim(l.substr(verb_end + 1));

    if (mime::iequals_ascii(verb, "EHLO") || mime::iequals_ascii(verb, "HELO")) {
        if (args.empty()) return bad_command(line(501, "5.5.4 a domain or address literal is required"));
        reset_transaction();
        state_ = State::greeted;
        envelope_.helo = std::string(args);
        if (mime::iequals_ascii(verb, "HELO")) return {line(250, policy_.hostname)};
        std::string r = "250-" + policy_.hostname + "\r\n";
        r += fmt::format("250-SIZE {}\r\n", limits_.max_message_bytes);
        r += "250-8BITMIME\r\n250-PIPELINING\r\n";
        if (policy_.tls_offered && !tls_) r += "250-STARTTLS\r\n";
        if (policy_.auth_offered && (tls_ || policy_.allow_plaintext_auth)) r += "250-AUTH PLAIN LOGIN\r\n";
        r += "250 ENHANCEDSTATUSCODES\r\n";
        return {r};
    }
    if (mime::iequals_ascii(verb, "QUIT")) return {line(221, "2.0.0 bye"), true};
    if (mime::iequals_ascii(verb, "NOOP")) return {line(250, "2.0.0 ok")};
    if (mime::iequals_ascii(verb, "RSET")) {
        reset_transaction();
        return {line(250, "2.0.0 ok")};
    }
    if (mime::iequals_ascii(verb, "VRFY")) return {line(252, "2.5.2 cannot VRFY; send the message and it will be tried")};
    if (mime::iequals_ascii(verb, "HELP")) return {line(214, "2.0.0 casemail relay: EHLO, AUTH, MAIL, RCPT, DATA, RSET, NOOP, QUIT")};
    if (mime::iequals_ascii(verb, "STARTTLS")) {
        if (!policy_.tls_offered) return bad_command(line(502, "5.5.1 STARTTLS not available"));
        if (tls_) return {line(503, "5.5.1 TLS already active")};
        if (!args.empty()) return {line(501, "5.5.4 STARTTLS takes no parameters")};
        return {line(220, "2.0.0 ready to start TLS"), false, true};
    }
    if (mime::iequals_ascii(verb, "AUTH")) return auth(args);
    if (starts_with_ci(l, "MAIL FROM:")) {
        if (state_ == State::fresh) return {line(503, "5.5.1 say EHLO first")};
        if (state_ != State::greeted) return {line(503, "5.5.1 nested MAIL command")};
        if (!policy_.client_trusted && !authenticated_) return {line(530, "5.7.0 authentication required")};
        std::string address, params;
        if (!parse_path(l.substr(10), address, params)) return bad_command(line(501, "5.1.7 bad sender address syntax"));
        std::string_view rest = params;
        while (!rest.empty()) {
            auto end = rest.find(' ');
            auto param = rest.substr(0, end);
            rest = end == std::string_view::npos ? std::string_view() : mime::trim(rest.substr(end + 1));
            if (starts_with_ci(param, "SIZE=")) {
                std::size_t size = 0;
                for (char c : param.substr(5)) {
                    if (c < '0' || c > '9') return bad_command(line(501, "5.5.4 bad SIZE parameter"));
                    if (size > limits_.max_message_bytes) break;
                    size = size * 10 + static_cast<std::size_t>(c - '0');
                }
                if (size > limits_.max_message_bytes)
                    return {line(552, fmt::format("5.3.4 message too big (limit {} bytes)", limits_.max_message_bytes))};
            } else if (!starts_with_ci(param, "BODY=") && !starts_with_ci(param, "AUTH=")) {
                return {line(555, "5.5.4 unsupported MAIL parameter")};
            }
        }
        envelope_.mail_from = address;
        state_ = State::mail;
        return {line(250, "2.1.0 ok")};
    }
    if (starts_with_ci(l, "RCPT TO:")) {
        if (state_ != State::mail && state_ != State::rcpt) return {line(503, "5.5.1 need MAIL first")};
        std::string address, params;
        if (!parse_path(l.substr(8), address, params) || address.empty())
            return bad_command(line(501, "5.1.3 bad recipient address syntax"));
        if (envelope_.rcpt_to.size() >= limits_.max_recipients)
            return {line(452, fmt::format("4.5.3 too many recipients (limit {})", limits_.max_recipients))};
        envelope_.rcpt_to.push_back(address);
        state_ = State::rcpt;
        return {line(250, "2.1.5 ok")};
    }
    if (mime::iequals_ascii(verb, "DATA")) {
        if (state_ != State::rcpt) return {line(503, state_ == State::mail ? "5.5.1 need RCPT first" : "5.5.1 need MAIL first")};
        state_ = State::data;
        data_.clear();
        return {line(354, "end data with <CR><LF>.<CR><LF>")};
    }
    return bad_command(line(500, "5.5.2 command not recognized"));
}

Reply Session::data_line(std::string_view l, bool too_long, bool bare_line_end) {
    if (!too_long && !bare_line_end && l == ".") {
        if (data_too_big_ || data_line_too_long_ || data_bare_line_end_) {
            auto r = data_too_big_
                         ? line(552, fmt::format("5.3.4 message too big (limit {} bytes)", limits_.max_message_bytes))
                     : data_line_too_long_
                         ? line(500, fmt::format("5.5.2 a line of the message is longer than {} bytes", limits_.max_line_bytes))
                         : line(554, "5.6.0 bare CR or LF, or NUL, in the message: only CRLF may end a line (RFC 5321 2.3.8)");
            reset_transaction();
            return {r};
        }
        return {"", false, false, true};
    }
    if (too_long) data_line_too_long_ = true;
    if (bare_line_end) data_bare_line_end_ = true;
    if (!l.empty() && l[0] == '.') l.remove_prefix(1);  // RFC 5321 4.5.2 transparency
    if (data_too_big_ || data_.size() + l.size() + 2 > limits_.max_message_bytes) {
        data_too_big_ = true;
        data_.clear();  // keep reading to the end, keep nothing
        return {};
    }
    data_.append(l);
    data_.append("\r\n");
    return {};
}

namespace {

bool has_bare_line_end(std::string_view text) { return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos; }

}  // namespace

void LineReader::feed(std::string_view bytes) {
    buffer_.erase(0, pos_);
    pos_ = 0;
    buffer_.append(bytes);
}

std::optional<Line> LineReader::next(bool in_data) {
    for (;;) {
        std::string_view rest(buffer_.data() + pos_, buffer_.size() - pos_);
        std::size_t end = in_data ? rest.find("\r\n") : rest.find('\n');
        if (end == std::string_view::npos) return overflow(rest, in_data);
        std::string_view text = rest.substr(0, end);
        pos_ += end + (in_data ? 2 : 1);
        if (!in_data && !text.empty() && text.back() == '\r') text.remove_suffix(1);
        if (std::exchange(discarding_, false)) continue;  // the tail of a line already reported
        bool too_long = text.size() + 2 > max_line_;
        return Line{too_long ? text.substr(0, max_line_) : text, too_long, in_data && has_bare_line_end(text)};
    }
}

// No line end in `rest` yet: report a line that already outgrew the limit, and drop what of
// it is buffered (keeping a final CR, which may be the first half of the CRLF that ends it).
std::optional<Line> LineReader::overflow(std::string_view rest, bool in_data) {
    if (rest.size() <= max_line_) return std::nullopt;
    std::optional<Line> report;
    if (!std::exchange(discarding_, true)) {
        cut_.assign(rest.substr(0, max_line_));
        report = Line{cut_, true, in_data && has_bare_line_end(cut_)};
    }
    std::size_t keep = in_data && rest.back() == '\r' ? 1 : 0;
    pos_ = buffer_.size() - keep;
    return report;
}

}  // namespace casemail::protocol::smtp
