// Writing mail: the other direction of casemail::mime. Pure functions that build header
// fields and bodies for the messages casemail sends (acknowledgements, rewritten replies).
//
// Every value that reaches a header goes through these: CR and LF never survive into a field
// (no header injection), non-ASCII text becomes RFC 2047 encoded-words (UTF-8, B), and lines
// are folded below 78 characters (RFC 5322 2.1.1).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace casemail::mime {

// Unstructured header text (Subject, display names in comments): printable ASCII as is,
// anything else as encoded-words split on UTF-8 character boundaries. CR, LF and other
// controls become spaces. Invalid UTF-8 is repaired first.
std::string encode_header_text(std::string_view utf8);

// "Display Name" <address>, or just the address when the name is empty; the name quoted or
// encoded as needed.
std::string format_mailbox(std::string_view name, std::string_view address);

// One header field "Name: value\r\n", folded at white space before 78 columns where possible.
std::string header_field(std::string_view name, std::string_view value);

// Message-IDs (without brackets) as a References/In-Reply-To value: "<a@b> <c@d>".
std::string format_message_ids(const std::vector<std::string>& ids);

// Base64 in lines of 76 characters, each ended by CRLF (RFC 2045 6.8).
std::string base64_lines(std::string_view data);

// Bare LF and bare CR become CRLF; the result ends with CRLF.
std::string normalize_crlf(std::string_view text);

// The raw top-level header block split into fields (folded lines kept, with their CRLF) and
// the body that follows the empty line. A message without the empty line is all header.
struct RawHeaders {
    struct Field {
        std::string name;  // as written
        std::string raw;   // "Name: value\r\n" including continuation lines
    };
    std::vector<Field> fields;
    std::string body;
};
RawHeaders split_raw_message(std::string_view raw);

// RFC 5322 date-time for a Date header, in UTC ("Mon, 23 Nov 2026 10:52:00 +0000").
std::string format_date(std::chrono::system_clock::time_point t);

// A notice casemail writes to staff itself (SLA alerts, alarms): UTF-8 plain text in base64,
// marked Auto-Submitted: auto-generated so that no responder answers it. `message_id` without
// brackets.
struct Notice {
    std::string from_name, from, to, subject, message_id, text;
    std::chrono::system_clock::time_point date;
};
std::string compose_notice(const Notice& n);

}  // namespace casemail::mime
