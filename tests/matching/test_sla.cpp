// SLA clocks: business hours, holidays, DST changes, holds, and the states they give.
#include <doctest/doctest.h>

#include "matching/sla.hpp"

using namespace casemail::matching::sla;
using namespace std::chrono_literals;

namespace {

// "2026-03-06 16:00" in the zone, as a UTC instant.
Instant local(const date::time_zone* zone, const std::string& text) {
    auto day = parse_date(text.substr(0, 10));
    REQUIRE(day);
    auto t = date::local_seconds(*day) + std::chrono::hours(std::stoi(text.substr(11, 2))) +
             std::chrono::minutes(std::stoi(text.substr(14, 2)));
    return zone->to_sys(t, date::choose::earliest);
}

std::string show(const date::time_zone* zone, std::optional<Instant> t) {
    if (!t) return "never";
    return date::format("%Y-%m-%d %H:%M", date::floor<std::chrono::minutes>(zone->to_local(*t)));
}

BusinessHours city(const std::string& hours = "Mon-Fri 08:00-17:00", std::vector<std::string> holidays = {}) {
    BusinessHours h;
    auto week = parse_hours(hours);
    REQUIRE(week);
    h.by_weekday = *week;
    for (const auto& d : holidays) h.holidays.insert(*parse_date(d));
    h.zone = date::locate_zone("America/Los_Angeles");
    return h;
}

}  // namespace

TEST_CASE("sla: business hours are parsed, and bad ones say why") {
    auto week = parse_hours("Mon-Fri 08:00-12:00 13:00-17:00, Sat 09:00-12:00");
    REQUIRE(week);
    CHECK((*week)[1] == std::vector<Window>{{480, 720}, {780, 1020}});
    CHECK((*week)[6] == std::vector<Window>{{540, 720}});
    CHECK((*week)[0].empty());
    auto wrap = parse_hours("fri-mon 00:00-24:00");
    REQUIRE(wrap);
    for (int d : {5, 6, 0, 1}) CHECK((*wrap)[d] == std::vector<Window>{{0, 1440}});
    CHECK((*wrap)[3].empty());
    CHECK((*parse_hours("always"))[3] == std::vector<Window>{{0, 1440}});
    CHECK(parse_hours("Mon-Fri").error() == "'Mon-Fri' must be days then windows, like \"Mon-Fri 08:00-17:00\"");
    CHECK(parse_hours("Mon-Fry 08:00-17:00").error() == "'Mon-Fry' is not a day or a range of days like Mon-Fri");
    CHECK(parse_hours("Mon 17:00-08:00").error() == "'17:00-08:00' is not a time window like 08:00-17:00");
    CHECK(parse_hours("Mon 08:00-25:00").error() == "'08:00-25:00' is not a time window like 08:00-17:00");
    CHECK(parse_hours("Mon 08:00-12:00 11:00-13:00").error() == "Mon has overlapping windows");
    CHECK(!parse_hours(""));
    CHECK(parse_date("2026-12-25"));
    CHECK(parse_date("2026-02-30").error() == "'2026-02-30' is not a date like 2026-12-25");
    CHECK(!parse_date("25.12.2026"));
}

TEST_CASE("sla: adding business time, table-driven") {
    // 2026-03-06 is a Friday; DST starts in Los Angeles on Sunday 2026-03-08 at 02:00 and ends
    // on Sunday 2026-11-01 at 02:00. 2026-12-25 (Friday) is a holiday below.
    struct Row {
        const char* what;
        const char* hours;
        const char* from;
        std::chrono::seconds amount;
        const char* due;
    };
    const Row rows[] = {
        {"inside one day", "Mon-Fri 08:00-17:00", "2026-03-04 09:00", 4h, "2026-03-04 13:00"},
        {"runs into the next morning", "Mon-Fri 08:00-17:00", "2026-03-04 15:00", 4h, "2026-03-05 10:00"},
        {"over a weekend", "Mon-Fri 08:00-17:00", "2026-03-06 16:00", 2h, "2026-03-09 09:00"},
        {"opened on Saturday", "Mon-Fri 08:00-17:00", "2026-03-07 11:00", 1h, "2026-03-09 09:00"},
        {"opened at night", "Mon-Fri 08:00-17:00", "2026-03-04 22:30", 30min, "2026-03-05 08:30"},
        {"opened before opening", "Mon-Fri 08:00-17:00", "2026-03-04 06:00", 9h, "2026-03-04 17:00"},
        {"exactly at closing", "Mon-Fri 08:00-17:00", "2026-03-04 17:00", 1min, "2026-03-05 08:01"},
        {"lunch break", "Mon-Fri 08:00-12:00 13:00-17:00", "2026-03-04 11:00", 2h, "2026-03-04 14:00"},
        {"holiday skipped", "Mon-Fri 08:00-17:00", "2026-12-24 16:00", 2h, "2026-12-28 09:00"},
        {"24/7 over spring forward: 23-hour day", "always", "2026-03-08 00:00", 24h, "2026-03-09 01:00"},
        {"24/7 over fall back: 25-hour day", "always", "2026-11-01 00:00", 24h, "2026-11-01 23:00"},
        {"weekend window over spring forward", "Sat-Sun 00:00-24:00", "2026-03-08 01:00", 2h, "2026-03-08 04:00"},
        {"business hours keep their wall clock after DST", "Mon-Fri 08:00-17:00", "2026-03-06 16:00", 2h,
         "2026-03-09 09:00"},
        {"nothing to add", "Mon-Fri 08:00-17:00", "2026-03-07 11:00", 0s, "2026-03-07 11:00"},
    };
    for (const auto& r : rows) {
        CAPTURE(r.what);
        auto h = city(r.hours, {"2026-12-25"});
        CHECK(show(h.zone, add_business_time(h, local(h.zone, r.from), r.amount)) == r.due);
        // And back: the business time between them is what was added.
        auto from = local(h.zone, r.from);
        if (auto due = add_business_time(h, from, r.amount); due && r.amount > 0s)
            CHECK(business_time(h, from, *due) == r.amount);
    }
}

TEST_CASE("sla: business time between two instants") {
    auto h = city("Mon-Fri 08:00-17:00", {"2026-12-25"});
    auto between = [&](const char* a, const char* b) { return business_time(h, local(h.zone, a), local(h.zone, b)); };
    CHECK(between("2026-03-06 16:00", "2026-03-09 09:00") == 2h);
    CHECK(between("2026-03-02 00:00", "2026-03-09 00:00") == 45h);       // a whole week
    CHECK(between("2026-03-07 00:00", "2026-03-08 23:59") == 0s);        // a weekend
    CHECK(between("2026-12-24 00:00", "2026-12-26 00:00") == 9h);        // Christmas is off
    CHECK(between("2026-03-09 09:00", "2026-03-06 16:00") == 0s);        // backwards
    auto always = city("always");
    CHECK(business_time(always, local(always.zone, "2026-03-08 00:00"), local(always.zone, "2026-03-09 00:00")) == 23h);
    CHECK(business_time(always, local(always.zone, "2026-11-01 00:00"), local(always.zone, "2026-11-02 00:00")) == 25h);
}

TEST_CASE("sla: no business hours at all never comes due") {
    auto h = city("Mon 08:00-17:00");
    for (int y = 2026; y < 2040; ++y)
        for (auto d = date::local_days(date::year(y) / 1 / 1); d < date::local_days(date::year(y + 1) / 1 / 1); d += date::days(1))
            h.holidays.insert(d);
    CHECK(!add_business_time(h, local(h.zone, "2026-03-04 09:00"), 1h));
}

TEST_CASE("sla: a clock's states, holds spanning nights, and stops") {
    auto h = city();
    auto t = [&](const char* s) { return local(h.zone, s); };
    ClockInput c;
    c.kind = ClockKind::first_response;
    c.started = t("2026-03-04 09:00");  // Wednesday
    c.target = 10h;
    c.warn_percent = 75;  // warning after 7h30 of business time

    SUBCASE("running, then warning, then breached") {
        auto v = evaluate(h, c, t("2026-03-04 12:00"));
        CHECK(v.state == ClockState::ok);
        CHECK(v.elapsed == 3h);
        CHECK(show(h.zone, v.warn_at) == "2026-03-04 16:30");
        CHECK(show(h.zone, v.due) == "2026-03-05 10:00");
        CHECK(evaluate(h, c, t("2026-03-04 16:29")).state == ClockState::ok);
        CHECK(evaluate(h, c, t("2026-03-04 16:30")).state == ClockState::warning);
        CHECK(evaluate(h, c, t("2026-03-04 23:00")).state == ClockState::warning);  // night: no time passes
        CHECK(evaluate(h, c, t("2026-03-05 09:59")).state == ClockState::warning);
        auto late = evaluate(h, c, t("2026-03-05 10:00"));
        CHECK(late.state == ClockState::breached);
        CHECK(show(h.zone, late.due) == "2026-03-05 10:00");
    }
    SUBCASE("a hold over two nights pauses it") {
        c.holds = {{t("2026-03-04 16:00"), t("2026-03-06 10:00")}};  // Wed 16:00 to Fri 10:00
        auto v = evaluate(h, c, t("2026-03-06 10:30"));
        CHECK(v.elapsed == 7h + 30min);  // Wed 09-16, then Fri from 10:00
        CHECK(v.state == ClockState::warning);
        CHECK(!v.on_hold);
        CHECK(show(h.zone, v.warn_at) == "2026-03-06 10:30");
        CHECK(show(h.zone, v.due) == "2026-03-06 13:00");
        CHECK(evaluate(h, c, t("2026-03-06 12:59")).state == ClockState::warning);
        CHECK(evaluate(h, c, t("2026-03-06 13:00")).state == ClockState::breached);
        // The same without the hold would have breached on Thursday morning.
        c.holds.clear();
        CHECK(evaluate(h, c, t("2026-03-05 10:00")).state == ClockState::breached);
    }
    SUBCASE("two holds, one of them on a weekend, count once each") {
        c.holds = {{t("2026-03-04 10:00"), t("2026-03-04 11:00")}, {t("2026-03-07 09:00"), t("2026-03-09 09:00")}};
        auto v = evaluate(h, c, t("2026-03-09 10:00"));
        // Wed 8h + Thu 9h + Fri 9h + Mon 08-10 2h, less Wed 10-11 and Mon 08-09 (the weekend costs nothing).
        CHECK(v.elapsed == 26h);
    }
    SUBCASE("a hold still open: paused, due unknown") {
        c.holds = {{t("2026-03-04 11:00"), std::nullopt}};
        auto v = evaluate(h, c, t("2026-03-10 11:00"));
        CHECK(v.on_hold);
        CHECK(v.elapsed == 2h);
        CHECK(v.state == ClockState::ok);
        CHECK(!v.due);
    }
    SUBCASE("stopped in time is met, late is missed, and stays so") {
        c.stopped = t("2026-03-04 10:30");
        auto v = evaluate(h, c, t("2026-04-01 12:00"));
        CHECK(v.state == ClockState::met);
        CHECK(v.elapsed == 90min);
        c.stopped = t("2026-03-05 11:00");
        CHECK(evaluate(h, c, t("2026-04-01 12:00")).state == ClockState::missed);
    }
    SUBCASE("a case opened outside business hours starts counting at opening time") {
        c.started = t("2026-03-07 10:00");  // Saturday
        auto v = evaluate(h, c, t("2026-03-09 08:30"));
        CHECK(v.elapsed == 30min);
        CHECK(show(h.zone, v.due) == "2026-03-10 09:00");
    }
}

TEST_CASE("sla: the first matching policy sets the clocks; alerts are raised once") {
    auto h = city("always");
    auto t = [&](const char* s) { return local(h.zone, s); };
    auto policy = [](std::string name, std::optional<std::string> priority, std::optional<std::string> type,
                     std::optional<std::chrono::seconds> first, std::optional<std::chrono::seconds> resolve) {
        SlaPolicy p;
        p.name = std::move(name);
        p.priority = std::move(priority);
        p.request_type = std::move(type);
        p.first_response = first;
        p.resolve_within = resolve;
        return p;
    };
    auto urgent = policy("urgent", "urgent", std::nullopt, 1h, 4h);
    auto requests = policy("requests", std::nullopt, "Request", std::nullopt, 48h);
    auto rest = policy("rest", std::nullopt, std::nullopt, 8h, std::nullopt);
    std::vector<SlaPolicy> policies{urgent, requests, rest};
    CHECK(policy_for(policies, "urgent", "Request")->name == "urgent");
    CHECK(policy_for(policies, "normal", "request")->name == "requests");  // request types ignore case
    CHECK(policy_for(policies, "normal", std::nullopt)->name == "rest");
    CHECK(policy_for({urgent}, "normal", std::nullopt) == nullptr);

    CaseTimes c;
    c.priority = "urgent";
    c.created = t("2026-03-04 09:00");
    auto clocks = case_clocks(h, policies, c, t("2026-03-04 09:50"));
    REQUIRE(clocks.size() == 2);
    CHECK(clocks[0].kind == ClockKind::first_response);
    CHECK(clocks[0].state == ClockState::warning);
    CHECK(clocks[1].kind == ClockKind::resolution);
    CHECK(clocks[1].state == ClockState::ok);
    CHECK(worst_state(clocks) == ClockState::warning);
    CHECK(alerts_to_raise(clocks, {}) == std::vector<SlaAlert>{{ClockKind::first_response, ClockState::warning}});
    CHECK(alerts_to_raise(clocks, {{ClockKind::first_response, ClockState::warning}}).empty());

    // Straight to breached (nobody looked while it was in warning): only the breach is raised.
    clocks = case_clocks(h, policies, c, t("2026-03-04 11:00"));
    CHECK(alerts_to_raise(clocks, {}) == std::vector<SlaAlert>{{ClockKind::first_response, ClockState::breached}});
    CHECK(worst_state(clocks) == ClockState::breached);

    // The acknowledgement stops the first clock (met), the resolution the second.
    c.first_response = t("2026-03-04 09:30");
    c.resolved = t("2026-03-04 12:00");
    clocks = case_clocks(h, policies, c, t("2026-03-05 11:00"));
    CHECK(clocks[0].state == ClockState::met);
    CHECK(clocks[1].state == ClockState::met);
    CHECK(alerts_to_raise(clocks, {}).empty());
    // Resolved without any response: the first clock stopped at the resolution.
    c.first_response.reset();
    c.resolved = t("2026-03-04 11:00");
    clocks = case_clocks(h, policies, c, t("2026-03-05 11:00"));
    CHECK(clocks[0].state == ClockState::missed);
    CHECK(clocks[0].stopped == c.resolved);
    CHECK(case_clocks(h, {}, c, t("2026-03-05 11:00")).empty());
    CHECK(clock_state_named("breached") == ClockState::breached);
    CHECK(!clock_state_named("late"));
}

TEST_CASE("sla: business time agrees with asking the zone for every window, across a year of DST changes") {
    // The clock converts local times by the offset of the current stretch and asks the zone only
    // near a change; this checks it against asking the zone every time.
    for (const char* zone_name : {"America/Los_Angeles", "Europe/London", "Australia/Lord_Howe", "UTC"}) {
        CAPTURE(zone_name);
        auto h = city("Mon-Fri 08:00-12:00 13:00-17:00, Sun 00:00-03:00");
        h.zone = date::locate_zone(zone_name);
        auto naive = [&](Instant from, Instant to) {
            std::chrono::seconds total{0};
            for (auto day = date::floor<date::days>(h.zone->to_local(from)); day <= date::floor<date::days>(h.zone->to_local(to));
                 day += date::days{1})
                for (auto w : h.by_weekday[date::weekday(day).c_encoding()]) {
                    auto s = h.zone->to_sys(date::local_seconds(day) + std::chrono::minutes(w.start), date::choose::earliest);
                    auto e = h.zone->to_sys(date::local_seconds(day) + std::chrono::minutes(w.end), date::choose::latest);
                    auto a = std::max(s, from), b = std::min(e, to);
                    if (a < b) total += b - a;
                }
            return total;
        };
        auto start = Instant(date::sys_days(date::year(2026) / 1 / 1));
        std::uint64_t x = 88172645463325252ull;  // xorshift: the same spans every run
        for (int i = 0; i < 300; ++i) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            auto from = start + std::chrono::minutes(x % (365 * 24 * 60));
            auto to = from + std::chrono::minutes((x >> 20) % (60 * 24 * 60));
            CHECK(business_time(h, from, to) == naive(from, to));
            auto amount = std::chrono::minutes((x >> 40) % (200 * 60));
            auto due = add_business_time(h, from, amount);
            REQUIRE(due);
            CHECK(naive(from, *due) == amount);
        }
    }
}
