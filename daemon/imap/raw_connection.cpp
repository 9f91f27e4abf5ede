#include "daemon/imap/raw_connection.hpp"

#include <poll.h>

#include <fmt/format.h>

#include <cerrno>

namespace casemail::imap {
namespace {

constexpr int tick_ms = 100;  // how often a wait looks at the stop flag

}  // namespace

RawConnection::RawConnection(const common::ServerLogin& login, std::chrono::seconds stall_timeout,
                             const std::atomic<bool>* stop)
    : login_(login), stall_timeout_(stall_timeout), stop_(stop) {}

Result<bool> RawConnection::open() {
    curl_ = common::make_curl_easy();
    CURL* h = curl_.get();
    char error[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h, CURLOPT_URL, login_.url.c_str());
    common::apply_login(h, login_);
    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);  // connect, TLS, login; then the connection is ours
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    if (rc != CURLE_OK) return fail("fetch connection: " + common::curl_failure(rc, error));
    if (curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &socket_) != CURLE_OK || socket_ == CURL_SOCKET_BAD)
        return fail("fetch connection: no socket");
    return true;
}

std::string RawConnection::next_tag() { return fmt::format("C{}", ++tag_); }

// Until the socket is ready, the stall timeout passes, or shutdown is asked for.
Result<bool> RawConnection::wait(bool for_reading) {
    auto deadline = std::chrono::steady_clock::now() + stall_timeout_;
    for (;;) {
        if (stop_ && stop_->load()) return fail("interrupted by shutdown");
        pollfd p{socket_, static_cast<short>(for_reading ? POLLIN : POLLOUT), 0};
        int n = ::poll(&p, 1, tick_ms);
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return fail(fmt::format("poll: errno {}", errno));
        if (std::chrono::steady_clock::now() >= deadline)
            return fail(fmt::format("no answer for {} s", stall_timeout_.count()));
    }
}

Result<bool> RawConnection::send_all(std::string_view bytes) {
    while (!bytes.empty()) {
        std::size_t sent = 0;
        CURLcode rc = curl_easy_send(curl_.get(), bytes.data(), bytes.size(), &sent);
        if (rc == CURLE_AGAIN) {
            if (auto ok = wait(false); !ok) return ok;
            continue;
        }
        if (rc != CURLE_OK) return fail(fmt::format("send: {}", curl_easy_strerror(rc)));
        bytes.remove_prefix(sent);
    }
    return true;
}

Result<bool> RawConnection::send_line(std::string_view line) { return send_all(std::string(line) + "\r\n"); }

Result<std::string_view> RawConnection::receive(bool block) {
    for (;;) {
        std::size_t n = 0;
        CURLcode rc = curl_easy_recv(curl_.get(), chunk_.data(), chunk_.size(), &n);
        if (rc == CURLE_AGAIN) {  // (with TLS, a readable socket may still hold no whole record)
            if (!block) return std::string_view();
            if (auto ok = wait(true); !ok) return fail(ok.error());
            continue;
        }
        if (rc != CURLE_OK) return fail(fmt::format("receive: {}", curl_easy_strerror(rc)));
        if (n == 0) return fail("the server closed the connection");
        return std::string_view(chunk_.data(), n);
    }
}

Result<bool> RawConnection::run(const std::string& tag, const std::string& command,
                                protocol::imap::FetchReader& reader) {
    if (auto ok = send_all(tag + " " + command + "\r\n"); !ok) return ok;
    while (!reader.done()) {
        auto bytes = receive(true);
        if (!bytes) return fail(bytes.error());
        if (!reader.feed(*bytes)) return fail("malformed answer: " + reader.error());
    }
    if (!reader.completed_ok()) return fail(reader.error());
    if (reader.exists_seen() && !selected_.empty()) mail_announced_ = true;
    return true;
}

Result<bool> RawConnection::select(std::string_view folder, std::uint32_t uidvalidity) {
    if (selected_ == folder) return true;
    auto quoted = protocol::imap::quoted(folder);
    if (!quoted) return fail(quoted.error());
    auto tag = next_tag();
    protocol::imap::FetchReader reader(tag);
    if (auto ok = run(tag, "SELECT " + *quoted, reader); !ok) return fail("SELECT: " + ok.error());
    if (reader.uidvalidity() != uidvalidity)
        return fail(fmt::format("SELECT: UIDVALIDITY is {}, not {}: the folder was renumbered",
                                reader.uidvalidity().value_or(0), uidvalidity));
    selected_ = std::string(folder);
    selected_uidnext_ = reader.uidnext();
    mail_announced_ = false;
    return true;
}

}  // namespace casemail::imap
