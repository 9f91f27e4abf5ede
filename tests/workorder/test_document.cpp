// The work-order documents without a store or a spool: an update's text in, the update or the
// reason out; a case in, its document out (checked against the schema by tests/cli).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "daemon/workorder/document.hpp"

using casemail::workorder::case_document;
using casemail::workorder::parse_update;

TEST_CASE("work-order update: the fields, the token upper-cased, resolved by its status only") {
    auto u = parse_update(R"({"case": "311-000042-k7qx", "status": "Resolved", "external_id": "WO-1",
                              "url": "https://wo.example/1", "note": "done", "resolved_at": "2026-11-30T15:40:00Z"})");
    REQUIRE(u);
    CHECK(u->token == "311-000042-K7QX");
    CHECK(u->resolved);
    CHECK(u->external_id == "WO-1");
    CHECK(u->url == "https://wo.example/1");
    CHECK(u->note == "done");
    CHECK(u->resolved_at == "2026-11-30T15:40:00Z");
    auto scheduled = parse_update(R"({"case": "311-000042-K7QX", "status": "resolved later", "note": null})");
    REQUIRE(scheduled);
    CHECK_FALSE(scheduled->resolved);
    CHECK_FALSE(scheduled->note);
}

TEST_CASE("work-order update: each malformed shape refused with its reason") {
    struct Case {
        std::string text, why;
    };
    for (const auto& c : std::vector<Case>{
             {"", "not JSON"},
             {"{\"case\": ", "not JSON"},
             {"\"text\"", "not a JSON object"},
             {R"({"status": "x"})", "\"case\" must be a case token"},
             {R"({"case": 42, "status": "x"})", "\"case\" must be a string"},
             {R"({"case": "311-000042-K7QX"})", "\"status\" is required"},
             {R"({"case": "311-000042-K7QX", "status": ""})", "\"status\" is required"},
             {R"({"case": "311-000042-K7QX", "status": "x", "owner": "me"})", "unknown key \"owner\""},
             {R"({"case": "311-000042-K7QX", "status": "x", "url": "file:///etc/passwd"})", "http(s) URL"},
             {R"({"case": "311-000042-K7QX", "status": "x", "resolved_at": "30/11/2026"})", "must be UTC"},
             {R"({"case": "311-000042-K7QX", "status": ")" + std::string(101, 'x') + "\"}", "longer than 100 bytes"},
             {std::string(casemail::workorder::max_update_bytes + 1, ' '), "larger than"},
         }) {
        CAPTURE(c.text.substr(0, 80));
        auto u = parse_update(c.text);
        REQUIRE_FALSE(u);
        CHECK(u.error().find(c.why) != std::string::npos);
    }
}

TEST_CASE("work-order case document: the request and the place, never the customer") {
    casemail::store::CaseRecord c;
    c.token = "311-000042-K7QX";
    c.title = "Pothole";
    c.description = "Deep one";
    c.priority = "high";
    c.origin = "email";
    c.created_at = "2026-11-29T08:00:00Z";
    c.customer_contact_id = 17;
    casemail::store::Account place;
    place.fields.name = "12 Elm St";
    place.fields.ward = "Ward 4";
    auto doc = nlohmann::json::parse(case_document(c, place, "nexgen", "2026-11-30T09:00:00Z", "agent:jdoe"));
    CHECK(doc["case"] == "311-000042-K7QX");
    CHECK(doc["priority"] == "high");
    CHECK(doc["property"]["ward"] == "Ward 4");
    CHECK(doc["property"]["civic_address"].is_null());
    CHECK(doc["category"].is_null());
    CHECK_FALSE(doc.contains("customer"));
    CHECK_FALSE(doc.dump().find("17") != std::string::npos);
    CHECK(nlohmann::json::parse(case_document(c, std::nullopt, "nexgen", "t", "a"))["property"].is_null());
}
