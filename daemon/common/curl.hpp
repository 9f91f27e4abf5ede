// RAII for libcurl handles, shared by the IMAP poller and the SMTP delivery worker.
// <curl/curl.h> stays out of every other header.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>

#include "daemon/common/login.hpp"

namespace casemail::common {

struct CurlEasyDeleter {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// curl_global_init once per process, before any thread uses libcurl. Throws on failure.
void curl_global_setup();

// Every handle starts from the same safe options: no signals (threads), no redirects, TLS
// peer and host verification on, only the protocols casemail speaks.
CurlEasy make_curl_easy();

// Credentials (password or XOAUTH2), TLS policy, CA file and connect timeout of `login`.
void apply_login(CURL* h, const ServerLogin& login);

// "text of CURLcode (server or libcurl detail)", for one log line.
std::string curl_failure(CURLcode code, const char* error_buffer);

}  // namespace casemail::common
