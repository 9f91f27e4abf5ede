// Fuzz target for the daemon's protocol parsers: the relay's SMTP state machine (what any
// client on the network may send) and the IMAP response parsers (what a server may answer).
// The first byte picks the parser. Invariants, whatever the input:
//  - SMTP: every reply is CRLF-terminated lines starting with a 3-digit code; a finished
//    message never exceeds the size limit nor the recipient limit and never holds a bare CR,
//    LF or NUL, whichever byte LineReader's two reads are split at; a client that never
//    logged in and is not trusted never gets past MAIL.
//  - IMAP: SEARCH results are sorted, unique and inside the requested window; the batched
//    FETCH reader keeps no body over its limit and marks exactly the cut ones truncated.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "daemon/protocol/imap.hpp"
#include "daemon/protocol/imap_fetch.hpp"
#include "daemon/protocol/smtp.hpp"

namespace {

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

void check_reply(const std::string& text) {
    std::size_t i = 0;
    while (i < text.size()) {
        auto end = text.find("\r\n", i);
        require(end != std::string::npos, "reply line without CRLF");
        require(end - i >= 3 && std::isdigit(static_cast<unsigned char>(text[i])) &&
                    std::isdigit(static_cast<unsigned char>(text[i + 1])) &&
                    std::isdigit(static_cast<unsigned char>(text[i + 2])),
                "reply line without a code");
        i = end + 2;
    }
}

bool has_bare_line_end(const std::string& data) {
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (data[i] == '\0') return true;
        if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) return true;
        if (data[i] == '\r' && (i + 1 == data.size() || data[i + 1] != '\n')) return true;
    }
    return false;
}

void smtp(std::string_view input, bool trusted) {
    using namespace casemail::protocol::smtp;
    Limits limits;
    limits.max_message_bytes = 2000;
    limits.max_recipients = 3;
    limits.max_line_bytes = 200;
    SessionPolicy policy;
    policy.client_trusted = trusted;
    policy.auth_offered = true;
    policy.tls_offered = true;
    policy.allow_plaintext_auth = true;
    Session s(limits, policy, [](const std::string& u, const std::string& p) { return u == "agent" && p == "pw"; });
    LineReader reader(limits.max_line_bytes);
    // Two reads, split where the input's first byte says.
    std::size_t cut = input.empty() ? 0 : static_cast<unsigned char>(input[0]) % input.size();
    for (auto part : {input.substr(0, cut), input.substr(cut)}) {
        reader.feed(part);
        while (auto line = reader.next(s.in_data())) {
            auto r = s.on_line(line->text, line->too_long, line->bare_line_end);
            check_reply(r.text);
            if (r.message) {
                require(!has_bare_line_end(s.data()), "a message with a bare CR or LF was accepted");
                require(s.data().size() <= limits.max_message_bytes, "message over the size limit");
                require(s.envelope().rcpt_to.size() <= limits.max_recipients, "too many recipients");
                require(trusted || !s.envelope().user.empty(), "untrusted client sent mail without AUTH");
                s.message_handled();
            }
            if (r.start_tls) s.tls_established();
            if (r.close) return;
        }
    }
}

void imap(std::string_view input) {
    using namespace casemail::protocol::imap;
    auto search = parse_search(input, 5, 100);
    if (search) {
        for (std::size_t i = 0; i < search->size(); ++i) {
            require((*search)[i] >= 5 && (*search)[i] <= 100, "UID outside the window");
            require(i == 0 || (*search)[i - 1] < (*search)[i], "UIDs not sorted and unique");
        }
    }
    auto status = parse_status(input);
    if (status) require(status->uidvalidity != 0, "STATUS without UIDVALIDITY accepted");
    (void)has_capability(input, "MOVE");
}

// The batched FETCH reader, fed in two pieces: kept bytes stay within their limits.
void imap_fetch(std::string_view input) {
    using namespace casemail::protocol::imap;
    FetchLimits limits;
    limits.max_body = 64;
    limits.max_line = 256;
    FetchReader reader("A1", limits);
    std::size_t cut = input.empty() ? 0 : static_cast<unsigned char>(input[0]) % input.size();
    if (reader.feed(input.substr(0, cut))) reader.feed(input.substr(cut));
    for (const auto& item : reader.items()) {
        require(item.uid != 0, "an item without a UID");
        require(item.body.size() <= limits.max_body + 1, "a body over its limit");
        require(item.truncated == (item.body_bytes > limits.max_body), "truncated does not match the literal");
    }
    if (reader.completed_ok()) require(reader.error().empty(), "completed OK with an error");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 4) {
        case 0: smtp(input, false); break;
        case 1: smtp(input, true); break;
        case 2: imap(input); break;
        default: imap_fetch(input); break;
    }
    return 0;
}
