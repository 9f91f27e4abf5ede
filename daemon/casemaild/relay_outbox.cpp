// casemaild: the relay's messages, committed before the 250, and the outbox runs (see loop.hpp).
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

bool Daemon::start_relay() {
    relay::RelaySettings rs;
    const auto& rc = config_->relay;
    rs.listen_address = rc.listen_address;
    rs.port = static_cast<unsigned short>(rc.port);
    auto refuse = [](const std::string& why) {
        common::log_line(common::log_fields({{"event", "relay-failed"}, {"reason", why}}));
        return false;
    };
    for (const auto& n : rc.allowed_networks) {
        auto network = protocol::parse_network(n);  // checked when the config was loaded
        if (!network) return refuse("relay.allowed_networks: " + network.error());
        rs.allowed_networks.push_back(*network);
    }
    if (!rc.users_file.empty()) {  // checked at start, but the file may have changed since
        auto users = relay::load_users_file(rc.users_file);
        if (!users) return refuse("relay.users_file: " + users.error());
        rs.users = std::move(*users);
    }
    rs.tls_cert = rc.tls_cert;
    rs.tls_key = rc.tls_key;
    rs.allow_plaintext_auth = rc.allow_plaintext_auth;
    rs.limits.max_message_bytes = rc.max_message_bytes;
    rs.limits.max_recipients = rc.max_recipients;
    rs.limits.max_line_bytes = rc.max_line_length;
    rs.max_connections = rc.max_connections;
    rs.idle_timeout = rc.idle_timeout;
    rs.max_connections_per_client = rc.max_connections_per_client;
    rs.stress_timeout = rc.stress_timeout;
    rs.auth_backoff.failures = rc.auth_backoff_after;
    rs.auth_backoff.first = rc.auth_backoff;
    rs.hostname = rc.hostname;
    relay_ = std::make_unique<relay::SmtpRelay>(
        ctx_, rs,
        [this](const protocol::smtp::Envelope& env, std::string data, const std::string& client, relay::ReplyTo reply) {
            relay_message(env, std::move(data), client, std::move(reply));
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

// Parsed on the parse pool, committed by the store's writer (in a group, synchronous=FULL),
// answered after the commit: the loop never waits on either.
void Daemon::relay_message(const protocol::smtp::Envelope& env, std::string data, const std::string& client,
                           relay::ReplyTo reply) {
    auto settings = accept_settings(*config_);
    auto received = std::chrono::steady_clock::now();
    asio::post(parse_pool_, [this, env, data = std::move(data), client, reply = std::move(reply), settings,
                             received]() mutable {
        auto bytes = data.size();
        auto prepared = std::make_shared<relay::PreparedReply>(relay::prepare_reply(std::move(data), settings.limits));
        auto verdict = std::make_shared<relay::RelayVerdict>();
        writer_->submit(
            [prepared, verdict, env, settings](store::Store& s) {
                *verdict = relay::accept_reply(s, *prepared, env.mail_from, env.rcpt_to, settings);
            },
            [this, prepared, verdict, env, client, bytes, reply = std::move(reply), received](std::exception_ptr error) {
                relayed(env, client, bytes, *verdict, error, reply, received);
            },
            store::Lane::urgent);  // an agent's client waits for the 250
    });
}

// Once the reply's group is on disk (on the store writer's sync thread): log, answer, wake the
// outbox.
void Daemon::relayed(const protocol::smtp::Envelope& env, const std::string& client, std::size_t bytes,
                     const relay::RelayVerdict& v, std::exception_ptr error, const relay::ReplyTo& reply,
                     std::chrono::steady_clock::time_point received) {
    auto& m = common::metrics();
    m.observe("casemail_relay_seconds", {},
              std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
    if (error) {  // nothing was stored: the client must try again
        m.add("casemail_relay_messages_total", {{"action", "tempfail"}, {"code", "451"}});
        common::log_line(common::log_fields(
            {{"relay", "message"}, {"client", client}, {"action", "tempfail"}, {"reason", common::describe(error)}}));
        reply(451, "4.3.0 temporary local problem, try again later");
        return;
    }
    common::log_line(common::log_fields({{"relay", "message"},
                                         {"client", client},
                                         {"user", env.user.empty() ? "-" : env.user},
                                         {"from", env.mail_from.empty() ? "<>" : env.mail_from},
                                         {"rcpts", std::to_string(env.rcpt_to.size())},
                                         {"bytes", std::to_string(bytes)},
                                         {"action", std::string(matching::name(v.action))},
                                         {"case", v.case_token.empty() ? "-" : v.case_token},
                                         {"outbox", v.outbox_id ? std::to_string(*v.outbox_id) : "-"},
                                         {"dropped", v.dropped.empty() ? "-" : mime::join(v.dropped, ",")},
                                         {"reason", fmt::format("{} {}", v.code, v.text)}}));
    m.add("casemail_relay_messages_total", {{"action", std::string(matching::name(v.action))}, {"code", std::to_string(v.code)}});
    reply(v.code, v.text);
    if (v.outbox_id) asio::post(ctx_, [this] { kick_outbox(); });
}

void Daemon::kick_outbox() {
    if (config_->upstream.url.empty() || stopping_) return;
    if (outbox_busy_) {
        outbox_again_ = true;
        return;
    }
    outbox_timer_.cancel();
    start_outbox();
}

void Daemon::start_outbox() {
    if (config_->upstream.url.empty() || outbox_busy_ || (stopping_ && !options_.once)) return;
    outbox_busy_ = true;
    auto job_config = config_;
    auto settings = delivery_settings(*job_config);
    if (options_.once) settings.due_by = started_;
    asio::post(pool_, [this, job_config, settings, guard = asio::make_work_guard(ctx_)] {
        outbox::DeliveryReport report;
        std::optional<std::string> error;
        try {
            auto account = upstream_account(*job_config);
            if (account && account->login.oauth2.configured())
                if (auto token = access_token(account->login, nullptr); !token) account = fail("upstream: " + token.error());
            if (!account) {
                error = account.error();
            } else {
                outbox::SmtpUpstream upstream(std::move(*account));
                report = outbox::deliver_due(*writer_, upstream, render_settings(*job_config), settings,
                                             common::log_line, stop_);
            }
        } catch (const std::exception& e) {
            error = e.what();
        }
        asio::post(ctx_, [this, report, error] { outbox_done(report, error); });
    });
}

void Daemon::outbox_done(const outbox::DeliveryReport& report, const std::optional<std::string>& error) {
    outbox_busy_ = false;
    // Logged once per change, as a mailbox's state is: a down upstream retried every few
    // seconds must not fill the log.
    if (error && *error != outbox_failing_)
        common::log_line(common::log_fields({{"outbox", "run"}, {"event", "failing"}, {"reason", *error}}));
    if (!error && !outbox_failing_.empty())
        common::log_line(common::log_fields({{"outbox", "run"}, {"event", "recovered"}}));
    outbox_failing_ = error.value_or("");
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

}  // namespace casemail::casemaild
