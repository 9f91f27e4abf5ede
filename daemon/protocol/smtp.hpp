// The relay's SMTP server side as a pure state machine (RFC 5321, with SIZE RFC 1870,
// 8BITMIME RFC 6152, PIPELINING RFC 2920, ENHANCEDSTATUSCODES RFC 2034, STARTTLS RFC 3207,
// AUTH PLAIN/LOGIN RFC 4954/4616). Lines in, replies out; the network shell
// (daemon/relay/smtp_server.cpp) reads bytes, writes replies and hands complete messages over.
//
// Never an open relay: a client outside the trusted networks must authenticate before MAIL
// (530). Every limit answers with its own code: message size 552 5.3.4, recipients 452 4.5.3,
// line length 500 5.5.2, failed logins and unknown commands 421 and close, an address backing off
// after failed logins 421 4.7.0 and close.
//
// Only CRLF ends a line inside DATA (RFC 5321 2.3.8, 4.1.1.4), so only CRLF . CRLF ends the
// message: "\n.\n" and the other SMTP smuggling variants are data, never the end of it and
// never a command. A message holding a bare CR, a bare LF or a NUL is refused at its real end
// with 554 5.6.0 (as Postfix and Exim do since the 2023 smuggling reports): nothing with a
// bare line end is stored or reaches the upstream.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace casemail::protocol::smtp {

struct Limits {
    std::size_t max_message_bytes = 25u << 20;
    std::size_t max_recipients = 100;
    std::size_t max_line_bytes = 1000;  // RFC 5321 4.5.3.1.6, CRLF included
    int max_auth_failures = 3;
    int max_bad_commands = 20;
};

struct SessionPolicy {
    std::string hostname = "casemail";
    bool client_trusted = false;        // in allowed_networks: no AUTH needed
    bool auth_offered = false;          // a users file is configured
    bool tls_offered = false;           // a certificate is configured
    bool allow_plaintext_auth = false;  // AUTH before STARTTLS (loopback tests only)
};

// user, password -> accepted, rejected, or deferred: the client's address is backing off after
// repeated failures (answered 421 4.7.0 and closed, the password unchecked).
enum class LoginCheck { accepted, rejected, deferred };
using CheckLogin = std::function<LoginCheck(const std::string&, const std::string&)>;

struct Envelope {
    std::string helo;
    std::string user;  // authenticated user, "" when trusted by network
    std::string mail_from;
    std::vector<std::string> rcpt_to;
};

struct Reply {
    std::string text;        // CRLF-terminated reply lines; empty: nothing to send
    bool close = false;      // close after sending
    bool start_tls = false;  // handshake after sending
    bool message = false;    // DATA complete: call envelope()/data(), then message_handled()
};

class Session {
public:
    Session(Limits limits, SessionPolicy policy, CheckLogin check_login);

    std::string greeting() const;
    // One line without its CRLF. `too_long`: the line was longer than the limit and was cut.
    // `bare_line_end`: inside DATA, the line holds a bare CR or LF, or a NUL (LineReader).
    Reply on_line(std::string_view line, bool too_long = false, bool bare_line_end = false);

    const Envelope& envelope() const { return envelope_; }
    std::string& data() { return data_; }
    void message_handled();   // the transaction is over (RSET semantics)
    void tls_established();   // RFC 3207 4.2: forget the session, expect EHLO again
    bool in_data() const { return state_ == State::data; }
    bool tls_active() const { return tls_; }

private:
    enum class State { fresh, greeted, mail, rcpt, data, auth_plain, auth_login_user, auth_login_password };
    Reply command(std::string_view line, bool too_long);
    Reply data_line(std::string_view line, bool too_long, bool bare_line_end);
    Reply auth(std::string_view args);
    Reply finish_auth(const std::string& user, const std::string& password);
    Reply bad_command(std::string text);
    void reset_transaction();

    Limits limits_;
    SessionPolicy policy_;
    CheckLogin check_login_;
    State state_ = State::fresh;
    Envelope envelope_;
    std::string data_;
    bool data_too_big_ = false, data_line_too_long_ = false, data_bare_line_end_ = false;
    bool tls_ = false;
    bool authenticated_ = false;
    std::string login_user_;
    int auth_failures_ = 0;
    int bad_commands_ = 0;
};

// One line framed from the client's byte stream, ready for Session::on_line().
struct Line {
    std::string_view text;       // without its line end; at most max_line bytes
    bool too_long = false;       // longer than max_line (text is its start)
    bool bare_line_end = false;  // DATA only: a bare CR or LF, or a NUL, inside the line
};

// Frames the bytes a client sends into lines. Commands end at LF (a CR before it is dropped),
// as every mail server accepts; inside DATA only CRLF ends a line, and a bare CR, bare LF or
// NUL stays in the line and marks it. A line longer than max_line (line end included) is
// reported once, as soon as its first max_line bytes are in, and the rest of it is skipped.
// The caller says which framing applies to the next line (Session::in_data()), so pipelined
// commands after DATA's end are framed as commands again.
class LineReader {
public:
    explicit LineReader(std::size_t max_line) : max_line_(max_line) {}

    // Appends bytes read from the client. Invalidates lines returned before.
    void feed(std::string_view bytes);
    // The next line, or nothing until more bytes are fed. The text stays valid until the
    // next call of feed() or next().
    std::optional<Line> next(bool in_data);
    // Bytes received but not yet returned as a line (pipelining across STARTTLS is refused).
    bool has_buffered() const { return pos_ < buffer_.size(); }

private:
    std::optional<Line> overflow(std::string_view rest, bool in_data);

    std::size_t max_line_;
    std::string buffer_;
    std::size_t pos_ = 0;       // start of the next line in buffer_
    bool discarding_ = false;   // inside an over-long line already reported
    std::string cut_;           // the start of an over-long line, returned by overflow()
};

// "<addr>" with optional parameters after it: the address (possibly "" for <>) and the rest.
// False when the path is malformed.
bool parse_path(std::string_view text, std::string& address, std::string& parameters);

}  // namespace casemail::protocol::smtp
