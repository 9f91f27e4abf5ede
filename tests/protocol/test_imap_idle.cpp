// The IDLE reader, fed as servers answer: whole, and split at every byte; and the FETCH
// reader's news of new mail (UIDNEXT at SELECT, EXISTS in an answer).
#include <doctest/doctest.h>

#include "daemon/protocol/imap_fetch.hpp"
#include "daemon/protocol/imap_idle.hpp"

using namespace casemail::protocol::imap;

namespace {

IdleReader read(const std::string& wire, std::size_t cut = 0) {
    IdleReader r("C4");
    if (cut == 0) r.feed(wire);
    else r.feed(std::string_view(wire).substr(0, cut)) && r.feed(std::string_view(wire).substr(cut));
    return r;
}

}  // namespace

TEST_CASE("idle reader: the continuation, ignored updates, then new mail, split anywhere") {
    std::string idling = "+ idling\r\n* 3 EXPUNGE\r\n* 2 FETCH (FLAGS (\\Seen))\r\n* 0 RECENT\r\n* OK Still here\r\n";
    for (std::size_t cut = 0; cut < idling.size(); ++cut) {
        CAPTURE(cut);
        auto r = read(idling, cut);
        CHECK(r.idling());
        CHECK_FALSE(r.mail());  // our own moves and flag changes are not mail
        CHECK_FALSE(r.closed());
        CHECK_FALSE(r.done());
        CHECK_FALSE(r.failed());
    }
    std::string mail = idling + "* 7 EXISTS\r\n* 1 RECENT\r\nC4 OK Idle completed (0.001 + 2.5 secs).\r\n";
    for (std::size_t cut = 0; cut < mail.size(); ++cut) {
        CAPTURE(cut);
        auto r = read(mail, cut);
        CHECK(r.mail());
        REQUIRE_MESSAGE(r.completed_ok(), r.error());
    }
}

TEST_CASE("idle reader: mail announced before the continuation counts too") {
    auto r = read("* 12 exists\r\n+ idling\r\n");
    CHECK(r.idling());
    CHECK(r.mail());
}

TEST_CASE("idle reader: a refused IDLE completes before idling, with the server's text") {
    auto r = read("C4 BAD Unknown command IDLE\r\n");
    CHECK(r.done());
    CHECK_FALSE(r.idling());
    CHECK_FALSE(r.completed_ok());
    CHECK(r.error() == "BAD Unknown command IDLE");
}

TEST_CASE("idle reader: BYE means the server is going") {
    auto r = read("+ idling\r\n* BYE Disconnected for inactivity.\r\n");
    CHECK(r.closed());
    CHECK_FALSE(r.mail());
    CHECK_FALSE(r.failed());
}

TEST_CASE("idle reader: hostile or broken answers fail with a reason") {
    struct Case {
        std::string wire, why;
    };
    for (const auto& c : std::vector<Case>{
             {"+ idling\r\n* 1 FETCH (BODY[] {5}\r\n", "a literal where none belongs"},
             {"+ idling\r\nC5 OK not ours\r\n", "unexpected line"},
             {"garbage\r\n", "unexpected line"},
             {"+ idling\r\n" + std::string(9000, 'x'), "a line longer than 8192 bytes"},
             {"+ idling\r\n* " + std::string(9000, 'x') + "\r\n", "a line longer than 8192 bytes"},
             {"C4 OK done\r\n* 1 EXISTS\r\n", "data after the tagged completion"},
         }) {
        CAPTURE(c.wire.substr(0, 60));
        auto r = read(c.wire);
        CHECK(r.failed());
        CHECK(r.error().find(c.why) != std::string::npos);
        CHECK_FALSE(r.feed("* 1 EXISTS\r\n"));  // once failed, it stays failed
    }
    // "EXISTS" only as the word after a number
    auto r = read("+ idling\r\n* OK [ALERT] EXISTS soon\r\n* x EXISTS\r\n* 4 EXISTSX\r\n");
    CHECK_FALSE(r.failed());
    CHECK_FALSE(r.mail());
}

TEST_CASE("fetch reader: SELECT's UIDNEXT and EXISTS announced in an answer") {
    FetchReader select("C1");
    REQUIRE(select.feed("* 4 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1795431422] UIDs valid\r\n"
                        "* OK [UIDNEXT 19] Predicted next UID\r\nC1 OK [READ-WRITE] Select completed.\r\n"));
    CHECK(select.completed_ok());
    CHECK(select.uidnext() == 19u);
    CHECK(select.uidvalidity() == 1795431422u);
    FetchReader fetch("C2");
    REQUIRE(fetch.feed("* 5 EXISTS\r\n* 5 FETCH (UID 20 RFC822.SIZE 10)\r\nC2 OK Fetch completed.\r\n"));
    CHECK(fetch.exists_seen());
    CHECK_FALSE(fetch.uidnext());
    FetchReader quiet("C3");
    REQUIRE(quiet.feed("* 1 FETCH (UID 20 RFC822.SIZE 10)\r\n* OK [UIDNEXT 0] nonsense\r\nC3 OK done\r\n"));
    CHECK_FALSE(quiet.exists_seen());
    CHECK_FALSE(quiet.uidnext());  // UIDNEXT 0 is not a UID
}
