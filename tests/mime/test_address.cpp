#include <doctest/doctest.h>

#include "mime/address.hpp"
#include "mime/digest.hpp"

using namespace casemail::mime;

TEST_CASE("address normalisation") {
    CHECK(normalize_address("  Ann.Lee@City.GOV ") == "ann.lee@city.gov");
    CHECK(normalize_address("<X@Y.org>") == "x@y.org");
    CHECK(normalize_address("Émile@Exämple.org") == "Émile@exämple.org");  // non-ASCII kept
}

TEST_CASE("addr-spec validation") {
    struct Row {
        const char* addr;
        bool ok;
    };
    Row rows[] = {
        {"a@b.org", true},           {"first.last+tag@sub.city.gov", true},
        {"\"quoted name\"@x.org", true}, {"user@[192.0.2.1]", true},
        {"josé@correo.es", true},    {"user@bücher.de", true},
        {"", false},                 {"plain", false},
        {"@x.org", false},           {"a@", false},
        {"a..b@x.org", false},       {".a@x.org", false},
        {"a@-x.org", false},         {"a@x..org", false},
        {"a b@x.org", false},        {"a@x.org\r\nBcc: y@z", false},
    };
    for (const auto& row : rows) {
        CAPTURE(row.addr);
        CHECK(valid_addr_spec(row.addr) == row.ok);
    }
    CHECK_FALSE(valid_addr_spec(std::string(250, 'a') + "@x.org"));
}

TEST_CASE("sha256") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

#include "mime/printable.hpp"
#include "mime/strings.hpp"

TEST_CASE("quoted strings") {
    std::size_t i = 0;
    bool closed = false;
    CHECK(read_quoted_string(R"("a \"b\" c" rest)", i, closed) == R"(a "b" c)");
    CHECK(closed);
    CHECK(i == 11);  // just past the closing quote at index 10
    i = 0;
    CHECK(read_quoted_string(R"("open)", i, closed) == "open");
    CHECK_FALSE(closed);
    CHECK(i == 5);
}

TEST_CASE("printable cleans control characters and bounds length") {
    CHECK(printable("a\r\nBcc: x\x1b[31m") == "a??Bcc: x?[31m");
    CHECK(printable(std::string(300, 'x')).size() == 203);
    CHECK(printable("héllo", 2) == "h...");  // never cuts inside a UTF-8 sequence
}

TEST_CASE("the mail system's own addresses") {
    for (const char* a : {"MAILER-DAEMON@mx.example.org", "mailer-daemon", "Mailer_Daemon@x.org", "postmaster@city.example",
                          "PostMaster+bounces@x.org"})
        CHECK_MESSAGE(is_mail_system_address(a), a);
    for (const char* a : {"mailer@x.org", "daemon@x.org", "post.master.office@x.org", "ann@x.org", ""})
        CHECK_FALSE_MESSAGE(is_mail_system_address(a), a);
}

TEST_CASE("printable_lines keeps one line per line") {
    CHECK(printable_lines("a: one\nb: two\r\nc\x1b") == std::vector<std::string>{"a: one", "b: two", "c?"});
    CHECK(printable_lines("").empty());
}

TEST_CASE("join and split are inverses for stored lists") {
    std::vector<std::string> ids{"a@x", "b@y", "c@z"};
    CHECK(split(join(ids, " "), ' ') == ids);
    CHECK(split("a@x  b@y ", ' ') == std::vector<std::string>{"a@x", "b@y"});
    CHECK(split("", '\n').empty());
    CHECK(split("one", '\n') == std::vector<std::string>{"one"});
}
