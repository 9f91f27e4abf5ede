// Routing rules: conditions, order, and their place in plan_ingest.
#include <doctest/doctest.h>

#include "matching/routing.hpp"

using namespace casemail::matching;
using casemail::mime::ParsedMessage;

namespace {

ParsedMessage message(const std::string& subject, const std::string& body = "text") {
    ParsedMessage m;
    m.from = {{"Ann", "ann@example.org"}};
    m.subject = subject;
    m.text = body;
    return m;
}

RouteRule rule(std::string name) {
    RouteRule r;
    r.name = std::move(name);
    r.line = 10;
    r.queue = "DWP";
    return r;
}

}  // namespace

TEST_CASE("routing: words are whole words, case-insensitive; first match wins") {
    auto graffiti = rule("graffiti");
    graffiti.subject_words = {"graffiti", "tagging"};
    auto water = rule("water");
    water.body_words = {"water main"};
    std::vector<RouteRule> rules = {graffiti, water};
    CHECK(route(message("GRAFFITI on the bridge"), "", rules)->rule->name == "graffiti");
    CHECK_FALSE(route(message("antigraffiti paint"), "", rules));
    auto m = route(message("Help", "The water main broke"), "", rules);
    REQUIRE(m);
    CHECK(m->rule->name == "water");
    CHECK(m->why == std::vector<std::string>{"body has the word 'water main'"});
    CHECK(explain_misses(message("Help", "The water main broke"), "", rules) ==
          std::vector<std::string>{"rule 'graffiti' (line 10): subject has none of the words"});
}

TEST_CASE("routing: mailbox, from, header, attachment and regex conditions all must hold") {
    auto spam = rule("spam");
    spam.header_name = "X-Spam-Flag";
    spam.header_value = "YES";
    auto m = message("win");
    m.headers = {{"X-Spam-Flag", " yes "}};
    CHECK(route(m, "", {spam}));
    m.headers = {{"X-Spam-Flag", "NO"}};
    CHECK_FALSE(route(m, "", {spam}));
    spam.header_value.clear();  // present is enough
    CHECK(route(m, "", {spam}));

    auto r = rule("photos from the county");
    r.mailbox = "311dwp@city.example";
    r.from = {"@county.example"};
    r.has_attachment = "image/*";
    auto p = message("site");
    p.from = {{"", "Inspector@County.example"}};
    casemail::mime::Attachment photo;
    photo.filename = "pic.JPG";
    photo.content_type = "image/jpeg";
    p.attachments = {photo};
    CHECK(route(p, "311DWP@city.example", {r}));
    CHECK_FALSE(route(p, "311Clerk@city.example", {r}));
    r.has_attachment = "jpg";
    CHECK(route(p, "311DWP@city.example", {r}));
    r.has_attachment = "application/pdf";
    CHECK(explain_misses(p, "311DWP@city.example", {r}).front().find("no attachment of type application/pdf") !=
          std::string::npos);

    auto re = rule("case number");
    re.subject_regex = *Pattern::compile(R"(permit\s+#?\d{5})");
    CHECK(route(message("About PERMIT #12345"), "", {re}));
    CHECK_FALSE(route(message("About permit 12"), "", {re}));
    CHECK_FALSE(Pattern::compile("(unclosed"));
    CHECK(Pattern::compile("(unclosed").error().find("invalid regular expression") == 0);
}

TEST_CASE("routing: a hostile body cannot make a regular expression slow") {
    auto r = rule("backtracking");
    r.body_regex = *Pattern::compile("(a+)+$");  // exponential for a backtracking engine
    std::string body(200000, 'a');
    body += "!";
    auto started = std::chrono::steady_clock::now();
    CHECK_FALSE(route(message("x", body), "", {r}));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
}

TEST_CASE("routing: request types of the guide") {
    CHECK(request_type_name("inquire about") == "Inquire About");
    CHECK(request_type_name("REPORT") == "Report");
    CHECK_FALSE(request_type_name("Complaint"));
}
