// Reading the answer to one UID FETCH of many messages (RFC 3501 6.4.5, 7.4.2), byte by
// byte, as it arrives: "* n FETCH (UID u RFC822.SIZE s BODY[]<0> {k}\r\n<k bytes>)" per message,
// then the tagged completion. Pure: bytes in, items out; the IMAP client feeds it from its
// socket (libcurl does not hand over the literal of a custom UID FETCH).
//
// Servers are untrusted. Every dimension is bounded: a literal's bytes are kept up to
// max_body + 1 (the rest is read and dropped, and the item marked truncated); the text of one
// response outside its literals up to max_line; literals per response up to max_literals.
// Anything malformed (a line that is neither untagged nor our tag, a bad literal size, a FETCH
// item without a UID) fails the whole answer: the caller acknowledges nothing of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/protocol/imap.hpp"

namespace casemail::protocol::imap {

// One message of the answer.
struct FetchItem {
    Uid uid = 0;
    std::optional<std::uint64_t> size;  // RFC822.SIZE, when asked for
    bool has_body = false;              // BODY[] or BODY[]<origin> was in the answer
    std::string body;                   // at most max_body + 1 bytes of it
    std::uint64_t body_bytes = 0;       // the literal's announced length
    bool truncated = false;             // body_bytes > max_body: body is its first max_body + 1 bytes
};

struct FetchLimits {
    std::size_t max_body = 40u << 20;   // limits.max_message_bytes
    std::size_t max_line = 64u << 10;   // one response's text outside its literals
    std::size_t max_literals = 4;       // literals in one response
};

// UID FETCH <set> (UID RFC822.SIZE): the sizes first, to plan a batch by bytes.
std::string fetch_sizes_command(const std::vector<Uid>& uids);
// UID FETCH <set> (UID RFC822.SIZE BODY.PEEK[]<0.N>): at most N bytes of each message, so a
// message over the limit arrives cut (its RFC822.SIZE says so) and \Seen is not set.
std::string fetch_bodies_command(const std::vector<Uid>& uids, std::size_t max_bytes);

class FetchReader {
public:
    FetchReader(std::string tag, FetchLimits limits = {});

    // The next bytes from the server. False once the answer is malformed (error() says how);
    // bytes after the tagged completion are an error too (nothing else was asked).
    bool feed(std::string_view bytes);
    bool done() const { return done_; }              // the tagged completion arrived
    bool completed_ok() const { return done_ && ok_ && !failed_; }
    const std::string& error() const { return error_; }  // malformed, or the server's NO/BAD text
    std::vector<FetchItem>& items() { return items_; }
    // "* OK [UIDVALIDITY n]", when the answer held one (the answer to SELECT does).
    std::optional<std::uint32_t> uidvalidity() const { return uidvalidity_; }
    // "* OK [UIDNEXT n]" (SELECT's answer), and whether any "* n EXISTS" came: the server
    // telling this connection of new mail (with a FETCH, of mail that arrived since its last
    // command; the IMAP client then looks again before it idles).
    std::optional<Uid> uidnext() const { return uidnext_; }
    bool exists_seen() const { return exists_seen_; }

private:
    bool fail(std::string why);
    bool read_line();
    bool read_literal();
    bool finish_response();
    bool parse_fetch(std::string_view attributes);
    void keep_body(FetchItem& item, std::string bytes, std::uint64_t announced) const;
    void uidvalidity_from(std::string_view rest);
    void uidnext_from(std::string_view rest);

    std::string tag_;
    FetchLimits limits_;
    std::string buffer_;        // bytes not yet consumed
    std::string text_;          // the response so far, each literal replaced by '\x01'
    std::vector<std::string> literals_;
    std::uint64_t literal_left_ = 0;  // bytes of the current literal still to read
    bool in_literal_ = false;
    bool done_ = false, ok_ = false, failed_ = false;
    std::string error_;
    std::vector<FetchItem> items_;
    std::vector<std::uint64_t> literal_sizes_;
    std::optional<std::uint32_t> uidvalidity_;
    std::optional<Uid> uidnext_;
    bool exists_seen_ = false;
};

}  // namespace casemail::protocol::imap
