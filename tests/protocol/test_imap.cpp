// IMAP command building and response parsing: every line libcurl hands back is untrusted.
#include <doctest/doctest.h>

#include "daemon/protocol/imap.hpp"

using namespace casemail::protocol::imap;

TEST_CASE("imap: sequence sets are compact and ordered") {
    struct Row { std::vector<Uid> in; std::string out; };
    for (const auto& row : std::vector<Row>{{{}, ""},
                                            {{5}, "5"},
                                            {{1, 2, 3}, "1:3"},
                                            {{9, 1, 2, 3, 7, 10, 2}, "1:3,7,9:10"},
                                            {{4294967295u, 4294967294u}, "4294967294:4294967295"}}) {
        CAPTURE(row.out);
        CHECK(sequence_set(row.in) == row.out);
    }
}

TEST_CASE("imap: commands") {
    CHECK(search_from_command(0) == "UID SEARCH UID 1:*");
    CHECK(search_from_command(42) == "UID SEARCH UID 42:*");
    CHECK(search_range_command(42, 10041) == "UID SEARCH UID 42:10041");
    CHECK(status_command("INBOX") == "STATUS \"INBOX\" (UIDVALIDITY UIDNEXT MESSAGES)");
    CHECK(move_command({3, 1, 2}, "Processed") == "UID MOVE 1:3 \"Processed\"");
    CHECK(store_flags_command({7}, "\\Deleted") == "UID STORE 7 +FLAGS.SILENT (\\Deleted)");
    CHECK(uid_expunge_command({7, 8}) == "UID EXPUNGE 7:8");
    CHECK(create_command("311/Done \"x\"") == "CREATE \"311/Done \\\"x\\\"\"");
    CHECK(command_name("UID MOVE 1:3 \"Processed\"") == "UID MOVE");
    CHECK(command_name("STATUS \"INBOX\" (UIDVALIDITY)") == "STATUS");
    CHECK(command_name("CAPABILITY") == "CAPABILITY");
}

TEST_CASE("imap: folder names are printable ASCII only") {
    CHECK(quoted("INBOX"));
    CHECK_FALSE(quoted(""));
    CHECK_FALSE(quoted("a\r\nA1 DELETE INBOX"));  // command injection through a folder name
    CHECK_FALSE(quoted("Bearbeitet\xc3\xa4"));       // would need modified UTF-7
    CHECK(url_path("INBOX") == "INBOX");
    CHECK(url_path("311 Done/sub") == "311%20Done/sub");
    CHECK(url_path("a;UID=1") == "a%3BUID%3D1");
}

TEST_CASE("imap: SEARCH responses") {
    SUBCASE("one line") {
        auto r = parse_search("* SEARCH 2 3 17\r\n");
        REQUIRE(r);
        CHECK(*r == std::vector<Uid>{2, 3, 17});
    }
    SUBCASE("empty and absent") {
        CHECK(parse_search("* SEARCH\r\n")->empty());
        CHECK(parse_search("")->empty());
    }
    SUBCASE("several lines, unordered, duplicates, other untagged lines") {
        auto r = parse_search("* 4 EXISTS\r\n* SEARCH 9 4\r\n* search 4 5\n");
        REQUIRE(r);
        CHECK(*r == std::vector<Uid>{4, 5, 9});
    }
    SUBCASE("n:* answers the last UID even below n (RFC 3501 6.4.8): filtered") {
        auto r = parse_search("* SEARCH 12\r\n", 13);
        REQUIRE(r);
        CHECK(r->empty());
    }
    SUBCASE("a window keeps only its own range") {
        auto r = parse_search("* SEARCH 3 10 11 12\r\n", 10, 11);
        REQUIRE(r);
        CHECK(*r == std::vector<Uid>{10, 11});
    }
    SUBCASE("CONDSTORE modseq suffix") {
        auto r = parse_search("* SEARCH 2 5 (MODSEQ 917162500)\r\n");
        REQUIRE(r);
        CHECK(*r == std::vector<Uid>{2, 5});
    }
    SUBCASE("garbage is an error, not a guess") {
        for (const char* bad : {"* SEARCH 1 x 3\r\n", "* SEARCH 0\r\n", "* SEARCH 99999999999\r\n", "* SEARCH -1\r\n"}) {
            CAPTURE(bad);
            auto r = parse_search(bad);
            CHECK_FALSE(r);
            CHECK(r.error().find("malformed SEARCH") != std::string::npos);
        }
    }
}

TEST_CASE("imap: STATUS responses") {
    SUBCASE("Dovecot") {
        auto r = parse_status("* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 1795431422)\r\n");
        REQUIRE(r);
        CHECK(r->messages == 3);
        CHECK(r->uidnext == 4);
        CHECK(r->uidvalidity == 1795431422u);
    }
    SUBCASE("quoted name with parentheses, other order, lower case") {
        auto r = parse_status("* STATUS \"a (b)\" (uidvalidity 7 messages 0)\r\n");
        REQUIRE(r);
        CHECK(r->uidvalidity == 7);
        CHECK(r->messages == 0);
    }
    SUBCASE("missing or broken") {
        CHECK_FALSE(parse_status(""));
        CHECK_FALSE(parse_status("* STATUS INBOX (MESSAGES 3)\r\n"));
        CHECK_FALSE(parse_status("* STATUS INBOX (UIDVALIDITY 0)\r\n"));
        CHECK_FALSE(parse_status("* STATUS INBOX (UIDVALIDITY)\r\n"));
        CHECK_FALSE(parse_status("* STATUS INBOX UIDVALIDITY 5\r\n"));
        CHECK_FALSE(parse_status("* STATUS INBOX (UIDVALIDITY abc)\r\n"));
    }
}

TEST_CASE("imap: capabilities are whole words") {
    std::string caps = "* CAPABILITY IMAP4rev1 UIDPLUS MOVE SPECIAL-USE\r\n";
    CHECK(has_capability(caps, "MOVE"));
    CHECK(has_capability(caps, "move"));
    CHECK(has_capability(caps, "UIDPLUS"));
    CHECK_FALSE(has_capability(caps, "USE"));
    CHECK_FALSE(has_capability("* OK [CAPABILITY MOVE]\r\n", "MOVE"));
}
