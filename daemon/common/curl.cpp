#include "daemon/common/curl.hpp"

#include <fmt/format.h>

#include <mutex>
#include <stdexcept>

#include "mime/printable.hpp"

namespace casemail::common {

void curl_global_setup() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
    });
}

CurlEasy make_curl_easy() {
    curl_global_setup();
    CurlEasy h(curl_easy_init());
    if (!h) throw std::runtime_error("curl_easy_init failed");
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h.get(), CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h.get(), CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h.get(), CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h.get(), CURLOPT_PROTOCOLS_STR, "imap,imaps,smtp,smtps");
    return h;
}

void apply_login(CURL* h, const ServerLogin& login) {
    if (!login.user.empty()) {
        curl_easy_setopt(h, CURLOPT_USERNAME, login.user.c_str());
        if (!login.oauth2_token.empty()) {
            curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, login.oauth2_token.c_str());
            curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
        } else {
            curl_easy_setopt(h, CURLOPT_PASSWORD, login.password.c_str());
        }
    }
    curl_easy_setopt(h, CURLOPT_USE_SSL, login.allow_plaintext ? static_cast<long>(CURLUSESSL_NONE)
                                                               : static_cast<long>(CURLUSESSL_ALL));
    if (!login.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, login.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(login.connect_timeout.count()));
}

std::string curl_failure(CURLcode code, const char* error_buffer) {
    std::string detail = error_buffer && *error_buffer ? mime::printable(error_buffer, 300) : "";
    return detail.empty() ? curl_easy_strerror(code) : fmt::format("{} ({})", curl_easy_strerror(code), detail);
}

}  // namespace casemail::common
