// What the Open311 export publishes about a case, and what it never does.
#include <doctest/doctest.h>

#include "matching/open311.hpp"

using namespace casemail::matching;

TEST_CASE("open311: a case as a service request; confidential ones not at all") {
    Open311Case c;
    c.token = "311-000042-K7QX";
    c.status = "active";
    c.origin = "email";
    c.created_at = "2026-11-29T08:00:00Z";
    c.updated_at = "2026-11-29T09:00:00Z";
    c.category = "Streets";
    c.queue = "Public Works";
    c.place_address = "Elm St & 3rd Ave";
    c.expected_at = "2026-12-02T08:00:00Z";
    std::vector<Open311Service> services = {{1, "Streets", "POTHOLE", "Pothole"}};
    auto r = service_request(c, services);
    REQUIRE(r);
    CHECK(r->service_request_id == c.token);
    CHECK(r->status == "open");
    CHECK(r->status_notes.empty());
    CHECK(r->service_code == "POTHOLE");
    CHECK(r->description == "Pothole request received by email");
    CHECK(r->agency_responsible == "Public Works");
    CHECK(r->expected_datetime == "2026-12-02T08:00:00Z");
    CHECK(r->address == "Elm St & 3rd Ave");

    c.status = "resolved";
    c.resolution_type = "Problem Solved";
    c.category = "Graffiti";
    r = service_request(c, services);
    REQUIRE(r);
    CHECK(r->status == "closed");
    CHECK(r->status_notes == "Resolved: Problem Solved");
    CHECK_FALSE(r->expected_datetime);  // nothing is expected of a closed request
    CHECK(r->service_code == "other");

    c.confidential = true;
    CHECK_FALSE(service_request(c, services));
}
