// Reading the server's side of IMAP IDLE (RFC 2177): "tag IDLE" is answered by a continuation
// ("+ idling"); the server then sends untagged updates until the client's "DONE", which it
// answers with the tagged completion. Pure: bytes in, state out; the IMAP client feeds it from
// the fetch connection's socket.
//
// casemail only wants to know that mail may have arrived: "* n EXISTS". Every other update
// (EXPUNGE after our own moves, FETCH flags, RECENT, Dovecot's "* OK Still here") is read and
// ignored; "* BYE" means the server ended the connection. Servers are untrusted: a line is at
// most max_line bytes, and a literal (never part of these updates) fails the reader.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace casemail::protocol::imap {

class IdleReader {
public:
    explicit IdleReader(std::string tag, std::size_t max_line = 8192);

    // The next bytes from the server. False once the answer is malformed (error() says how).
    bool feed(std::string_view bytes);
    bool idling() const { return idling_; }    // the continuation arrived: the server is idling
    bool mail() const { return mail_; }        // an EXISTS arrived (at any point)
    bool closed() const { return closed_; }    // "* BYE": the server is ending the connection
    bool done() const { return done_; }        // the tagged completion arrived
    bool completed_ok() const { return done_ && ok_ && !failed_; }
    bool failed() const { return failed_; }
    // Malformed, or the server's NO/BAD text (a refused IDLE is completed before idling).
    const std::string& error() const { return error_; }

private:
    bool fail(std::string why);
    void line(std::string_view text);

    std::string tag_;
    std::size_t max_line_;
    std::string buffer_;
    bool idling_ = false, mail_ = false, closed_ = false;
    bool done_ = false, ok_ = false, failed_ = false;
    std::string error_;
};

}  // namespace casemail::protocol::imap
