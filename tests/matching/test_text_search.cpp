// People's words into an FTS5 query: words only, whatever the text holds.
#include <doctest/doctest.h>

#include "matching/text_search.hpp"

using casemail::matching::fts_query;

TEST_CASE("fts query: words quoted, lower-cased, once; all of them, or any without the common ones") {
    CHECK(fts_query("Pothole on MAIN st", false) == "\"pothole\" \"on\" \"main\" \"st\"");
    CHECK(fts_query("Re: Pothole on Main St, please! pothole", true) == "\"pothole\" OR \"main\" OR \"st\"");
    CHECK(fts_query("Straße über 12", false) == "\"straße\" \"über\" \"12\"");  // UTF-8 letters are word bytes
}

TEST_CASE("fts query: FTS5 syntax in the text has no effect") {
    CHECK(fts_query("\"pothole\" OR NEAR(main st) title:x* ^y -z", false) ==
          "\"pothole\" \"or\" \"near\" \"main\" \"st\" \"title\"");  // one-letter words dropped
    CHECK(fts_query("\" ) ( * : ^", false).empty());
    CHECK(fts_query("", true).empty());
}

TEST_CASE("fts query: bounded") {
    std::string many;
    for (int i = 0; i < 100; ++i) many += "word" + std::to_string(i) + " ";
    auto q = fts_query(many, true, 5);
    CHECK(q == "\"word0\" OR \"word1\" OR \"word2\" OR \"word3\" OR \"word4\"");
    CHECK(fts_query(std::string(65, 'a'), false).empty());  // no 65-letter words
}
