// How casemail logs in to a server it is a client of (the IMAP mailboxes, the upstream SMTP
// server): the same rules for both. imaps://, smtps:// are TLS from the start; imap:// and
// smtp:// must upgrade with STARTTLS unless allow_plaintext (loopback test servers only).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "mime/result.hpp"

namespace casemail::common {

// An OAuth2 client that fetches its own access tokens (daemon/common/oauth2.hpp does it).
struct OAuth2Client {
    std::string token_url;           // https://login.microsoftonline.com/TENANT/oauth2/v2.0/token, or another
    std::string client_id;
    std::string scope = "https://outlook.office365.com/.default";
    std::string client_secret_file;  // client credentials grant (and a confidential client's refresh)
    std::string refresh_token_file;  // refresh token grant
    std::string ca_file;
    bool allow_plaintext = false;    // http:// token endpoint: loopback tests only
    std::chrono::seconds timeout{15};
    bool configured() const { return !client_id.empty(); }
};

// The token endpoint of a Microsoft Entra tenant (a GUID or a domain).
std::string microsoft_token_url(std::string_view tenant);

struct ServerLogin {
    std::string url;           // scheme://host[:port], no path, no credentials
    std::string user;          // "" = no login
    std::string password;      // secret: never logged
    std::string oauth2_token;  // XOAUTH2 bearer token instead of a password; secret
    bool allow_plaintext = false;
    std::string ca_file;       // extra CA bundle for the server's certificate
    std::chrono::seconds connect_timeout{15};
    OAuth2Client oauth2;       // configured: oauth2_token is fetched from its endpoint first
};

// Where a login's secret comes from: at most one of the three keys. Files are read at every
// connection, so rotating a password or an OAuth2 token needs no restart.
struct SecretSource {
    std::string password_file, password_env, oauth2_token_file;
    OAuth2Client oauth2;  // oauth2_client_id and its keys: tokens fetched by casemail
    int count() const {
        return !password_file.empty() + !password_env.empty() + !oauth2_token_file.empty() + oauth2.configured();
    }
    const char* key() const;  // the key that is set ("password_file", ...), "" for none
};

// The secret ("" when no source is set, or for an OAuth2 client, whose token is fetched by the
// caller; its secret files are checked readable here). The reason names the key, never the secret.
Result<std::string> read_secret(const SecretSource& source);
// One secret file (trailing line breaks dropped); `key` names it in the reason.
Result<std::string> read_secret_file(const std::string& file, const char* key);

}  // namespace casemail::common
