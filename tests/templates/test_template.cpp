#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "templates/template.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail::templates;

TEST_CASE("templates: placeholders are checked at load, with file and line") {
    auto ok = parse_part("Case {{case.token}}\n{{ customer.name }}", "t.txt");
    REQUIRE(ok);
    CHECK(render(*ok, {{"case.token", "311-000001-ABCD"}, {"customer.name", "Ann"}}, Context::text) ==
          "Case 311-000001-ABCD\nAnn");
    auto unknown = parse_part("line one\nline two {{case.tokn}}\n", "ack.txt");
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().find("ack.txt:2: unknown placeholder {{case.tokn}}") == 0);
    auto unclosed = parse_part("a\nb\nc {{case.token\n}}", "ack.html");
    REQUIRE_FALSE(unclosed);
    CHECK(unclosed.error().find("ack.html:3:") == 0);
}

TEST_CASE("templates: values are escaped for their context") {
    auto part = parse_part("<p>{{customer.name}}</p>", "x");
    REQUIRE(part);
    Values v{{"customer.name", "<script>alert('x')</script> & \"co\""}};
    CHECK(render(*part, v, Context::html) ==
          "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;</p>");
    CHECK(render(*part, v, Context::text) == "<p><script>alert('x')</script> & \"co\"</p>");
    auto subject = parse_part("Re: {{case.title}}", "s");
    REQUIRE(subject);
    auto header = render(*subject, {{"case.title", "Pothole\r\nBcc: victim@example.org"}}, Context::header);
    CHECK(header.find('\r') == std::string::npos);
    CHECK(header.find('\n') == std::string::npos);
}

TEST_CASE("templates: the shipped acknowledgement and a directory of templates") {
    auto ack = builtin_template("acknowledgement");
    REQUIRE(ack);
    REQUIRE(ack->html);
    auto r = render(*ack, {{"case.token", "311-000042-K7QX"}, {"case.title", "Pothole"}, {"customer.name", "Ann"},
                           {"queue.display_name", "Public Works 311"}, {"case.created_at", "2026-11-23"}});
    CHECK(r.subject == "We received your request: Pothole [311-000042-K7QX]");
    CHECK(r.text.find("Dear Ann,") == 0);
    CHECK(r.html->find("<strong>311-000042-K7QX</strong>") != std::string::npos);
    CHECK_FALSE(builtin_template("nope"));

    casemail::test::TempDir dir;
    std::ofstream(dir.file("update.subject")) << "Update on {{case.token}}\n";
    std::ofstream(dir.file("update.txt")) << "Hello {{customer.name}}\n";
    auto t = load_template(dir.dir.string(), "update");
    REQUIRE(t);
    CHECK_FALSE(t->html);
    CHECK(render(*t, {{"case.token", "T"}, {"customer.name", "N"}}).subject == "Update on T");
    std::ofstream(dir.file("bad.subject")) << "x\n";
    std::ofstream(dir.file("bad.txt")) << "ok\n{{queue.nam}}\n";
    auto bad = load_template(dir.dir.string(), "bad");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().find("bad.txt:2: unknown placeholder {{queue.nam}}") != std::string::npos);
    CHECK_FALSE(load_template(dir.dir.string(), "../etc/passwd"));
    CHECK_FALSE(load_template(dir.dir.string(), "missing"));
}
