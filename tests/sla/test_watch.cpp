// The SLA watch over a real store: pages, alerts raised once, one mail per alert_to address.
#include <doctest/doctest.h>

#include "daemon/sla/watch.hpp"
#include "store/outbox.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail;
using namespace std::chrono_literals;
namespace clocks = matching::sla;

TEST_CASE("sla watch: pages of active cases, each alert raised and mailed once") {
    test::TempDir tmp;
    std::chrono::system_clock::time_point now = date::sys_days(date::year(2026) / 3 / 4) + 17h;  // 09:00 PST
    store::StoreOptions options;
    options.clock = [&] { return now; };
    auto s = store::Store::open(tmp.file("store.db"), options);
    auto queue = s.add_queue("Public Works", "311PublicWorks@city.example", std::nullopt);
    auto customer = s.add_contact({"Citizen", "c@example.org", std::nullopt, true, false});
    std::vector<std::string> tokens;
    for (int i = 0; i < 5; ++i) {
        store::NewCase nc;
        nc.title = "Pothole " + std::to_string(i);
        nc.customer_contact_id = customer;
        nc.queue_id = queue;
        nc.priority = i == 4 ? "low" : "urgent";
        tokens.push_back(s.create_case(nc, "test").token);
    }
    sla::WatchSettings w;
    auto week = clocks::parse_hours("Mon-Fri 08:00-17:00");
    w.hours.by_weekday = *week;
    w.hours.zone = date::locate_zone("America/Los_Angeles");
    clocks::SlaPolicy urgent;
    urgent.name = "urgent";
    urgent.priority = "urgent";
    urgent.first_response = 2h;
    w.policies = {urgent};
    w.alert_to["311publicworks@city.example"] = {"a@city.example", "b@city.example"};

    auto at = [&](std::chrono::system_clock::duration later) {
        return std::chrono::floor<std::chrono::seconds>(now + later);
    };
    auto run_all = [&](clocks::Instant when) {
        std::vector<sla::RaisedAlert> raised;
        sla::WatchPage page;
        int pages = 0;
        do {
            page = sla::watch_page(s, w, when, page.last_id, 2);
            raised.insert(raised.end(), page.raised.begin(), page.raised.end());
            ++pages;
        } while (page.more);
        CHECK(pages == 3);  // 5 cases, 2 a page
        return raised;
    };
    CHECK(run_all(at(1h)).empty());
    auto warned = run_all(at(90min));  // 75% of 2h
    REQUIRE(warned.size() == 4);       // the low-priority case has no policy
    CHECK(warned[0].state == clocks::ClockState::warning);
    CHECK(warned[0].due == "2026-03-04 11:00 PST");
    CHECK(warned[0].mailed_to == std::vector<std::string>{"a@city.example", "b@city.example"});
    CHECK(run_all(at(100min)).empty());  // raised before: nothing again
    auto breached = run_all(at(2h));
    REQUIRE(breached.size() == 4);
    CHECK(breached[3].token == tokens[3]);
    CHECK(breached[3].state == clocks::ClockState::breached);

    auto mails = store::list_outbox(s);
    CHECK(mails.size() == 16);  // 4 cases x 2 states x 2 addresses
    CHECK(mails[0].kind == matching::OutboxKind::alert);
    CHECK(mails[0].envelope_from == "311PublicWorks@city.example");
    auto raw = store::outbox_raw(s, mails[0].id);
    CHECK(raw.find("Subject: [" + tokens[0] + "] SLA warning: first response (Public Works)\r\n") != std::string::npos);
    CHECK(raw.find("Auto-Submitted: auto-generated\r\n") != std::string::npos);
    CHECK(raw.find("\r\n\r\n") != std::string::npos);

    // Without alert_to: raised and logged, no mail.
    w.alert_to.clear();
    store::NewCase nc;
    nc.title = "Another";
    nc.customer_contact_id = customer;
    nc.queue_id = queue;
    nc.priority = "urgent";
    s.create_case(nc, "test");
    auto quiet = sla::watch_page(s, w, at(5h), 0, 100);
    REQUIRE(quiet.raised.size() == 1);
    CHECK(quiet.raised[0].mailed_to.empty());
    CHECK(store::list_outbox(s).size() == 16);
}
