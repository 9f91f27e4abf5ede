#include "daemon/imap/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "daemon/common/curl.hpp"
#include "mime/printable.hpp"

namespace casemail::imap {
namespace {

struct Sink {
    std::string data;
    std::size_t cap = std::string::npos;
    bool truncated = false;
};

size_t write_to_sink(char* ptr, size_t size, size_t nmemb, void* userdata) {
    auto* sink = static_cast<Sink*>(userdata);
    std::size_t n = size * nmemb;
    if (sink->cap != std::string::npos && sink->data.size() + n > sink->cap + 1) {
        sink->data.append(ptr, sink->cap + 1 - sink->data.size());
        sink->truncated = true;
        return 0;  // stop the transfer: the rest is not wanted
    }
    sink->data.append(ptr, n);
    return n;
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

    // One request on the kept connection. `path` is the URL path after the host (may be
    // empty); `custom` the command, or empty for a URL FETCH.
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
        if (rc == CURLE_WRITE_ERROR && sink.truncated) return true;
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

Result<FetchedMessage> ImapSession::fetch(std::string_view folder, protocol::imap::Uid uid, std::size_t max_bytes) {
    Sink sink;
    sink.cap = max_bytes;
    // A URL fetch (RFC 5092 ";UID="): libcurl reads the literal itself. It asks for BODY[],
    // which sets \Seen; the processed mark is the move or flag after the commit.
    auto r = impl_->perform(fmt::format("{};UID={}", protocol::imap::url_path(folder), uid), "", sink, "UID FETCH");
    if (!r) return fail(r.error());
    return FetchedMessage{std::move(sink.data), sink.truncated};
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
