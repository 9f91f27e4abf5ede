// Alarms: the rules over plain facts, and the watch over a real store (raised, repeated, cleared).
#include <doctest/doctest.h>

#include "daemon/health/alarms.hpp"
#include "store/outbox.hpp"
#include "tests/support/temp_store.hpp"

using namespace casemail;
using namespace std::chrono_literals;
using health::Severity;

namespace {

using Clock = std::chrono::system_clock;

store::MailboxState mailbox(const std::string& address) {
    store::MailboxState m;
    m.mailbox = address;
    m.folder = "INBOX";
    return m;
}

std::vector<std::string> names(const std::vector<health::Alarm>& alarms) {
    std::vector<std::string> out;
    for (const auto& a : alarms) out.push_back(a.name + "=" + std::string(health::name(a.severity)));
    return out;
}

}  // namespace

TEST_CASE("alarms: each rule at its threshold and past it") {
    auto now = Clock::now();
    auto at = [&](Clock::duration ago) { return store::format_time(now - ago); };
    health::AlarmRules rules;
    rules.expect_mail_within["311dwp@city.example"] = 24h;
    store::HealthFacts f;
    f.disk_total_bytes = 1000;
    f.disk_free_bytes = 500;
    CHECK(health::evaluate_alarms(f, rules, now).empty());
    CHECK(health::worst({}) == Severity::ok);

    auto dwp = mailbox("311DWP@city.example");
    dwp.last_ok_at = at(1h);
    dwp.last_mail_at = at(24h - 1min);
    f.mailboxes = {dwp};
    CHECK(health::evaluate_alarms(f, rules, now).empty());
    f.mailboxes[0].last_mail_at = at(25h);
    f.mailboxes[0].failures = 3;
    f.mailboxes[0].failing_since = at(14min);
    f.mailboxes[0].last_error = "login refused";
    auto alarms = health::evaluate_alarms(f, rules, now);
    CHECK(names(alarms) == std::vector<std::string>{"mailbox-failing:311dwp@city.example=WARNING",
                                                    "mailbox-silent:311dwp@city.example=WARNING"});
    CHECK(alarms[0].reason == "311DWP@city.example failing for 14m (3 polls): login refused");
    CHECK(alarms[1].reason == "311DWP@city.example: no new mail for 25h00m (expected within 24h00m)");
    f.mailboxes[0].failing_since = at(16min);
    CHECK(health::worst(health::evaluate_alarms(f, rules, now)) == Severity::critical);
    f.mailboxes.clear();

    f.oldest_pending_at = at(59min);
    f.outbox_pending = 4;
    CHECK(health::evaluate_alarms(f, rules, now).empty());
    f.oldest_pending_at = at(61min);
    f.outbox_failed_recent = 1;
    f.quarantined = 2;
    f.review_parties = 60;
    f.review_emails = 40;
    f.disk_free_bytes = 99;
    CHECK(names(health::evaluate_alarms(f, rules, now)) ==
          std::vector<std::string>{"outbox-stuck=WARNING", "outbox-failed=WARNING", "quarantine=WARNING",
                                   "review-backlog=WARNING", "disk-space=WARNING"});
    f.disk_free_bytes = 19;
    CHECK(health::worst(health::evaluate_alarms(f, rules, now)) == Severity::critical);
    f = {};
    f.read_only = true;
    CHECK(names(health::evaluate_alarms(f, rules, now)) == std::vector<std::string>{"store-read-only=CRITICAL"});
}

TEST_CASE("alarms: the watch records a change once, mails it, repeats after the interval, and clears") {
    test::TempDir tmp;
    auto now = Clock::now();
    store::StoreOptions options;
    options.clock = [&] { return now; };
    auto s = store::Store::open(tmp.file("store.db"), options);
    health::AlarmRules rules;
    rules.outbox_age = 100h;  // the alarm mail itself waits in the outbox here: nobody delivers it
    health::AlertMail mail;
    mail.to = {"it@city.example"};
    mail.from = "311@city.example";
    mail.repeat = 6h;
    store::record_poll(s, "311DWP@city.example", "INBOX", std::string("login refused"), std::nullopt);

    auto changes = health::watch_alarms(s, store::read_health(s), rules, mail, now);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].raised);
    CHECK(changes[0].mailed);
    CHECK(changes[0].alarm.name == "mailbox-failing:311dwp@city.example");
    CHECK(store::standing_alarms(s).size() == 1);
    CHECK(store::list_outbox(s).size() == 1);
    auto raw = store::outbox_raw(s, store::list_outbox(s)[0].id);
    CHECK(raw.find("Subject: [casemail] WARNING: 311DWP@city.example failing for 0m") != std::string::npos);
    CHECK(raw.find("Auto-Submitted: auto-generated") != std::string::npos);

    now += 5h;  // still failing, now for more than 15 minutes
    changes = health::watch_alarms(s, store::read_health(s), rules, mail, now);
    REQUIRE(changes.size() == 1);  // warning -> critical is a change
    CHECK(changes[0].alarm.severity == Severity::critical);
    CHECK_FALSE(changes[0].repeat);
    now += 1h;
    CHECK(health::watch_alarms(s, store::read_health(s), rules, mail, now).empty());  // standing, mailed an hour ago
    now += 5h;
    changes = health::watch_alarms(s, store::read_health(s), rules, mail, now);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].repeat);
    CHECK(store::list_outbox(s).size() == 3);

    store::record_poll(s, "311DWP@city.example", "INBOX", std::nullopt, 0);
    changes = health::watch_alarms(s, store::read_health(s), rules, mail, now);
    REQUIRE(changes.size() == 1);
    CHECK_FALSE(changes[0].raised);
    CHECK(store::standing_alarms(s).empty());
    CHECK(store::list_outbox(s).size() == 4);
    CHECK(health::watch_alarms(s, store::read_health(s), rules, mail, now).empty());

    // Without addresses: recorded and reported for the log, nothing queued.
    mail.to.clear();
    store::record_poll(s, "311DWP@city.example", "INBOX", std::string("timeout"), std::nullopt);
    changes = health::watch_alarms(s, store::read_health(s), rules, mail, now);
    REQUIRE(changes.size() == 1);
    CHECK_FALSE(changes[0].mailed);
    CHECK(store::list_outbox(s).size() == 4);
}
