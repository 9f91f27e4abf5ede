#include "daemon/common/oauth2.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "daemon/common/curl.hpp"
#include "daemon/common/login.hpp"
#include "mime/printable.hpp"

namespace casemail::common {
namespace {

std::string form_value(CURL* h, const std::string& v) {
    std::unique_ptr<char, decltype(&curl_free)> escaped(curl_easy_escape(h, v.c_str(), static_cast<int>(v.size())),
                                                        curl_free);
    return escaped ? std::string(escaped.get()) : std::string();
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

// The rotated refresh token, replacing the file atomically (temp file, fsync, rename), 0600.
Result<bool> write_refresh_token(const std::string& path, const std::string& token) {
    auto temp = path + ".new";
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return fail(fmt::format("oauth2_refresh_token_file '{}': cannot write: {}", path, std::strerror(errno)));
    auto data = token + "\n";
    bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
    int err = errno;
    ::close(fd);
    std::error_code ec;
    if (ok) std::filesystem::rename(temp, path, ec);
    if (!ok || ec) {
        std::filesystem::remove(temp, ec);
        return fail(fmt::format("oauth2_refresh_token_file '{}': cannot replace: {}", path, std::strerror(ok ? EIO : err)));
    }
    return true;
}

// Mailboxes of one app with client credentials share its token; delegated ones (each its own
// refresh token) do not.
std::string cache_key(const OAuth2Client& c) {
    return c.token_url + "\n" + c.client_id + "\n" + c.scope + "\n" + c.refresh_token_file;
}

}  // namespace

Result<TokenResponse> parse_token_response(long http_status, std::string_view body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return fail(fmt::format("token endpoint answered HTTP {} without a JSON object", http_status));
    auto text = [&](const char* key) -> std::string {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (http_status != 200 || j.contains("error")) {
        auto error = text("error");
        auto description = text("error_description");
        return fail(fmt::format("token endpoint refused (HTTP {}): {}{}", http_status,
                                mime::printable(error.empty() ? "no error code" : error, 100),
                                description.empty() ? "" : ": " + mime::printable(description, 300)));
    }
    TokenResponse r;
    r.access_token = text("access_token");
    if (r.access_token.empty()) return fail("token endpoint answered without an access_token");
    if (auto it = j.find("expires_in"); it != j.end()) {
        if (it->is_number_integer()) r.expires_in = std::chrono::seconds(it->get<long long>());
        else if (it->is_string()) r.expires_in = std::chrono::seconds(std::atoll(it->get<std::string>().c_str()));
    }
    if (r.expires_in <= std::chrono::seconds(0)) r.expires_in = std::chrono::seconds(60);
    if (auto refresh = text("refresh_token"); !refresh.empty()) r.refresh_token = refresh;
    return r;
}

Result<TokenResponse> fetch_token(const OAuth2Client& c) {
    bool refresh = !c.refresh_token_file.empty();
    auto grant_secret = refresh ? read_secret_file(c.refresh_token_file, "oauth2_refresh_token_file")
                                : read_secret_file(c.client_secret_file, "oauth2_client_secret_file");
    if (!grant_secret) return fail(grant_secret.error());
    auto h = make_curl_easy();
    curl_easy_setopt(h.get(), CURLOPT_PROTOCOLS_STR, c.allow_plaintext ? "https,http" : "https");
    auto form = fmt::format("client_id={}&scope={}", form_value(h.get(), c.client_id), form_value(h.get(), c.scope));
    if (refresh) {
        form += "&grant_type=refresh_token&refresh_token=" + form_value(h.get(), *grant_secret);
        if (!c.client_secret_file.empty()) {
            auto secret = read_secret_file(c.client_secret_file, "oauth2_client_secret_file");
            if (!secret) return fail(secret.error());
            form += "&client_secret=" + form_value(h.get(), *secret);
        }
    } else {
        form += "&grant_type=client_credentials&client_secret=" + form_value(h.get(), *grant_secret);
    }
    std::string body;
    char error[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(h.get(), CURLOPT_URL, c.token_url.c_str());
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h.get(), CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h.get(), CURLOPT_TIMEOUT, static_cast<long>(c.timeout.count()));
    curl_easy_setopt(h.get(), CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(1 << 20));
    if (!c.ca_file.empty()) curl_easy_setopt(h.get(), CURLOPT_CAINFO, c.ca_file.c_str());
    auto rc = curl_easy_perform(h.get());
    if (rc != CURLE_OK) return fail("token endpoint: " + curl_failure(rc, error));
    long status = 0;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
    auto r = parse_token_response(status, body);
    if (r && refresh && r->refresh_token && *r->refresh_token != *grant_secret)
        if (auto written = write_refresh_token(c.refresh_token_file, *r->refresh_token); !written) return fail(written.error());
    return r;
}

Result<AccessToken> TokenCache::get(const OAuth2Client& client, std::chrono::system_clock::time_point now) {
    auto key = cache_key(client);
    auto cached = [&]() -> std::optional<AccessToken> {
        std::lock_guard lock(mutex_);
        if (auto it = entries_.find(key); it != entries_.end() && now < it->second.renew_at) {
            auto t = it->second;
            t.fresh = false;
            return t;
        }
        return std::nullopt;
    };
    if (auto t = cached()) return *t;
    // One fetch at a time: two refreshes with the same refresh token would race its rotation
    // (the second is refused). The cache is looked at again: another worker may have fetched.
    std::lock_guard fetching(fetch_mutex_);
    if (auto t = cached()) return *t;
    auto fetched = fetch_token(client);
    if (!fetched) return fail("oauth2: " + fetched.error());
    auto early = std::min<std::chrono::seconds>(std::chrono::seconds(60), fetched->expires_in / 4);
    AccessToken t{fetched->access_token, now + fetched->expires_in, now + fetched->expires_in - early, true};
    std::lock_guard lock(mutex_);
    entries_[key] = t;
    return t;
}

void TokenCache::forget(const OAuth2Client& client) {
    std::lock_guard lock(mutex_);
    entries_.erase(cache_key(client));
}

}  // namespace casemail::common
