// casemaild: start, signals, reload and stop (see loop.hpp).
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include "daemon/casemaild/loop.hpp"
#include "daemon/casemaild/sd_notify.hpp"
#include "daemon/common/log.hpp"
#include "daemon/common/metrics.hpp"
#include "mime/address.hpp"
#include "mime/printable.hpp"
#include "mime/strings.hpp"

namespace casemail::casemaild {

int Daemon::run() {
    wait_for_signal();
    if (!options_.once && config_->relay.enabled && !start_relay()) return 1;
    if (!options_.once && config_->metrics_port && !start_metrics()) return 1;
    if (config_->upstream.url.empty())
        common::log_line(common::log_fields({{"event", "no-upstream"},
                             {"reason", "no [upstream] url: outbound mail waits in the outbox, nothing is sent"}}));
    for (const auto& m : config_->mailboxes) add_worker(std::make_shared<const MailboxConfig>(m));
    common::log_line(common::log_fields({{"event", "started"}, {"mailboxes", std::to_string(workers_.size())},
                         {"store", config_->store_path}, {"mode", options_.once ? "once" : "daemon"}}));
    sd_notify(fmt::format("READY=1\nSTATUS=polling {} mailbox(es)", workers_.size()));
    if (auto interval = watchdog_ping_interval()) ping_watchdog(*interval);
    if (workers_.empty() && options_.once) once_polled();
    if (!options_.once) start_outbox();
    if (!options_.once) schedule_sla_watch(std::chrono::seconds(0));
    if (!options_.once) schedule_workorder_sync(std::chrono::seconds(0));
    if (!options_.once) schedule_alarm_watch(config_->alerts.check_interval);  // after a first poll
    ctx_.run();
    pool_.join();
    parse_pool_.join();
    writer_.reset();  // completes what the jobs submitted
    common::log_line(common::log_fields({{"event", "stopped"}, {"failed_mailboxes", std::to_string(failed_)}}));
    return options_.once && failed_ > 0 ? 1 : 0;
}

void Daemon::wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (signo == SIGHUP) {
            reload();
            wait_for_signal();
        } else {
            shutdown(signo == SIGTERM ? "SIGTERM" : "SIGINT");
        }
    });
}

void Daemon::shutdown(const std::string& why) {
    if (stopping_) return;
    stopping_ = true;
    stop_ = true;  // transfers in flight abort; the current batch commits what it has
    sd_notify("STOPPING=1");
    common::log_line(common::log_fields({{"event", "stopping"}, {"reason", why}}));
    for (auto& [key, w] : workers_) {
        w->timer.cancel();
        w->idle_wait.reset();
    }
    watchdog_.cancel();
    outbox_timer_.cancel();
    sla_timer_.cancel();
    alarm_timer_.cancel();
    workorder_timer_.cancel();
    if (relay_) relay_->stop();
    if (metrics_) metrics_->stop();
    signals_.cancel();
}

bool Daemon::start_metrics() {
    metrics::ServerSettings ms;
    ms.address = config_->metrics_address;
    ms.port = static_cast<unsigned short>(config_->metrics_port);
    metrics_ = std::make_unique<metrics::MetricsServer>(ctx_, ms, [] { return common::metrics().exposition(); },
                                                        common::log_line);
    try {
        metrics_->start();
    } catch (const std::exception& e) {
        common::log_line(common::log_fields({{"event", "metrics-failed"}, {"reason", e.what()}}));
        return false;
    }
    common::log_line(common::log_fields({{"event", "metrics-listening"},
                                         {"address", fmt::format("{}:{}", ms.address, metrics_->port())}}));
    return true;
}

void Daemon::ping_watchdog(std::chrono::microseconds interval) {
    sd_notify("WATCHDOG=1");
    watchdog_.expires_after(interval);
    watchdog_.async_wait([this, interval](const boost::system::error_code& ec) {
        if (!ec && !stopping_) ping_watchdog(interval);
    });
}

void Daemon::reload() {
    sd_notify("RELOADING=1");
    auto loaded = config::load_config(options_.config_path);
    if (!loaded) {
        for (const auto& why : mime::printable_lines(loaded.error()))
            common::log_line(common::log_fields({{"event", "reload-failed"}, {"reason", why},
                                                 {"effect", "the running configuration is kept"}}));
        sd_notify("READY=1");
        return;
    }
    if (loaded->store_path != config_->store_path)
        common::log_line(common::log_fields({{"event", "reload-warning"}, {"reason", "store.path changes need a restart; kept"}}));
    const auto &was = config_->relay, &now = loaded->relay;
    if (was.enabled != now.enabled || was.listen_address != now.listen_address || was.port != now.port ||
        was.allowed_networks != now.allowed_networks || was.users_file != now.users_file ||
        was.tls_cert != now.tls_cert || was.tls_key != now.tls_key)
        common::log_line(common::log_fields({{"event", "reload-warning"},
                             {"reason", "relay listen address, networks, users and TLS apply at the next restart; "
                                        "its refusal policy and the templates apply now"}}));
    loaded->store_path = config_->store_path;
    auto next = std::make_shared<const Config>(std::move(*loaded));
    // The new mailboxes' queues go through the store's writer, off the loop.
    asio::post(pool_, [this, next, guard = asio::make_work_guard(ctx_)] {
        std::optional<std::string> error;
        try {
            if (auto ok = writer_->run([&](store::Store& s) { return ensure_queues(s, *next); }); !ok) error = ok.error();
        } catch (const std::exception& e) {
            error = e.what();
        }
        asio::post(ctx_, [this, next, error] { apply_reload(next, error); });
    });
}

void Daemon::apply_reload(std::shared_ptr<const Config> next, const std::optional<std::string>& error) {
    if (error || stopping_) {
        if (error) common::log_line(common::log_fields({{"event", "reload-failed"}, {"reason", *error}}));
        sd_notify("READY=1");
        return;
    }
    config_ = std::move(next);
    std::map<std::string, const MailboxConfig*> wanted;
    for (const auto& m : config_->mailboxes) wanted[mime::normalize_address(m.address)] = &m;
    for (auto it = workers_.begin(); it != workers_.end();) {
        auto& w = it->second;
        if (!wanted.count(it->first)) {
            w->removed = true;
            w->timer.cancel();
            w->idle_wait.reset();
            common::log_line(common::log_fields({{"mailbox", w->mailbox->address}, {"event", "mailbox-removed"}}));
            if (!w->busy) {
                it = workers_.erase(it);
                continue;
            }
        }
        ++it;
    }
    for (const auto& [key, m] : wanted) {
        auto mb = std::make_shared<const MailboxConfig>(*m);
        if (auto it = workers_.find(key); it != workers_.end() && !it->second->removed) {
            auto& w = it->second;
            w->mailbox = mb;
            w->reconnect = true;  // credentials or server may have changed
            if (w->idle_wait) {   // idling: poll with them now, not when mail comes
                w->timer.cancel();
                start_poll(w);
            }
        } else {
            add_worker(mb);
        }
    }
    common::log_line(common::log_fields({{"event", "reloaded"}, {"mailboxes", std::to_string(config_->mailboxes.size())}}));
    sd_notify("READY=1");
}

int run_daemon(const DaemonOptions& options) {
    store::set_failure_log([](const std::string& what) {
        common::log_line(common::log_fields({{"event", "store-rollback-failed"}, {"reason", what}}));
    });
    auto loaded = config::load_config(options.config_path);
    auto invalid = [](const std::string& reason) {
        for (const auto& why : mime::printable_lines(reason))  // one log line per bad key
            common::log_line(common::log_fields({{"event", "config-invalid"}, {"reason", why}}));
        return 1;
    };
    if (!loaded) return invalid(loaded.error());
    if (auto ok = check_requirements(*loaded); !ok) return invalid(ok.error());
    auto config = std::make_shared<const Config>(std::move(*loaded));
    try {
        auto s = open_store(*config);
        for (const auto& note : s.migration_notes())
            common::log_line(common::log_fields({{"event", "store-migrated"}, {"detail", note}}));
        if (auto ok = ensure_queues(s, *config); !ok) {
            common::log_line(common::log_fields({{"event", "config-invalid"}, {"reason", ok.error()}}));
            return 1;
        }
    } catch (const store::Error& e) {
        common::log_line(common::log_fields({{"event", "store-unavailable"}, {"reason", e.what()}}));
        return 1;
    }
    Daemon d(options, config);
    return d.run();
}

}  // namespace casemail::casemaild
