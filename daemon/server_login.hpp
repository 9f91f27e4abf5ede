// How casemail logs in to a server it is a client of (the IMAP mailboxes, the upstream SMTP
// server): the same rules for both. imaps://, smtps:// are TLS from the start; imap:// and
// smtp:// must upgrade with STARTTLS unless allow_plaintext (loopback test servers only).
#pragma once

#include <chrono>
#include <string>

namespace casemail::daemon {

struct ServerLogin {
    std::string url;           // scheme://host[:port], no path, no credentials
    std::string user;          // "" = no login
    std::string password;      // secret: never logged
    std::string oauth2_token;  // XOAUTH2 bearer token instead of a password; secret
    bool allow_plaintext = false;
    std::string ca_file;       // extra CA bundle for the server's certificate
    std::chrono::seconds connect_timeout{15};
};

}  // namespace casemail::daemon
