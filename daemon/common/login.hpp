// How casemail logs in to a server it is a client of (the IMAP mailboxes, the upstream SMTP
// server): the same rules for both. imaps://, smtps:// are TLS from the start; imap:// and
// smtp:// must upgrade with STARTTLS unless allow_plaintext (loopback test servers only).
#pragma once

#include <chrono>
#include <string>

#include "mime/result.hpp"

namespace casemail::common {

struct ServerLogin {
    std::string url;           // scheme://host[:port], no path, no credentials
    std::string user;          // "" = no login
    std::string password;      // secret: never logged
    std::string oauth2_token;  // XOAUTH2 bearer token instead of a password; secret
    bool allow_plaintext = false;
    std::string ca_file;       // extra CA bundle for the server's certificate
    std::chrono::seconds connect_timeout{15};
};

// Where a login's secret comes from: at most one of the three keys. Files are read at every
// connection, so rotating a password or an OAuth2 token needs no restart.
struct SecretSource {
    std::string password_file, password_env, oauth2_token_file;
    int count() const { return !password_file.empty() + !password_env.empty() + !oauth2_token_file.empty(); }
    const char* key() const;  // the key that is set ("password_file", ...), "" for none
};

// The secret ("" when no source is set). The reason names the key, never the secret.
Result<std::string> read_secret(const SecretSource& source);

}  // namespace casemail::common
