#include "daemon/metrics/http.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <system_error>
#include <utility>

namespace casemail::metrics {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace

Answer answer_for(std::string_view head) {
    auto eol = head.find("\r\n");
    auto line = head.substr(0, eol);
    auto sp1 = line.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return {400, "Bad Request"};
    auto method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1), version = line.substr(sp2 + 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0") return {400, "Bad Request"};
    auto path = target.substr(0, target.find('?'));
    if (path != "/metrics") return {404, "Not Found"};
    if (method != "GET" && method != "HEAD") return {405, "Method Not Allowed"};
    return {200, "OK"};
}

struct MetricsServer::Impl : std::enable_shared_from_this<MetricsServer::Impl> {
    Impl(asio::io_context& c, ServerSettings s, std::function<std::string()> b, common::LogLine l)
        : ctx(c), settings(std::move(s)), body(std::move(b)), log(std::move(l)), acceptor(c) {}

    asio::io_context& ctx;
    ServerSettings settings;
    std::function<std::string()> body;
    common::LogLine log;
    tcp::acceptor acceptor;
    std::size_t open = 0;

    struct Connection {
        explicit Connection(asio::io_context& c, std::size_t max) : socket(c), deadline(c), buffer(max) {}
        tcp::socket socket;
        asio::steady_timer deadline;
        asio::streambuf buffer;
        std::string reply;     // set once: by the read or by the deadline, whichever ends first
        bool finished = false;
    };

    void accept() {
        auto conn = std::make_shared<Connection>(ctx, settings.max_head_bytes);
        acceptor.async_accept(conn->socket, [self = shared_from_this(), conn](const boost::system::error_code& ec) {
            if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
            if (!ec) self->serve(conn);
            self->accept();
        });
    }

    void serve(const std::shared_ptr<Connection>& conn) {
        if (open >= settings.max_connections) {
            boost::system::error_code ignored;
            conn->socket.close(ignored);
            return;
        }
        ++open;
        conn->deadline.expires_after(settings.read_deadline);
        conn->deadline.async_wait([self = shared_from_this(), conn](const boost::system::error_code& ec) {
            if (ec) return;  // cancelled: answered in time
            self->respond(conn, {408, "Request Timeout"});
        });
        asio::async_read_until(conn->socket, conn->buffer, "\r\n\r\n",
                               [self = shared_from_this(), conn](const boost::system::error_code& ec, std::size_t n) {
                                   if (!conn->reply.empty()) return;  // the deadline answered 408
                                   conn->deadline.cancel();
                                   if (ec == asio::error::not_found) return self->respond(conn, {431, "Request Header Fields Too Large"});
                                   if (ec) return self->finish(conn);
                                   std::string head(asio::buffers_begin(conn->buffer.data()),
                                                    asio::buffers_begin(conn->buffer.data()) + static_cast<std::ptrdiff_t>(n));
                                   self->respond(conn, answer_for(head), head.starts_with("HEAD "));
                               });
    }

    void respond(const std::shared_ptr<Connection>& conn, const Answer& a, bool head_only = false) {
        if (!conn->reply.empty() || !conn->socket.is_open()) return;  // the deadline and the read both ended
        std::string text = a.status == 200 ? body() : fmt::format("{} {}\n", a.status, a.reason);
        conn->reply = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                  a.status, a.reason, a.status == 200 ? content_type : "text/plain; charset=utf-8",
                                  text.size());
        if (!head_only) conn->reply += text;
        if (a.status != 200)
            log(common::log_fields({{"metrics", "request"}, {"status", std::to_string(a.status)}, {"reason", a.reason}}));
        conn->deadline.expires_after(settings.read_deadline);  // a client that does not read
        conn->deadline.async_wait([conn](const boost::system::error_code& ec) {
            boost::system::error_code ignored;
            if (!ec) conn->socket.close(ignored);
        });
        asio::async_write(conn->socket, asio::buffer(conn->reply),
                          [self = shared_from_this(), conn](const boost::system::error_code&, std::size_t) {
                              conn->deadline.cancel();
                              self->finish(conn);
                          });
    }

    void finish(const std::shared_ptr<Connection>& conn) {
        if (std::exchange(conn->finished, true)) return;
        boost::system::error_code ignored;
        if (conn->socket.is_open()) {
            conn->socket.shutdown(tcp::socket::shutdown_both, ignored);
            conn->socket.close(ignored);
        }
        --open;
    }
};

MetricsServer::MetricsServer(asio::io_context& ctx, ServerSettings settings, std::function<std::string()> body,
                             common::LogLine log)
    : impl_(std::make_shared<Impl>(ctx, std::move(settings), std::move(body), std::move(log))) {}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::start() {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(impl_->settings.address, ec);
    if (ec) throw std::system_error(ec, "metrics listen address " + impl_->settings.address);
    tcp::endpoint ep(addr, impl_->settings.port);
    auto& a = impl_->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::system_error(ec, fmt::format("metrics cannot listen on {}:{}", impl_->settings.address, impl_->settings.port));
    impl_->accept();
}

void MetricsServer::stop() {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
}

unsigned short MetricsServer::port() const {
    boost::system::error_code ec;
    auto ep = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

}  // namespace casemail::metrics
