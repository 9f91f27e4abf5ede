// The relay's defences against clients that hold or guess, as pure bookkeeping over client
// addresses and a clock the caller passes in (no sockets, no timers):
//  - ConnectionSlots: at most max_total sessions, at most max_per_client from one address, and
//    "stressed" once more than half the slots are taken (Postfix's stress mode: the shell then
//    shortens every wait for a client, so silent and slow clients free their slots quickly).
//  - LoginBackoff: an address that fails AUTH `failures` times (across its connections) is
//    deferred for `first`, doubling with each further round up to `longest`; while deferred its
//    logins are not even checked, so it cannot keep guessing. A success forgets the address.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace casemail::protocol {

class ConnectionSlots {
public:
    enum class Admit { ok, full, client_full };
    ConnectionSlots(std::size_t max_total, std::size_t max_per_client);
    // Takes a slot for `client` when one is free (and the client is under its own limit).
    Admit admit(const std::string& client);
    void release(const std::string& client);
    bool full() const { return total_ >= max_total_; }
    bool stressed() const { return total_ * 2 > max_total_; }
    std::size_t total() const { return total_; }
    std::size_t of(const std::string& client) const;

private:
    std::size_t max_total_, max_per_client_;
    std::size_t total_ = 0;
    std::map<std::string, std::size_t> per_client_;
};

struct BackoffPolicy {
    int failures = 5;                    // failed logins from one address before a back-off
    std::chrono::seconds first{60};      // the first back-off; each further round doubles it
    std::chrono::seconds longest{3600};  // the cap
    std::chrono::seconds forget{3600};   // failures older than this (and no back-off) are forgotten
};

class LoginBackoff {
public:
    using Clock = std::chrono::steady_clock;
    explicit LoginBackoff(BackoffPolicy policy) : policy_(policy) {}
    // How long `client` is still deferred; nullopt when it may log in.
    std::optional<std::chrono::seconds> deferred_for(const std::string& client, Clock::time_point now) const;
    // Counts a failed login. Returns the back-off it starts, once, when it starts one.
    std::optional<std::chrono::seconds> failed(const std::string& client, Clock::time_point now);
    void succeeded(const std::string& client) { clients_.erase(client); }
    std::size_t tracked() const { return clients_.size(); }

private:
    struct Entry {
        int failures = 0;
        int rounds = 0;
        Clock::time_point last_failure, deferred_until;
    };
    void forget_old(Clock::time_point now);
    BackoffPolicy policy_;
    std::map<std::string, Entry> clients_;
};

}  // namespace casemail::protocol
