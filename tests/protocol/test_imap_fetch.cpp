// The batched UID FETCH reader, fed as a server would answer: whole, and split at every byte.
#include <doctest/doctest.h>

#include "daemon/protocol/imap_fetch.hpp"

using namespace casemail::protocol::imap;

namespace {

std::string message(int n, std::size_t bytes) {
    std::string body = "Subject: " + std::to_string(n) + "\r\n\r\n";
    while (body.size() < bytes) body += "x";
    return body.substr(0, bytes);
}

std::string fetch_response(int seq, Uid uid, const std::string& body, std::size_t announced = std::string::npos,
                           const std::string& order = "uid-first") {
    auto n = announced == std::string::npos ? body.size() : announced;
    std::string lit = "BODY[]<0> {" + std::to_string(n) + "}\r\n" + body;
    if (order == "uid-first")
        return "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(uid) + " RFC822.SIZE " +
               std::to_string(n) + " " + lit + ")\r\n";
    return "* " + std::to_string(seq) + " FETCH (RFC822.SIZE " + std::to_string(n) + " FLAGS (\\Seen $X) " + lit +
           " UID " + std::to_string(uid) + ")\r\n";
}

// Feeds `wire` cut at `cut` (0: in one piece); the reader after it.
FetchReader read(const std::string& wire, std::size_t cut = 0, FetchLimits limits = {}) {
    FetchReader r("A7", limits);
    if (cut == 0) {
        r.feed(wire);
    } else {
        r.feed(std::string_view(wire).substr(0, cut)) && r.feed(std::string_view(wire).substr(cut));
    }
    return r;
}

}  // namespace

TEST_CASE("fetch reader: many messages, any attribute order, other untagged lines, split anywhere") {
    std::string wire = "* 3 EXISTS\r\n" + fetch_response(1, 11, message(1, 300)) +
                       "* 2 FETCH (FLAGS (\\Seen))\r\n" +  // a flags update the server volunteered
                       fetch_response(2, 12, message(2, 0)) + fetch_response(3, 15, message(3, 40), std::string::npos, "uid-last") +
                       "A7 OK Fetch completed.\r\n";
    for (std::size_t cut = 0; cut < wire.size(); ++cut) {
        CAPTURE(cut);
        auto r = read(wire, cut);
        REQUIRE_MESSAGE(r.completed_ok(), r.error());
        auto& items = r.items();
        REQUIRE(items.size() == 3);
        CHECK(items[0].uid == 11);
        CHECK(items[0].body == message(1, 300));
        CHECK(items[0].size == 300);
        CHECK(items[1].uid == 12);
        CHECK(items[1].has_body);
        CHECK(items[1].body.empty());
        CHECK(items[2].uid == 15);
        CHECK(items[2].body == message(3, 40));
        for (const auto& it : items) CHECK_FALSE(it.truncated);
    }
}

TEST_CASE("fetch reader: the body limit at N and N+1, the line limit at N and N+1") {
    FetchLimits limits;
    limits.max_body = 100;
    auto at = read(fetch_response(1, 1, message(1, 100)) + "A7 OK done\r\n", 0, limits);
    REQUIRE(at.completed_ok());
    CHECK_FALSE(at.items()[0].truncated);
    CHECK(at.items()[0].body.size() == 100);
    auto over = read(fetch_response(1, 1, message(1, 5000)) + "A7 OK done\r\n", 0, limits);
    REQUIRE(over.completed_ok());
    CHECK(over.items()[0].truncated);
    CHECK(over.items()[0].body_bytes == 5000);
    CHECK(over.items()[0].body == message(1, 101));  // the first max_body + 1 bytes are kept

    // A server may send a small body as a quoted string: the same limit, the same marking (fuzz_imap found
    // a quoted body kept whole past max_body; max_line, 64 KB, was its only bound).
    auto quoted = [&](std::size_t n) {
        return read("* 1 FETCH (UID 9 BODY[] \"" + std::string(n, 'q') + "\")\r\nA7 OK done\r\n", 0, limits);
    };
    auto quoted_at = quoted(100);
    REQUIRE(quoted_at.completed_ok());
    CHECK_FALSE(quoted_at.items()[0].truncated);
    CHECK(quoted_at.items()[0].body == std::string(100, 'q'));
    auto quoted_over = quoted(101);
    REQUIRE(quoted_over.completed_ok());
    CHECK(quoted_over.items()[0].truncated);
    CHECK(quoted_over.items()[0].body_bytes == 101);
    CHECK(quoted_over.items()[0].body == std::string(101, 'q'));
    auto quoted_far = quoted(3000);
    REQUIRE(quoted_far.completed_ok());
    CHECK(quoted_far.items()[0].truncated);
    CHECK(quoted_far.items()[0].body_bytes == 3000);
    CHECK(quoted_far.items()[0].body == std::string(101, 'q'));

    FetchLimits lines;
    lines.max_line = 40;
    std::string ok_line = "* 1 FETCH (UID 1 RFC822.SIZE 1234567890)";  // 40 bytes
    CHECK(read(ok_line + "\r\nA7 OK done\r\n", 0, lines).completed_ok());
    std::string long_line = "* 1 FETCH (UID 1 RFC822.SIZE 12345678901)";  // 41 bytes
    auto r = read(long_line + "\r\nA7 OK done\r\n", 0, lines);
    CHECK_FALSE(r.done());
    CHECK(r.error().find("longer than 40 bytes") != std::string::npos);
    auto endless = read(std::string(100, 'x'), 0, lines);  // no line end yet, already too long
    CHECK(endless.error().find("longer than 40") != std::string::npos);

    FetchLimits two;
    two.max_literals = 1;
    auto many = read("* 1 FETCH (UID 1 BODY[HEADER] {2}\r\nab BODY[] {2}\r\ncd)\r\nA7 OK\r\n", 0, two);
    CHECK(many.error().find("more than 1 literals") != std::string::npos);
}

TEST_CASE("fetch reader: a NO or BAD ends it unsuccessfully; malformed answers fail it") {
    auto no = read("A7 NO [SERVERBUG] Internal error\r\n");
    CHECK(no.done());
    CHECK_FALSE(no.completed_ok());
    CHECK(no.error().find("NO [SERVERBUG]") != std::string::npos);

    const char* bad[] = {
        "garbage\r\n",
        "* 1 FETCH (UID 1 BODY[] {x}\r\nA7 OK\r\n",
        "* 1 FETCH (UID 1 BODY[] {99999999999999999999}\r\n",
        "* 1 FETCH (BODY[] {2}\r\nab)\r\nA7 OK\r\n",           // a body without a UID
        "* 1 FETCH (UID 0 BODY[] {2}\r\nab)\r\nA7 OK\r\n",     // UID 0 does not exist
        "* 1 FETCH (UID 1 BODY[] \"unclosed)\r\nA7 OK\r\n",
        "* 1 FETCH (UID 1 BODY[] WHAT)\r\nA7 OK\r\n",
        "* 1 FETCH (UID 1 \x01)\r\nA7 OK\r\n",                  // a control byte posing as a literal
        "A7 OK done\r\n* 2 EXISTS\r\n",                          // nothing may follow the completion
    };
    for (const char* wire : bad) {
        CAPTURE(wire);
        auto r = read(wire);
        CHECK_FALSE(r.completed_ok());
        CHECK_FALSE(r.error().empty());
    }
    // Cut short: no completion, so nothing of it may be acknowledged.
    auto cut = read(fetch_response(1, 1, message(1, 50)).substr(0, 60));
    CHECK_FALSE(cut.done());
    CHECK(cut.error().empty());
}

TEST_CASE("fetch reader: SELECT's answer gives the UIDVALIDITY") {
    auto r = read("* FLAGS (\\Seen)\r\n* 200 EXISTS\r\n* OK [UIDVALIDITY 1795996239] UIDs valid\r\nA7 OK [READ-WRITE] Select completed.\r\n");
    REQUIRE(r.completed_ok());
    CHECK(r.uidvalidity() == 1795996239u);
    CHECK(r.items().empty());
    CHECK_FALSE(read("* OK [UIDVALIDITY 0] x\r\nA7 OK\r\n").uidvalidity());
}

TEST_CASE("fetch commands") {
    CHECK(fetch_sizes_command({3, 1, 2, 9}) == "UID FETCH 1:3,9 (UID RFC822.SIZE)");
    CHECK(fetch_bodies_command({5}, 1000) == "UID FETCH 5 (UID RFC822.SIZE BODY.PEEK[]<0.1000>)");
}
