#include <doctest/doctest.h>

#include "matching/token.hpp"

using namespace casemail::matching;

TEST_CASE("token format") {
    std::array<unsigned char, 4> r{0, 25, 26, 35};
    CHECK(format_token("311", 42, r) == "311-000042-AZ09");
    CHECK(format_token("311", 1234567, r) == "311-1234567-AZ09");
}

TEST_CASE("token parsing accepts only whole well-formed tokens") {
    struct Row {
        const char* text;
        bool ok;
    };
    Row rows[] = {{"311-000042-K7QX", true},   {"311-000042-k7qx", true},
                  {"311-1234567-K7QX", true},  {"311-00042-K7QX", false},
                  {"311-000042-K7Q", false},   {"311-000042-K7QXY", false},
                  {"311-000042K7QX", false},   {"-000042-K7QX", false},
                  {"311-0000a2-K7QX", false},  {"311-000042-K7Q!", false},
                  {"", false},                 {"DWP2-000001-ABCD", true}};
    for (const auto& row : rows) {
        CAPTURE(row.text);
        CHECK(parse_token(row.text).has_value() == row.ok);
    }
    auto p = parse_token("311-000042-k7qx");
    REQUIRE(p);
    CHECK(p->prefix == "311");
    CHECK(p->sequence == 42);
    CHECK(p->suffix == "K7QX");
}

TEST_CASE("token prefixes") {
    CHECK(valid_token_prefix("311"));
    CHECK(valid_token_prefix("CITY311"));
    CHECK_FALSE(valid_token_prefix(""));
    CHECK_FALSE(valid_token_prefix("3-1"));
    CHECK_FALSE(valid_token_prefix("abc"));
    CHECK_FALSE(valid_token_prefix("ABCDEFGHIJKLMNOPQ"));
}
