// The store's side of SLA clocks: acknowledgement once, holds that open and close, alerts once.
#include <doctest/doctest.h>

#include "store/sla.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail::store;
using namespace std::chrono_literals;
namespace sla = casemail::matching::sla;

TEST_CASE("sla store: acknowledgement, holds and alerts are recorded once, with events") {
    casemail::test::TempDir tmp;
    std::chrono::system_clock::time_point now = date::sys_days(date::year(2026) / 3 / 4) + 9h;
    StoreOptions options;
    options.clock = [&] { return now; };
    auto s = Store::open(tmp.file("store.db"), options);
    NewCase nc;
    nc.title = "Pothole on Elm";
    nc.customer_contact_id = s.add_contact({"Citizen", "c@example.org", std::nullopt, true, false});
    auto rec = s.create_case(nc, "test");

    auto c = sla_case(s, rec.id);
    REQUIRE(c);
    CHECK(c->times.created == std::chrono::floor<std::chrono::seconds>(now));
    CHECK(!c->times.first_response);
    CHECK(active_sla_cases(s, 0, 10).size() == 1);
    CHECK(active_sla_cases(s, rec.id, 10).empty());

    now += 1h;
    hold_case(s, rec.token, "waiting for the citizen's photos", "agent:kim");
    CHECK_THROWS_WITH_AS(hold_case(s, rec.token, "again", "agent:kim"), doctest::Contains("already on hold"), Refused);
    CHECK_THROWS_WITH_AS(hold_case(s, rec.token, "", "agent:kim"), doctest::Contains("needs a reason"), Refused);
    now += 2h;
    resume_case(s, rec.token, "agent:kim");
    CHECK_THROWS_WITH_AS(resume_case(s, rec.token, "agent:kim"), doctest::Contains("is not on hold"), Refused);
    c = sla_case(s, rec.id);
    REQUIRE(c->times.holds.size() == 1);
    CHECK(c->times.holds[0].to.value() - c->times.holds[0].from == 2h);
    auto holds = case_holds(s, rec.id);
    CHECK(holds[0].reason == "waiting for the citizen's photos");
    CHECK(holds[0].resumed_by == "agent:kim");

    sla::SlaAlert warning{sla::ClockKind::first_response, sla::ClockState::warning};
    CHECK(raise_sla_alert(s, rec.id, warning, "first response due 10:00"));
    CHECK_FALSE(raise_sla_alert(s, rec.id, warning, "first response due 10:00"));
    CHECK(sla_case(s, rec.id)->raised == std::set<sla::SlaAlert>{warning});

    acknowledge_case(s, rec.token, "agent:kim");
    CHECK_THROWS_WITH_AS(acknowledge_case(s, rec.token, "agent:lee"), doctest::Contains("already acknowledged"), Refused);
    CHECK_FALSE(record_first_response(s, rec.id, "relay", "a later reply"));
    c = sla_case(s, rec.id);
    CHECK(c->first_response_by == "agent:kim");
    CHECK(c->times.first_response == std::chrono::floor<std::chrono::seconds>(now));

    std::vector<std::string> kinds;
    for (const auto& e : s.case_events(rec.id)) kinds.push_back(e.kind);
    CHECK(kinds == std::vector<std::string>{"created", "held", "resumed", "sla-warning", "first-response"});

    hold_case(s, rec.token, "left open when resolved", "agent:kim");
    now += 1h;
    s.resolve_case(rec.token, "Filled", "agent:kim");
    CHECK_THROWS_WITH_AS(hold_case(s, rec.token, "x", "agent:kim"), doctest::Contains("is resolved"), Refused);
    CHECK(active_sla_cases(s, 0, 10).empty());

    // Reactivated three days later: the resolved days are a hold, the open hold ended at the
    // resolution, and the clocks count neither.
    auto resolved_at = std::chrono::floor<std::chrono::seconds>(now);
    now += 72h;
    s.reactivate_case(rec.token, "agent:kim");
    c = sla_case(s, rec.id);
    REQUIRE(c->times.holds.size() == 3);
    CHECK(c->times.holds[1].to == resolved_at);
    CHECK(c->times.holds[2].from == resolved_at);
    CHECK(c->times.holds[2].to == std::chrono::floor<std::chrono::seconds>(now));
    CHECK(case_holds(s, rec.id)[2].reason == "resolved until reactivated");
    sla::BusinessHours always;
    always.by_weekday = *sla::parse_hours("always");
    always.zone = date::locate_zone("UTC");
    sla::ClockInput in{sla::ClockKind::resolution, c->times.created, std::nullopt, 100h, 75, c->times.holds};
    // Opened 09:00, held 10:00-12:00, held again from 12:00 to the resolution at 13:00, resolved
    // for 72 hours: one hour counted.
    CHECK(sla::evaluate(always, in, std::chrono::floor<std::chrono::seconds>(now)).elapsed == 1h);
}
