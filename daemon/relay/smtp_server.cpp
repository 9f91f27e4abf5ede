#include "daemon/relay/smtp_server.hpp"

#include <crypt.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <optional>
#include <utility>
#include <set>

#include "daemon/common/log.hpp"
#include "mime/printable.hpp"
#include "mime/strings.hpp"

namespace casemail::relay {
namespace asio = boost::asio;
using asio::ip::tcp;

bool check_password(const std::string& password, const std::string& hash) {
    if (hash.empty() || hash[0] != '$') return false;  // only real crypt(3) hashes
    crypt_data data{};
    const char* out = crypt_r(password.c_str(), hash.c_str(), &data);
    if (!out || out[0] == '*') return false;
    // Constant-time comparison of the two hashes.
    std::size_t n = std::strlen(out);
    if (n != hash.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(out[i] ^ hash[i]);
    return diff == 0;
}

Result<std::map<std::string, std::string>> load_users_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail(fmt::format("users file '{}' cannot be read: {}", path, std::strerror(errno)));
    std::map<std::string, std::string> users;
    std::string l;
    int n = 0;
    while (std::getline(in, l)) {
        ++n;
        auto t = mime::trim(l);
        if (t.empty() || t[0] == '#') continue;
        auto colon = t.find(':');
        if (colon == std::string_view::npos || colon == 0 || t.substr(colon + 1).empty() || t[colon + 1] != '$')
            return fail(fmt::format("{}:{}: expected 'user:$crypt-hash' (make one with: openssl passwd -6)", path, n));
        users[std::string(t.substr(0, colon))] = std::string(t.substr(colon + 1));
    }
    return users;
}

namespace {

using Clock = std::chrono::steady_clock;

// One client connection: its socket (through TLS once STARTTLS succeeded) and the deadline of
// whatever the session awaits on it. When the deadline passes, the socket's pending operations
// are cancelled and expired() says why they failed.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(tcp::socket socket, std::string client)
        : socket_(std::move(socket)), deadline_(socket_.get_executor()), client_(std::move(client)) {}

    const std::string& client() const { return client_; }
    bool expired() const { return expired_; }
    bool secure() const { return tls_.has_value(); }

    // A deadline `limit` from now for what the session awaits next.
    void arm(Clock::duration limit) {
        started_ = Clock::now();
        expired_ = false;
        set(started_ + limit);
    }
    // Stress: a running deadline ends at most `limit` after it started.
    void tighten(Clock::duration limit) {
        if (armed_ && deadline_.expiry() > started_ + limit) set(started_ + limit);
    }
    // Called for every line of a message: nothing to do unless a deadline runs (one per read).
    void disarm() {
        if (!armed_) return;
        armed_ = false;
        ++generation_;
        deadline_.cancel();
    }

    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer, boost::system::error_code& ec) {
        auto token = asio::redirect_error(asio::use_awaitable, ec);
        if (tls_) co_return co_await tls_->async_read_some(buffer, token);
        co_return co_await socket_.async_read_some(buffer, token);
    }
    asio::awaitable<bool> write(std::string_view text) {
        boost::system::error_code ec;
        auto token = asio::redirect_error(asio::use_awaitable, ec);
        if (tls_) co_await asio::async_write(*tls_, asio::buffer(text), token);
        else co_await asio::async_write(socket_, asio::buffer(text), token);
        co_return !ec && !expired_;
    }
    asio::awaitable<boost::system::error_code> handshake(asio::ssl::context& context) {
        tls_.emplace(socket_, context);
        boost::system::error_code ec;
        co_await tls_->async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
        co_return ec;
    }
    void close() {
        disarm();
        boost::system::error_code ec;
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
    }

private:
    void set(Clock::time_point at) {
        armed_ = true;
        deadline_.expires_at(at);
        // The generation tells a stale expiry (already queued when re-armed) from the current one.
        deadline_.async_wait([weak = weak_from_this(), generation = ++generation_](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (ec || !self || !self->armed_ || generation != self->generation_) return;
            self->expired_ = true;
            boost::system::error_code ignored;
            self->socket_.cancel(ignored);
        });
    }

    tcp::socket socket_;
    std::optional<asio::ssl::stream<tcp::socket&>> tls_;
    asio::steady_timer deadline_;
    std::string client_;
    Clock::time_point started_;
    bool armed_ = false, expired_ = false;
    std::uint64_t generation_ = 0;
};

std::string first_line(const std::string& reply) { return reply.substr(0, reply.find("\r\n")); }

}  // namespace

struct SmtpRelay::Impl : std::enable_shared_from_this<SmtpRelay::Impl> {
    Impl(asio::io_context& c, RelaySettings s, MessageHandler h, common::LogLine l)
        : ctx(c), settings(std::move(s)), handler(std::move(h)), log(std::move(l)), acceptor(c),
          tls(asio::ssl::context::tls_server), slots(settings.max_connections, settings.max_connections_per_client),
          backoff(settings.auth_backoff), slot_freed(c) {}

    asio::io_context& ctx;
    RelaySettings settings;
    MessageHandler handler;
    common::LogLine log;
    tcp::acceptor acceptor;
    asio::ssl::context tls;
    bool tls_ready = false;
    std::set<std::shared_ptr<Connection>> sessions;
    protocol::ConnectionSlots slots;
    protocol::LoginBackoff backoff;
    asio::steady_timer slot_freed;  // cancelled when a slot frees: wakes a waiting acceptor
    bool stopped = false;

    // What each await on a client may take right now.
    Clock::duration timeout() const {
        return slots.stressed() ? std::min(settings.idle_timeout, settings.stress_timeout) : settings.idle_timeout;
    }

    asio::awaitable<void> wait_for_a_free_slot() {
        while (slots.full() && !stopped) {
            slot_freed.expires_at(Clock::time_point::max());
            boost::system::error_code ec;
            co_await slot_freed.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
    }

    asio::awaitable<void> accept_loop() {
        auto self = shared_from_this();
        while (!stopped) {
            co_await wait_for_a_free_slot();
            if (stopped) co_return;
            tcp::socket socket(ctx);
            boost::system::error_code ec;
            co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                if (stopped) co_return;
                log(common::log_fields({{"relay", "accept"}, {"event", "error"}, {"reason", ec.message()}}));
                continue;
            }
            admit(std::move(socket));
        }
    }

    void admit(tcp::socket socket) {
        boost::system::error_code ec;
        auto remote = socket.remote_endpoint(ec);
        std::string client = ec ? std::string("?") : remote.address().to_string();
        bool was_stressed = slots.stressed();
        if (slots.admit(client) != protocol::ConnectionSlots::Admit::ok) {
            // One try, without waiting: a client that does not read gets nothing more.
            std::string busy = "421 4.7.0 too many connections from your address, try again later\r\n";
            socket.non_blocking(true, ec);
            socket.write_some(asio::buffer(busy), ec);
            socket.close(ec);
            log(common::log_fields({{"relay", "refused"}, {"client", client},
                                    {"reason", "too many connections from this address"}}));
            return;
        }
        if (!was_stressed && slots.stressed()) enter_stress();
        auto conn = std::make_shared<Connection>(std::move(socket), client);
        sessions.insert(conn);
        asio::co_spawn(ctx, session(conn), [self = shared_from_this(), conn](std::exception_ptr e) {
            self->sessions.erase(conn);
            self->slots.release(conn->client());
            self->slot_freed.cancel();
            if (e)
                self->log(common::log_fields(
                    {{"relay", "session"}, {"event", "error"}, {"reason", common::describe(e)}}));
        });
    }

    void enter_stress() {
        log(common::log_fields({{"relay", "stress"}, {"sessions", std::to_string(slots.total())},
                                {"timeout", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout()).count()) + "s"}}));
        for (const auto& c : sessions) c->tighten(timeout());
    }

    protocol::smtp::LoginCheck check_login(const std::string& client, const std::string& user, const std::string& password) {
        auto now = Clock::now();
        if (backoff.deferred_for(client, now)) return protocol::smtp::LoginCheck::deferred;
        auto it = settings.users.find(user);
        if (it != settings.users.end() && check_password(password, it->second)) {
            backoff.succeeded(client);
            return protocol::smtp::LoginCheck::accepted;
        }
        if (auto wait = backoff.failed(client, now))
            log(common::log_fields({{"relay", "auth"}, {"event", "backoff"}, {"client", client},
                                    {"failures", std::to_string(settings.auth_backoff.failures)},
                                    {"wait", std::to_string(wait->count()) + "s"}}));
        return protocol::smtp::LoginCheck::rejected;
    }

    protocol::smtp::Session new_session(const std::string& client) {
        protocol::smtp::SessionPolicy policy;
        policy.hostname = settings.hostname;
        policy.client_trusted = protocol::in_networks(client, settings.allowed_networks);
        policy.auth_offered = !settings.users.empty();
        policy.tls_offered = tls_ready;
        policy.allow_plaintext_auth = settings.allow_plaintext_auth;
        return protocol::smtp::Session(settings.limits, policy, [this, client](const std::string& u, const std::string& p) {
            return check_login(client, u, p);
        });
    }

    // The handler's answer for one message, awaited without blocking the loop.
    asio::awaitable<std::pair<int, std::string>> handle_message(const protocol::smtp::Envelope& envelope, std::string data,
                                                               const std::string& client) {
        return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::pair<int, std::string>)>(
            [this, &envelope, &client](auto completion, std::string message) {
                auto done = std::make_shared<decltype(completion)>(std::move(completion));
                // Outstanding work: the loop does not stop while a message waits for its commit.
                auto executor = asio::prefer(asio::get_associated_executor(*done), asio::execution::outstanding_work.tracked);
                handler(envelope, std::move(message), client, [done, executor](int code, std::string text) {
                    asio::post(executor, [done, reply = std::make_pair(code, std::move(text))]() mutable {
                        (*done)(std::move(reply));
                    });
                });
            },
            asio::use_awaitable, std::move(data));
    }

    // Writes under a deadline; false when the client went away or stopped reading.
    asio::awaitable<bool> send(Connection& conn, const std::string& text) {
        conn.arm(timeout());
        bool ok = co_await conn.write(text);
        bool expired = conn.expired();
        conn.disarm();
        if (expired) log(common::log_fields({{"relay", "timeout"}, {"client", conn.client()}, {"during", "write"}}));
        co_return ok;
    }

    asio::awaitable<void> say_timeout(Connection& conn, bool in_data) {
        log(common::log_fields({{"relay", "timeout"}, {"client", conn.client()}, {"during", in_data ? "data" : "command"},
                                {"stressed", slots.stressed() ? "yes" : "no"}}));
        conn.arm(std::chrono::seconds(1));
        co_await conn.write("421 4.4.2 timeout, closing connection\r\n");
        conn.disarm();
    }

    // The reply to one complete line; a finished message is handed over and answered.
    asio::awaitable<protocol::smtp::Reply> answer(protocol::smtp::Session& s, const protocol::smtp::Line& line,
                                                  const std::string& client) {
        bool was_in_data = s.in_data();
        auto r = s.on_line(line.text, line.too_long, line.bare_line_end);
        if (was_in_data && !s.in_data() && !r.message)  // refused at its end: size, line length, bare line end
            log(common::log_fields({{"relay", "message"}, {"client", client}, {"action", "rejected"},
                                    {"reason", first_line(r.text)}}));
        if (r.message) {
            auto [code, text] = co_await handle_message(s.envelope(), std::move(s.data()), client);
            s.message_handled();
            r.text = fmt::format("{} {}\r\n", code, text);
        }
        co_return r;
    }

    asio::awaitable<bool> start_tls(Connection& conn, const protocol::smtp::LineReader& reader, protocol::smtp::Session& s) {
        if (reader.has_buffered()) co_return false;  // RFC 3207 5: no pipelining across STARTTLS (injection)
        conn.arm(timeout());
        auto ec = co_await conn.handshake(tls);
        bool expired = conn.expired();
        conn.disarm();
        if (ec || expired) {
            log(common::log_fields({{"relay", "tls"}, {"client", conn.client()}, {"event", "handshake-failed"},
                                    {"reason", expired ? std::string("timeout") : ec.message()}}));
            co_return false;
        }
        s.tls_established();
        co_return true;
    }

    asio::awaitable<void> session(std::shared_ptr<Connection> conn) {
        auto s = new_session(conn->client());
        if (!co_await send(*conn, s.greeting())) co_return conn->close();
        protocol::smtp::LineReader reader(settings.limits.max_line_bytes);
        std::array<char, 16384> chunk{};
        std::string pending;  // the replies to a pipelined group, sent when its input is read
        bool line_deadline = false;  // one deadline per line, from the end of the one before
        while (!stopped) {
            auto next = reader.next(s.in_data());
            if (!next) {
                if (!pending.empty() && !co_await send(*conn, std::exchange(pending, {}))) break;
                if (!std::exchange(line_deadline, true)) conn->arm(timeout());
                boost::system::error_code ec;
                auto n = co_await conn->read_some(asio::buffer(chunk), ec);
                if (conn->expired()) {
                    co_await say_timeout(*conn, s.in_data());
                    break;
                }
                if (ec) break;  // client went away
                reader.feed(std::string_view(chunk.data(), n));
                continue;
            }
            conn->disarm();
            line_deadline = false;
            auto r = co_await answer(s, *next, conn->client());
            pending += r.text;
            if ((r.close || r.start_tls) && !co_await send(*conn, std::exchange(pending, {}))) break;
            if (r.close || (r.start_tls && !co_await start_tls(*conn, reader, s))) break;
        }
        conn->close();
    }
};

SmtpRelay::SmtpRelay(asio::io_context& ctx, RelaySettings settings, MessageHandler handler, common::LogLine log)
    : impl_(std::make_shared<Impl>(ctx, std::move(settings), std::move(handler), std::move(log))) {}

SmtpRelay::~SmtpRelay() { stop(); }

void SmtpRelay::start() {
    auto& s = impl_->settings;
    if (!s.tls_cert.empty()) {
        boost::system::error_code ec;
        impl_->tls.use_certificate_chain_file(s.tls_cert, ec);
        if (!ec) impl_->tls.use_private_key_file(s.tls_key, asio::ssl::context::pem, ec);
        if (ec) throw std::runtime_error(fmt::format("relay TLS certificate {} / key {}: {}", s.tls_cert, s.tls_key, ec.message()));
        impl_->tls.set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                               asio::ssl::context::no_tlsv1_1);
        impl_->tls_ready = true;
    }
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(s.listen_address, ec);
    if (ec) throw std::runtime_error(fmt::format("relay listen address '{}' is not an IP address", s.listen_address));
    tcp::endpoint ep(addr, s.port);
    auto& a = impl_->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error(fmt::format("relay cannot listen on {}:{}: {}", s.listen_address, s.port, ec.message()));
    asio::co_spawn(impl_->ctx, impl_->accept_loop(), asio::detached);
}

void SmtpRelay::stop() {
    if (!impl_ || impl_->stopped) return;
    impl_->stopped = true;
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
    impl_->slot_freed.cancel();
    for (const auto& s : impl_->sessions) s->close();
}

unsigned short SmtpRelay::port() const {
    boost::system::error_code ec;
    auto ep = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

}  // namespace casemail::relay
