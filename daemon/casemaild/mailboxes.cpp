// casemaild: polling the 311 mailboxes, each on a pool thread with its own store and IMAP
// session; backoff with jitter for a failing one (see loop.hpp).
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <unistd.h>

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
    w->idle_wait.reset();  // (the poll ends the IDLE on its thread)
    auto job_config = config_;
    auto mailbox = w->mailbox;
    bool reconnect = std::exchange(w->reconnect, false);
    asio::post(pool_, [this, w, job_config, mailbox, reconnect, guard = asio::make_work_guard(ctx_)] {
        auto outcome = poll_once(*w, *job_config, *mailbox, reconnect);
        asio::post(ctx_, [this, w, outcome = std::move(outcome)] { polled(w, outcome); });
    });
}

// Runs on a pool thread; touches only this worker's session (the store through the writer).
PollOutcome Daemon::poll_once(Worker& w, const Config& cfg, const MailboxConfig& m, bool reconnect) {
    PollOutcome outcome;
    auto& report = outcome.report;
    try {
        if (reconnect) w.session.reset();
        // Ending an IDLE can fail routinely (the server dropped a quiet connection): the fetch
        // connection is then dropped and the poll opens a new one.
        if (w.session && w.session->idling()) (void)w.session->idle_end();
        if (w.session && w.token_renew_at && std::chrono::system_clock::now() >= *w.token_renew_at)
            w.session.reset();  // its token is about to expire: log in again with a fresh one
        if (!w.session) {
            // Failing before the server is reached (a secret, the token endpoint): recorded for
            // `casemail status` as any failed poll is.
            auto failed_early = [&](const std::string& why) {
                report.error = why;
                writer_->run([&](store::Store& s) { store::record_poll(s, m.address, m.folder, why, std::nullopt); });
                return outcome;
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
        bool caught_up = !report.error && !report.interrupted && !(report.backlog && *report.backlog > 0);
        if (caught_up && m.idle && !options_.once && !stop_) {
            auto started = server.idle_begin();
            if (started) outcome.idle = *started;
            else outcome.idle_error = started.error();
        }
    } catch (const std::exception& e) {  // out of memory...
        report.error = e.what();
    }
    if (report.error) {
        w.session.reset();  // a fresh connection next time
        if (m.secret.oauth2.configured()) tokens_.forget(m.secret.oauth2);  // and a fresh token: it may be revoked
    }
    return outcome;
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

void Daemon::polled(const std::shared_ptr<Worker>& w, const PollOutcome& outcome) {
    const auto& report = outcome.report;
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
        log_idle(*w, outcome);
        if (outcome.idle == imap::IdleStart::mail) delay = std::chrono::milliseconds(0);
    }
    if (options_.once) {
        if (++polled_ == workers_.size()) once_polled();
        return;
    }
    if (stopping_) return;
    if (outcome.idle == imap::IdleStart::idling && w->session && w->session->idling()) wait_in_idle(w, delay);
    else schedule(w, delay);
}

// Servers drop an IDLE after 30 minutes of silence (RFC 2177: re-issue it within 29).
constexpr std::chrono::milliseconds longest_idle = std::chrono::minutes(29);

void Daemon::wait_in_idle(const std::shared_ptr<Worker>& w, std::chrono::milliseconds deadline) {
    schedule(w, std::min(deadline, longest_idle));  // the poll at the latest
    int fd = ::dup(w->session->idle_socket());  // the copy is closed with the wait; the session keeps its own
    if (fd < 0) return;
    w->idle_wait.emplace(ctx_, fd);
    watch_idle(w);
}

void Daemon::watch_idle(const std::shared_ptr<Worker>& w) {
    w->idle_wait->async_wait(asio::posix::stream_descriptor::wait_read, [this, w](const boost::system::error_code& ec) {
        if (ec || stopping_ || w->removed || w->busy || !w->idle_wait) return;
        auto news = w->session->idle_check();  // reads without waiting: fine on the loop
        if (news && !*news) return watch_idle(w);
        w->timer.cancel();
        start_poll(w);
    });
}

// One line when a mailbox starts or stops using IDLE, with the reason.
void Daemon::log_idle(Worker& w, const PollOutcome& outcome) {
    if (!outcome.idle && !outcome.idle_error) return;
    std::string reason = outcome.idle_error ? *outcome.idle_error
                         : outcome.idle == imap::IdleStart::unsupported ? "the server does not offer IDLE" : "";
    std::string state = reason.empty() ? "on" : "off";
    if (state + reason == w.logged_idle) return;
    w.logged_idle = state + reason;
    if (reason.empty())
        common::log_line(common::log_fields({{"mailbox", w.mailbox->address}, {"event", "idle"}, {"state", state}}));
    else
        common::log_line(common::log_fields({{"mailbox", w.mailbox->address}, {"event", "idle"}, {"state", state},
                                             {"reason", reason}}));
}

// --once: after the mailboxes, one delivery run of the outbox (acknowledgements included).
void Daemon::once_polled() {
    if (config_->upstream.url.empty() || stopping_) shutdown("--once: every mailbox polled");
    else start_outbox();
}

}  // namespace casemail::casemaild
