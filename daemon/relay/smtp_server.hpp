// The relay's network shell: a Boost.Asio acceptor and one coroutine per SMTP session on the
// daemon's io_context, driving protocol::smtp::Session (daemon/protocol/smtp.hpp).
//
// No client can hold the relay (Postfix's smtpd is the model):
//  - every await on a client has a deadline: each command line (from the end of the previous one
//    until its CRLF, so a byte every few seconds does not keep it alive), each reply write and
//    the TLS handshake get idle_timeout, then 421 4.4.2 (when it can still be written) and close;
//  - while more than half of max_connections are taken the relay is "stressed" and every such
//    deadline, running ones included, shrinks to stress_timeout;
//  - one client address holds at most max_connections_per_client sessions (421 4.7.0); when all
//    max_connections are taken the acceptor waits, so a new client waits in the listen queue for
//    the next free slot instead of being turned away;
//  - an address that fails AUTH auth_backoff.failures times waits (protocol::LoginBackoff).
// A session's error is logged and contained; the acceptor keeps running.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/common/log.hpp"
#include "daemon/protocol/network.hpp"
#include "daemon/protocol/smtp.hpp"
#include "daemon/protocol/throttle.hpp"
#include "mime/result.hpp"

namespace casemail::relay {

struct RelaySettings {
    std::string listen_address = "127.0.0.1";
    unsigned short port = 2525;
    std::vector<protocol::Network> allowed_networks;  // trusted without AUTH
    std::map<std::string, std::string> users;  // user -> crypt(3) hash
    std::string tls_cert, tls_key;           // PEM files; STARTTLS offered when set
    bool allow_plaintext_auth = false;
    protocol::smtp::Limits limits;
    std::size_t max_connections = 20;
    std::size_t max_connections_per_client = 10;
    std::chrono::seconds idle_timeout{300};
    std::chrono::seconds stress_timeout{10};  // idle_timeout while more than half the slots are taken
    protocol::BackoffPolicy auth_backoff;
    std::string hostname = "casemail";
};

// Verifies `password` against a crypt(3) hash ($6$, $y$, ...).
bool check_password(const std::string& password, const std::string& hash);
// "user:hash" lines, '#' comments; errors name the line.
Result<std::map<std::string, std::string>> load_users_file(const std::string& path);

// Called on the io_context for each complete message: the SMTP reply (code, text).
// Answers one SMTP reply (code, text) for a message: once, from any thread.
using ReplyTo = std::function<void(int code, std::string text)>;
// Called on the io_context for each complete message. It must not block (the store's writer
// commits the message elsewhere); the session waits for `reply` before it answers the client.
using MessageHandler = std::function<void(const protocol::smtp::Envelope&, std::string data, const std::string& client,
                                          ReplyTo reply)>;

class SmtpRelay {
public:
    SmtpRelay(boost::asio::io_context& ctx, RelaySettings settings, MessageHandler handler, common::LogLine log);
    ~SmtpRelay();
    // Binds and listens; throws std::runtime_error naming the address when it cannot.
    void start();
    // Stops accepting and closes every session.
    void stop();
    unsigned short port() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace casemail::relay
