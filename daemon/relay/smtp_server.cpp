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

struct SmtpRelay::Impl : std::enable_shared_from_this<SmtpRelay::Impl> {
    Impl(asio::io_context& c, RelaySettings s, MessageHandler h, common::LogLine l)
        : ctx(c), settings(std::move(s)), handler(std::move(h)), log(std::move(l)), acceptor(c),
          tls(asio::ssl::context::tls_server) {}

    asio::io_context& ctx;
    RelaySettings settings;
    MessageHandler handler;
    common::LogLine log;
    tcp::acceptor acceptor;
    asio::ssl::context tls;
    bool tls_ready = false;
    std::set<std::shared_ptr<tcp::socket>> sessions;
    bool stopped = false;

    asio::awaitable<void> accept_loop() {
        auto self = shared_from_this();
        while (!stopped) {
            auto socket = std::make_shared<tcp::socket>(ctx);
            boost::system::error_code ec;
            co_await acceptor.async_accept(*socket, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                if (stopped) co_return;
                log(common::log_fields({{"relay", "accept"}, {"event", "error"}, {"reason", ec.message()}}));
                continue;
            }
            if (sessions.size() >= settings.max_connections) {
                std::string busy = "421 4.3.2 too many connections, try again later\r\n";
                co_await asio::async_write(*socket, asio::buffer(busy), asio::redirect_error(asio::use_awaitable, ec));
                socket->close(ec);
                log(common::log_fields({{"relay", "refused"}, {"reason", "too many connections"}}));
                continue;
            }
            sessions.insert(socket);
            asio::co_spawn(ctx, session(socket), [self, socket](std::exception_ptr e) {
                self->sessions.erase(socket);
                if (e)
                    self->log(common::log_fields(
                        {{"relay", "session"}, {"event", "error"}, {"reason", common::describe(e)}}));
            });
        }
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

    asio::awaitable<void> session(std::shared_ptr<tcp::socket> socket) {
        boost::system::error_code ec;
        socket->set_option(tcp::no_delay(true), ec);
        auto remote = socket->remote_endpoint(ec);
        std::string client = ec ? std::string("?") : remote.address().to_string();
        protocol::smtp::SessionPolicy policy;
        policy.hostname = settings.hostname;
        policy.client_trusted = protocol::in_networks(client, settings.allowed_networks);
        policy.auth_offered = !settings.users.empty();
        policy.tls_offered = tls_ready;
        policy.allow_plaintext_auth = settings.allow_plaintext_auth;
        protocol::smtp::Session s(settings.limits, policy, [this](const std::string& user, const std::string& password) {
            auto it = settings.users.find(user);
            return it != settings.users.end() && check_password(password, it->second);
        });
        std::optional<asio::ssl::stream<tcp::socket&>> secure;
        asio::steady_timer idle(ctx);
        bool timed_out = false;

        auto write = [&](const std::string& text) -> asio::awaitable<bool> {
            boost::system::error_code wec;
            if (secure) co_await asio::async_write(*secure, asio::buffer(text), asio::redirect_error(asio::use_awaitable, wec));
            else co_await asio::async_write(*socket, asio::buffer(text), asio::redirect_error(asio::use_awaitable, wec));
            co_return !wec;
        };
        if (!co_await write(s.greeting())) co_return;

        protocol::smtp::LineReader reader(settings.limits.max_line_bytes);
        std::array<char, 16384> chunk{};
        std::string pending;  // the replies to a pipelined group, sent when its input is read
        auto flush = [&]() -> asio::awaitable<bool> {
            if (pending.empty()) co_return true;
            bool ok = co_await write(pending);
            pending.clear();
            co_return ok;
        };
        while (!stopped) {
            auto next = reader.next(s.in_data());
            if (!next) {
                if (!co_await flush()) break;
                idle.expires_after(settings.idle_timeout);
                idle.async_wait([&](const boost::system::error_code& tec) {
                    if (!tec) {
                        timed_out = true;
                        boost::system::error_code cec;
                        socket->cancel(cec);
                    }
                });
                std::size_t n = 0;
                boost::system::error_code rec;
                if (secure) n = co_await secure->async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, rec));
                else n = co_await socket->async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, rec));
                idle.cancel();
                if (timed_out) {
                    co_await write("421 4.4.2 idle timeout, closing connection\r\n");
                    log(common::log_fields({{"relay", "timeout"}, {"client", client}}));
                    break;
                }
                if (rec) break;  // client went away
                reader.feed(std::string_view(chunk.data(), n));
                continue;
            }
            bool was_in_data = s.in_data();
            auto r = s.on_line(next->text, next->too_long, next->bare_line_end);
            if (was_in_data && !s.in_data() && !r.message)  // refused at its end: size, line length, bare line end
                log(common::log_fields({{"relay", "message"}, {"client", client}, {"action", "rejected"},
                                {"reason", r.text.substr(0, r.text.find("\r\n"))}}));
            if (r.message) {
                auto [code, text] = co_await handle_message(s.envelope(), std::move(s.data()), client);
                s.message_handled();
                r.text = fmt::format("{} {}\r\n", code, text);
            }
            pending += r.text;
            if ((r.close || r.start_tls) && !co_await flush()) break;
            if (r.close) break;
            if (r.start_tls) {
                if (reader.has_buffered()) break;  // RFC 3207 5: no pipelining across STARTTLS (injection)
                secure.emplace(*socket, tls);
                boost::system::error_code hec;
                co_await secure->async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, hec));
                if (hec) {
                    log(common::log_fields({{"relay", "tls"}, {"client", client}, {"event", "handshake-failed"}, {"reason", hec.message()}}));
                    break;
                }
                s.tls_established();
            }
        }
        boost::system::error_code cec;
        socket->shutdown(tcp::socket::shutdown_both, cec);
        socket->close(cec);
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
    for (const auto& s : impl_->sessions) s->cancel(ec);
}

unsigned short SmtpRelay::port() const {
    boost::system::error_code ec;
    auto ep = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

}  // namespace casemail::relay
