// Fuzz target for the relay's SMTP state machine: what any client on the network may send.
// The first byte says whether the client is trusted by network. Invariants, whatever the input:
// every reply is CRLF-terminated lines starting with a 3-digit code; a finished message never
// exceeds the size limit nor the recipient limit and never holds a bare CR, LF or NUL, whichever
// byte LineReader's two reads are split at; a client that never logged in and is not trusted
// never gets past MAIL.
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/protocol/smtp.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {
using casemail::fuzz::require;
using casemail::fuzz::split_by_first_byte;

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
    Session s(limits, policy, [](const std::string& u, const std::string& p) {
        if (u == "backoff") return LoginCheck::deferred;
        return u == "agent" && p == "pw" ? LoginCheck::accepted : LoginCheck::rejected;
    });
    LineReader reader(limits.max_line_bytes);
    auto [first, second] = split_by_first_byte(input);
    for (auto part : {first, second}) {
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    smtp(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), data[0] % 2 == 1);
    return 0;
}
