// casemaild: the alarm watch (see daemon/health/alarms.hpp), on its timer, through the store's
// writer: each alarm raised or cleared is logged once and mailed to [alerts] to.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "daemon/casemaild/loop.hpp"
#include "daemon/common/log.hpp"

namespace casemail::casemaild {

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
                changes = writer_->run([&](store::Store& s) { return health::watch_alarms(s, rules, mail, now); });
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
