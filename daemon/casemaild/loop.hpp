// casemaild's event loop (internal to daemon/casemaild/): one Boost.Asio io_context owns the
// signals, the timers (poll interval and backoff per mailbox, the systemd watchdog, the outbox
// scan) and the relay's sessions. Polls and outbox runs go to a thread pool; each job has its
// own store connection, so a slow server or a commit never blocks the loop. The member
// functions are split by job: loop.cpp (start, signals, reload, stop), mailboxes.cpp (IMAP
// polling), relay_outbox.cpp (the relay's messages, outbox runs), sla.cpp (the SLA watch),
// alarms.cpp (the alarm watch), workorders.cpp (the work-order systems' updates).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "daemon/casemaild/daemon.hpp"
#include "daemon/casemaild/setup.hpp"
#include "daemon/imap/client.hpp"
#include "daemon/imap/poller.hpp"
#include "daemon/outbox/delivery.hpp"
#include "daemon/protocol/smtp.hpp"
#include "daemon/relay/accept.hpp"
#include "daemon/relay/smtp_server.hpp"
#include "daemon/common/oauth2.hpp"
#include "daemon/health/alarms.hpp"
#include "daemon/metrics/http.hpp"
#include "daemon/sla/watch.hpp"
#include "store/writer.hpp"

namespace casemail::casemaild {

namespace asio = boost::asio;

// One polled mailbox.
struct Worker {
    explicit Worker(asio::io_context& ctx) : timer(ctx) {}
    std::shared_ptr<const MailboxConfig> mailbox;
    asio::steady_timer timer;  // the next poll; while idling, the latest it may come
    // While the session idles: a copy of its fetch connection's socket, readable when the
    // server says something (the loop then reads it with idle_check).
    std::optional<asio::posix::stream_descriptor> idle_wait;
    // Touched only by the poll job in flight (busy) — or by the loop when none is.
    std::unique_ptr<imap::ImapSession> session;
    std::optional<std::chrono::system_clock::time_point> token_renew_at;  // the session's OAuth2 token
    // Loop-only state.
    bool busy = false;
    bool removed = false;
    bool reconnect = false;
    int failures = 0;
    std::string logged_state;  // what was last logged about this mailbox's health
    std::string logged_idle;   // what was last logged about its IDLE
};

// What a poll job hands back to the loop.
struct PollOutcome {
    imap::PollReport report;
    std::optional<imap::IdleStart> idle;  // set when it tried to IDLE after the poll
    std::optional<std::string> idle_error;
};

class Daemon {
public:
    Daemon(DaemonOptions options, std::shared_ptr<const Config> config)
        : options_(std::move(options)), config_(std::move(config)), signals_(ctx_, SIGTERM, SIGINT, SIGHUP),
          watchdog_(ctx_), outbox_timer_(ctx_), sla_timer_(ctx_), alarm_timer_(ctx_), workorder_timer_(ctx_), pool_(config_->mailboxes.size() + 2), parse_pool_(2),
          writer_(std::make_unique<store::Writer>([cfg = config_] { return open_store(*cfg); }, writer_options(*config_))),
          rng_(std::random_device{}()) {}

    int run();

private:
    void wait_for_signal();
    void shutdown(const std::string& why);
    void ping_watchdog(std::chrono::microseconds interval);
    void reload();
    void apply_reload(std::shared_ptr<const Config> next, const std::optional<std::string>& error);
    void add_worker(std::shared_ptr<const MailboxConfig> m);
    void schedule(const std::shared_ptr<Worker>& w, std::chrono::milliseconds delay);
    void start_poll(const std::shared_ptr<Worker>& w);
    // Runs on a pool thread; touches only this worker's store and session.
    PollOutcome poll_once(Worker& w, const Config& cfg, const MailboxConfig& m, bool reconnect);
    // The OAuth2 access token of a login whose secret is an OAuth2 client (from the cache, or
    // fetched and its expiry recorded for `casemail status` when `mailbox` is set).
    Result<common::AccessToken> access_token(common::ServerLogin& login, const MailboxConfig* mailbox);
    void polled(const std::shared_ptr<Worker>& w, const PollOutcome& outcome);
    // IDLE (the session idles): the next poll comes when the server announces mail, at the latest
    // after `deadline`.
    void wait_in_idle(const std::shared_ptr<Worker>& w, std::chrono::milliseconds deadline);
    void watch_idle(const std::shared_ptr<Worker>& w);
    void log_idle(Worker& w, const PollOutcome& outcome);
    // --once: after the mailboxes, one delivery run of the outbox (acknowledgements included).
    void once_polled();
    bool start_relay();
    bool start_metrics();
    // On the loop: store the message durably (its group committed and synced) before the reply.
    void relay_message(const protocol::smtp::Envelope& env, std::string data, const std::string& client,
                       relay::ReplyTo reply);
    void relayed(const protocol::smtp::Envelope& env, const std::string& client, std::size_t bytes,
                 const relay::RelayVerdict& verdict, std::exception_ptr error, const relay::ReplyTo& reply,
                 std::chrono::steady_clock::time_point received);
    void kick_outbox();
    void start_outbox();
    void outbox_done(const outbox::DeliveryReport& report, const std::optional<std::string>& error);
    // Every [daemon] sla_check_interval: the clocks of every active case, in pages on the writer.
    void schedule_sla_watch(std::chrono::seconds delay);
    void sla_watched(const std::vector<sla::RaisedAlert>& raised, const std::optional<std::string>& error);
    // Every [alerts] check_interval: alarms raised and cleared (logged once, mailed to [alerts] to).
    void schedule_alarm_watch(std::chrono::seconds delay);
    void alarms_watched(const std::vector<health::AlarmChange>& changes, const std::optional<std::string>& error);
    // Every [daemon] workorder_sync_interval: the [[workorder]] inbox directories.
    void schedule_workorder_sync(std::chrono::seconds delay);
    void sync_workorder(const config::WorkorderConfig& w, const Config& cfg);

    DaemonOptions options_;
    std::shared_ptr<const Config> config_;
    asio::io_context ctx_;
    asio::signal_set signals_;
    asio::steady_timer watchdog_;
    asio::steady_timer outbox_timer_;
    asio::steady_timer sla_timer_;
    asio::steady_timer alarm_timer_;
    asio::steady_timer workorder_timer_;
    asio::thread_pool pool_;        // IMAP polls and outbox runs (they block on their servers)
    asio::thread_pool parse_pool_;  // parsing the relay's messages, never behind a slow server
    std::unique_ptr<store::Writer> writer_;  // the one write connection; commits in groups
    std::unique_ptr<relay::SmtpRelay> relay_;
    std::unique_ptr<metrics::MetricsServer> metrics_;
    common::TokenCache tokens_;  // OAuth2 access tokens of the mailboxes and the upstream
    bool outbox_busy_ = false, outbox_again_ = false;
    std::string outbox_failing_;  // the last outbox failure logged, "" while it works
    std::map<std::string, std::shared_ptr<Worker>> workers_;
    std::atomic<bool> stop_{false};
    bool stopping_ = false;
    std::size_t polled_ = 0;
    const std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
    int failed_ = 0;
    std::mt19937 rng_;
};

}  // namespace casemail::casemaild
