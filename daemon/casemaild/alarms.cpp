// casemaild: the alarm watch (see daemon/health/alarms.hpp), on its timer, through the store's
// writer: each alarm raised or cleared is logged once and mailed to [alerts] to.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "daemon/casemaild/loop.hpp"
#include "daemon/common/log.hpp"
#include "daemon/common/metrics.hpp"

namespace casemail::casemaild {
namespace {

// The gauges of GET /metrics, as of this check.
void publish_health(const store::HealthFacts& f, const std::vector<store::StandingAlarm>& alarms) {
    auto& m = common::metrics();
    m.set("casemail_outbox_entries", {{"state", "pending"}}, static_cast<double>(f.outbox_pending));
    m.set("casemail_outbox_entries", {{"state", "held"}}, static_cast<double>(f.outbox_held));
    m.set("casemail_outbox_entries", {{"state", "failed"}}, static_cast<double>(f.outbox_failed));
    m.set("casemail_quarantined", {}, static_cast<double>(f.quarantined));
    m.set("casemail_review_items", {}, static_cast<double>(f.review_parties + f.review_emails));
    m.set("casemail_store_bytes", {}, static_cast<double>(f.store_bytes));
    m.set("casemail_disk_free_bytes", {}, static_cast<double>(f.disk_free_bytes));
    for (const auto& mb : f.mailboxes) m.set("casemail_mailbox_failing", {{"mailbox", mb.mailbox}}, mb.failures > 0 ? 1 : 0);
    m.clear("casemail_alarm");
    for (const auto& a : alarms) m.set("casemail_alarm", {{"alarm", a.name}}, a.severity == "critical" ? 2 : 1);
}

}  // namespace

void Daemon::schedule_alarm_watch(std::chrono::seconds delay) {
    alarm_timer_.expires_after(delay);
    alarm_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        auto job_config = config_;
        asio::post(pool_, [this, job_config, guard = asio::make_work_guard(ctx_)] {
            std::vector<health::AlarmChange> changes;
            std::optional<std::string> error;
            try {
                auto rules = health::alarm_rules(*job_config);
                auto mail = health::alert_mail(*job_config);
                auto now = std::chrono::system_clock::now();
                changes = writer_->run([&](store::Store& s) {
                    auto facts = store::read_health(s);
                    auto result = health::watch_alarms(s, facts, rules, mail, now);
                    publish_health(facts, store::standing_alarms(s));
                    return result;
                });
            } catch (const std::exception& e) {
                error = e.what();
            }
            asio::post(ctx_, [this, changes = std::move(changes), error] { alarms_watched(changes, error); });
        });
    });
}

void Daemon::alarms_watched(const std::vector<health::AlarmChange>& changes, const std::optional<std::string>& error) {
    if (error) common::log_line(common::log_fields({{"alarms", "watch"}, {"event", "failing"}, {"reason", *error}}));
    bool mailed = false;
    for (const auto& c : changes) {
        mailed = mailed || c.mailed;
        if (c.repeat) continue;  // mailed again, nothing changed
        common::log_line(common::log_fields({{"event", c.raised ? "alarm-raised" : "alarm-cleared"},
                                             {"alarm", c.alarm.name},
                                             {"severity", std::string(health::name(c.alarm.severity))},
                                             {"reason", c.alarm.reason},
                                             {"mailed", c.mailed ? "yes" : "no"}}));
    }
    if (stopping_) return;
    if (mailed) kick_outbox();
    schedule_alarm_watch(config_->alerts.check_interval);
}

}  // namespace casemail::casemaild
