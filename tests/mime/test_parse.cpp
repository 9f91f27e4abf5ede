#include <doctest/doctest.h>

#include <iconv.h>
#include <mimetic/mimetic.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>

#include "mime/decode.hpp"
#include "mime/digest.hpp"
#include "mime/message.hpp"
#include "mime/text.hpp"

using namespace casemail::mime;
using casemail::fail;
using casemail::Result;

namespace {

std::string crlf(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

bool has_defect(const ParsedMessage& m, std::string_view part) {
    for (const auto& d : m.defects)
        if (d.find(part) != std::string::npos) return true;
    return false;
}

// A message whose leaf sits `depth` multiparts deep (root multipart = depth 0 entity).
std::string nested(std::size_t depth) {
    std::string s = "From: a@example.org\r\nSubject: deep\r\n";
    for (std::size_t i = 0; i < depth; ++i)
        s += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n--b" +
             std::to_string(i) + "\r\n";
    s += "Content-Type: text/plain\r\n\r\nbottom\r\n";
    for (std::size_t i = depth; i-- > 0;) s += "--b" + std::to_string(i) + "--\r\n";
    return s;
}

// A multipart/mixed with `leaves` text parts: 1 + leaves entities.
std::string wide(std::size_t leaves) {
    std::string s = "From: a@example.org\r\nContent-Type: multipart/mixed; boundary=\"w\"\r\n\r\n";
    for (std::size_t i = 0; i < leaves; ++i) s += "--w\r\nContent-Type: text/plain\r\n\r\npart\r\n";
    return s + "--w--\r\n";
}

template <class F>
double seconds(F&& f) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("transfer decoding") {
    Defects d;
    CHECK(decode_base64("SGVsbG8=", d) == "Hello");
    CHECK(decode_base64("SGVs\r\nbG8=", d) == "Hello");
    CHECK(d.empty());
    CHECK(decode_base64("SGVsbG8", d) == "Hello");  // missing padding is fine
    CHECK(decode_base64("SGVsbG8=SGk=", d) == "HelloHi");  // concatenated chunks
    CHECK(decode_quoted_printable("a=3Db=\r\nc=", d) == "a=bc");
    CHECK(d.empty());
    CHECK(decode_quoted_printable("100% =ZZ", d) == "100% =ZZ");
    CHECK(d.size() == 1);
    CHECK(decode_transfer("x", "  BASE64 ", d) == "");  // 'x' alone is a truncated quantum
}

TEST_CASE("charset conversion and UTF-8 repair") {
    Defects d;
    CHECK(to_utf8("caf\xe9", "ISO-8859-1", d) == "café");
    CHECK(to_utf8("caf\xe9", "latin1", d) == "café");
    CHECK(d.empty());
    CHECK(to_utf8("\x93hi\x94", "", d) == "“hi”");  // 8-bit without charset: windows-1252
    CHECK_FALSE(d.empty());
    CHECK(repair_utf8("a\xff" "b") == "a\xEF\xBF\xBD" "b");
    CHECK(valid_utf8("Straße 🚧"));
    CHECK_FALSE(valid_utf8("\xC0\xAF"));        // overlong '/'
    CHECK_FALSE(valid_utf8("\xED\xA0\x80"));    // surrogate
}

TEST_CASE("RFC 2047 edge cases") {
    Defects d;
    CHECK(decode_header_text("=?utf-8?q?a?= =?utf-8?q?b?=", d) == "ab");
    CHECK(decode_header_text("=?utf-8?q?a?= x =?utf-8?q?b?=", d) == "a x b");
    CHECK(decode_header_text("=?UTF-8*en?Q?hi?=", d) == "hi");  // RFC 2231 language tag
    CHECK(decode_header_text("=?utf-8?B?w6k=?==?utf-8?B?w6k=?=", d) == "éé");  // no space at all
    CHECK(decode_header_text("plain =?", d) == "plain =?");
}

TEST_CASE("RFC 2231 parameters") {
    Defects d;
    auto p = parse_header_params(
        "attachment; filename*0*=utf-8''%E2%82%AC; filename*1=\"uro.txt\"; size=3", d);
    CHECK(p.value == "attachment");
    CHECK(p.param("filename") == "€uro.txt");
    CHECK(p.param("size") == "3");
    auto q = parse_header_params("text/plain; charset=\"utf-8\" (comment); format=flowed", d);
    CHECK(q.value == "text/plain");
    CHECK(q.param("charset") == "utf-8");
    CHECK(q.param("format") == "flowed");
}

TEST_CASE("dates") {
    auto iso = [](std::string_view v) {
        auto t = parse_rfc5322_date(v);
        if (!t) return std::string("none");
        auto secs = std::chrono::system_clock::to_time_t(*t);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return std::string(buf);
    };
    CHECK(iso("Tue, 3 Nov 2026 10:00:00 -0500") == "2026-11-03T15:00:00Z");
    CHECK(iso("3 Nov 99 10:00 GMT") == "1999-11-03T10:00:00Z");
    CHECK(iso("Tue, 03 Nov 2026 10:00:00 +0530") == "2026-11-03T04:30:00Z");
    CHECK(iso("Nov 3 2026 10:00:00 +0000") == "2026-11-03T10:00:00Z");
    CHECK(iso("32 Nov 2026 10:00:00 +0000") == "none");
    CHECK(iso("3 Nov 9999 10:00:00 +0000") == "none");  // found by the fuzzer: overflowed the clock
    CHECK(iso("") == "none");
    CHECK(iso("Mon (Monday), 2 Mar 2026 23:59:60 EST (Eastern)") == "2026-03-03T04:59:59Z");
    CHECK(iso("31 Nov 2026 00:00 +0000") == "2026-12-01T00:00:00Z");  // rolls over, as timegm
    CHECK(iso("3 Nov 126 1:2:3 Z") == "2026-11-03T01:02:03Z");         // obsolete 3-digit year
    CHECK(iso("3 Nov 2026 10:00:00:00 +0000") == "none");
    CHECK(iso("3 No 2026 10:00 +0000") == "none");
    CHECK(iso("3 Nov 2026 10:x +0000") == "none");
}

TEST_CASE("html to text") {
    CHECK(html_to_text("<p>a</p><p>b</p>") == "a\n\nb");
    CHECK(html_to_text("a<br>b<br><br>c") == "a\nb\n\nc");
    CHECK(html_to_text("<SCRIPT>x<y</SCRIPT>ok &lt;3 &#233;&#x1F6A7;") == "ok <3 é🚧");
    CHECK(html_to_text("<style>p{}</style><!-- hidden -->  shown  ") == "shown");
    CHECK(html_to_text("<pre>a\n  b</pre>") == "a\n  b");
    CHECK(html_to_text("unterminated <b") == "unterminated");
    // Found by the fuzzer: a bare '&' used to loop forever.
    CHECK(html_to_text("AT&T &amp; B&Q &#;&x") == "AT&T & B&Q &#;&x");
}

TEST_CASE("limits: message size at N and N+1") {
    std::string m = "From: a@example.org\r\nSubject: s\r\n\r\nbody\r\n";
    Limits l;
    l.max_message_bytes = m.size();
    CHECK(parse_message(m, l).has_value());
    m += "x";
    auto r = parse_message(m, l);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().find("exceeds the limit") != std::string::npos);
}

TEST_CASE("limits: MIME depth at N and N+1") {
    Limits l;
    l.max_depth = 4;
    auto ok = parse_message(nested(4), l);
    REQUIRE(ok.has_value());
    CHECK(ok->text == "bottom");
    auto over = parse_message(nested(5), l);
    REQUIRE_FALSE(over.has_value());
    CHECK(over.error().find("nesting deeper than the limit of 4") != std::string::npos);
    CHECK(parse_message(nested(32)).has_value());   // default 32
    CHECK_FALSE(parse_message(nested(33)).has_value());
}

TEST_CASE("limits: part count at N and N+1") {
    Limits l;
    l.max_parts = 10;
    CHECK(parse_message(wide(9), l).has_value());  // root + 9 leaves = 10 entities
    auto over = parse_message(wide(10), l);
    REQUIRE_FALSE(over.has_value());
    CHECK(over.error().find("more than 10 MIME parts") != std::string::npos);
}

TEST_CASE("limits: header count and header bytes at N and N+1") {
    auto with_headers = [](std::size_t n) {
        std::string s = "From: a@example.org\r\n";
        for (std::size_t i = 1; i < n; ++i) s += "X-H: v\r\n";
        return s + "\r\nbody\r\n";
    };
    Limits l;
    l.max_headers = 50;
    CHECK(parse_message(with_headers(50), l).has_value());
    CHECK_FALSE(parse_message(with_headers(51), l).has_value());

    auto with_subject = [](std::size_t value_bytes) {
        return "Subject: " + std::string(value_bytes, 'a') + "\r\n\r\nbody\r\n";
    };
    l = Limits{};
    l.max_header_bytes = 1000;
    CHECK(parse_message(with_subject(1000 - 7), l).has_value());  // "Subject" + value = 1000
    auto over = parse_message(with_subject(1000 - 6), l);
    REQUIRE_FALSE(over.has_value());
    CHECK(over.error().find("header field 'Subject' longer than") != std::string::npos);
}

TEST_CASE("hostile input is handled in bounded time") {
    SUBCASE("a 1 MB single-line header within the default limit") {
        std::string m = "From: a@example.org\r\nSubject: " + std::string((1u << 20) - 20, 'x') + "\r\n\r\nb\r\n";
        Result<ParsedMessage> r = fail("not run");
        CHECK(seconds([&] { r = parse_message(m); }) < 2.0);
        REQUIRE(r.has_value());
        CHECK(r->subject.size() == (1u << 20) - 20);
    }
    SUBCASE("a 2 MB header is a clear error") {
        std::string m = "Subject: " + std::string(2u << 20, 'x') + "\r\n\r\nb\r\n";
        auto r = parse_message(m);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().find("longer than the limit") != std::string::npos);
    }
    // mimetic grew its header buffer 128 bytes at a time: an 8 MB field took 16 s, 30 MB
    // would take minutes. These ran in about 0.5 s each once that was fixed.
    SUBCASE("a 30 MB header field is refused in bounded time") {
        std::string m = "From: a@example.org\r\nSubject: " + std::string(30u << 20, 'x') + "\r\n\r\nb\r\n";
        Result<ParsedMessage> r = fail("not run");
        CHECK(seconds([&] { r = parse_message(m); }) < 10.0);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().find("header field 'Subject' longer than") != std::string::npos);
    }
    SUBCASE("a 30 MB first line without a colon is body, in bounded time") {
        std::string m = std::string(30u << 20, 'x') + "\r\n\r\nb\r\n";
        Result<ParsedMessage> r = fail("not run");
        CHECK(seconds([&] { r = parse_message(m); }) < 10.0);
        REQUIRE(r.has_value());
        CHECK(r->text.size() > (30u << 20));
    }
    SUBCASE("a forwarded message whose header has a 10 MB field, in bounded time") {
        std::string m = "Subject: fwd\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
                        "Content-Type: message/rfc822\r\n\r\nSubject: " + std::string(10u << 20, 'y') +
                        "\r\n\r\ninner\r\n--b--\r\n";
        Result<ParsedMessage> r = fail("not run");
        CHECK(seconds([&] { r = parse_message(m); }) < 10.0);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().find("longer than the limit") != std::string::npos);
    }
    SUBCASE("20 MB of boundary lines is refused before any parts are built") {
        std::string m = "Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n";
        m.reserve(20u << 20);
        while (m.size() < (20u << 20)) m += "--x\r\n";
        Result<ParsedMessage> r = fail("not run");
        CHECK(seconds([&] { r = parse_message(m); }) < 3.0);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().find("MIME parts") != std::string::npos);
    }
    SUBCASE("10,000 levels of nesting are refused without recursion") {
        auto r = parse_message(nested(10000));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().find("MIME parts") != std::string::npos);
    }
    SUBCASE("a text body of dashes is not mistaken for parts") {
        std::string m = "Subject: ascii art\r\n\r\n";
        for (int i = 0; i < 10000; ++i) m += "----------\r\n";
        auto r = parse_message(m);
        REQUIRE(r.has_value());
        CHECK(r->text.size() == 110000);
    }
    SUBCASE("5 MB of invalid base64") {
        std::string m = "Content-Transfer-Encoding: base64\r\n\r\n" + std::string(5u << 20, '!') + "\r\n";
        auto r = parse_message(m);
        REQUIRE(r.has_value());
        CHECK(has_defect(*r, "base64"));
    }
    SUBCASE("binary garbage") {
        std::mt19937 rng(7);
        std::string m(1u << 20, '\0');
        for (auto& c : m) c = static_cast<char>(rng());
        auto r = parse_message(m);
        if (r) CHECK(valid_utf8(r->text));  // anything it returns is clean UTF-8
    }
}

TEST_CASE("every text output is valid UTF-8 whatever the input") {
    std::string m = "Subject: \xff\xfe bad =?utf-8?B?/w==?=\r\nFrom: \"\xc3\" <a@example.org>\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\n\r\n\xc3\x28 broken\r\n";
    auto r = parse_message(m);
    REQUIRE(r.has_value());
    CHECK(valid_utf8(r->subject));
    CHECK(valid_utf8(r->text));
    REQUIRE(r->from.size() == 1);
    CHECK(valid_utf8(r->from[0].name));
}

// ---- property test: messages built with mimetic parse back to what was built -------------

namespace {

struct BuiltText {
    std::string utf8;
};

struct Built {
    std::string subject;
    std::vector<std::string> texts;  // inline text/plain bodies in order, UTF-8
    struct Att {
        std::string filename;
        std::string data;
    };
    std::vector<Att> attachments;
};

std::string iconv_from_utf8(const std::string& in, const char* charset) {
    iconv_t cd = iconv_open(charset, "UTF-8");
    REQUIRE(cd != reinterpret_cast<iconv_t>(-1));
    std::string out(in.size() * 4 + 16, '\0');
    char* src = const_cast<char*>(in.data());
    size_t src_left = in.size();
    char* dst = out.data();
    size_t dst_left = out.size();
    REQUIRE(iconv(cd, &src, &src_left, &dst, &dst_left) != static_cast<size_t>(-1));
    iconv(cd, nullptr, nullptr, &dst, &dst_left);
    iconv_close(cd);
    out.resize(out.size() - dst_left);
    return out;
}

std::string base64(const std::string& bytes) {
    std::string out;
    mimetic::Base64::Encoder enc;
    mimetic::encode(bytes.begin(), bytes.end(), enc, std::back_inserter(out));
    return out;
}

std::string quoted_printable(const std::string& bytes) {
    std::string out;
    mimetic::QP::Encoder enc;
    mimetic::encode(bytes.begin(), bytes.end(), enc, std::back_inserter(out));
    return out;
}

struct Sample {
    const char* charset;
    const char* text;
};
constexpr Sample samples[] = {
    {"utf-8", "Pothole on Main St — please fix 🚧"},
    {"iso-8859-1", "Le trottoir est abîmé, merci"},
    {"koi8-r", "Яма на дороге у дома"},
    {"shift_jis", "道路に穴があります"},
    {"gbk", "路灯坏了，请修理"},
    {"windows-1252", "“Smart quotes” and € signs"},
    {"iso-8859-15", "Œuvre d'art endommagée €"},
    {"big5", "水管破裂了"},
};

std::unique_ptr<mimetic::MimeEntity> text_part(std::mt19937& rng, Built& built) {
    const auto& s = samples[rng() % std::size(samples)];
    std::string body = std::string(s.text) + "\nline " + std::to_string(rng() % 1000) + "\n";
    std::string bytes = iconv_from_utf8(body, s.charset);
    auto e = std::make_unique<mimetic::MimeEntity>();
    e->header().contentType(mimetic::ContentType(std::string("text/plain; charset=") + s.charset));
    std::string encoded;
    switch (rng() % 3) {
        case 0:
            e->header().contentTransferEncoding(mimetic::ContentTransferEncoding("base64"));
            encoded = base64(bytes);
            break;
        case 1:
            e->header().contentTransferEncoding(mimetic::ContentTransferEncoding("quoted-printable"));
            encoded = quoted_printable(bytes);
            break;
        default:
            e->header().contentTransferEncoding(mimetic::ContentTransferEncoding("8bit"));
            encoded = crlf(bytes);
            // 8bit keeps CRLF on the wire; the parser gives LF back
    }
    e->body().assign(encoded);
    built.texts.push_back(body);
    return e;
}

std::unique_ptr<mimetic::MimeEntity> attachment_part(std::mt19937& rng, Built& built) {
    std::string data(rng() % 5000 + 1, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    std::string name = "file-" + std::to_string(built.attachments.size()) + ".bin";
    auto e = std::make_unique<mimetic::MimeEntity>();
    e->header().contentType(mimetic::ContentType("application/octet-stream"));
    e->header().contentDisposition(mimetic::ContentDisposition("attachment; filename=\"" + name + "\""));
    e->header().contentTransferEncoding(mimetic::ContentTransferEncoding("base64"));
    e->body().assign(base64(data));
    built.attachments.push_back({name, data});
    return e;
}

std::unique_ptr<mimetic::MimeEntity> random_entity(std::mt19937& rng, Built& built, int depth, int& counter) {
    int kind = depth >= 3 ? static_cast<int>(rng() % 2) : static_cast<int>(rng() % 3);
    if (kind == 0) return text_part(rng, built);
    if (kind == 1) return attachment_part(rng, built);
    auto e = std::make_unique<mimetic::MimeEntity>();
    std::string boundary = "=_b" + std::to_string(counter++) + "_" + std::to_string(rng());
    e->header().contentType(mimetic::ContentType("multipart/mixed; boundary=\"" + boundary + "\""));
    int n = static_cast<int>(rng() % 3) + 1;
    for (int i = 0; i < n; ++i) e->body().parts().push_back(random_entity(rng, built, depth + 1, counter).release());
    return e;
}

}  // namespace

TEST_CASE("property: generated messages parse back to what was built") {
    std::mt19937 rng(20261122);
    for (int round = 0; round < 300; ++round) {
        CAPTURE(round);
        Built built;
        int counter = 0;
        mimetic::MimeEntity root;
        root.header().from("Ann Lee <ann@example.org>");
        root.header().to("311PublicWorks@city.example");
        const auto& s = samples[rng() % std::size(samples)];
        built.subject = s.text;
        // RFC 2047 B-encoded in the sample's charset, split into words of at most 30 bytes;
        // mimetic folds the long field when it writes it.
        std::string subject_bytes = iconv_from_utf8(s.text, s.charset);
        std::string subject_field;
        for (std::size_t i = 0; i < subject_bytes.size(); i += 30)
            subject_field += std::string(i ? " " : "") + "=?" + s.charset + "?B?" +
                             base64(subject_bytes.substr(i, 30)) + "?=";
        root.header().subject(subject_field);
        root.header().messageid(mimetic::MessageId("m" + std::to_string(round) + "@example.org"));
        root.header().mimeVersion(mimetic::MimeVersion("1.0"));
        std::string boundary = "=_root" + std::to_string(round);
        root.header().contentType(mimetic::ContentType("multipart/mixed; boundary=\"" + boundary + "\""));
        int n = static_cast<int>(rng() % 4) + 1;
        for (int i = 0; i < n; ++i) root.body().parts().push_back(random_entity(rng, built, 1, counter).release());

        std::ostringstream os;
        os << root;
        auto parsed = parse_message(os.str());
        REQUIRE(parsed.has_value());
        // Subjects whose bytes were cut mid-character by the 30-byte split still decode
        // whole: the words are joined before conversion.
        CHECK(parsed->subject == built.subject);
        CHECK(parsed->message_id == "m" + std::to_string(round) + "@example.org");
        std::string expected_text;
        for (const auto& t : built.texts) expected_text += (expected_text.empty() ? "" : "\n\n") + t;
        CHECK(parsed->text == expected_text);
        REQUIRE(parsed->attachments.size() == built.attachments.size());
        for (std::size_t i = 0; i < built.attachments.size(); ++i) {
            CHECK(parsed->attachments[i].filename == built.attachments[i].filename);
            CHECK(parsed->attachments[i].size == built.attachments[i].data.size());
            CHECK(parsed->attachments[i].sha256 == sha256_hex(built.attachments[i].data));
            if (const auto& a = parsed->attachments[i]; a.raw_offset)
                CHECK(sha256_hex(decode_attachment(os.str(), *a.raw_offset, a.raw_length, a.transfer_encoding)) ==
                      a.sha256);
        }
    }
}

namespace {

std::string with_attachment(std::string_view encoding, std::string_view body) {
    return crlf("From: a@example.org\nSubject: att\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
                "--b\nContent-Type: text/plain\n\nsee attached\n--b\n"
                "Content-Type: application/pdf; name=\"scan.pdf\"\nContent-Transfer-Encoding: ") +
           std::string(encoding) + "\r\n\r\n" + std::string(body) + "\r\n--b--\r\n";
}

// The attachment as the store keeps it: decoded again from the raw message, checked by digest.
std::string by_reference(std::string_view raw, const Attachment& a) {
    REQUIRE(a.raw_offset.has_value());
    auto data = decode_attachment(raw, *a.raw_offset, a.raw_length, a.transfer_encoding);
    CHECK(sha256_hex(data) == a.sha256);
    return data;
}

}  // namespace

TEST_CASE("attachments are located in the raw message and decode from there") {
    std::string payload;
    for (int i = 0; i < 3000; ++i) payload += static_cast<char>(i * 7 % 256);
    SUBCASE("base64, quoted-printable and 8bit bodies") {
        for (auto [enc, body] : {std::pair<std::string, std::string>{"base64", crlf(base64(payload))},
                                 {"quoted-printable", "caf=C3=A9 =\r\nreport, first draft of the pothole list"},
                                 {" 8BIT ", "plain bytes of a scanned form, long enough to point at"}}) {
            CAPTURE(enc);
            auto raw = with_attachment(enc, body);
            auto full = parse_message(raw);
            REQUIRE(full.has_value());
            REQUIRE(full->attachments.size() == 1);
            const auto& a = full->attachments[0];
            CHECK(raw.substr(*a.raw_offset, a.raw_length) == body);
            CHECK(a.transfer_encoding == (enc == " 8BIT " ? std::string("8bit") : enc));
            CHECK(by_reference(raw, a) == a.data);
            auto lean = parse_message(raw, {}, ParseOptions{.keep_referenced_data = false});
            REQUIRE(lean.has_value());
            CHECK(lean->attachments[0].data.empty());
            CHECK(lean->attachments[0].sha256 == a.sha256);
            CHECK(lean->attachments[0].size == a.size);
        }
    }
    SUBCASE("offsets count the mbox From line the parser skipped") {
        auto raw = "From someone@example.org Mon Nov 30 00:00:00 2026\n" + with_attachment("base64", base64(payload));
        auto r = parse_message(raw);
        REQUIRE(r.has_value());
        CHECK(by_reference(raw, r->attachments.at(0)) == payload);
    }
    SUBCASE("two identical attachments point at their own bytes") {
        auto body = base64(payload);
        auto raw = crlf("Subject: twice\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\n"
                        "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n") + body +
                   crlf("\n--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n") + body +
                   "\r\n--b--\r\n";
        auto r = parse_message(raw);
        REQUIRE(r.has_value());
        REQUIRE(r->attachments.size() == 2);
        CHECK(r->attachments[1].raw_offset > r->attachments[0].raw_offset);
        CHECK(by_reference(raw, r->attachments[1]) == payload);
    }
    SUBCASE("a body that runs to the end without a final boundary or line break") {
        auto raw = crlf("Subject: cut\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\n"
                        "Content-Type: application/octet-stream\n\n") + std::string(5000, 'z');
        auto r = parse_message(raw, {}, ParseOptions{.keep_referenced_data = false});
        REQUIRE(r.has_value());
        REQUIRE(r->attachments.size() == 1);
        // The parser adds the line break mimetic needs; the body then is not the raw bytes,
        // so it is never pointed at and keeps its data.
        CHECK_FALSE(r->attachments[0].raw_offset.has_value());
        CHECK(r->attachments[0].data.starts_with(std::string(5000, 'z')));
    }
    SUBCASE("a forwarded message is re-serialised, so it keeps its bytes") {
        auto raw = crlf("Subject: fwd\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\n"
                        "Content-Type: message/rfc822\n\nSubject: inner\nFrom: x@example.org\n\n"
                        "the inner body, long enough to be worth a reference\n--b--\n");
        auto r = parse_message(raw, {}, ParseOptions{.keep_referenced_data = false});
        REQUIRE(r.has_value());
        REQUIRE(r->attachments.size() == 1);
        CHECK_FALSE(r->attachments[0].raw_offset.has_value());
        CHECK_FALSE(r->attachments[0].data.empty());
    }
    SUBCASE("a reference outside the message decodes to nothing") {
        CHECK(decode_attachment("short", 3, 10, "base64").empty());
        CHECK(decode_attachment("short", 9, 1, "7bit").empty());
    }
    SUBCASE("thousands of parts whose bodies repeat stay linear") {
        std::string raw = "Subject: many\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n";
        for (int i = 0; i < 900; ++i)
            raw += "--b\r\nContent-Type: application/octet-stream\r\n\r\n" + std::string(2000, 'q') + "\r\n";
        raw += "--b--\r\n";
        Result<ParsedMessage> r = fail("not run");
        CHECK(seconds([&] { r = parse_message(raw); }) < 2.0);
        REQUIRE(r.has_value());
        for (const auto& a : r->attachments)
            if (a.raw_offset) CHECK(by_reference(raw, a) == a.data);
    }
}

TEST_CASE("fuzzer finds: mimetic throwing on a digest part is a defect, never an exception") {
    std::ifstream in(std::string(CASEMAIL_SOURCE_DIR) + "/tests/mime/regress/digest-part-length-error.eml", std::ios::binary);
    REQUIRE(in);
    std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto r = parse_message(raw);
    REQUIRE(r);
    bool noted = false;
    for (const auto& d : r->defects) noted = noted || d.find("nested message header could not be parsed") == 0;
    CHECK(noted);
    CHECK_FALSE(r->attachments.empty());  // the part is kept
}

TEST_CASE("fuzzer finds: a message of nothing but stray From lines parses with defects, no read before its start") {
    // Both lines are mbox "From " separators; once they are dropped nothing is left.
    std::string raw = "From Return-Path: <ann@example.org>\r\nFrom ann@n Lee <ann@example.org>";
    auto r = parse_message(raw);
    REQUIRE(r);
    bool no_body = false;
    for (const auto& d : r->defects) no_body = no_body || d == "message has no body";
    CHECK(no_body);
    CHECK(r->from.empty());
}
