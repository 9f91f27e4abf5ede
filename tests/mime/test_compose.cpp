// Writing headers and bodies: the parser must read back exactly what compose wrote.
#include <doctest/doctest.h>

#include "mime/compose.hpp"
#include "mime/message.hpp"

using namespace casemail::mime;

namespace {
ParsedMessage parse_with(const std::string& fields) {
    auto r = parse_message(fields + "\r\nbody\r\n");
    REQUIRE(r);
    return *r;
}
}  // namespace

TEST_CASE("compose: header text round-trips through the parser") {
    for (std::string text : {std::string("Pothole on Main St"), std::string("Schlagloch in der Straße vor Nr. 12"),
                             std::string("水道の漏れ、至急対応お願いします。三丁目の交差点付近です。長い件名のテスト"),
                             std::string("looks like =?utf-8?q?an_encoded_word?="), std::string("emoji 🚧 road work 🚧")}) {
        CAPTURE(text);
        auto field = header_field("Subject", encode_header_text(text));
        for (std::size_t pos = 0; (pos = field.find("\r\n", pos)) != std::string::npos; pos += 2)
            if (pos + 2 < field.size()) CHECK(field[pos + 2] == ' ');  // folded, never a new field
        CHECK(parse_with(field).subject == text);
    }
}

TEST_CASE("compose: no header injection") {
    auto field = header_field("Subject", encode_header_text("Hi\r\nBcc: victim@example.org"));
    CHECK(field.find("\r\nBcc") == std::string::npos);
    auto m = parse_with(field);
    CHECK(m.bcc.empty());
    auto mailbox = format_mailbox("Ann\r\nBcc: x@y.z", "ann@example.org\r\nCc: z@y.z");
    CHECK(mailbox.find('\n') == std::string::npos);
    CHECK(mailbox.find('\r') == std::string::npos);
}

TEST_CASE("compose: mailboxes") {
    CHECK(format_mailbox("", "a@example.org") == "a@example.org");
    CHECK(format_mailbox("Public Works 311", "311PublicWorks@city.example") ==
          "Public Works 311 <311PublicWorks@city.example>");
    CHECK(format_mailbox("Lee, Ann", "ann@example.org") == "\"Lee, Ann\" <ann@example.org>");
    CHECK(format_mailbox("Ann \"the\" Lee", "ann@example.org") == "\"Ann \\\"the\\\" Lee\" <ann@example.org>");
    for (auto name : {"Lee, Ann", "José Núñez", "Ann \"the\" Lee (home)"}) {
        CAPTURE(name);
        auto m = parse_with(header_field("To", format_mailbox(name, "ann@example.org")));
        REQUIRE(m.to.size() == 1);
        CHECK(m.to[0].name == name);
        CHECK(m.to[0].address == "ann@example.org");
    }
}

TEST_CASE("compose: base64 lines, CRLF, raw split") {
    CHECK(format_message_ids({}) == "");
    CHECK(format_message_ids({"a@b", "c@d"}) == "<a@b> <c@d>");
    CHECK(base64_lines("") == "");
    CHECK(base64_lines("hello") == "aGVsbG8=\r\n");
    CHECK(base64_lines(std::string(100, 'x')).find("\r\n") == 76);
    CHECK(normalize_crlf("a\nb\r\nc\rd") == "a\r\nb\r\nc\r\nd\r\n");
    CHECK(normalize_crlf("") == "\r\n");
    CHECK(normalize_crlf("\r\r\n\n\r") == "\r\n\r\n\r\n\r\n");
    CHECK(normalize_crlf("line\r\n") == "line\r\n");
    CHECK(normalize_crlf("no end") == "no end\r\n");
    auto parts = split_raw_message("From: a@b\r\nSubject: one\r\n two\r\nTo: c@d\n\nbody\r\nmore\r\n");
    REQUIRE(parts.fields.size() == 3);
    CHECK(parts.fields[1].name == "Subject");
    CHECK(parts.fields[1].raw == "Subject: one\r\n two\r\n");
    CHECK(parts.body == "body\r\nmore\r\n");
}

TEST_CASE("compose: a notice to staff is auto-generated text, and its subject cannot inject a header") {
    casemail::mime::Notice n{"casemail", "311@city.example", "it@city.example", "alarm\r\nBcc: x@evil.example",
                             "1.abc@casemail.invalid", "Mailbox failing.\n", std::chrono::system_clock::time_point{}};
    auto raw = casemail::mime::compose_notice(n);
    CHECK(raw.find("\r\nBcc:") == std::string::npos);
    CHECK(raw.find("Auto-Submitted: auto-generated\r\n") != std::string::npos);
    CHECK(raw.find("Message-ID: <1.abc@casemail.invalid>\r\n") != std::string::npos);
    CHECK(raw.find("\r\n\r\nTWFpbGJveCBmYWlsaW5nLgo=\r\n") != std::string::npos);  // base64 of the text
}
