#include "daemon/imap/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>

#include "daemon/common/curl.hpp"
#include "daemon/imap/raw_connection.hpp"
#include "daemon/protocol/imap_idle.hpp"
#include "mime/printable.hpp"

namespace casemail::imap {
namespace {

struct Sink {
    std::string data;
};

size_t write_to_sink(char* ptr, size_t size, size_t nmemb, void* userdata) {
    auto* sink = static_cast<Sink*>(userdata);
    sink->data.append(ptr, size * nmemb);
    return size * nmemb;
}

int abort_on_stop(void* clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    const auto* stop = static_cast<const std::atomic<bool>*>(clientp);
    return stop && stop->load() ? 1 : 0;
}

}  // namespace

struct ImapSession::Impl {
    ImapAccount account;
    const std::atomic<bool>* stop = nullptr;
    common::CurlEasy curl;
    char error[CURL_ERROR_SIZE] = {};
    std::unique_ptr<RawConnection> raw;  // the fetch connection, opened on first use
    std::optional<protocol::imap::IdleReader> idle;  // while an IDLE runs on it

    Result<bool> open_raw(std::string_view folder, std::uint32_t uidvalidity) {
        if (idle) drop_raw();  // a command in the middle of an IDLE would be a protocol error
        if (!raw) {
            raw = std::make_unique<RawConnection>(account.login, account.stall_timeout, stop);
            if (auto ok = raw->open(); !ok) return ok;
        }
        return raw->select(folder, uidvalidity);
    }
    void drop_raw() {
        raw.reset();
        idle.reset();
    }

    Result<std::vector<protocol::imap::FetchItem>> fetch(std::string_view folder, std::uint32_t uidvalidity,
                                                         const std::string& command, std::size_t max_body);

    // One custom command on the kept connection. `path` is the URL path after the host (may
    // be empty).
    Result<bool> perform(const std::string& path, const std::string& custom, Sink& sink, const char* what) {
        CURL* h = curl.get();
        std::string url = account.login.url;
        while (!url.empty() && url.back() == '/') url.pop_back();
        url += "/" + path;
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, custom.empty() ? nullptr : custom.c_str());
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_to_sink);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
        error[0] = '\0';
        CURLcode rc = curl_easy_perform(h);
        if (rc == CURLE_ABORTED_BY_CALLBACK) return fail(fmt::format("{}: interrupted by shutdown", what));
        if (rc != CURLE_OK) return fail(fmt::format("{}: {}", what, common::curl_failure(rc, error)));
        return true;
    }
};

ImapSession::ImapSession(ImapAccount account, const std::atomic<bool>* stop) : impl_(std::make_unique<Impl>()) {
    impl_->account = std::move(account);
    impl_->stop = stop;
    impl_->curl = common::make_curl_easy();
    CURL* h = impl_->curl.get();
    const auto& a = impl_->account;
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, impl_->error);
    // libcurl silently clips a response line longer than half its buffer (16 KB by default)
    // to its first bytes and last 40: a long "* SEARCH" line would lose UIDs. The largest
    // buffer plus search windows of protocol::imap::search_window UIDs keep every line whole.
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, static_cast<long>(CURL_MAX_READ_SIZE));
    common::apply_login(h, a.login);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(a.stall_timeout.count()));
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, stop);
}

ImapSession::~ImapSession() = default;

Result<std::string> ImapSession::command(std::string_view folder, const std::string& cmd) {
    Sink sink;
    auto r = impl_->perform(protocol::imap::url_path(folder), cmd, sink, protocol::imap::command_name(cmd).c_str());
    if (!r) return fail(r.error());
    return std::move(sink.data);
}

Result<protocol::imap::FolderStatus> ImapSession::status(std::string_view folder) {
    // STATUS of the selected folder answers from the session's view of it (RFC 3501 6.3.10:
    // not a check for new mail; Dovecot's UIDNEXT stayed where the last poll left it, so a
    // kept session saw no new mail until it reconnected). A NOOP in the folder first brings
    // the view up to date (selecting the folder when it is not).
    if (auto noop = command(folder, "NOOP"); !noop) return fail(noop.error());
    auto r = command("", protocol::imap::status_command(folder));
    if (!r) return fail(r.error());
    return protocol::imap::parse_status(*r);
}

Result<std::vector<protocol::imap::Uid>> ImapSession::search_from(std::string_view folder, protocol::imap::Uid first, protocol::imap::Uid uidnext) {
    std::vector<protocol::imap::Uid> all;
    if (uidnext == 0) {  // unknown: one open-ended search
        auto r = command(folder, protocol::imap::search_from_command(first));
        if (!r) return fail(r.error());
        return protocol::imap::parse_search(*r, first);
    }
    for (protocol::imap::Uid lo = std::max<protocol::imap::Uid>(first, 1); lo < uidnext;) {
        protocol::imap::Uid hi = lo + std::min<protocol::imap::Uid>(protocol::imap::search_window - 1, uidnext - 1 - lo);
        auto r = command(folder, protocol::imap::search_range_command(lo, hi));
        if (!r) return fail(r.error());
        auto uids = protocol::imap::parse_search(*r, lo, hi);
        if (!uids) return fail(uids.error());
        all.insert(all.end(), uids->begin(), uids->end());
        if (hi == std::numeric_limits<protocol::imap::Uid>::max()) break;
        lo = hi + 1;
    }
    return all;
}

// Runs one fetch command on the fetch connection (opened, and the folder selected, when
// needed); a failure drops the connection.
Result<std::vector<protocol::imap::FetchItem>> ImapSession::Impl::fetch(std::string_view folder, std::uint32_t uidvalidity,
                                                                        const std::string& command, std::size_t max_body) {
    auto attempt = [&]() -> Result<std::vector<protocol::imap::FetchItem>> {
        if (auto ok = open_raw(folder, uidvalidity); !ok) return fail(ok.error());
        auto tag = raw->next_tag();
        protocol::imap::FetchLimits limits;
        limits.max_body = max_body;
        protocol::imap::FetchReader reader(tag, limits);
        if (auto ok = raw->run(tag, command, reader); !ok) return fail(ok.error());
        return std::move(reader.items());
    };
    auto result = attempt();
    if (!result) drop_raw();
    return result;
}

Result<std::vector<MessageSize>> ImapSession::fetch_sizes(std::string_view folder, std::uint32_t uidvalidity,
                                                          std::vector<protocol::imap::Uid> uids) {
    std::sort(uids.begin(), uids.end());
    auto items = impl_->fetch(folder, uidvalidity, protocol::imap::fetch_sizes_command(uids), 0);
    if (!items) return fail("UID FETCH (sizes): " + items.error());
    std::vector<MessageSize> out;
    for (const auto& it : *items)
        if (it.size && std::binary_search(uids.begin(), uids.end(), it.uid)) out.push_back({it.uid, *it.size});
    return out;
}

Result<std::vector<FetchedMessage>> ImapSession::fetch_messages(std::string_view folder, std::uint32_t uidvalidity,
                                                                std::vector<protocol::imap::Uid> uids,
                                                                std::size_t max_bytes) {
    std::sort(uids.begin(), uids.end());
    auto items = impl_->fetch(folder, uidvalidity, protocol::imap::fetch_bodies_command(uids, max_bytes + 1), max_bytes);
    if (!items) return fail("UID FETCH: " + items.error());
    std::vector<FetchedMessage> out;
    for (auto& it : *items) {
        if (!it.has_body || !std::binary_search(uids.begin(), uids.end(), it.uid)) continue;
        bool cut = it.truncated || (it.size && *it.size > max_bytes);
        out.push_back({it.uid, std::move(it.body), cut});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
    return out;
}

Result<bool> ImapSession::ensure_folder(std::string_view folder) {
    auto listed = command("", protocol::imap::list_command(folder));
    if (!listed) return fail(listed.error());
    if (listed->find("* LIST") != std::string::npos) return true;
    auto created = command("", protocol::imap::create_command(folder));
    if (!created) return fail(created.error());
    return true;
}

Result<bool> ImapSession::has_capability(std::string_view capability) {
    auto r = command("", protocol::imap::capability_command);
    if (!r) return fail(r.error());
    return protocol::imap::has_capability(*r, capability);
}

}  // namespace casemail::imap

namespace casemail::imap {

Result<IdleStart> ImapSession::idle_begin(std::string_view folder, std::uint32_t uidvalidity, protocol::imap::Uid uidnext) {
    auto& d = *impl_;
    if (d.idle) return IdleStart::idling;
    auto attempt = [&]() -> Result<IdleStart> {
        if (auto ok = d.open_raw(folder, uidvalidity); !ok) return fail(ok.error());
        // Mail that arrived after the poll's STATUS: counted in a later SELECT's UIDNEXT, or
        // announced with an answer to the fetches (a server tells a connection once).
        auto selected_at = d.raw->selected_uidnext();
        bool missed = uidnext > 0 && selected_at && *selected_at > uidnext;
        if (d.raw->take_mail_announced() || missed) return IdleStart::mail;
        auto tag = d.raw->next_tag();
        d.idle.emplace(tag);
        if (auto ok = d.raw->send_line(tag + " IDLE"); !ok) return fail(ok.error());
        while (!d.idle->idling() && !d.idle->done()) {
            auto bytes = d.raw->receive(true);
            if (!bytes) return fail(bytes.error());
            if (!d.idle->feed(*bytes)) return fail("malformed answer: " + d.idle->error());
        }
        if (d.idle->done()) return fail("refused: " + d.idle->error());
        return IdleStart::idling;
    };
    auto started = attempt();
    if (!started) {
        d.drop_raw();
        return fail("IDLE: " + started.error());
    }
    if (*started == IdleStart::idling) {
        auto news = idle_check();
        if (!news) return fail(news.error());
        if (*news) return IdleStart::mail;  // (idling still: the next poll ends it)
    }
    return started;
}

bool ImapSession::idling() const { return impl_->idle.has_value(); }

int ImapSession::idle_socket() const { return impl_->raw ? static_cast<int>(impl_->raw->socket()) : -1; }

Result<bool> ImapSession::idle_check() {
    auto& d = *impl_;
    if (!d.idle) return true;
    for (;;) {  // everything there is, TLS records held back included
        auto bytes = d.raw->receive(false);
        if (!bytes) {
            d.drop_raw();
            return fail("IDLE: " + bytes.error());
        }
        if (bytes->empty()) break;
        if (!d.idle->feed(*bytes)) {
            auto why = d.idle->error();
            d.drop_raw();
            return fail("IDLE: malformed answer: " + why);
        }
    }
    if (d.idle->done()) {  // a completion nobody asked for: the server ended the IDLE
        d.drop_raw();
        return true;
    }
    return d.idle->mail() || d.idle->closed();
}

Result<bool> ImapSession::idle_end() {
    auto& d = *impl_;
    if (!d.idle) return true;
    if (d.idle->closed() || d.idle->done()) {  // nothing left to end: start afresh
        d.drop_raw();
        return true;
    }
    auto ended = [&]() -> Result<bool> {
        if (auto ok = d.raw->send_line("DONE"); !ok) return ok;
        while (!d.idle->done()) {
            auto bytes = d.raw->receive(true);
            if (!bytes) return fail(bytes.error());
            if (!d.idle->feed(*bytes)) return fail("malformed answer: " + d.idle->error());
        }
        if (!d.idle->completed_ok()) return fail(d.idle->error());
        return true;
    }();
    if (!ended) {
        d.drop_raw();
        return fail("IDLE: " + ended.error());
    }
    d.idle.reset();
    return true;
}

}  // namespace casemail::imap
