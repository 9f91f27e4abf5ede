// casemail::mime — turn one raw email into a clean, decoded ParsedMessage.
//
// Contract: parse_message() never throws on untrusted input. It returns a ParsedMessage with
// every repair listed in `defects`, or — only when a configured limit is exceeded or there is
// nothing that could be a message — a Failure whose reason says which limit and by how much.
// Time and memory are bounded by the limits below (linear in the message size).
// mimetic splits the MIME structure; all decoding (RFC 2047/2231, charsets, transfer
// encodings, addresses, dates) is ours. No mimetic type appears in this header.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mime/address.hpp"
#include "mime/result.hpp"

namespace casemail::mime {

struct Limits {
    std::size_t max_message_bytes = 40u << 20;  // 40 MB
    std::size_t max_depth = 32;                 // nesting of multipart / message/rfc822
    std::size_t max_parts = 1000;               // MIME entities in the whole message
    std::size_t max_headers = 2000;             // header fields per entity
    std::size_t max_header_bytes = 1u << 20;    // one (unfolded) header field, 1 MB
};

struct Attachment {
    std::string filename;      // decoded (RFC 2231 / RFC 2047); "" when none was given
    std::string content_type;  // lower-cased type/subtype
    std::size_t size = 0;      // decoded bytes
    std::string sha256;        // of the decoded bytes
    bool is_inline = false;    // Content-Disposition inline, or referenced by Content-ID
    std::string content_id;    // without angle brackets
    std::string data;          // decoded bytes (empty when ParseOptions dropped them)
    bool tnef = false;         // Outlook winmail.dat: recognised, not decoded
    std::string nested_subject;  // for message/rfc822: the attached message's subject
    // Where the part's encoded body lies in the raw message, when it lies there byte for byte
    // (decode_attachment() reproduces `data` from it); nullopt for a forwarded message/rfc822
    // (re-serialised) or a body that could not be located.
    std::optional<std::size_t> raw_offset;
    std::size_t raw_length = 0;
    std::string transfer_encoding;  // the part's Content-Transfer-Encoding, lower-cased, trimmed
};

struct ParseOptions {
    // Keep the decoded bytes of attachments that have a raw_offset. The store keeps those by
    // reference, so the inbound pipeline drops them and keeps only their size and SHA-256.
    bool keep_referenced_data = true;
};

struct Flag {
    bool set = false;
    std::string trigger;  // the header (and value) that set it, e.g. "Auto-Submitted: auto-replied"
};

struct Flags {
    Flag auto_reply;
    Flag bulk;
    Flag bounce;
};

struct Header {
    std::string name;   // as written
    std::string value;  // unfolded, raw (not RFC 2047 decoded)
};

struct ParsedMessage {
    std::string message_id;                 // without angle brackets; "" when absent
    std::vector<std::string> in_reply_to;   // ids without angle brackets, in order
    std::vector<std::string> references;
    std::optional<std::chrono::system_clock::time_point> date;  // UTC
    std::string subject;                    // decoded UTF-8
    std::vector<Address> from, sender, reply_to, to, cc, bcc;
    std::string text;                       // body for agents, UTF-8
    std::string html;                       // first HTML body, UTF-8, "" when none
    std::vector<Attachment> attachments;
    Flags flags;
    std::string tracking;                   // X-311-Case value, "" when absent
    std::string return_path;                // envelope sender as recorded, "<>" kept
    std::vector<Header> headers;            // top-level header fields, in order
    std::vector<std::string> defects;

    // First top-level header with this name (case-insensitive), raw value.
    std::optional<std::string> header(std::string_view name) const;
};

Result<ParsedMessage> parse_message(std::string_view raw, const Limits& limits = {}, const ParseOptions& options = {});

// An attachment's decoded bytes from the raw message it was parsed from: the same bytes the
// parser decoded (the same decoder over the same bytes). Defects are ignored: the parse reported them.
std::string decode_attachment(std::string_view raw, std::size_t offset, std::size_t length,
                              std::string_view transfer_encoding);

// Message-ID style list ("<a@b> <c@d>", also bare ids or commas) → ids without brackets.
std::vector<std::string> parse_message_ids(std::string_view value);
// In-Reply-To: its msg-ids, also from the obsolete phrase form ("Message from Jane Doe
// <jane@example.org> of "date" <id@host>" gives only id@host: a bracketed mailbox inside the
// phrase is not taken for the id when a later item is one).
std::vector<std::string> parse_in_reply_to(std::string_view value);

}  // namespace casemail::mime
