// casemaild: the SLA watch (see daemon/sla/watch.hpp), on its timer; pages go through the
// store's writer, so the loop never waits on the store.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include "daemon/casemaild/loop.hpp"
#include "daemon/common/log.hpp"
#include "mime/address.hpp"
#include "mime/strings.hpp"

namespace casemail::casemaild {
namespace {

sla::WatchSettings watch_settings(const Config& cfg) {
    sla::WatchSettings w;
    w.hours = config::business_hours(cfg);
    w.policies = cfg.slas;
    for (const auto& m : cfg.mailboxes)
        if (!m.alert_to.empty()) w.alert_to[mime::normalize_address(m.address)] = m.alert_to;
    w.message_id_domain = cfg.message_id_domain;
    return w;
}

}  // namespace

void Daemon::schedule_sla_watch(std::chrono::seconds delay) {
    sla_timer_.expires_after(delay);
    sla_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        auto job_config = config_;
        if (job_config->slas.empty()) {  // nothing to watch; a reload may add policies
            schedule_sla_watch(job_config->sla_check_interval);
            return;
        }
        asio::post(pool_, [this, job_config, guard = asio::make_work_guard(ctx_)] {
            std::vector<sla::RaisedAlert> raised;
            std::optional<std::string> error;
            try {
                auto settings = watch_settings(*job_config);
                auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
                sla::WatchPage page;
                do {
                    page = writer_->run([&](store::Store& s) { return sla::watch_page(s, settings, now, page.last_id); });
                    raised.insert(raised.end(), page.raised.begin(), page.raised.end());
                } while (page.more && !stop_);
            } catch (const std::exception& e) {
                error = e.what();
            }
            asio::post(ctx_, [this, raised = std::move(raised), error] { sla_watched(raised, error); });
        });
    });
}

void Daemon::sla_watched(const std::vector<sla::RaisedAlert>& raised, const std::optional<std::string>& error) {
    if (error) common::log_line(common::log_fields({{"sla", "watch"}, {"event", "failing"}, {"reason", *error}}));
    bool mailed = false;
    for (const auto& a : raised) {
        common::log_line(common::log_fields({{"event", fmt::format("sla-{}", name(a.state))},
                                             {"case", a.token},
                                             {"clock", std::string(name(a.clock))},
                                             {"queue", a.queue},
                                             {"policy", a.policy},
                                             {"due", a.due.empty() ? "-" : a.due},
                                             {"mailed", a.mailed_to.empty() ? "-" : mime::join(a.mailed_to, ",")}}));
        mailed = mailed || !a.mailed_to.empty();
    }
    if (stopping_) return;
    if (mailed) kick_outbox();
    schedule_sla_watch(config_->sla_check_interval);
}

}  // namespace casemail::casemaild
