// casemaild: polling the 311 mailboxes, each on a pool thread with its own store and IMAP
// session; backoff with jitter for a failing one (see loop.hpp).
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <cmath>

#include <fmt/format.h>

#include "daemon/casemaild/loop.hpp"
#include "store/mailbox_state.hpp"
#include "daemon/casemaild/sd_notify.hpp"
#include "daemon/common/log.hpp"
#include "mime/address.hpp"
#include "mime/printable.hpp"
#include "mime/strings.hpp"

namespace casemail::casemaild {

void Daemon::add_worker(std::shared_ptr<const MailboxConfig> m) {
    auto key = mime::normalize_address(m->address);
    auto w = std::make_shared<Worker>(ctx_);
    w->mailbox = std::move(m);
    workers_[key] = w;
    start_poll(w);
}

void Daemon::schedule(const std::shared_ptr<Worker>& w, std::chrono::milliseconds delay) {
    w->timer.expires_after(delay);
    w->timer.async_wait([this, w](const boost::system::error_code& ec) {
        if (!ec && !stopping_ && !w->removed) start_poll(w);
    });
}

void Daemon::start_poll(const std::shared_ptr<Worker>& w) {
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

// Runs on a pool thread; touches only this worker's session (the store through the writer).
imap::PollReport Daemon::poll_once(Worker& w, const Config& cfg, const MailboxConfig& m, bool reconnect) {
    imap::PollReport report;
    try {
        if (reconnect) w.session.reset();
        if (w.session && w.token_renew_at && std::chrono::system_clock::now() >= *w.token_renew_at)
            w.session.reset();  // its token is about to expire: log in again with a fresh one
        if (!w.session) {
            // Failing before the server is reached (a secret, the token endpoint): recorded for
            // `casemail status` as any failed poll is.
            auto failed_early = [&](const std::string& why) {
                report.error = why;
                writer_->run([&](store::Store& s) { store::record_poll(s, m.address, m.folder, why, std::nullopt); });
                return report;
            };
            auto login = config::mailbox_login(m, cfg);
            if (!login) return failed_early(login.error());
            w.token_renew_at.reset();
            if (login->oauth2.configured()) {
                auto token = access_token(*login, &m);
                if (!token) return failed_early(token.error());
                w.token_renew_at = token->renew_at;
            }
            imap::ImapAccount account;
            account.login = std::move(*login);
            account.stall_timeout = cfg.stall_timeout;
            w.session = std::make_unique<imap::ImapSession>(std::move(account), &stop_);
        }
        imap::ImapMailbox server(*w.session, {m.folder, m.after_processing, m.move_to});
        imap::PollSettings settings;
        settings.mailbox = m.address;
        settings.folder = m.folder;
        settings.batch = static_cast<std::size_t>(cfg.fetch_batch);
        settings.max_message_bytes = cfg.limits.max_message_bytes;
        report = imap::poll_mailbox(server, *writer_, ingest_options(cfg), settings, common::log_line, stop_);
    } catch (const std::exception& e) {  // out of memory...
        report.error = e.what();
    }
    if (report.error) {
        w.session.reset();  // a fresh connection next time
        if (m.secret.oauth2.configured()) tokens_.forget(m.secret.oauth2);  // and a fresh token: it may be revoked
    }
    return report;
}

Result<common::AccessToken> Daemon::access_token(common::ServerLogin& login, const MailboxConfig* mailbox) {
    auto token = tokens_.get(login.oauth2, std::chrono::system_clock::now());
    if (!token) return token;
    login.oauth2_token = token->token;
    if (token->fresh && mailbox) {
        auto expires = store::format_time(token->expires_at);
        writer_->run([&](store::Store& s) { store::set_token_expiry(s, mailbox->address, mailbox->folder, expires); });
    }
    return token;
}

void Daemon::polled(const std::shared_ptr<Worker>& w, const imap::PollReport& report) {
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
void Daemon::once_polled() {
    if (config_->upstream.url.empty() || stopping_) shutdown("--once: every mailbox polled");
    else start_outbox();
}

}  // namespace casemail::casemaild
