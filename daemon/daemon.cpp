#include "daemon/daemon.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <random>

#include "daemon/settings.hpp"
#include "daemon/imap/client.hpp"
#include "daemon/common/log.hpp"
#include "daemon/imap/poller.hpp"
#include "daemon/sd_notify.hpp"
#include "daemon/relay/smtp_server.hpp"
#include "mime/strings.hpp"
#include "mime/address.hpp"
#include "mime/printable.hpp"

namespace casemail::daemon {
namespace asio = boost::asio;
namespace {

store::Store open_store(const Config& cfg) {
    store::StoreOptions opts;
    opts.token_prefix = cfg.token_prefix;
    opts.open.create = true;
    opts.open.durability = store::Durability::full;  // IMAP acknowledgements depend on the commit
    return store::Store::open(cfg.store_path, opts);
}

// Every mailbox routes to its team queue: created when missing. Refuses a queue name that is
// already bound to another mailbox (the config would silently re-route mail).
Result<bool> ensure_queues(store::Store& s, const Config& cfg) {
    for (const auto& m : cfg.mailboxes) {
        auto by_mailbox = s.find_queue(m.address);
        if (by_mailbox && mime::normalize_address(by_mailbox->mailbox) == mime::normalize_address(m.address)) {
            if (by_mailbox->name != m.queue)
                common::log_line(common::log_fields({{"mailbox", m.address}, {"event", "queue-name-differs"},
                                     {"queue", by_mailbox->name}, {"config", m.queue},
                                     {"reason", "the store's queue keeps its name"}}));
            continue;
        }
        if (auto by_name = s.find_queue(m.queue))
            return fail(fmt::format("{}:{}: queue '{}' already has the mailbox {}, not {}", cfg.source, m.line,
                                    m.queue, by_name->mailbox, m.address));
        s.add_queue(m.queue, m.address);
        common::log_line(common::log_fields({{"mailbox", m.address}, {"event", "queue-created"}, {"queue", m.queue}}));
    }
    return true;
}

struct Worker {
    explicit Worker(asio::io_context& ctx) : timer(ctx) {}
    std::shared_ptr<const MailboxConfig> mailbox;
    asio::steady_timer timer;
    // Touched only by the poll job in flight (busy) — or by the loop when none is.
    std::unique_ptr<store::Store> store;
    std::unique_ptr<imap::ImapSession> session;
    // Loop-only state.
    bool busy = false;
    bool removed = false;
    bool reconnect = false;
    int failures = 0;
    std::string logged_state;  // what was last logged about this mailbox's health
};

class Daemon {
public:
    Daemon(DaemonOptions options, std::shared_ptr<const Config> config)
        : options_(std::move(options)), config_(std::move(config)), signals_(ctx_, SIGTERM, SIGINT, SIGHUP),
          watchdog_(ctx_), outbox_timer_(ctx_), pool_(config_->mailboxes.size() + 2), rng_(std::random_device{}()) {}

    int run() {
        wait_for_signal();
        if (!options_.once && config_->relay.enabled && !start_relay()) return 1;
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
        ctx_.run();
        pool_.join();
        common::log_line(common::log_fields({{"event", "stopped"}, {"failed_mailboxes", std::to_string(failed_)}}));
        return options_.once && failed_ > 0 ? 1 : 0;
    }

private:
    void add_worker(std::shared_ptr<const MailboxConfig> m) {
        auto key = mime::normalize_address(m->address);
        auto w = std::make_shared<Worker>(ctx_);
        w->mailbox = std::move(m);
        workers_[key] = w;
        start_poll(w);
    }

    void wait_for_signal() {
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

    void shutdown(const std::string& why) {
        if (stopping_) return;
        stopping_ = true;
        stop_ = true;  // transfers in flight abort; the current batch commits what it has
        sd_notify("STOPPING=1");
        common::log_line(common::log_fields({{"event", "stopping"}, {"reason", why}}));
        for (auto& [key, w] : workers_) w->timer.cancel();
        watchdog_.cancel();
        outbox_timer_.cancel();
        if (relay_) relay_->stop();
        signals_.cancel();
    }

    void ping_watchdog(std::chrono::microseconds interval) {
        sd_notify("WATCHDOG=1");
        watchdog_.expires_after(interval);
        watchdog_.async_wait([this, interval](const boost::system::error_code& ec) {
            if (!ec && !stopping_) ping_watchdog(interval);
        });
    }

    void reload() {
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
        try {
            auto s = open_store(*loaded);
            if (auto ok = ensure_queues(s, *loaded); !ok) {
                common::log_line(common::log_fields({{"event", "reload-failed"}, {"reason", ok.error()}}));
                sd_notify("READY=1");
                return;
            }
        } catch (const store::Error& e) {
            common::log_line(common::log_fields({{"event", "reload-failed"}, {"reason", e.what()}}));
            sd_notify("READY=1");
            return;
        }
        config_ = std::make_shared<const Config>(std::move(*loaded));
        std::map<std::string, const MailboxConfig*> wanted;
        for (const auto& m : config_->mailboxes) wanted[mime::normalize_address(m.address)] = &m;
        for (auto it = workers_.begin(); it != workers_.end();) {
            auto& w = it->second;
            if (!wanted.count(it->first)) {
                w->removed = true;
                w->timer.cancel();
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
                it->second->mailbox = mb;
                it->second->reconnect = true;  // credentials or server may have changed
            } else {
                add_worker(mb);
            }
        }
        common::log_line(common::log_fields({{"event", "reloaded"}, {"mailboxes", std::to_string(config_->mailboxes.size())}}));
        sd_notify("READY=1");
    }

    void schedule(const std::shared_ptr<Worker>& w, std::chrono::milliseconds delay) {
        w->timer.expires_after(delay);
        w->timer.async_wait([this, w](const boost::system::error_code& ec) {
            if (!ec && !stopping_ && !w->removed) start_poll(w);
        });
    }

    void start_poll(const std::shared_ptr<Worker>& w) {
        if (w->busy || stopping_) return;
        w->busy = true;
        auto job_config = config_;
        auto mailbox = w->mailbox;
        bool reconnect = std::exchange(w->reconnect, false);
        asio::post(pool_, [this, w, job_config, mailbox, reconnect, guard = asio::make_work_guard(ctx_)] {
            auto report = poll_once(*w, *job_config, *mailbox, reconnect);
            asio::post(ctx_, [this, w, report = std::move(report)] { polled(w, report); });
        });
    }

    // Runs on a pool thread; touches only this worker's store and session.
    imap::PollReport poll_once(Worker& w, const Config& cfg, const MailboxConfig& m, bool reconnect) {
        imap::PollReport report;
        try {
            if (!w.store) w.store = std::make_unique<store::Store>(open_store(cfg));
            if (reconnect) w.session.reset();
            if (!w.session) {
                auto login = config::mailbox_login(m, cfg);
                if (!login) {
                    report.error = login.error();
                    return report;
                }
                imap::ImapAccount account;
                account.login = std::move(*login);
                account.stall_timeout = cfg.stall_timeout;
                w.session = std::make_unique<imap::ImapSession>(std::move(account), &stop_);
            }
            imap::ImapMailbox server(*w.session, {m.folder, m.after_processing, m.move_to});
            inbound::Ingestor ingestor(*w.store, ingest_options(cfg, "casemaild"));
            imap::PollSettings settings;
            settings.mailbox = m.address;
            settings.folder = m.folder;
            settings.batch = static_cast<std::size_t>(cfg.fetch_batch);
            settings.max_message_bytes = cfg.limits.max_message_bytes;
            report = imap::poll_mailbox(server, *w.store, ingestor, settings, common::log_line, stop_);
        } catch (const std::exception& e) {  // store cannot be opened, out of memory...
            report.error = e.what();
            w.store.reset();
        }
        if (report.error) w.session.reset();  // a fresh connection next time
        return report;
    }

    void polled(const std::shared_ptr<Worker>& w, const imap::PollReport& report) {
        w->busy = false;
        const auto& m = *w->mailbox;
        if (w->removed) {
            workers_.erase(mime::normalize_address(m.address));
            return;
        }
        std::chrono::milliseconds delay = m.poll_interval;
        if (report.error && !report.interrupted) {
            ++w->failures;
            if (options_.once) ++failed_;
            // Exponential backoff from the poll interval, capped, with +-20% jitter so several
            // mailboxes on one failing server do not retry in step.
            double base = std::min<double>(std::chrono::duration<double>(config_->max_backoff).count(),
                                           std::chrono::duration<double>(m.poll_interval).count() *
                                               std::pow(2.0, std::min(w->failures - 1, 20)));
            std::uniform_real_distribution<double> jitter(0.8, 1.2);
            delay = std::chrono::milliseconds(static_cast<long long>(base * jitter(rng_) * 1000));
            std::string state = "failing: " + *report.error;
            if (state != w->logged_state)
                common::log_line(common::log_fields({{"mailbox", m.address}, {"event", "failing"}, {"reason", *report.error},
                                     {"retry_in_s", fmt::format("{:.0f}", delay.count() / 1000.0)}}));
            w->logged_state = state;
        } else {
            if (w->failures > 0)
                common::log_line(common::log_fields({{"mailbox", m.address}, {"event", "recovered"},
                                     {"after_failures", std::to_string(w->failures)}}));
            w->failures = 0;
            w->logged_state = "ok";
            if (report.backlog && *report.backlog > 0) delay = std::chrono::milliseconds(0);
        }
        if (options_.once) {
            if (++polled_ == workers_.size()) once_polled();
            return;
        }
        if (!stopping_) schedule(w, delay);
    }

    // --once: after the mailboxes, one delivery run of the outbox (acknowledgements included).
    void once_polled() {
        if (config_->upstream.url.empty() || stopping_) shutdown("--once: every mailbox polled");
        else start_outbox();
    }

    bool start_relay() {
        relay::RelaySettings rs;
        const auto& rc = config_->relay;
        rs.listen_address = rc.listen_address;
        rs.port = static_cast<unsigned short>(rc.port);
        for (const auto& n : rc.allowed_networks) rs.allowed_networks.push_back(*protocol::parse_network(n));
        if (!rc.users_file.empty()) rs.users = *relay::load_users_file(rc.users_file);  // checked at start
        rs.tls_cert = rc.tls_cert;
        rs.tls_key = rc.tls_key;
        rs.allow_plaintext_auth = rc.allow_plaintext_auth;
        rs.limits.max_message_bytes = rc.max_message_bytes;
        rs.limits.max_recipients = rc.max_recipients;
        rs.limits.max_line_bytes = rc.max_line_length;
        rs.max_connections = rc.max_connections;
        rs.idle_timeout = rc.idle_timeout;
        rs.hostname = rc.hostname;
        relay_ = std::make_unique<relay::SmtpRelay>(
            ctx_, rs,
            [this](const protocol::smtp::Envelope& env, const std::string& data, const std::string& client) {
                return relay_message(env, data, client);
            },
            common::log_line);
        try {
            relay_->start();
        } catch (const std::exception& e) {
            common::log_line(common::log_fields({{"event", "relay-failed"}, {"reason", e.what()}}));
            return false;
        }
        common::log_line(common::log_fields({{"event", "relay-listening"},
                             {"address", fmt::format("{}:{}", rc.listen_address, relay_->port())},
                             {"auth", rs.users.empty() ? "off" : "on"},
                             {"starttls", rs.tls_cert.empty() ? "off" : "on"}}));
        return true;
    }

    // On the loop: store the message durably (one commit, synchronous=FULL) before the reply.
    std::pair<int, std::string> relay_message(const protocol::smtp::Envelope& env, const std::string& data, const std::string& client) {
        try {
            if (!relay_store_) relay_store_ = std::make_unique<store::Store>(open_store(*config_));
            store::Transaction tx(relay_store_->db());
            auto v = relay::accept_reply(*relay_store_, data, env.mail_from, env.rcpt_to, accept_settings(*config_));
            tx.commit();
            common::log_line(common::log_fields({{"relay", "message"},
                                 {"client", client},
                                 {"user", env.user.empty() ? "-" : env.user},
                                 {"from", env.mail_from.empty() ? "<>" : env.mail_from},
                                 {"rcpts", std::to_string(env.rcpt_to.size())},
                                 {"bytes", std::to_string(data.size())},
                                 {"action", v.action},
                                 {"case", v.case_token.empty() ? "-" : v.case_token},
                                 {"outbox", v.outbox_id ? std::to_string(*v.outbox_id) : "-"},
                                 {"dropped", v.dropped.empty() ? "-" : mime::join(v.dropped, ",")},
                                 {"reason", fmt::format("{} {}", v.code, v.text)}}));
            if (v.outbox_id) kick_outbox();
            return {v.code, v.text};
        } catch (const std::exception& e) {  // nothing was stored: the client must try again
            relay_store_.reset();
            common::log_line(common::log_fields({{"relay", "message"}, {"client", client}, {"action", "tempfail"}, {"reason", e.what()}}));
            return {451, "4.3.0 temporary local problem, try again later"};
        }
    }

    void kick_outbox() {
        if (config_->upstream.url.empty() || stopping_) return;
        if (outbox_busy_) {
            outbox_again_ = true;
            return;
        }
        outbox_timer_.cancel();
        start_outbox();
    }

    void start_outbox() {
        if (config_->upstream.url.empty() || outbox_busy_ || (stopping_ && !options_.once)) return;
        outbox_busy_ = true;
        auto job_config = config_;
        asio::post(pool_, [this, job_config, guard = asio::make_work_guard(ctx_)] {
            outbox::DeliveryReport report;
            std::optional<std::string> error;
            try {
                if (!outbox_store_) outbox_store_ = std::make_unique<store::Store>(open_store(*job_config));
                auto account = upstream_account(*job_config);
                if (!account) {
                    error = account.error();
                } else {
                    outbox::SmtpUpstream upstream(std::move(*account));
                    report = outbox::deliver_due(*outbox_store_, upstream, render_settings(*job_config),
                                         delivery_settings(*job_config), common::log_line, stop_);
                }
            } catch (const std::exception& e) {
                error = e.what();
                outbox_store_.reset();
            }
            asio::post(ctx_, [this, report, error] { outbox_done(report, error); });
        });
    }

    void outbox_done(const outbox::DeliveryReport& report, const std::optional<std::string>& error) {
        outbox_busy_ = false;
        if (error) common::log_line(common::log_fields({{"outbox", "run"}, {"event", "failing"}, {"reason", *error}}));
        if (options_.once) {
            if (report.more && !error && !stopping_) start_outbox();
            else shutdown("--once: every mailbox polled and the outbox run");
            return;
        }
        if (stopping_) return;
        if (std::exchange(outbox_again_, false) || report.more) {
            start_outbox();
            return;
        }
        outbox_timer_.expires_after(config_->upstream.poll_interval);
        outbox_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec && !stopping_) start_outbox();
        });
    }

    DaemonOptions options_;
    std::shared_ptr<const Config> config_;
    asio::io_context ctx_;
    asio::signal_set signals_;
    asio::steady_timer watchdog_;
    asio::steady_timer outbox_timer_;
    asio::thread_pool pool_;
    std::unique_ptr<relay::SmtpRelay> relay_;
    std::unique_ptr<store::Store> relay_store_;   // used on the loop only
    std::unique_ptr<store::Store> outbox_store_;  // used by the one outbox job in flight
    bool outbox_busy_ = false, outbox_again_ = false;
    std::map<std::string, std::shared_ptr<Worker>> workers_;
    std::atomic<bool> stop_{false};
    bool stopping_ = false;
    std::size_t polled_ = 0;
    int failed_ = 0;
    std::mt19937 rng_;
};

}  // namespace

int run_daemon(const DaemonOptions& options) {
    auto loaded = config::load_config(options.config_path);
    auto invalid = [](const std::string& reason) {
        for (const auto& why : mime::printable_lines(reason))  // one log line per bad key
            common::log_line(common::log_fields({{"event", "config-invalid"}, {"reason", why}}));
        return 1;
    };
    if (!loaded) return invalid(loaded.error());
    if (auto ok = check_daemon_requirements(*loaded); !ok) return invalid(ok.error());
    auto config = std::make_shared<const Config>(std::move(*loaded));
    try {
        auto s = open_store(*config);
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

}  // namespace casemail::daemon
