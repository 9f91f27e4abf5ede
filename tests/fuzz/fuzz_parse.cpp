// Fuzz target for casemail::mime::parse_message (libFuzzer; also built as a replay tool that
// runs the same checks over files, for CI). Invariants, whatever the input:
//  - no crash, no hang, no unbounded memory (limits are lowered to keep runs fast);
//  - every text the parser returns (subject, text, html, names, filenames, defects) is valid
//    UTF-8, because it goes into JSON and the store as is;
//  - attachment sizes and digests match their data;
//  - an attachment kept by reference decodes from the raw message to the very bytes parsed,
//    and parsing without keeping them yields the same attachments with only the data dropped.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "mime/decode.hpp"
#include "mime/digest.hpp"
#include "mime/message.hpp"

namespace {

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

void check_addresses(const std::vector<casemail::mime::Address>& list) {
    for (const auto& a : list) {
        require(casemail::mime::valid_utf8(a.name), "address name is not UTF-8");
        require(!a.address.empty(), "empty address returned");
        require(casemail::mime::valid_utf8(a.address), "address is not UTF-8");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace casemail::mime;
    Limits limits;
    limits.max_message_bytes = 1u << 20;
    limits.max_parts = 200;
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    auto r = parse_message(raw, limits);
    if (!r) {
        require(!r.error().empty(), "failure without a reason");
        return 0;
    }
    const auto& m = *r;
    require(valid_utf8(m.subject), "subject is not UTF-8");
    require(valid_utf8(m.text), "text is not UTF-8");
    require(valid_utf8(m.html), "html is not UTF-8");
    for (const auto* list : {&m.from, &m.sender, &m.reply_to, &m.to, &m.cc, &m.bcc}) check_addresses(*list);
    for (const auto& d : m.defects) require(valid_utf8(d), "defect is not UTF-8");
    for (const auto& a : m.attachments) {
        require(valid_utf8(a.filename), "filename is not UTF-8");
        require(valid_utf8(a.nested_subject), "nested subject is not UTF-8");
        require(a.size == a.data.size(), "attachment size differs from its data");
        require(a.sha256 == sha256_hex(a.data), "attachment digest differs from its data");
        if (a.raw_offset)
            require(decode_attachment(raw, *a.raw_offset, a.raw_length, a.transfer_encoding) == a.data,
                    "attachment decoded by reference differs from the parsed one");
    }
    auto lean = parse_message(raw, limits, ParseOptions{.keep_referenced_data = false});
    require(lean.has_value(), "parse without attachment data failed where the full one did not");
    require(lean->attachments.size() == m.attachments.size(), "parse without attachment data lost attachments");
    for (std::size_t i = 0; i < m.attachments.size(); ++i) {
        const auto& full = m.attachments[i];
        const auto& kept = lean->attachments[i];
        require(kept.sha256 == full.sha256 && kept.size == full.size && kept.raw_offset == full.raw_offset,
                "parse without attachment data describes another attachment");
        require(full.raw_offset ? kept.data.empty() : kept.data == full.data,
                "parse without attachment data dropped the wrong bytes");
    }
    return 0;
}
