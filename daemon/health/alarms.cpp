#include "daemon/health/alarms.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "mime/address.hpp"
#include "mime/compose.hpp"
#include "store/outbound.hpp"
#include "store/outbox.hpp"

namespace casemail::health {
namespace {

using Clock = std::chrono::system_clock;

std::string for_how_long(Clock::duration d) {
    auto m = std::chrono::duration_cast<std::chrono::minutes>(d).count();
    if (m < 60) return fmt::format("{}m", m);
    if (m < 48 * 60) return fmt::format("{}h{:02}m", m / 60, m % 60);
    return fmt::format("{}d{}h", m / (24 * 60), (m / 60) % 24);
}

std::optional<Clock::duration> since(const std::optional<std::string>& at, Clock::time_point now) {
    if (!at) return std::nullopt;
    auto t = store::parse_time(*at);
    if (!t) return std::nullopt;
    return now - *t;
}

void mailbox_alarms(const store::MailboxState& m, const AlarmRules& rules, Clock::time_point now,
                    std::vector<Alarm>& out) {
    auto norm = mime::normalize_address(m.mailbox);
    if (m.failures > 0) {
        auto failing = since(m.failing_since, now).value_or(Clock::duration::zero());
        out.push_back({"mailbox-failing:" + norm,
                       failing >= rules.failing_critical_after ? Severity::critical : Severity::warning,
                       fmt::format("{} failing for {} ({} polls): {}", m.mailbox, for_how_long(failing), m.failures,
                                   m.last_error.value_or("?"))});
    }
    auto expect = rules.expect_mail_within.find(norm);
    if (expect == rules.expect_mail_within.end()) return;
    // Silent since the last new mail, or since it was first polled.
    auto quiet = since(m.last_mail_at, now);
    if (!quiet) quiet = since(m.last_ok_at, now);
    if (quiet && *quiet > expect->second)
        out.push_back({"mailbox-silent:" + norm, Severity::warning,
                       fmt::format("{}: no new mail for {} (expected within {})", m.mailbox, for_how_long(*quiet),
                                   for_how_long(expect->second))});
}

std::string alert_mail(const AlertMail& mail, const std::string& to, const AlarmChange& change,
                       const std::vector<store::StandingAlarm>& standing, const std::string& message_id,
                       Clock::time_point now) {
    const auto& a = change.alarm;
    auto subject = change.raised ? fmt::format("[casemail] {}: {}", name(a.severity), a.reason)
                                 : fmt::format("[casemail] cleared: {}", a.name);
    std::string body = change.raised ? fmt::format("Alarm {} ({}):\n  {}\n", a.name, name(a.severity), a.reason)
                                     : fmt::format("Alarm {} has cleared.\n", a.name);
    body += standing.empty() ? "\nNo alarm is standing now.\n" : "\nStanding now:\n";
    for (const auto& s : standing) body += fmt::format("  {} {} (since {}): {}\n", s.severity, s.name, s.raised_at, s.reason);
    body += "\ncasemail status --check\n";
    return mime::compose_notice({"casemail", mail.from, to, subject, message_id, body, now});
}

void queue_mail(store::Store& s, const AlertMail& mail, const AlarmChange& change, Clock::time_point now) {
    auto standing = store::standing_alarms(s);
    for (const auto& to : mail.to) {
        auto message_id = store::new_message_id(mail.message_id_domain);
        store::NewOutboxEntry e;
        e.kind = matching::OutboxKind::alert;
        e.to_address = to;
        e.envelope_from = mail.from;
        e.envelope_to = {to};
        e.message_id = message_id;
        e.raw = alert_mail(mail, to, change, standing, message_id, now);
        store::enqueue_outbox(s, e);
    }
}

}  // namespace

std::string_view name(Severity s) {
    switch (s) {
        case Severity::ok: return "OK";
        case Severity::warning: return "WARNING";
        case Severity::critical: return "CRITICAL";
    }
    return "?";
}

std::vector<Alarm> evaluate_alarms(const store::HealthFacts& f, const AlarmRules& rules, Clock::time_point now) {
    std::vector<Alarm> out;
    for (const auto& m : f.mailboxes) mailbox_alarms(m, rules, now, out);
    if (auto age = since(f.oldest_pending_at, now); age && *age > rules.outbox_age)
        out.push_back({"outbox-stuck", Severity::warning,
                       fmt::format("{} outbox entries pending, the oldest for {}", f.outbox_pending, for_how_long(*age))});
    if (f.outbox_failed_recent > 0)
        out.push_back({"outbox-failed", Severity::warning,
                       fmt::format("{} outbox entries failed for good in the last day (casemail outbox list --status "
                                   "failed)",
                                   f.outbox_failed_recent)});
    if (f.quarantined > 0)
        out.push_back({"quarantine", Severity::warning,
                       fmt::format("{} messages in quarantine (casemail quarantine list)", f.quarantined)});
    if (auto items = f.review_parties + f.review_emails; items >= rules.review_warning)
        out.push_back({"review-backlog", Severity::warning,
                       fmt::format("{} review items waiting (casemail unresolved list, casemail review list)", items)});
    if (f.disk_total_bytes > 0) {
        auto percent = static_cast<double>(f.disk_free_bytes) * 100.0 / static_cast<double>(f.disk_total_bytes);
        if (percent < rules.disk_free_warning_percent)
            out.push_back({"disk-space",
                           percent < rules.disk_free_critical_percent ? Severity::critical : Severity::warning,
                           fmt::format("{:.1f}% free under the store ({} MB free; the store is {} MB)", percent,
                                       f.disk_free_bytes >> 20, f.store_bytes >> 20)});
    }
    if (f.read_only)  // (casemaild cannot record this alarm: `casemail status --check` sees it)
        out.push_back({"store-read-only", Severity::critical,
                       "the store's file system is read-only: nothing can be committed (mail waits on the IMAP "
                       "servers, the relay answers 451)"});
    return out;
}

AlarmRules alarm_rules(const config::Config& cfg) {
    AlarmRules r;
    const auto& a = cfg.alerts;
    r.failing_critical_after = a.failing_critical_after;
    r.outbox_age = a.outbox_age;
    r.review_warning = a.review_warning;
    r.disk_free_warning_percent = a.disk_free_warning;
    r.disk_free_critical_percent = a.disk_free_critical;
    for (const auto& m : cfg.mailboxes)
        if (m.expect_mail_within) r.expect_mail_within[mime::normalize_address(m.address)] = *m.expect_mail_within;
    return r;
}

AlertMail alert_mail(const config::Config& cfg) {
    AlertMail m;
    m.to = cfg.alerts.to;
    m.from = !cfg.alerts.from.empty()       ? cfg.alerts.from
             : !cfg.mailboxes.empty()       ? cfg.mailboxes.front().address
                                            : "casemail@" + cfg.message_id_domain;
    m.message_id_domain = cfg.message_id_domain;
    m.repeat = cfg.alerts.repeat;
    return m;
}

Severity worst(const std::vector<Alarm>& alarms) {
    auto w = Severity::ok;
    for (const auto& a : alarms) w = std::max(w, a.severity);
    return w;
}

std::vector<AlarmChange> watch_alarms(store::Store& s, const store::HealthFacts& facts, const AlarmRules& rules,
                                      const AlertMail& mail, Clock::time_point now) {
    auto current = evaluate_alarms(facts, rules, now);
    auto standing = store::standing_alarms(s);
    std::vector<AlarmChange> changes;
    for (const auto& old : standing)
        if (std::none_of(current.begin(), current.end(), [&](const Alarm& a) { return a.name == old.name; })) {
            store::clear_alarm(s, old.name);
            changes.push_back({{old.name, old.severity == "critical" ? Severity::critical : Severity::warning,
                                old.reason},
                               false, false});
        }
    for (const auto& a : current) {
        auto it = std::find_if(standing.begin(), standing.end(), [&](const auto& o) { return o.name == a.name; });
        auto severity = std::string(a.severity == Severity::critical ? "critical" : "warning");
        bool changed = it == standing.end() || it->severity != severity;
        auto last_mailed = it == standing.end() ? std::nullopt : since(it->mailed_at, now);
        bool repeat = !changed && (!last_mailed || *last_mailed >= mail.repeat);
        // The reason's figures change every check; the alarm is the same while its severity is.
        store::put_alarm(s, {a.name, severity, a.reason, changed ? store::format_time(now) : it->raised_at,
                             it == standing.end() ? std::nullopt : it->mailed_at});
        if (changed) changes.push_back({a, true, false});
        else if (repeat && !mail.to.empty()) changes.push_back({a, true, true});
    }
    for (auto& c : changes) {
        if (mail.to.empty()) continue;
        queue_mail(s, mail, c, now);
        if (c.raised) store::mark_alarm_mailed(s, c.alarm.name);
        c.mailed = true;
    }
    return changes;
}

}  // namespace casemail::health
