// OAuth2 access tokens for XOAUTH2 (Microsoft 365 IMAP and SMTP), fetched by casemail itself:
// the client credentials grant (app-only access, a client secret file) or the refresh token
// grant (a refresh token file, written back atomically with mode 0600 when the endpoint rotates
// it). A token is cached until shortly before it expires. Errors carry the endpoint's `error`
// and `error_description`, never a secret.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/common/login.hpp"
#include "mime/result.hpp"

namespace casemail::common {


struct TokenResponse {
    std::string access_token;
    std::chrono::seconds expires_in{3600};
    std::optional<std::string> refresh_token;  // a rotated refresh token
};
// The endpoint's answer (RFC 6749 5.1/5.2): the token, or "invalid_client: AADSTS7000215: ...".
Result<TokenResponse> parse_token_response(long http_status, std::string_view body);

struct AccessToken {
    std::string token;
    std::chrono::system_clock::time_point expires_at;
    std::chrono::system_clock::time_point renew_at;  // a quarter of its lifetime early, at most a minute
    bool fresh = false;  // fetched by this call (not from the cache)
};

// One cache for the whole daemon; thread-safe (each mailbox worker and the outbox ask it).
class TokenCache {
public:
    Result<AccessToken> get(const OAuth2Client& client, std::chrono::system_clock::time_point now);
    void forget(const OAuth2Client& client);  // after a login refused with the cached token

private:
    std::mutex mutex_;        // the entries
    std::mutex fetch_mutex_;  // one token request at a time
    std::map<std::string, AccessToken> entries_;  // by endpoint, client, scope and refresh token file
};

// The POST to the endpoint (libcurl, TLS verified), and writing back a rotated refresh token.
Result<TokenResponse> fetch_token(const OAuth2Client& client);

}  // namespace casemail::common
