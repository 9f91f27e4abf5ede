#include "daemon/outbox/smtp_client.hpp"

#include <fmt/format.h>

#include <cstring>

#include "daemon/common/curl.hpp"

namespace casemail::outbox {
namespace {

struct Upload {
    const std::string* data;
    std::size_t offset = 0;
};

size_t read_upload(char* buffer, size_t size, size_t nitems, void* userdata) {
    auto* up = static_cast<Upload*>(userdata);
    std::size_t n = std::min(size * nitems, up->data->size() - up->offset);
    std::memcpy(buffer, up->data->data() + up->offset, n);
    up->offset += n;
    return n;
}

}  // namespace

DeliveryOutcome SmtpUpstream::send(const std::string& envelope_from, const std::vector<std::string>& envelope_to,
                                   const std::string& raw) {
    DeliveryOutcome out;
    auto curl = common::make_curl_easy();
    CURL* h = curl.get();
    char error[CURL_ERROR_SIZE] = {};
    std::string from = "<" + envelope_from + ">";
    common::CurlSlist rcpts;
    for (const auto& r : envelope_to) {
        auto* next = curl_slist_append(rcpts.get(), ("<" + r + ">").c_str());
        if (!next) throw std::bad_alloc();
        (void)rcpts.release();
        rcpts.reset(next);
    }
    Upload upload{&raw};
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts.get());
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(h, CURLOPT_READDATA, &upload);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(raw.size()));
    // The EHLO name: libcurl takes it from the URL path ("smtp://host/name").
    std::string url = account_.login.url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += "/" + account_.helo_name;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    common::apply_login(h, account_.login);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(account_.timeout.count()));

    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    out.code = static_cast<int>(code);
    if (rc == CURLE_OK) {
        out.delivered = true;
        out.detail = fmt::format("{} accepted by {}", code, account_.login.url);
        return out;
    }
    // A 5xx about the message is final. A refused login is not: credentials get fixed or a
    // token refreshed, and the message is as good as before.
    out.permanent = code >= 500 && code < 600 && rc != CURLE_LOGIN_DENIED;
    out.detail = code ? fmt::format("{} from {}: {}", code, account_.login.url, common::curl_failure(rc, error))
                      : fmt::format("{}: {}", account_.login.url, common::curl_failure(rc, error));
    return out;
}

}  // namespace casemail::outbox
